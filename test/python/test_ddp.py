"""Data-parallel runs (distributed.py) on the CPU with gloo: really data-parallel, and failing cleanly.

- Equivalence: DDP over 2 processes with batch b each follows the loss of 1 process with batch 2b,
  step by step (float64 weights; the loss is float32 as train_step computes it, so only rounding and
  summation order differ), through the harness's own hooks
  (distributed.init_rank, wrap, my_rows, stages.train_step); the same ranks without DDP do not.
- The harness end to end: `--run-dir` with parallel.nproc 2 writes one stream with worldSize 2,
  two perRank entries whose tokens/s sum to the run's, the loss of the 1-process 2b run, and leaves
  no rank behind (checked by PID).
- A rank killed mid-run ends the run as failed naming that rank and its signal, with its stderr tail
  in the run's stderr.log, the samples and progress measured before it kept, and no process left.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
import torch.multiprocessing as mp

from conftest import HARNESS_DIR, parse_events, tiny_config

STEPS = 4
SEQ = 16
TOL = 1e-5  # relative; float32 cross-entropy of float64 logits differs in the 7th digit at most
LR = 1e-3  # large enough that each step visibly moves the loss, so a wrong gradient shows


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pretrain_cfg(batch, **changes):
    return tiny_config(stage="pretrain", label="ddp test",
                       workload={"batch": batch, "seqLen": SEQ, "newTokens": 0, "steps": 3, "warmup": 1}, **changes)


def _losses(world, rank, batch, use_ddp):
    """Per-step loss of the global batch (the mean over ranks) from the harness's own training step."""
    from efficientllm_harness import devices, distributed, stages
    from efficientllm_harness.config import parse_config

    cfg = parse_config(_pretrain_cfg(batch, parallel={"nproc": world, "nodes": 1, "strategy": "ddp"}))
    cpu = torch.device("cpu")
    model = stages.build_model(stages.model_args(cfg, SEQ), cpu, torch.float64, cfg.seed)
    model.train()
    forward = distributed.wrap(model, cfg, cpu) if use_ddp else model
    opt = torch.optim.AdamW(forward.parameters(), lr=LR, weight_decay=0.1)
    tokens = distributed.my_rows(stages.random_tokens(cfg.model.shape.vocab, (world * batch, SEQ + 1), 0, cpu))
    clock = devices.Clock(cpu)
    out = []
    for _ in range(STEPS):
        _, _, ce = stages.train_step(forward, opt, tokens[:, :-1], tokens[:, 1:], clock)
        if world > 1:
            torch.distributed.all_reduce(ce)
            ce /= world
        out.append(float(ce))
    return out


def _rank_main(rank, world, port, batch, use_ddp, out_path):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    sys.path.insert(0, HARNESS_DIR)
    from efficientllm_harness import distributed

    distributed.init_rank("gloo")
    losses = _losses(world, rank, batch, use_ddp)
    if rank == 0:
        with open(out_path, "w") as f:
            json.dump(losses, f)
    distributed.finish_rank()


def _two_ranks(tmp_path, batch, use_ddp):
    out = tmp_path / f"losses-{use_ddp}.json"
    mp.spawn(_rank_main, args=(2, _free_port(), batch, use_ddp, str(out)), nprocs=2, join=True)
    return json.loads(out.read_text())


def test_ddp_over_two_ranks_follows_one_process_with_twice_the_batch(tmp_path):
    b = 2
    one = _losses(1, 0, 2 * b, use_ddp=False)  # no process group: wrap and my_rows are identities
    ddp = _two_ranks(tmp_path, b, use_ddp=True)
    alone = _two_ranks(tmp_path, b, use_ddp=False)
    assert abs(one[-1] - one[0]) > 1e-3, f"the steps must move the loss for the test to mean anything: {one}"
    print(f"1 process, batch {2 * b}: {one}\nDDP, 2 × {b}: {ddp}\n2 × {b} without DDP: {alone}")
    for step, (x, y) in enumerate(zip(one, ddp)):
        assert y == pytest.approx(x, rel=TOL), f"step {step}: 1 process {x}, DDP {y}"
    # The same two ranks without DDP (each trains on its own rows) leave the 1-process path after
    # step 1, by far more than the tolerance: the test tells data parallelism from its absence.
    assert alone[0] == pytest.approx(one[0], rel=TOL)
    assert max(abs(x - y) / x for x, y in zip(one[1:], alone[1:])) > 20 * TOL


# ---- the harness end to end ----

def _harness(run_dir):
    return subprocess.Popen([sys.executable, "-m", "efficientllm_harness", "--run-dir", str(run_dir)],
                            cwd=HARNESS_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but unreaped: count it as left behind only if it is not one.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _events(run_dir):
    return parse_events((run_dir / "events.jsonl").read_text())


def test_harness_runs_two_ranks_as_one_stream(tmp_path, run_in_process):
    run_dir = tmp_path / "two"
    run_dir.mkdir()
    (run_dir / "config.json").write_text(json.dumps(_pretrain_cfg(1, parallel={"nproc": 2, "nodes": 1, "strategy": "ddp"})))
    proc = _harness(run_dir)
    assert proc.wait(timeout=300) == 0
    assert (run_dir / "exit").read_text().strip() == "0"
    events = _events(run_dir)
    hellos = [e for e in events if e["type"] == "hello"]
    assert len(hellos) == 1 and hellos[0]["worldSize"] == 2
    assert [e["type"] for e in events].count("result") == 1 and not [e for e in events if e["type"] == "error"]
    c = next(e for e in events if e["type"] == "result")["counters"]
    assert [r["rank"] for r in c["perRank"]] == [0, 1]
    assert c["tokensPerIteration"] == 2 * SEQ  # both ranks' batch of 1
    global_tps = c["tokensPerIteration"] * c["iterations"] / sum(c["iterationS"])
    assert sum(r["tokensPerS"] for r in c["perRank"]) == pytest.approx(global_tps, rel=0.05)
    assert c["peakMemoryBytes"] == max(r["peakMemoryBytes"] for r in c["perRank"])
    # Really data-parallel through the product path: the loss of one process with batch 2.
    code, single = run_in_process(_pretrain_cfg(2), tmp_path)
    assert code == 0
    one = next(e for e in single if e["type"] == "result")["counters"]
    assert c["loss"] == pytest.approx(one["loss"], rel=1e-4)
    pids = json.loads((run_dir / "ranks.json").read_text())
    assert len(pids) == 2 and not [p for p in pids.values() if _alive(p)]


def test_fsdp_is_refused_naming_the_field_on_this_torch(tmp_path, run_in_process):
    code, events = run_in_process(_pretrain_cfg(1, parallel={"nproc": 2, "nodes": 1, "strategy": "fsdp"}), tmp_path)
    assert code == 1
    err = events[-1]
    assert err["type"] == "error" and err["kind"] == "unsupported" and "parallel.strategy" in err["message"]
    assert events[0]["worldSize"] == 2


def test_more_ranks_than_cores_is_refused(tmp_path, run_in_process):
    n = (os.cpu_count() or 1) + 1
    code, events = run_in_process(_pretrain_cfg(1, parallel={"nproc": n, "nodes": 1, "strategy": "ddp"}), tmp_path)
    assert code == 1 and events[-1]["kind"] == "unsupported" and "parallel.nproc" in events[-1]["message"]


def test_a_killed_rank_fails_the_run_and_leaves_no_process(tmp_path):
    run_dir = tmp_path / "kill"
    run_dir.mkdir()
    cfg = _pretrain_cfg(1, parallel={"nproc": 2, "nodes": 1, "strategy": "ddp"})
    cfg["workload"].update(steps=100000, warmup=0)  # would run for hours: only the kill ends it
    (run_dir / "config.json").write_text(json.dumps(cfg))
    proc = _harness(run_dir)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # wait until the window is being measured
            text = (run_dir / "events.jsonl").read_text() if (run_dir / "events.jsonl").exists() else ""
            if '"phase":"measure","step":3' in text and (run_dir / "ranks.json").exists():
                break
            assert proc.poll() is None, "the harness ended before the kill"
            time.sleep(0.2)
        else:
            pytest.fail("the run never reached its measured window")
        pids = {int(r): p for r, p in json.loads((run_dir / "ranks.json").read_text()).items()}
        os.kill(pids[1], signal.SIGKILL)
        assert proc.wait(timeout=60) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert (run_dir / "exit").read_text().strip() == "1"
    events = _events(run_dir)
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1 and errors[0] is events[-1]
    assert errors[0]["kind"] == "crash"
    assert "rank 1 of 2" in errors[0]["message"] and "SIGKILL" in errors[0]["message"]
    assert not [e for e in events if e["type"] == "result"]
    # What was measured before the kill stays in the stream.
    assert any(e["type"] == "progress" and e["phase"] == "measure" for e in events)
    assert any(e["type"] == "sample" for e in events)
    stderr = (run_dir / "stderr.log").read_text()
    assert "rank 1's stderr" in stderr and "rank1.stderr.log" in stderr
    left = [p for p in [proc.pid, *pids.values()] if _alive(p)]
    assert not left, f"processes left behind: {left}"
