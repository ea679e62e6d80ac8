"""NVML readings and the sampler thread that turns them into `sample` events.

pynvml (nvidia-ml-py) is optional: it is imported lazily, and any failure means "no NVML", reported
in `hello` as a fact, never a crash. Without NVML, memory samples come from devices.memory_in_use_bytes
(torch's reserved bytes on a GPU, the run's RSS delta on a CPU), as hello's memorySource says.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Callable, Optional

from .protocol import EventWriter


class Nvml:
    """One NVML device handle; each reading returns None when that reading fails."""

    def __init__(self, pynvml, handle, name: str):
        self._nv = pynvml
        self._h = handle
        self.name = name
        self.power_works = self.power_w() is not None
        self.energy_works = self.energy_j() is not None

    @classmethod
    def open(cls, cuda_index: int) -> Optional["Nvml"]:
        try:
            import pynvml  # lazily: the harness runs without it

            pynvml.nvmlInit()
            handle = _handle_for(pynvml, cuda_index)
            name = pynvml.nvmlDeviceGetName(handle)
            return cls(pynvml, handle, name.decode() if isinstance(name, bytes) else str(name))
        except Exception as e:  # ImportError, NVMLError, anything: no NVML
            print(f"efficientllm harness: NVML unavailable ({type(e).__name__}: {e})", file=sys.stderr)
            return None

    @property
    def power_scope(self) -> Optional[str]:
        if not self.power_works:
            return None
        # On a GH200 the power sensor covers the whole Grace Hopper module (CPU + GPU + memory).
        return "module" if "GH200" in self.name.upper() else "gpu"

    def _read(self, fn):
        try:
            return fn()
        except Exception:
            return None

    def memory_used(self) -> Optional[int]:
        return self._read(lambda: int(self._nv.nvmlDeviceGetMemoryInfo(self._h).used))

    def utilization(self) -> Optional[float]:
        return self._read(lambda: float(self._nv.nvmlDeviceGetUtilizationRates(self._h).gpu))

    def power_w(self) -> Optional[float]:
        """The driver's power reading. On Ampere and newer NVIDIA documents it as an average over the
        last second, so it lags a short window: the window's average power comes from energy_j."""
        return self._read(lambda: self._nv.nvmlDeviceGetPowerUsage(self._h) / 1000.0)  # mW → W

    def energy_j(self) -> Optional[float]:
        """Total energy since the driver loaded (Volta and newer), in J."""
        return self._read(lambda: self._nv.nvmlDeviceGetTotalEnergyConsumption(self._h) / 1000.0)  # mJ → J


def _handle_for(pynvml, cuda_index: int):
    """The NVML device behind CUDA device `cuda_index`. NVML ignores CUDA_VISIBLE_DEVICES and counts
    all GPUs (in PCI order, which matches CUDA's on the homogeneous nodes we target), so map the
    CUDA index through that variable when it lists integers or GPU UUIDs."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    entries = [e.strip() for e in visible.split(",") if e.strip()] if visible else []
    if cuda_index < len(entries):
        entry = entries[cuda_index]
        if entry.isdigit():
            return pynvml.nvmlDeviceGetHandleByIndex(int(entry))
        if entry.startswith("GPU-"):
            return pynvml.nvmlDeviceGetHandleByUUID(entry)
    return pynvml.nvmlDeviceGetHandleByIndex(cuda_index)


def power_method(nvml: Optional[Nvml]) -> Optional[str]:
    """How a window's average power is measured on this device: the energy counter's rise over the
    window where the GPU has one (Volta and newer), else the mean of the power readings, else not."""
    if nvml is None:
        return None
    if nvml.energy_works:
        return "energy-counter"
    return "power-samples" if nvml.power_works else None


def window_power_w(energy_j: Optional[float], start_t: float, end_t: float) -> Optional[float]:
    """Average power of a window from the energy counter's rise over it; None without a rise (a GPU
    always draws power, so a counter that did not move measured nothing) or without a window."""
    if energy_j is None or energy_j <= 0 or end_t <= start_t:
        return None
    return energy_j / (end_t - start_t)


class Monitor:
    """Writes a `sample` every interval from a daemon thread, on the perf_counter clock the stages
    use for the window edges, so samples and window line up. `memory` reads the memory of the run
    (one source for the whole run: hello's memorySource); a sample it cannot read is skipped."""

    def __init__(self, writer: EventWriter, nvml: Optional[Nvml], interval_s: float,
                 memory: Callable[[], Optional[int]]):
        self._writer, self._nvml, self._interval, self._memory = writer, nvml, interval_s, memory
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="efficientllm-monitor", daemon=True)

    def sample(self) -> None:
        nv = self._nvml
        memory = self._memory()
        if memory is None:
            return
        self._writer.sample(
            t=time.perf_counter(),
            memory_bytes=memory,
            utilization=nv.utilization() if nv else None,
            power_w=nv.power_w() if nv else None,
        )

    def _loop(self) -> None:
        try:
            while True:
                self.sample()
                if self._stop.wait(self._interval):
                    break
        except Exception as e:  # a broken stream: stop sampling, the main thread will notice
            print(f"efficientllm harness: monitor stopped ({type(e).__name__}: {e})", file=sys.stderr)

    def __enter__(self) -> "Monitor":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
