"""The CPU memory figures (rss-delta) count what a run allocates, not the library pages it maps.

A forked child maps none of its parent's file pages at first, so every run re-faults the torch code
it uses; those pages are shared and already in memory. Ground truth here: a tensor of known size (its
bytes are the run's) and a file of known size read through mmap (resident file pages, as library code
is). Each case runs in a forked child, as a --run-dir run on the CPU does.
"""
import mmap
import os
import sys
import tempfile

import pytest
import torch

from efficientllm_harness import devices

MiB = 2**20
CPU = torch.device("cpu")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.path.exists("/proc/self/status"),
    reason="rss-delta reads /proc/self/status (Linux)",
)


def in_child(fn):
    """fn() in a forked child; returns what it wrote (an int) through a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            os.write(w, str(fn()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    out = os.read(r, 64).decode()
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child failed ({status})"
    return int(out)


def test_a_tensor_counts_in_full():
    def run():
        devices.begin_run(CPU)
        t = torch.ones(64 * MiB // 4)  # 64 MiB, every page written
        peak, now = devices.peak_memory_bytes(CPU), devices.memory_in_use_bytes(CPU)
        del t
        return min(peak, now)

    seen = in_child(run)
    assert 64 * MiB <= seen < 72 * MiB, f"{seen / MiB:.1f} MiB for a 64 MiB tensor"


def test_file_pages_read_through_mmap_do_not_count():
    with tempfile.TemporaryFile() as f:
        f.write(b"\1" * (64 * MiB))
        f.flush()

        def run():
            devices.begin_run(CPU)
            m = mmap.mmap(f.fileno(), 64 * MiB, prot=mmap.PROT_READ)
            total = sum(m[i] for i in range(0, 64 * MiB, 4096))  # fault in every page: 64 MiB more RSS
            assert total == 64 * MiB // 4096
            peak, now = devices.peak_memory_bytes(CPU), devices.memory_in_use_bytes(CPU)
            m.close()
            return max(peak, now)

        seen = in_child(run)
    assert seen < 8 * MiB, f"{seen / MiB:.1f} MiB counted for 64 MiB of file pages"
