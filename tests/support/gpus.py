"""Stand-in GPUs: an nvidia-smi on PATH that answers the app's query as the real one does (three
GPUs: a datacentre card, a laptop's, one in MIG mode), and readings handed to the TUI."""

from __future__ import annotations

import shutil
from pathlib import Path

from roocode_tui.core.monitor.gpu import GpuInfo, GpuProcess

QUERY = "--query-gpu=index,name,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw"


#: nvidia-smi's answer to QUERY with --format=csv,noheader,nounits on a machine with three
#: GPUs: a datacentre card, a laptop's (no power reading: [N/A]), and one in MIG mode (no
#: utilisation reading).
SMI_OUTPUT = (
    "0, NVIDIA H100 80GB HBM3, 63455, 81559, 97, 61, 512.36\n"
    "1, NVIDIA GeForce RTX 3060 Laptop GPU, 5, 6144, 0, 44, [N/A]\n"
    "2, NVIDIA A100-SXM4-40GB, 0, 40960, [N/A], 29, 54.20\n"
)


CAT = shutil.which("cat") or "/bin/cat"  # found before a test narrows PATH


def fake_nvidia_smi(bin_dir: Path, *, stdout: str = SMI_OUTPUT, exit_code: int = 0) -> None:
    """An nvidia-smi that answers QUERY (and only QUERY, with the app's format) like the real one."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "answer.txt").write_text(stdout)
    script = bin_dir / "nvidia-smi"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$#" -ne 2 ] || [ "$1" != "{QUERY}" ] || [ "$2" != "--format=csv,noheader,nounits" ]; then\n'
        '  echo "Invalid combination of input arguments: $*" >&2\n'
        "  exit 2\n"
        "fi\n"
        f'{CAT} "{bin_dir / "answer.txt"}"\n'
        f"exit {exit_code}\n"
    )
    script.chmod(0o755)


def fake_gpus() -> tuple[list[GpuInfo], str]:
    proc = GpuProcess(4242, "vllm", 13 * 2**30)
    return [GpuInfo(0, "NVIDIA RTX 4080", 93.0, 14 * 2**30, 16 * 2**30, 68.0, 251.0, (proc,), "nvml")], ""
