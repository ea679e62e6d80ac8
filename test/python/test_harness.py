"""The harness end to end: the --config and --run-dir modes, every error kind, and the counters."""
import json
import math
import os
import subprocess
import sys

import pytest
import torch

from conftest import HARNESS_DIR, parse_events, tiny_config
from efficientllm_harness import stages
from efficientllm_harness.runner import run_dirs

KV_HEADS, LAYERS, HEAD_DIM = 2, 2, 32


def harness(*args):
    env = dict(os.environ, PYTHONPATH=HARNESS_DIR)
    return subprocess.run([sys.executable, "-m", "efficientllm_harness", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def make_run_dir(root, name, cfg):
    d = root / name
    d.mkdir()
    (d / "config.json").write_text(json.dumps(cfg))
    return d


def only_error(events):
    assert events[0]["type"] == "hello"
    assert events[-1]["type"] == "error", events[-1]
    assert not [e for e in events if e["type"] == "result"]
    return events[-1]


def test_config_mode_end_to_end(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tiny_config()))
    proc = harness("--config", str(path))
    assert proc.returncode == 0, proc.stderr
    events = parse_events(proc.stdout)  # every stdout line is a valid event, nothing else
    assert events[0]["type"] == "hello" and events[-1]["type"] == "result"
    assert {"progress", "sample"} <= {e["type"] for e in events}
    c = events[-1]["counters"]
    assert c["iterations"] == 2 and len(c["iterationS"]) == 2 and all(s > 0 for s in c["iterationS"])
    assert c["tokensPerIteration"] == 1 * (32 + 8 - 1) and c["generatedTokensPerIteration"] == 8
    assert c["ttftS"] > 0 and c["tpotS"] > 0 and c["windowEndT"] > c["windowStartT"]
    assert c["trainableParams"] == 0 and c["optimizerStateBytes"] is None and c["loss"] is None
    assert c["referenceWeightBytes"] == 2 * c["params"] and c["weightBytes"] == 4 * c["params"]
    samples = [e["t"] for e in events if e["type"] == "sample"]
    assert samples == sorted(samples)  # one clock, monotonic


@pytest.mark.parametrize("precision,element_bytes", [("fp32", 4), ("bf16", 2)])
def test_kv_cache_bytes(tmp_path, run_in_process, precision, element_bytes):
    code, events = run_in_process(tiny_config(precision=precision), tmp_path)
    assert code == 0, events[-1]
    batch, seq_len, new_tokens = 1, 32, 8
    expected = 2 * LAYERS * KV_HEADS * HEAD_DIM * batch * (seq_len + new_tokens) * element_bytes
    assert events[-1]["counters"]["kvCacheBytes"] == expected


def test_run_dir_mode_writes_each_folder(tmp_path):
    a = make_run_dir(tmp_path, "a", tiny_config())
    b = make_run_dir(tmp_path, "b", tiny_config(attention={"kind": "mqa", "kvHeads": 1},
                                                model={"shape": {**tiny_config()["model"]["shape"], "kvHeads": 1}}))
    proc = harness("--run-dir", str(a), str(b))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    for d in (a, b):
        events = parse_events((d / "events.jsonl").read_text())
        assert events[0]["type"] == "hello" and events[-1]["type"] == "result"
        assert sum(e["type"] == "hello" for e in events) == 1  # self-contained
        assert (d / "exit").read_text().strip() == "0"
    kv_b = parse_events((b / "events.jsonl").read_text())[-1]["counters"]["kvCacheBytes"]
    assert kv_b == 2 * LAYERS * 1 * HEAD_DIM * 1 * 40 * 4


def test_invalid_config_names_the_field(tmp_path, run_in_process):
    code, events = run_in_process(tiny_config(attention={"kind": "xyz"}), tmp_path)
    err = only_error(events)
    assert code == 1 and err["kind"] == "invalid-config" and "attention.kind" in err["message"]

    cfg = tiny_config()
    del cfg["workload"]["seqLen"]
    code, events = run_in_process(cfg, tmp_path)
    err = only_error(events)
    assert code == 1 and err["kind"] == "invalid-config" and "workload.seqLen: is missing" in err["message"]


def test_invalid_config_exit_code_from_the_command_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{not json")
    proc = harness("--config", str(path))
    assert proc.returncode == 1
    err = only_error(parse_events(proc.stdout))
    assert err["kind"] == "invalid-config" and "not JSON" in err["message"]


HOPPER = torch.cuda.is_available() and torch.cuda.get_device_capability() >= (9, 0)


@pytest.mark.parametrize("changes,field", [
    pytest.param(dict(precision="fp8"), "precision", marks=pytest.mark.skipif(HOPPER, reason="fp8 runs on Hopper")),
])
def test_unsupported_names_field_and_value(tmp_path, run_in_process, changes, field):
    code, events = run_in_process(tiny_config(**changes), tmp_path)
    err = only_error(events)
    assert code == 1 and err["kind"] == "unsupported", err
    assert err["message"].startswith(field) and "not supported" in err["message"]


def fake_oom_once(monkeypatch, name, marker):
    """A fake CUDA OOM at the only seam reachable without a GPU: the step function. It raises on
    the first call only, so a later run runs the real step. `marker` is a file, not a variable,
    because on the CPU each --run-dir run is a forked child that cannot change its parent's memory."""
    real = getattr(stages, name)

    def step(*args, **kwargs):
        if not marker.exists():
            marker.write_text("raised")
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total capacity)")
        return real(*args, **kwargs)

    monkeypatch.setattr(stages, name, step)


def test_oom_is_an_error_event(tmp_path, run_in_process, monkeypatch):
    fake_oom_once(monkeypatch, "inference_step", tmp_path / "oom-raised")
    code, events = run_in_process(tiny_config(), tmp_path)
    err = only_error(events)
    assert code == 1 and err["kind"] == "oom" and "Tried to allocate" in err["message"]


def test_oom_in_run_dir_mode_then_next_run_completes(tmp_path, monkeypatch):
    fake_oom_once(monkeypatch, "train_step", tmp_path / "oom-raised")
    train = tiny_config(stage="pretrain", workload={"newTokens": 0})
    a, b = make_run_dir(tmp_path, "a", train), make_run_dir(tmp_path, "b", train)
    assert run_dirs([str(a), str(b)]) == 1  # not every run produced a result
    assert only_error(parse_events((a / "events.jsonl").read_text()))["kind"] == "oom"
    assert (a / "exit").read_text().strip() == "1"
    assert parse_events((b / "events.jsonl").read_text())[-1]["type"] == "result"
    assert (b / "exit").read_text().strip() == "0"


def test_unexpected_exception_is_a_crash_with_its_text(tmp_path, run_in_process, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("something nobody expected")

    monkeypatch.setattr(stages, "inference_step", broken)
    code, events = run_in_process(tiny_config(), tmp_path)
    err = only_error(events)
    assert code == 1 and err["kind"] == "crash" and err["message"] == "ValueError: something nobody expected"


@pytest.mark.parametrize("stage,peft", [("pretrain", None), ("finetune", {"method": "full", "rank": 0, "alpha": 0, "targets": []})])
def test_training_loss_and_optimizer_state(tmp_path, run_in_process, stage, peft):
    code, events = run_in_process(tiny_config(stage=stage, peft=peft, workload={"newTokens": 0}), tmp_path)
    assert code == 0, events[-1]
    c = events[-1]["counters"]
    assert math.isfinite(c["loss"]) and 0 < c["loss"] < 20
    assert c["trainableParams"] == c["params"]
    # fp32 AdamW: exp_avg and exp_avg_sq, 4 bytes each per trainable parameter. The 0-dim `step`
    # counters are left out of optimizerStateBytes on purpose (see stages.optimizer_state_bytes).
    assert c["optimizerStateBytes"] == 2 * c["trainableParams"] * 4
    assert c["kvCacheBytes"] is None and c["ttftS"] is None and c["tpotS"] is None
    assert c["tokensPerIteration"] == 1 * 32 and c["generatedTokensPerIteration"] == 0


def test_single_new_token_has_no_tpot(tmp_path, run_in_process):
    code, events = run_in_process(tiny_config(workload={"newTokens": 1}), tmp_path)
    assert code == 0, events[-1]
    c = events[-1]["counters"]
    assert c["tpotS"] is None and c["ttftS"] > 0 and c["tokensPerIteration"] == 32


def test_bf16_weights_take_two_bytes(tmp_path, run_in_process):
    code, events = run_in_process(tiny_config(precision="bf16"), tmp_path)
    assert code == 0, events[-1]
    c = events[-1]["counters"]
    assert c["weightBytes"] == c["referenceWeightBytes"] == 2 * c["params"]


def test_fp16_where_the_device_cannot_is_unsupported(tmp_path, run_in_process):
    import torch
    try:
        (torch.ones(2, 2, dtype=torch.float16) @ torch.ones(2, 2, dtype=torch.float16)).sum().item()
        pytest.skip("this CPU runs fp16 matmuls")
    except RuntimeError:
        pass
    code, events = run_in_process(tiny_config(precision="fp16"), tmp_path)
    err = only_error(events)
    assert err["kind"] == "unsupported" and err["message"].startswith('precision "fp16"')


def test_missing_run_folder_config_is_that_runs_error(tmp_path):
    a = tmp_path / "a"
    a.mkdir()  # no config.json
    b = make_run_dir(tmp_path, "b", tiny_config())
    assert run_dirs([str(a), str(b)]) == 1
    err = only_error(parse_events((a / "events.jsonl").read_text()))
    assert err["kind"] == "invalid-config" and "config.json" in err["message"]
    assert (b / "exit").read_text().strip() == "0"


def test_without_torch_the_run_still_ends_with_an_error_event(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tiny_config()))
    code = ("import runpy, sys; sys.modules['torch'] = None; "  # makes `import torch` fail
            f"sys.argv = ['efficientllm_harness', '--config', {str(path)!r}]; "
            "runpy.run_module('efficientllm_harness', run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PYTHONPATH=HARNESS_DIR))
    assert proc.returncode == 1
    events = parse_events(proc.stdout)
    assert len(events) == 1 and events[0]["kind"] == "crash" and "PyTorch" in events[0]["message"]


def _children(pid):
    """PIDs whose parent is `pid`, read from /proc (Linux)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked runs are Linux only")
def test_a_forked_run_dies_with_its_harness(tmp_path):
    # The harness killed by pid (not by process group) must not leave its forked run computing on.
    import signal
    import time
    d = make_run_dir(tmp_path, "a", tiny_config(stage="pretrain", workload={"newTokens": 0, "steps": 100000}))
    proc = subprocess.Popen([sys.executable, "-m", "efficientllm_harness", "--run-dir", str(d)],
                            env=dict(os.environ, PYTHONPATH=HARNESS_DIR), start_new_session=True)
    try:
        deadline = time.time() + 90
        while not (d / "events.jsonl").exists() or b'"measure"' not in (d / "events.jsonl").read_bytes():
            assert time.time() < deadline, "the run never started measuring"
            time.sleep(0.2)
        children = [c for c in _children(proc.pid) if _alive(c)]
        assert len(children) == 1, children
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.time() + 10
        while _alive(children[0]) and time.time() < deadline:
            time.sleep(0.1)
        assert not _alive(children[0]), "the forked run outlived its harness"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the test's own cleanup: the whole session it started
        except ProcessLookupError:
            pass
