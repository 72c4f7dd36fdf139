"""GPU readings for F3 and the status bar: NVML first, nvidia-smi as the fallback.

No GPU is needed: a stand-in nvidia-smi on PATH prints what the real one prints for the query
the app runs, and a stand-in pynvml answers as NVML does. One test reads the real GPUs, where
there are some."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from support.gpus import fake_nvidia_smi

from roocode_tui.core.monitor import gpu
from roocode_tui.core.monitor.gpu import GpuInfo, parse_nvidia_smi, read_gpus

DRIVER_DOWN = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running.\n"
)


@pytest.fixture
def no_nvml(monkeypatch: pytest.MonkeyPatch) -> None:
    """nvidia-ml-py not installed: `import pynvml` fails."""
    monkeypatch.setitem(sys.modules, "pynvml", None)
    monkeypatch.setattr(gpu, "_nvml_ready", None)


@pytest.fixture
def smi_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only a directory for a stand-in nvidia-smi (empty until a test writes one):
    a real one elsewhere is not found."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_nvidia_smi_csv_is_parsed_including_not_available_fields():
    text = "0, NVIDIA GeForce RTX 4080, 13012, 16376, 97, 71, 280.15\n1, Tesla T4, 0, 15360, 0, 40, [N/A]\n"
    gpus = parse_nvidia_smi(text)
    assert [g.name for g in gpus] == ["NVIDIA GeForce RTX 4080", "Tesla T4"]
    first = gpus[0]
    assert first.memory_used == 13012 * 2**20 and first.memory_total == 16376 * 2**20
    assert first.utilization == 97 and first.temperature == 71 and first.power_w == 280.15
    assert round(first.memory_share, 2) == 0.79
    assert gpus[1].power_w is None and gpus[1].source == "nvidia-smi"


def test_without_nvml_the_gpus_are_read_from_nvidia_smi(no_nvml, smi_path: Path):
    fake_nvidia_smi(smi_path)
    gpus, why = read_gpus()
    assert why == ""
    assert gpus == [
        GpuInfo(0, "NVIDIA H100 80GB HBM3", 97.0, 63455 * 2**20, 81559 * 2**20, 61.0, 512.36, (), "nvidia-smi"),
        GpuInfo(1, "NVIDIA GeForce RTX 3060 Laptop GPU", 0.0, 5 * 2**20, 6144 * 2**20, 44.0, None, (), "nvidia-smi"),
        GpuInfo(2, "NVIDIA A100-SXM4-40GB", None, 0, 40960 * 2**20, 29.0, 54.2, (), "nvidia-smi"),
    ]
    assert round(gpus[0].memory_share, 3) == 0.778


def test_an_nvidia_smi_that_fails_says_why(no_nvml, smi_path: Path):
    fake_nvidia_smi(smi_path, stdout=DRIVER_DOWN, exit_code=9)
    gpus, why = read_gpus()
    assert gpus == []
    assert why.startswith("nvidia-ml-py not installed; nvidia-smi failed: ") and "exit status 9" in why


def test_an_nvidia_smi_that_lists_nothing_says_so(no_nvml, smi_path: Path):
    fake_nvidia_smi(smi_path, stdout="No devices were found\n", exit_code=0)
    assert read_gpus() == ([], "nvidia-ml-py not installed; nvidia-smi lists no GPU")


def test_no_nvml_and_no_nvidia_smi(no_nvml, smi_path: Path):
    assert read_gpus() == ([], "nvidia-ml-py not installed; no nvidia-smi")


class _NVMLError(Exception):
    pass


def fake_pynvml(*, init_error: str | None = None) -> types.ModuleType:
    """What nvidia-ml-py answers on a machine with one GPU running one process, whose power
    reading the driver does not support; its name comes as bytes, as older releases give it."""
    mod = types.ModuleType("pynvml")
    mod.NVMLError = _NVMLError
    mod.NVML_TEMPERATURE_GPU = 0

    def init() -> None:
        if init_error is not None:
            raise _NVMLError(init_error)

    def not_supported(handle: int) -> float:
        raise _NVMLError("Not Supported")

    mod.nvmlInit = init
    mod.nvmlDeviceGetCount = lambda: 1
    mod.nvmlDeviceGetHandleByIndex = lambda i: 1000 + i
    mod.nvmlDeviceGetName = lambda h: b"NVIDIA L4"
    mod.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=9 * 2**30, total=24 * 2**30, free=15 * 2**30)
    mod.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=42, memory=10)
    mod.nvmlDeviceGetTemperature = lambda h, sensor: 57
    mod.nvmlDeviceGetPowerUsage = not_supported
    mod.nvmlDeviceGetComputeRunningProcesses = lambda h: [
        types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=8 * 2**30),
        types.SimpleNamespace(pid=4_194_305, usedGpuMemory=None),  # another container's: no name, no memory
    ]
    return mod


def test_nvml_readings_are_converted(monkeypatch: pytest.MonkeyPatch, smi_path: Path):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml())
    monkeypatch.setattr(gpu, "_nvml_ready", None)
    gpus, why = read_gpus()
    assert why == ""
    [g] = gpus
    assert (g.index, g.name, g.source) == (0, "NVIDIA L4", "nvml")
    assert (g.utilization, g.temperature, g.power_w) == (42.0, 57.0, None)
    assert (g.memory_used, g.memory_total) == (9 * 2**30, 24 * 2**30)
    own = Path(f"/proc/{os.getpid()}/comm").read_text().strip()
    assert [(p.pid, p.name, p.memory_used) for p in g.processes] == [(os.getpid(), own, 8 * 2**30), (4_194_305, "?", 0)]


def test_nvml_that_cannot_start_falls_back_to_nvidia_smi(monkeypatch: pytest.MonkeyPatch, smi_path: Path):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(init_error="NVML Shared Library Not Found"))
    monkeypatch.setattr(gpu, "_nvml_ready", None)
    assert read_gpus() == ([], "NVML: NVML Shared Library Not Found; no nvidia-smi")
    fake_nvidia_smi(smi_path)
    gpus, why = read_gpus()
    assert why == "" and len(gpus) == 3 and gpus[0].source == "nvidia-smi"


async def test_the_gpu_pane_shows_what_nvidia_smi_reports(no_nvml, smi_path: Path):
    from rich.console import Console
    from textual.app import App
    from textual.widgets import Static

    from roocode_tui.tui.panes.monitor import MonitorPane

    class MonitorOnly(App):
        def compose(self):
            yield MonitorPane(id="monitor-pane")

    fake_nvidia_smi(smi_path)
    app = MonitorOnly()
    async with app.run_test(size=(100, 40)) as pilot:
        app.query_one(MonitorPane).show_gpus(*read_gpus())
        await pilot.pause()
        console = Console(record=True, width=100, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(app.query_one("#gpu-info", Static).content)
        shown = [line.rstrip() for line in console.export_text().splitlines()]
    assert shown == [
        "#0 NVIDIA H100 80GB HBM3",
        "VRAM ████████████░░░░ 62.0/79.6 GiB",
        "util 97% · 61°C · 512 W",
        "#1 NVIDIA GeForce RTX 3060 Laptop GPU",
        "VRAM ░░░░░░░░░░░░░░░░ 0.0/6.0 GiB",
        "util 0% · 44°C · n/a",
        "#2 NVIDIA A100-SXM4-40GB",
        "VRAM ░░░░░░░░░░░░░░░░ 0.0/40.0 GiB",
        "util n/a · 29°C · 54 W",
    ]


def test_the_gpus_here_read_sanely():
    """The real reading, on a machine with a GPU."""
    gpus, why = read_gpus()
    if not gpus:
        pytest.skip(f"no GPU here: {why}")
    assert why == ""
    assert [g.index for g in gpus] == list(range(len(gpus)))
    for g in gpus:
        assert g.name and g.memory_total > 0 and 0 <= g.memory_used <= g.memory_total
        assert g.utilization is None or 0 <= g.utilization <= 100
        assert g.temperature is None or 0 < g.temperature < 120
