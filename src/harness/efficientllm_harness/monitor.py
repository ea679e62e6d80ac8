"""NVML readings and the sampler thread that turns them into `sample` events.

pynvml (nvidia-ml-py) is optional: it is imported lazily, and any failure means "no NVML", reported
in `hello` as a fact, never a crash. Without NVML, memory samples are the process's resident set.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from typing import Optional

from .devices import process_rss_bytes
from .protocol import EventWriter


class Nvml:
    """One NVML device handle; each reading returns None when that reading fails."""

    def __init__(self, pynvml, handle, name: str):
        self._nv = pynvml
        self._h = handle
        self.name = name
        self.power_works = self.power_w() is not None

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


class Monitor:
    """Writes a `sample` every interval from a daemon thread, on the perf_counter clock the stages
    use for the window edges, so samples and window line up."""

    def __init__(self, writer: EventWriter, nvml: Optional[Nvml], interval_s: float):
        self._writer, self._nvml, self._interval = writer, nvml, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="efficientllm-monitor", daemon=True)

    def sample(self) -> None:
        nv = self._nvml
        memory = nv.memory_used() if nv else None
        self._writer.sample(
            t=time.perf_counter(),
            memory_bytes=memory if memory is not None else process_rss_bytes(),
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
