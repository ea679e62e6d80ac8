"""One run from config to `result` or `error`, and the two ways of being invoked (--config, --run-dir).

Every failure ends as exactly one `error` event: invalid-config, unsupported, oom, or crash (with the
exception text; the traceback goes to stderr). Nothing dies silently.

Memory figures are each run's own, whatever ran before it in the process: on CUDA the allocator's
peak and cache are reset between runs; on the CPU, where a process's RSS never comes back down, each
--run-dir run is measured in a process of its own, forked from one that imported torch but never ran
it, and reports what it added to that process's RSS (devices.begin_run).
"""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import signal
import sys
import traceback
from typing import IO, Optional, Tuple

import torch

from . import devices
from . import distributed
from . import stages
from .config import ConfigError, ProfileConfig, Unsupported, check_supported, parse_config
from .monitor import Monitor, Nvml, window_power_w
from .protocol import DeviceInfo, EventWriter, Hello


class Environment:
    """What is set up once per process and shared by its runs: the device, NVML, the hello."""

    def __init__(self) -> None:
        self.device = devices.pick_device()
        self.nvml = Nvml.open(self.device.index or 0) if self.device.type == "cuda" else None
        name, memory = devices.device_name_and_memory(self.device)
        nvml_memory = self.nvml is not None and self.nvml.memory_used() is not None
        sample_source, peak_source = devices.memory_sources(self.device, nvml_memory)
        self.read_memory = (self.nvml.memory_used if sample_source == "nvml"
                            else lambda: devices.memory_in_use_bytes(self.device))
        self.hello = Hello(
            python=platform.python_version(), torch=str(torch.__version__), cuda=torch.version.cuda,
            device=DeviceInfo(name, memory), nvml=self.nvml is not None,
            power_scope=self.nvml.power_scope if self.nvml else None,
            memory_source=sample_source, peak_memory_source=peak_source,
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


def set_power(counters, nvml: Optional[Nvml]) -> None:
    """The window's average power: the energy counter's rise ÷ the window where it rose, since the
    driver's power reading is a 1-second average on Ampere and newer and lags a short window; else
    the mean of the power samples (metrics.ts). An energy counter that did not rise measured nothing."""
    counters.power_w = window_power_w(counters.energy_j, counters.window_start_t, counters.window_end_t)
    if counters.power_w is None:
        counters.energy_j = None
    counters.power_method = ("energy-counter" if counters.power_w is not None
                             else "power-samples" if nvml is not None and nvml.power_works else None)


def _hello(env: Environment, cfg: Optional[ProfileConfig]) -> Hello:
    """The process's hello, with the world size of a data-parallel config."""
    p = cfg.parallel if cfg is not None else None
    return env.hello if p is None else dataclasses.replace(env.hello, world_size=p.nproc * p.nodes, nodes=p.nodes)


def _measure(env: Environment, cfg: ProfileConfig, writer: EventWriter, monitor: bool = True):
    """The stage's counters, with the monitor sampling around it."""
    dtype = devices.check_dtype(env.device, cfg.precision)
    torch.manual_seed(cfg.seed)
    ctx = stages.RunContext(cfg, env.device, dtype, writer, env.nvml)
    if not monitor:
        return stages.run_stage(ctx)
    with Monitor(writer, env.nvml, cfg.sample_ms / 1000.0, env.read_memory):
        return stages.run_stage(ctx)


def _finish(env: Environment, counters, dtype_precision: str) -> None:
    set_power(counters, env.nvml)
    if env.device.type == "cpu":  # after the window, so it never disturbs the measurement
        dtype = devices.check_dtype(env.device, dtype_precision)
        counters.measured_peak_flops_per_s, counters.measured_bandwidth_bytes_per_s = devices.calibrate(env.device, dtype)


def run_one(env: Environment, config_path: str, writer: EventWriter) -> bool:
    """hello, then result (returns True) or error (returns False). A data-parallel config is handed
    to distributed.launch, which starts its ranks and ends the stream itself."""
    devices.begin_run(env.device)
    kind = message = None
    try:
        cfg = None
        try:
            cfg = parse_config(load_config(config_path))
        finally:
            writer.hello(_hello(env, cfg))  # first, even before an invalid-config error
        check_supported(cfg)
        if cfg.parallel is not None:
            distributed.check_supported_parallel(cfg, env.device.type)
            return distributed.launch(cfg, config_path, writer)
        counters = _measure(env, cfg, writer)
        _finish(env, counters, cfg.precision)
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


def run_rank(env: Environment, config_path: str, writer: EventWriter, lead: bool, gather) -> None:
    """One rank of a data-parallel run (distributed.worker_main): the stage, then every rank's
    counters gathered; the lead (rank 0) samples and writes the result. Failures raise."""
    devices.begin_run(env.device)
    cfg = parse_config(load_config(config_path))
    check_supported(cfg)
    counters = _measure(env, cfg, writer, monitor=lead)
    combined = gather(counters, cfg.stage)
    if lead:
        _finish(env, combined, cfg.precision)
        writer.result(combined)


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
    try:
        with open(tmp, "w") as f:
            f.write("0\n" if ok else "1\n")
        os.replace(tmp, os.path.join(run_dir, "exit"))  # readers never see a half-written file
    except OSError as e:  # a folder that cannot be written: its reader times out on the missing exit
        print(f"efficientllm harness: cannot write the exit status in run folder {run_dir}: {e}", file=sys.stderr)


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


def _run_dir(env: Environment, d: str) -> bool:
    try:
        events = open(os.path.join(d, "events.jsonl"), "a", encoding="utf-8")
    except OSError as e:
        print(f"efficientllm harness: cannot write events in run folder {d}: {e}", file=sys.stderr)
        return False
    with events:
        return run_one(env, os.path.join(d, "config.json"), EventWriter(events))


def forks_per_run(env: Environment) -> bool:
    """CPU runs on Linux each get a forked process (the module docstring says why). Not on CUDA, which
    a forked child cannot use, and not elsewhere, where fork and torch do not mix reliably."""
    return env.device.type == "cpu" and sys.platform.startswith("linux") and hasattr(os, "fork")


_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """In a forked run: ask Linux to SIGKILL this child when the harness process that forked it dies
    (a harness killed by pid, not by group, must not leave its run computing on as an orphan)."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _run_dir_forked(env: Environment, d: str) -> bool:
    """_run_dir in a child process; a child killed by a signal still ends its run with an error event."""
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            _die_with(parent)
            code = 0 if _run_dir(env, d) else 1
        finally:
            sys.stderr.flush()
            os._exit(code)  # no atexit handlers or pytest teardown of the parent's in the child
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status) == 0
    sig = os.WTERMSIG(status)
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = "unknown signal"
    hint = (" (on Linux usually the kernel's out-of-memory killer: try a smaller batch, seqLen or model)"
            if sig == signal.SIGKILL else "")
    message = f"the run's process was killed by signal {sig} ({name}){hint}; see stderr.log in {d}"
    print(f"efficientllm harness: {message}", file=sys.stderr)
    try:
        with open(os.path.join(d, "events.jsonl"), "a", encoding="utf-8") as f:
            EventWriter(f).error("crash", message)
    except OSError:
        pass
    return False


def run_dirs(dirs, env: Optional[Environment] = None) -> int:
    """--run-dir: each DIR/config.json in turn; events to DIR/events.jsonl, stderr to DIR/stderr.log
    and "0"/"1" to DIR/exit. One process holds torch for all of them; on the CPU each run is measured
    in a child forked from it. Exit 0 only if every run produced a result."""
    all_ok = True
    for d in dirs:
        _stderr_to(d)
        if env is None:
            try:
                env = Environment()
            except Exception as e:
                traceback.print_exc(file=sys.stderr)
                try:
                    with open(os.path.join(d, "events.jsonl"), "a", encoding="utf-8") as f:
                        EventWriter(f).error("crash", f"{type(e).__name__}: {e}")
                except OSError:
                    pass
                _write_exit(d, False)
                all_ok = False
                continue
        ok = _run_dir_forked(env, d) if forks_per_run(env) else _run_dir(env, d)
        _write_exit(d, ok)
        all_ok = all_ok and ok
    return 0 if all_ok else 1
