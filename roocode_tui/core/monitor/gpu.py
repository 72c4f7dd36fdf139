"""GPU readings: NVML (``nvidia-ml-py``) first, ``nvidia-smi`` as the fallback.

Both block (NVML calls take milliseconds, nvidia-smi a process start): call from a thread.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GpuProcess:
    pid: int
    name: str
    memory_used: int  # bytes


@dataclass(frozen=True, slots=True)
class GpuInfo:
    index: int
    name: str
    utilization: float | None  # percent
    memory_used: int  # bytes
    memory_total: int  # bytes
    temperature: float | None  # °C
    power_w: float | None
    processes: tuple[GpuProcess, ...] = field(default_factory=tuple)
    source: str = "nvml"

    @property
    def memory_share(self) -> float:
        return self.memory_used / self.memory_total if self.memory_total else 0.0


_nvml_ready: bool | None = None


def _nvml() -> list[GpuInfo]:
    global _nvml_ready
    import pynvml

    if not _nvml_ready:
        pynvml.nvmlInit()
        _nvml_ready = True
    out = []
    for i in range(pynvml.nvmlDeviceGetCount()):
        h = pynvml.nvmlDeviceGetHandleByIndex(i)
        name = pynvml.nvmlDeviceGetName(h)
        name = name.decode() if isinstance(name, bytes) else str(name)
        mem = pynvml.nvmlDeviceGetMemoryInfo(h)
        try:
            util: float | None = float(pynvml.nvmlDeviceGetUtilizationRates(h).gpu)
        except pynvml.NVMLError:
            util = None
        try:
            temp: float | None = float(pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
        except pynvml.NVMLError:
            temp = None
        try:
            power: float | None = pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0
        except pynvml.NVMLError:
            power = None
        procs: list[GpuProcess] = []
        try:
            for p in pynvml.nvmlDeviceGetComputeRunningProcesses(h):
                used = int(p.usedGpuMemory or 0) if p.usedGpuMemory is not None else 0
                procs.append(GpuProcess(int(p.pid), _process_name(int(p.pid)), used))
        except pynvml.NVMLError:
            pass
        out.append(GpuInfo(i, name, util, int(mem.used), int(mem.total), temp, power, tuple(procs), "nvml"))
    return out


def _process_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        return "?"  # another container's process, or gone


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None  # "[N/A]"


def parse_nvidia_smi(text: str) -> list[GpuInfo]:
    """Parse ``--query-gpu=index,name,memory.used,memory.total,utilization.gpu,
    temperature.gpu,power.draw --format=csv,noheader,nounits``."""
    out = []
    for line in text.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 7:
            continue
        idx, name, used, total, util, temp, power = parts[:7]
        out.append(
            GpuInfo(
                index=int(idx),
                name=name,
                utilization=_float(util),
                memory_used=int((_float(used) or 0) * 2**20),
                memory_total=int((_float(total) or 0) * 2**20),
                temperature=_float(temp),
                power_w=_float(power),
                source="nvidia-smi",
            )
        )
    return out


def _smi() -> list[GpuInfo]:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        raise FileNotFoundError("nvidia-smi not found")
    proc = subprocess.run(
        [
            exe,
            "--query-gpu=index,name,memory.used,memory.total,utilization.gpu,temperature.gpu,power.draw",
            "--format=csv,noheader,nounits",
        ],
        capture_output=True,
        text=True,
        timeout=5,
        check=True,
    )
    return parse_nvidia_smi(proc.stdout)


def read_gpus() -> tuple[list[GpuInfo], str]:
    """The GPUs visible here, or ([], why not)."""
    reasons = []
    try:
        gpus = _nvml()
        if gpus:
            return gpus, ""
        reasons.append("NVML sees no device")
    except ImportError:
        reasons.append("nvidia-ml-py not installed")
    except Exception as exc:  # NVMLError_LibraryNotFound, driver not loaded...
        reasons.append(f"NVML: {exc}")
    try:
        gpus = _smi()
        if gpus:
            return gpus, ""
        reasons.append("nvidia-smi lists no GPU")
    except FileNotFoundError:
        reasons.append("no nvidia-smi")
    except (subprocess.SubprocessError, OSError) as exc:
        reasons.append(f"nvidia-smi failed: {exc}")
    return [], "; ".join(reasons)
