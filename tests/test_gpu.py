from roocode_tui.core.gpu import parse_nvidia_smi, read_gpus


def test_nvidia_smi_csv_is_parsed_including_not_available_fields():
    text = "0, NVIDIA GeForce RTX 4080, 13012, 16376, 97, 71, 280.15\n1, Tesla T4, 0, 15360, 0, 40, [N/A]\n"
    gpus = parse_nvidia_smi(text)
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4080", "Tesla T4"]
    first = gpus[0]
    assert first.memory_used == 13012 * 2**20 and first.memory_total == 16376 * 2**20
    assert first.utilization == 97 and first.temperature == 71 and first.power_w == 280.15
    assert round(first.memory_share, 2) == 0.79
    assert gpus[1].power_w is None and gpus[1].source == "nvidia-smi"


def test_reading_without_a_gpu_says_why():
    gpus, why = read_gpus()
    if gpus:  # a machine with a GPU: the reading must be sane
        assert all(g.memory_total > 0 for g in gpus)
    else:
        assert why
