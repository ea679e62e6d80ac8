"""One run from config to `result` or `error`, and the two ways of being invoked (--config, --run-dir).

Every failure ends as exactly one `error` event: invalid-config, unsupported, oom, or crash (with the
exception text; the traceback goes to stderr). Nothing dies silently.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import traceback
from typing import IO, Optional, Tuple

import torch

from . import devices
from . import stages
from .config import ConfigError, Unsupported, check_supported, parse_config
from .monitor import Monitor, Nvml
from .protocol import DeviceInfo, EventWriter, Hello


class Environment:
    """What is set up once per process and shared by its runs: the device, NVML, the hello."""

    def __init__(self) -> None:
        self.device = devices.pick_device()
        self.nvml = Nvml.open(self.device.index or 0) if self.device.type == "cuda" else None
        name, memory = devices.device_name_and_memory(self.device)
        nvml_memory = self.nvml is not None and self.nvml.memory_used() is not None
        self.hello = Hello(
            python=platform.python_version(), torch=str(torch.__version__), cuda=torch.version.cuda,
            device=DeviceInfo(name, memory), nvml=self.nvml is not None,
            power_scope=self.nvml.power_scope if self.nvml else None,
            memory_source="nvml" if nvml_memory else "process-rss",
        )


def is_oom(e: BaseException) -> bool:
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)  # torch ≥ 1.13
    if oom_type is not None and isinstance(e, oom_type):
        return True
    if isinstance(e, MemoryError):
        return True
    text = str(e).lower()
    return isinstance(e, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def classify(e: BaseException) -> Tuple[str, str]:
    """(error kind, message) of an exception that ended a run."""
    if isinstance(e, ConfigError):
        return "invalid-config", str(e)
    if isinstance(e, Unsupported):
        return "unsupported", str(e)
    if is_oom(e):
        return "oom", str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return "crash", f"{type(e).__name__}: {e}"


def load_config(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise ConfigError(f"(config): cannot read {path}: {e.strerror}; write the resolved ProfileConfig there") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"(config): {path} is not JSON ({e})") from e


def run_one(env: Environment, config_path: str, writer: EventWriter) -> bool:
    """hello, then result (returns True) or error (returns False)."""
    devices.reset_memory(env.device)
    kind = message = None
    try:
        writer.hello(env.hello)
        cfg = parse_config(load_config(config_path))
        check_supported(cfg)
        dtype = devices.check_dtype(env.device, cfg.precision)
        torch.manual_seed(cfg.seed)
        ctx = stages.RunContext(cfg, env.device, dtype, writer, env.nvml)
        with Monitor(writer, env.nvml, cfg.sample_ms / 1000.0):
            counters = stages.run_stage(ctx)
        if env.device.type == "cpu":  # after the window, so it never disturbs the measurement
            counters.measured_peak_flops_per_s, counters.measured_bandwidth_bytes_per_s = devices.calibrate(env.device, dtype)
        writer.result(counters)
        return True
    except Exception as e:  # noqa: BLE001 - every failure becomes one error event
        kind, message = classify(e)
        if kind == "crash":
            traceback.print_exc(file=sys.stderr)
        else:
            print(f"efficientllm harness: {kind}: {message}", file=sys.stderr)
    # Outside the except block the traceback, and with it the model and tensors its frames hold,
    # is released, so reset_memory below (and the next run) really gets the memory back.
    writer.error(kind, message)
    devices.reset_memory(env.device)
    return False


def run_config(config_path: str, out: IO[str]) -> int:
    """--config: events to `out` (stdout). Exit 0 after result, 1 after error."""
    writer = EventWriter(out)
    try:
        env = Environment()
    except Exception as e:  # no hello is possible; still end with an error event
        traceback.print_exc(file=sys.stderr)
        writer.error("crash", f"{type(e).__name__}: {e}")
        return 1
    return 0 if run_one(env, config_path, writer) else 1


def _write_exit(run_dir: str, ok: bool) -> None:
    tmp = os.path.join(run_dir, "exit.tmp")
    with open(tmp, "w") as f:
        f.write("0\n" if ok else "1\n")
    os.replace(tmp, os.path.join(run_dir, "exit"))  # readers never see a half-written file


def _stderr_to(run_dir: str) -> None:
    """Points file descriptor 2 at DIR/stderr.log, so each run's warnings and tracebacks (from Python
    and from native code alike) land in its own folder, as DESIGN.md's run layout says."""
    try:
        fd = os.open(os.path.join(run_dir, "stderr.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return  # keep the launcher's stderr; the events file will say what went wrong
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)


def run_dirs(dirs, env: Optional[Environment] = None) -> int:
    """--run-dir: each DIR/config.json in turn in this one process; events to DIR/events.jsonl,
    stderr to DIR/stderr.log and "0"/"1" to DIR/exit. Exit 0 only if every run produced a result."""
    all_ok = True
    for d in dirs:
        _stderr_to(d)
        try:
            events = open(os.path.join(d, "events.jsonl"), "a", encoding="utf-8")
        except OSError as e:
            print(f"efficientllm harness: cannot write events in run folder {d}: {e}", file=sys.stderr)
            all_ok = False
            continue
        with events:
            writer = EventWriter(events)
            if env is None:
                try:
                    env = Environment()
                except Exception as e:
                    traceback.print_exc(file=sys.stderr)
                    writer.error("crash", f"{type(e).__name__}: {e}")
                    _write_exit(d, False)
                    all_ok = False
                    continue
            ok = run_one(env, os.path.join(d, "config.json"), writer)
        _write_exit(d, ok)
        all_ok = all_ok and ok
    return 0 if all_ok else 1
