"""Harness protocol v1: the only code that writes the JSON lines.

The TypeScript half is src/core/protocol.ts; field names and kinds here must match it exactly
(test/python/test_protocol.py reads that file and checks). Dataclass fields are snake_case and are
written camelCase, so `kv_cache_bytes` goes out as `kvCacheBytes`.
"""
from __future__ import annotations

import dataclasses
import json
import math
import threading
from dataclasses import dataclass
from typing import IO, Optional

PROTOCOL_VERSION = 1
ERROR_KINDS = ("oom", "unsupported", "invalid-config", "crash")


@dataclass
class DeviceInfo:
    name: str
    memory_bytes: int


@dataclass
class Hello:
    python: str
    torch: str
    cuda: Optional[str]
    device: DeviceInfo
    nvml: bool
    power_scope: Optional[str]  # 'gpu' | 'module' | None
    memory_source: str  # samples: 'nvml' | 'cuda-reserved' | 'rss-delta' (devices.memory_sources)
    peak_memory_source: str  # peakMemoryBytes: 'cuda-allocator' | 'rss-delta'
    world_size: int = 1  # processes of a data-parallel run (distributed.py)
    nodes: int = 1


@dataclass
class RankCounters:
    """One rank's own counters in a data-parallel run (RankCounters in protocol.ts)."""
    rank: int
    tokens_per_s: float
    peak_memory_bytes: Optional[int]
    step_s: float
    energy_j: Optional[float]


@dataclass
class ResultCounters:
    """Raw counters of one measured run; every field of ResultCounters in protocol.ts."""
    params: int
    active_params: int
    trainable_params: int
    weight_bytes: int
    reference_weight_bytes: int
    kv_cache_bytes: Optional[int]
    optimizer_state_bytes: Optional[int]
    peak_memory_bytes: Optional[int]
    iterations: int
    iteration_s: list
    tokens_per_iteration: int
    generated_tokens_per_iteration: int
    ttft_s: Optional[float]
    tpot_s: Optional[float]
    window_start_t: float
    window_end_t: float
    energy_j: Optional[float]
    quality: Optional[float]
    loss: Optional[float]
    # Measured by devices.calibrate on devices without datasheet figures (CPUs); null on GPUs, whose
    # peaks come from the TS catalogue.
    measured_peak_flops_per_s: Optional[float] = None
    measured_bandwidth_bytes_per_s: Optional[float] = None
    # Quality beside cost (budget.py), with a training budget only; null otherwise.
    val_loss: Optional[float] = None  # held-out loss at the end (nats/token)
    base_val_loss: Optional[float] = None  # finetune: the base model's held-out loss on the task, before
    data_entropy: Optional[float] = None  # the synthetic source's exact conditional entropy (nats/token)
    train_tokens: Optional[int] = None  # tokens actually trained
    quality_source: Optional[str] = None  # how `quality` was measured: 'perplexity' | 'agreement'
    # The window's average power from the energy counter (energy_j ÷ window); None where there is none.
    power_w: Optional[float] = None
    power_method: Optional[str] = None  # 'energy-counter' | 'power-samples' (monitor.power_method)
    # Data-parallel runs only (distributed.py): every rank's own counters, gathered by rank 0.
    per_rank: Optional[list] = None


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def to_json_value(value):
    """Dataclasses → camelCase dicts; NaN and ±Infinity → null, because they are not JSON."""
    if dataclasses.is_dataclass(value):
        return {camel(f.name): to_json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class EventWriter:
    """Writes one event per line and flushes it, so a reader tailing the stream sees it at once.

    The monitor thread writes samples while the main thread writes progress, so writes hold a lock.
    """

    def __init__(self, stream: IO[str]):
        self._stream = stream
        self._lock = threading.Lock()

    def _emit(self, event: dict) -> None:
        line = json.dumps(to_json_value(event), separators=(",", ":"), allow_nan=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def forward(self, event: dict) -> None:
        """An event another process wrote (rank 0 of a data-parallel run, distributed.py), as it was."""
        self._emit(event)

    def hello(self, hello: Hello) -> None:
        self._emit({"type": "hello", "protocol": PROTOCOL_VERSION, **to_json_value(hello)})

    def progress(self, phase: str, step: int, total: int) -> None:
        self._emit({"type": "progress", "phase": phase, "step": step, "total": total})

    def eval(self, tokens: int, seconds: float, val_loss: float) -> None:
        """A held-out evaluation during training to a budget (budget.py)."""
        self._emit({"type": "eval", "tokens": tokens, "seconds": seconds, "valLoss": val_loss})

    def sample(self, t: float, memory_bytes: int, utilization: Optional[float], power_w: Optional[float]) -> None:
        self._emit({"type": "sample", "t": t, "memoryBytes": memory_bytes, "utilization": utilization, "powerW": power_w})

    def result(self, counters: ResultCounters) -> None:
        self._emit({"type": "result", "counters": counters})

    def error(self, kind: str, message: str) -> None:
        if kind not in ERROR_KINDS:  # a harness bug; report it rather than write a line the reader rejects
            message, kind = f"(unknown error kind {kind!r}) {message}", "crash"
        self._emit({"type": "error", "kind": kind, "message": message})
