"""Training to a budget: every reported loss recomputed here from the saved weights, and the loss
floors of the synthetic source respected."""
import io
import json
import math
import os

import pytest
import torch
import torch.nn.functional as F

from conftest import parse_events, tiny_config
from efficientllm_harness import runner, trained
from efficientllm_harness.data.synthetic import SyntheticSource
from efficientllm_harness.model import Decoder, ModelArgs

WORKLOAD = {"batch": 4, "seqLen": 64, "newTokens": 0, "steps": 2, "warmup": 1}
BUDGET = 24_000


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(trained, "CACHE_DIR", str(tmp_path / "bases"))
    monkeypatch.setattr(trained, "_in_process", {})


def run(tmp_path, name, **changes):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(tiny_config(**changes)))
    out = io.StringIO()
    ok = runner.run_one(runner.Environment(), str(path), runner.EventWriter(out))
    events = parse_events(out.getvalue())
    assert ok, [e for e in events if e["type"] == "error"]
    result = next(e for e in events if e["type"] == "result")["counters"]
    return result, [e for e in events if e["type"] == "eval"]


def reload(tmp_path, dtype=torch.float32, max_seq_len=64):
    """The one saved base model, built here from model.py and the cache file alone."""
    (path,) = (tmp_path / "bases").glob("*.pt")
    s = tiny_config()["model"]["shape"]
    args = ModelArgs(dim=s["hidden"], n_layers=s["layers"], n_heads=s["heads"], n_kv_heads=s["kvHeads"],
                     head_dim=s["headDim"], ffn_dim=s["ffn"], vocab_size=s["vocab"], attention="gqa",
                     max_seq_len=max_seq_len)
    model = Decoder(args).to(dtype)
    model.load_state_dict(torch.load(path))
    return model.eval()


def heldout_loss_here(model, source, batch=4, length=65):
    """Mean next-token cross-entropy over the held-out batches the harness uses (16,384 tokens)."""
    count = math.ceil(16_384 / (batch * (length - 1)))
    nll, n = 0.0, 0
    with torch.no_grad():
        for i in range(count):
            ids = source.batch("heldout", i, batch, length)
            logits = model(ids[:, :-1]).float()
            nll += F.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1), reduction="sum").item()
            n += ids[:, 1:].numel()
    return nll / n


def test_pretrain_learns_and_every_loss_is_recomputed(tmp_path):
    counters, evals = run(tmp_path, "pretrain", stage="pretrain", workload=WORKLOAD, trainTokens=BUDGET)
    vocab = tiny_config()["model"]["shape"]["vocab"]
    assert len(evals) >= 3 and evals[-1]["valLoss"] < evals[0]["valLoss"]
    assert [e["tokens"] for e in evals] == sorted(e["tokens"] for e in evals)
    assert counters["valLoss"] == evals[-1]["valLoss"]
    assert counters["trainTokens"] == evals[-1]["tokens"] >= BUDGET
    # The floor: the source's exact entropy (test_synthetic_data.py checks it against its definition).
    source = SyntheticSource(vocab, 0)
    assert counters["dataEntropy"] == pytest.approx(source.entropy_per_token(65))
    assert counters["valLoss"] >= counters["dataEntropy"] - 0.02
    assert counters["valLoss"] < math.log(vocab) - 1
    # An untrained model sits near ln(vocab): the first evaluation is before any step.
    assert abs(evals[0]["valLoss"] - math.log(vocab)) < 0.3
    assert heldout_loss_here(reload(tmp_path), source) == pytest.approx(counters["valLoss"], abs=1e-4)


def test_finetune_before_and_after_on_the_held_apart_task(tmp_path):
    peft = {"method": "lora", "rank": 8, "alpha": 16, "targets": ["q", "k", "v", "o"]}
    counters, evals = run(tmp_path, "lora", stage="finetune", peft=peft, workload=WORKLOAD, trainTokens=BUDGET)
    task = SyntheticSource(tiny_config()["model"]["shape"]["vocab"], 0, variant="task")
    # before = the saved base's loss on the task, computed here
    assert heldout_loss_here(reload(tmp_path), task) == pytest.approx(counters["baseValLoss"], abs=1e-4)
    assert counters["valLoss"] < counters["baseValLoss"]
    assert evals[0]["valLoss"] == pytest.approx(counters["baseValLoss"], abs=1e-6)


def test_precisions_scored_on_the_trained_model(tmp_path):
    work = {**WORKLOAD, "newTokens": 4}
    bf16, _ = run(tmp_path, "bf16", precision="bf16", workload=work, trainTokens=BUDGET)
    int4, _ = run(tmp_path, "int4", precision="int4", workload=work, trainTokens=BUDGET)
    assert bf16["qualitySource"] == int4["qualitySource"] == "perplexity"
    assert bf16["quality"] == 1.0
    # bf16's loss, recomputed from the saved base run in bf16 (as the harness ran it on this CPU)
    model = reload(tmp_path, torch.bfloat16, max_seq_len=68)
    vocab = tiny_config()["model"]["shape"]["vocab"]
    assert heldout_loss_here(model, SyntheticSource(vocab, 0)) == pytest.approx(bf16["valLoss"], abs=2e-3)
    # int4 is scored against the bf16-rounded reference: quality = ppl(bf16) / ppl(int4)
    assert int4["valLoss"] > bf16["valLoss"] - 0.02  # no better than bf16 beyond noise
    assert int4["quality"] < 1.02


def test_random_weights_keep_agreement_as_the_labelled_fallback(tmp_path):
    counters, evals = run(tmp_path, "agree", precision="int8")
    assert evals == [] and counters["qualitySource"] == "agreement" and counters["valLoss"] is None


def test_bad_data_paths_are_invalid_config_before_any_work(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    for spec, words in ((f"text:{tmp_path}/missing.txt", "does not exist"), (f"text:{empty}", "is empty"),
                        (f"tokens:{tmp_path}", "not a file")):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(tiny_config(stage="pretrain", workload=WORKLOAD, trainTokens=BUDGET, data=spec)))
        out = io.StringIO()
        assert not runner.run_one(runner.Environment(), str(path), runner.EventWriter(out))
        events = parse_events(out.getvalue())
        error = events[-1]
        assert error["type"] == "error" and error["kind"] == "invalid-config", error
        assert words in error["message"] and spec.split(":", 1)[1] in error["message"]
        assert not any(e["type"] in ("progress", "eval") for e in events)
