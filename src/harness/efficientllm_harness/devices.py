"""Device and dtype choice, timing marks, memory peaks, and what `hello` says about the machine."""
from __future__ import annotations

import gc
import os
import platform
import resource
import time
from typing import Optional

import torch

from .config import Unsupported

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def pick_device() -> torch.device:
    """CUDA when torch sees a GPU (the current one, which CUDA_VISIBLE_DEVICES selects), else CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def check_dtype(device: torch.device, precision: str) -> torch.dtype:
    """The dtype of a precision, after a tiny matmul proves the device can run it
    (torch 1.x CPUs have no fp16 matmul; pre-Ampere GPUs may lack bf16). For int8/int4/fp8 it is the
    compute (activation) dtype of quant.py: bf16 on CUDA, fp32 on the CPU; fp8 off Hopper is refused."""
    if precision not in DTYPES:
        from .quant import compute_dtype  # quant imports config only; lazy keeps this module light
        dtype = compute_dtype(device, precision)
    else:
        dtype = DTYPES[precision]
    try:
        a = torch.ones(8, 8, device=device, dtype=dtype)
        (a @ a).sum().item()
    except (RuntimeError, TypeError) as e:
        raise Unsupported(f"precision \"{precision}\" cannot run on this {device.type.upper()} ({e}); use fp32") from e
    return dtype


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Clock:
    """Timing marks: CUDA events on a GPU (GPU time, no host sync per mark), perf_counter on CPU.
    Read `seconds` only after synchronize(), which the stages do at the window's end."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"

    def mark(self):
        if self.cuda:
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def seconds(self, a, b) -> float:
        return a.elapsed_time(b) / 1000.0 if self.cuda else b - a


def reset_memory(device: torch.device) -> None:
    """Free what is no longer referenced and restart the peak counters (between runs, and after
    quantisation, whose dense build-time weights are no part of the run's peak). The CPU baseline of
    begin_run stays where it is."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    else:
        # glibc keeps freed heap pages resident; hand them back, or the RSS would still hold them.
        _trim_heap()
        # Linux resets the process's peak RSS (VmHWM) to the current RSS when 5 is written here.
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass


# Where each memory figure comes from (hello's memorySource and peakMemorySource):
#   nvml            device memory in use as NVML reports it (every process on the GPU)
#   cuda-reserved   bytes torch's caching allocator holds on the GPU (no NVML)
#   cuda-allocator  peak bytes torch allocated on the GPU since the run began
#   rss-delta       resident memory the run added to the harness process: RSS (peak: VmHWM) minus the
#                   RSS when the run began, after the previous run's memory was freed and trimmed, less
#                   the file-backed pages (library code) the run faulted in. A forked child maps none of
#                   its parent's file pages at first, so each run re-faults the torch and MKL code it
#                   uses: resident, but shared and already in memory, and no part of what the config
#                   needs (8-19 MiB per run measured here for a 4-layer model, enough to put its MHA,
#                   GQA and MQA peaks level; without it they read 59.3, 59.3 and 58.3 MiB, with it 51.0,
#                   41.2 and 39.0 MiB, repeatable within 0.1 MiB)
def memory_sources(device: torch.device, nvml_memory: bool):
    """(source of the samples, source of the peak) on this device."""
    if device.type == "cuda":
        return ("nvml" if nvml_memory else "cuda-reserved"), "cuda-allocator"
    return "rss-delta", "rss-delta"


# The process's resident bytes when the current run began (CPU), and the file-backed share of them.
# Process-wide, as RSS itself is.
_rss_baseline = 0
_file_baseline = 0


def _rss_file_bytes() -> Optional[int]:
    """Resident file-backed bytes (RssFile, Linux ≥ 4.5), or None where /proc does not say."""
    line = _proc_line("/proc/self/status", "RssFile:")  # "RssFile:   11264 kB"
    return int(line.split()[1]) * 1024 if line is not None else None


def begin_run(device: torch.device) -> None:
    """At the start of each run: free the last run's memory, restart the peaks and, on the CPU, take
    the RSS that this run's figures are measured from."""
    global _rss_baseline, _file_baseline
    reset_memory(device)
    if device.type != "cuda":
        _rss_baseline = process_rss_bytes()
        _file_baseline = _rss_file_bytes() or 0


def _file_pages_added() -> int:
    """File-backed bytes (library code and data) faulted in since the run began; 0 where unknown."""
    now = _rss_file_bytes()
    return max(0, now - _file_baseline) if now is not None else 0


def memory_in_use_bytes(device: torch.device) -> int:
    """Memory of the current run now, for samples where NVML does not give device memory."""
    if device.type == "cuda":
        return int(torch.cuda.memory_reserved(device))
    return max(0, process_rss_bytes() - _rss_baseline - _file_pages_added())


_libc = None


def _trim_heap() -> None:
    """malloc_trim(0) where the C library is glibc; elsewhere nothing (the RSS delta is then an upper
    bound for runs after the first, since freed memory may stay resident)."""
    global _libc
    if _libc is None:
        try:
            import ctypes
            _libc = ctypes.CDLL("libc.so.6")
        except OSError:
            _libc = False
    trim = getattr(_libc, "malloc_trim", None) if _libc else None
    if trim is not None:
        trim(0)


def _proc_line(path: str, prefix: str) -> Optional[str]:
    """The first line of a /proc file that starts with `prefix` (in any case), or None where there is
    no such line or no such file (not Linux: the callers then fall back to what the OS offers)."""
    try:
        with open(path) as f:
            for line in f:
                if line.lower().startswith(prefix.lower()):
                    return line
    except OSError:
        pass
    return None


def peak_memory_bytes(device: torch.device) -> int:
    """CUDA: peak bytes torch allocated since reset_memory (cuda-allocator). CPU: peak resident set
    since reset_memory (VmHWM on Linux; else ru_maxrss, which covers the whole process life) minus the
    RSS when the run began and the file pages faulted in since (rss-delta). File pages only accumulate
    in a run, so the ones counted now include all those resident at the peak: the figure is at most
    the peak of the run's own memory, short of it only by library code first touched after the peak."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    line = _proc_line("/proc/self/status", "VmHWM:")  # "VmHWM:   123456 kB"
    peak = int(line.split()[1]) * 1024 if line is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return max(0, peak - _rss_baseline - _file_pages_added())


def process_rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_name() -> str:
    line = _proc_line("/proc/cpuinfo", "model name")  # "model name\t: AMD EPYC 9654 96-Core Processor"
    if line is not None:
        return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "cpu"


def host_memory_bytes() -> int:
    line = _proc_line("/proc/meminfo", "MemTotal:")  # "MemTotal:  263842112 kB"
    if line is not None:
        return int(line.split()[1]) * 1024
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def device_name_and_memory(device: torch.device):
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return props.name, int(props.total_memory)
    return cpu_name(), host_memory_bytes()


_calibrations: dict = {}


def calibrate(device: torch.device, dtype: torch.dtype):
    """(peak matmul FLOP/s, copy bandwidth bytes/s) measured on this device, best of three, cached per
    dtype. CPUs have no datasheet peak, so their roofline and MFU are measured against what a large
    matmul and a large copy achieve here; the record labels them as measured. About 0.2 s."""
    key = (str(device), dtype)
    if key not in _calibrations:
        n = 1024
        a = torch.randn(n, n, device=device).to(dtype)
        b = torch.randn(n, n, device=device).to(dtype)
        best_mm = best_copy = float("inf")
        x = torch.empty(32 * 2**20, device=device, dtype=torch.float32)  # 128 MiB, beyond any cache
        y = torch.empty_like(x)
        for _ in range(3):
            t0 = time.perf_counter()
            a @ b
            best_mm = min(best_mm, time.perf_counter() - t0)
            t0 = time.perf_counter()
            y.copy_(x)
            best_copy = min(best_copy, time.perf_counter() - t0)
        # A copy reads and writes every byte once.
        _calibrations[key] = (2 * n**3 / best_mm, 2 * x.numel() * x.element_size() / best_copy)
    return _calibrations[key]
