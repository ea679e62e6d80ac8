"""Data-parallel runs over torch.distributed: the launcher that starts the ranks, and what each rank does.

A config with `parallel.nproc` N > 1 is run by N worker processes, ranks 0 … N−1, each a fresh
`python -m efficientllm_harness --rank-worker CONFIG` with the environment torchrun gives its
workers (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so the worker
is the one a cluster's `srun torchrun` would start too. (torchrun itself is not used on one host:
Debian's torch 1.13 on Python 3.11 crashes in torch.distributed.elastic before starting a worker,
AttributeError in elastic/multiprocessing/api.py to_map, and a rank's failure should end the run at
once rather than after the elastic agent's restarts.) The harness process that read the config is
their launcher: it writes the hello (with worldSize), relays rank 0's events (the single event
stream), and watches every child. The first rank to fail ends the run: the others are killed at once
(a collective timeout is only the backstop), its error (or the signal that killed it) becomes the
run's one `error` event, and the tail of its stderr (DIR/rank<r>.stderr.log) is copied into the
run's stderr, where the targets read the record's stderrTail. No rank outlives the launcher: each
asks the kernel for SIGKILL when its parent dies (PR_SET_DEATHSIG), and the launcher reaps them all.

Each rank runs the same model and data code as one process (stages.py): DDP wraps the model for
pretrain and finetune, so gradients are averaged over the ranks each step; every rank takes its own
rows of one global batch of N × workload.batch sequences, so N ranks with batch b compute the step
one process computes with batch N·b (test/python/test_ddp.py proves it on the losses). Inference
runs one replica per rank, each on its own rows. Rank 0 gathers every rank's counters: perRank,
tokens per iteration summed over ranks, each step's time as rank 0's in training (DDP lock-steps
the ranks) and as the slowest replica's in inference, energy summed, the peak as the largest
rank's, the loss averaged over ranks. The monitor runs on rank 0 alone, so samples (AMU, power
over time) are rank 0's; perRank holds every rank's own peak and energy.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import IO, Dict, List, Optional

from .config import ProfileConfig, Unsupported
from .protocol import EventWriter, RankCounters, ResultCounters

# A dead peer is noticed by the launcher within a poll; this only stops a collective waiting forever
# where nothing else does (a rank stopped, not dead). Generous: a first CUDA step can take a while.
COLLECTIVE_TIMEOUT_S = float(os.environ.get("EFFICIENTLLM_COLLECTIVE_TIMEOUT_S", "300"))
_POLL_S = 0.05
_KILL_GRACE_S = 2.0
_STDERR_TAIL_LINES = 40


# ---- in a rank: the process group and the hooks stages.py calls (no-ops in one process) ----

_dist = None  # torch.distributed once this process is a rank


def world() -> int:
    return _dist.get_world_size() if _dist is not None else 1


def rank() -> int:
    return _dist.get_rank() if _dist is not None else 0


def my_rows(batch):
    """This rank's rows of a global batch made for every rank (world() × the per-rank batch)."""
    if _dist is None:
        return batch
    per = batch.size(0) // world()
    return batch[rank() * per:(rank() + 1) * per]


def barrier() -> None:
    if _dist is not None:
        _dist.barrier()


def wrap(module, cfg: ProfileConfig, device):
    """The module DDP (or FSDP) wraps in a data-parallel training run; the module itself otherwise.
    Count parameters before this: an FSDP rank holds a shard."""
    if _dist is None:
        return module
    ids = [device.index] if device.type == "cuda" else None
    if cfg.parallel is not None and cfg.parallel.strategy == "fsdp":
        from torch.distributed.fsdp import FullyShardedDataParallel  # checked by check_supported_parallel
        return FullyShardedDataParallel(module, device_id=device.index)
    from torch.nn.parallel import DistributedDataParallel
    # Experts a step routes no token to get no gradient; DDP must be told to expect that.
    return DistributedDataParallel(module, device_ids=ids, find_unused_parameters=cfg.moe is not None)


def init_rank(backend: Optional[str] = None) -> None:
    """Joins the process group described by torchrun's environment variables."""
    global _dist
    import torch
    import torch.distributed as dist
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend, init_method="env://", timeout=timedelta(seconds=COLLECTIVE_TIMEOUT_S))
    _dist = dist


def finish_rank() -> None:
    global _dist
    if _dist is not None:
        _dist.destroy_process_group()
        _dist = None


def _iteration_tokens(c: ResultCounters, stage: str) -> int:
    return c.generated_tokens_per_iteration if stage == "inference" else c.tokens_per_iteration


def rank_counters(c: ResultCounters, stage: str, r: int) -> RankCounters:
    measured = sum(c.iteration_s)
    return RankCounters(rank=r, tokens_per_s=_iteration_tokens(c, stage) * len(c.iteration_s) / measured,
                        peak_memory_bytes=c.peak_memory_bytes, step_s=measured / len(c.iteration_s),
                        energy_j=c.energy_j)


def combine(mine: ResultCounters, every: List[ResultCounters], stage: str) -> ResultCounters:
    """Rank 0's counters for the whole run, from every rank's (in rank order; mine is rank 0's)."""
    per_rank = [rank_counters(c, stage, r) for r, c in enumerate(every)]
    mine.per_rank = per_rank
    mine.tokens_per_iteration = sum(c.tokens_per_iteration for c in every)
    mine.generated_tokens_per_iteration = sum(c.generated_tokens_per_iteration for c in every)
    if stage == "inference":  # independent replicas: a step's requests are all served when the slowest is
        mine.iteration_s = [max(steps) for steps in zip(*(c.iteration_s for c in every))]
    # Training keeps rank 0's clock: DDP's all-reduce ends every rank's backward at the same moment, so
    # the ranks step in lock-step and rank 0's step is the run's (perRank shows each rank's own).
    peaks = [c.peak_memory_bytes for c in every]
    mine.peak_memory_bytes = None if None in peaks else max(peaks)
    energies = [c.energy_j for c in every]
    mine.energy_j = None if None in energies else sum(energies)
    losses = [c.loss for c in every]
    mine.loss = None if None in losses else sum(losses) / len(losses)
    return mine


def gather(counters: ResultCounters, stage: str) -> Optional[ResultCounters]:
    """Every rank's counters to rank 0, combined there; None on the other ranks."""
    every: List[Optional[ResultCounters]] = [None] * world()
    _dist.all_gather_object(every, counters)
    return combine(counters, every, stage) if rank() == 0 else None


def check_supported_parallel(cfg: ProfileConfig, device_type: str) -> None:
    """Raises Unsupported naming the parallel field this harness or device cannot run."""
    p = cfg.parallel
    if p is None:
        return
    if p.nodes > 1:
        raise Unsupported(f"parallel.nodes {p.nodes}: this harness starts the ranks of one node only; "
                          "use parallel.nodes 1 (more nodes need the Slurm launcher of issue 15)")
    if cfg.model.source == "hf":
        raise Unsupported("parallel: Hugging Face checkpoints run in one process for now; drop parallel")
    if getattr(cfg.model, "vision", None) is not None:  # stages_vision.py has no data-parallel hooks yet
        raise Unsupported("parallel: image models (model.vision) run in one process for now; drop parallel")
    if cfg.train_tokens is not None:
        raise Unsupported("parallel: training to a budget (trainTokens) runs in one process for now")
    if p.strategy == "fsdp":
        if cfg.stage == "inference":
            raise Unsupported('parallel.strategy "fsdp" shards training state; for inference use "ddp"')
        import torch
        try:
            from torch.distributed.fsdp import FullyShardedDataParallel  # noqa: F401
        except Exception as e:  # noqa: BLE001 - Debian's torch 1.13 on Python 3.11 fails with ValueError
            raise Unsupported(f'parallel.strategy "fsdp": FSDP cannot be imported from this torch '
                              f'{torch.__version__} ({type(e).__name__}: {e}); use "ddp", or torch ≥ 2') from None
        if device_type != "cuda":
            raise Unsupported('parallel.strategy "fsdp" needs CUDA GPUs (NCCL); on CPUs use "ddp"')
    if device_type == "cuda":
        import torch
        gpus = torch.cuda.device_count()
        if p.nproc > gpus:
            raise Unsupported(f"parallel.nproc {p.nproc}: this machine shows {gpus} GPU(s); "
                              f"use parallel.nproc ≤ {gpus} (one rank per GPU)")
    elif p.nproc > (os.cpu_count() or 1):
        raise Unsupported(f"parallel.nproc {p.nproc}: this machine has {os.cpu_count()} CPU cores; "
                          f"use parallel.nproc ≤ {os.cpu_count()} (one rank per core at least)")


# ---- the worker process: `--rank-worker CONFIG` ----

def _die_with_parent() -> None:
    """SIGKILL this process when the launcher dies, however it dies (Linux; elsewhere nothing)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the launcher died before the prctl: do not run orphaned
            os._exit(1)
    except (OSError, AttributeError):
        pass


class _NoEvents(EventWriter):
    """Ranks other than 0 write no events (their counters reach rank 0 by all_gather)."""

    def __init__(self) -> None:
        super().__init__(open(os.devnull, "w", encoding="utf-8"))


def worker_main(config_path: str, out: IO[str]) -> int:
    """One rank: join the group, run the stage with the hooks above, gather, rank 0 writes the result.
    Any failure is one error event on this rank's stdout (the launcher reads every rank's)."""
    _die_with_parent()
    from . import runner  # imports torch
    import torch

    r = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", r))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"]))
    writer = EventWriter(out)
    try:
        if torch.cuda.is_available():
            torch.cuda.set_device(local)
        else:  # ranks share the cores (as torchrun's OMP_NUM_THREADS does) rather than fight over them
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
        init_rank()
        env = runner.Environment()
        runner.run_rank(env, config_path, writer if r == 0 else _NoEvents(), r == 0, gather)
        ok = True
    except Exception as e:  # noqa: BLE001 - every failure becomes one error event
        kind, message = runner.classify(e)
        print(f"efficientllm harness rank {r}: {kind}: {message}", file=sys.stderr)
        writer.error(kind, message)
        ok = False
    if ok:
        finish_rank()
    sys.stderr.flush()
    return 0 if ok else 1


# ---- the launcher: in the harness process that read the config ----

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Rank:
    def __init__(self, r: int, proc: subprocess.Popen, stderr_path: str) -> None:
        self.rank, self.proc, self.stderr_path = r, proc, stderr_path
        self.error: Optional[dict] = None
        self.returncode: Optional[int] = None
        self.reader: Optional[threading.Thread] = None


def _read_events(rk: _Rank, writer: EventWriter) -> None:
    """Rank 0's events go to the run's stream as they come; every rank's error is kept for the end."""
    for line in rk.proc.stdout:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if event.get("type") == "error":
            rk.error = event
        elif rk.rank == 0 and event.get("type") != "hello":
            writer.forward(event)


def _stderr_tail(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-_STDERR_TAIL_LINES:])
    except OSError:
        return ""


def _ending(rk: _Rank, n: int) -> tuple:
    """(kind, message) of the rank that ended the run."""
    code = rk.returncode
    where = f"rank {rk.rank} of {n}"
    if code is not None and code < 0:
        sig = -code
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = "unknown signal"
        hint = " (on Linux usually the out-of-memory killer)" if sig == signal.SIGKILL else ""
        return "crash", f"{where} was killed by signal {sig} ({name}){hint}; its stderr: {rk.stderr_path}"
    if rk.error is not None:
        return rk.error.get("kind", "crash"), f"{where}: {rk.error.get('message', '')}"
    return "crash", f"{where} exited with status {code} without a result; its stderr: {rk.stderr_path}"


def _stop(ranks: List[_Rank]) -> None:
    """SIGTERM the ranks still running, then SIGKILL what has not gone within the grace; reap all."""
    for rk in ranks:
        if rk.proc.poll() is None:
            rk.proc.terminate()
    deadline = time.monotonic() + _KILL_GRACE_S
    for rk in ranks:
        try:
            rk.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            rk.proc.kill()
            rk.proc.wait()


def launch(cfg: ProfileConfig, config_path: str, writer: EventWriter) -> bool:
    """Starts cfg.parallel.nproc ranks of config_path and follows them to the end. Returns True when
    rank 0's result reached the stream; otherwise writes the run's one error event and returns False."""
    n = cfg.parallel.nproc
    run_dir = os.path.dirname(os.path.abspath(config_path))
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base_env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(_free_port()), WORLD_SIZE=str(n),
                    LOCAL_WORLD_SIZE=str(n), GROUP_RANK="0", ROLE_RANK="0",
                    PYTHONPATH=os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p))
    ranks: List[_Rank] = []
    pids: Dict[int, int] = {}
    try:
        for r in range(n):
            path = os.path.join(run_dir, f"rank{r}.stderr.log")
            with open(path, "w", encoding="utf-8") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "efficientllm_harness", "--rank-worker", config_path],
                    env=dict(base_env, RANK=str(r), LOCAL_RANK=str(r), ROLE_RANK=str(r)),
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True, encoding="utf-8")
            rk = _Rank(r, proc, path)
            rk.reader = threading.Thread(target=_read_events, args=(rk, writer), daemon=True)
            rk.reader.start()
            ranks.append(rk)
            pids[r] = proc.pid
        _write_pids(run_dir, pids)
        failed = _watch(ranks)
    finally:
        _stop(ranks)  # also on an exception or signal in the launcher: no rank is left behind
    for rk in ranks:
        rk.returncode = rk.proc.returncode
        rk.reader.join(5)
    if not failed and ranks[0].error is None:
        return True
    culprit = _first_cause(failed) if failed else ranks[0]
    kind, message = _ending(culprit, n)
    tail = _stderr_tail(culprit.stderr_path)
    print(f"efficientllm harness: {message}\n--- the last lines of rank {culprit.rank}'s stderr "
          f"({culprit.stderr_path}) ---\n{tail}", file=sys.stderr, flush=True)
    writer.error(kind, message)
    return False


def _write_pids(run_dir: str, pids: Dict[int, int]) -> None:
    """DIR/ranks.json: {rank: pid}, for people (and the kill test) to find each rank's process."""
    try:
        with open(os.path.join(run_dir, "ranks.json.tmp"), "w", encoding="utf-8") as f:
            json.dump({str(r): p for r, p in pids.items()}, f)
        os.replace(os.path.join(run_dir, "ranks.json.tmp"), os.path.join(run_dir, "ranks.json"))
    except OSError:
        pass


def _watch(ranks: List[_Rank]) -> List[_Rank]:
    """Waits until every rank has exited 0 (returns []) or some have failed: returns those that had
    failed when the first failure was seen (a peer of a dead rank fails soon after it, often within
    the same poll)."""
    while True:
        codes = [rk.proc.poll() for rk in ranks]
        failed = [rk for rk, code in zip(ranks, codes) if code not in (None, 0)]
        if failed:
            return failed
        if all(code == 0 for code in codes):
            return []
        time.sleep(_POLL_S)


_PEER_LOST = ("connection closed by peer", "connection reset", "broken pipe", "gloo", "nccl", "timed out")


def _first_cause(failed: List[_Rank]) -> _Rank:
    """Of ranks that failed together, the one that caused it: one killed by a signal, else one whose
    error is its own rather than a lost peer's, else the lowest rank."""
    def weight(rk: _Rank) -> int:
        if rk.returncode is not None and rk.returncode < 0:
            return 0
        message = (rk.error or {}).get("message", "").lower()
        return 2 if rk.error is None or any(w in message for w in _PEER_LOST) else 1
    return min(failed, key=lambda rk: (weight(rk), rk.rank))
