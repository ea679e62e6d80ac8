"""Shared helpers of the harness tests: the harness on sys.path, tiny configs, an event validator."""
import copy
import io
import json
import math
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS_DIR = os.path.join(ROOT, "src", "harness")
PROTOCOL_TS = os.path.join(ROOT, "src", "core", "protocol.ts")
sys.path.insert(0, HARNESS_DIR)

TINY_SHAPE = {"layers": 2, "hidden": 256, "heads": 8, "kvHeads": 2, "headDim": 32, "ffn": 688, "vocab": 1024}

BASE_CONFIG = {
    "label": "tiny gqa-2 fp32 inference",
    "stage": "inference",
    "model": {"source": "synthetic", "preset": "tiny", "shape": TINY_SHAPE},
    "attention": {"kind": "gqa", "kvHeads": 2, "mla": None, "nsa": None},
    "moe": None,
    "peft": None,
    "precision": "fp32",
    "workload": {"batch": 1, "seqLen": 32, "newTokens": 8, "steps": 2, "warmup": 1},
    "sampleMs": 20,
    "seed": 0,
}


def tiny_config(**changes):
    """The tiny resolved config with top-level fields replaced (dicts are merged one level)."""
    cfg = copy.deepcopy(BASE_CONFIG)
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    return cfg


# ---- small models for the unit tests of the model code ----

# A decoder small enough to compare against references written out in the tests (fp64 where needed).
SMALL_ARGS = dict(dim=64, n_layers=2, n_heads=4, n_kv_heads=2, head_dim=16, ffn_dim=96, vocab_size=97, max_seq_len=32)


def model_args(**changes):
    """ModelArgs of SMALL_ARGS with any fields replaced (attention defaults to ModelArgs' "gqa")."""
    from efficientllm_harness.model import ModelArgs  # after sys.path has the harness

    return ModelArgs(**{**SMALL_ARGS, **changes})


def build_decoder(args, seed=0):
    """A Decoder initialised by init_weights() from `seed`, in eval mode (tests that train call .train())."""
    import torch
    from efficientllm_harness.model import Decoder

    torch.manual_seed(seed)
    m = Decoder(args)
    m.init_weights()
    return m.eval()


def assert_cache_matches_full_forward(model, idx, prompt_len, prefix):
    """Decoding with static caches gives the full forward's logits: a prefill of idx[:, :prompt_len],
    then one token at a time; and so does a chunk of several tokens after a `prefix`-token prefill
    (the offset causal mask)."""
    import torch

    b, total = idx.shape
    cpu = torch.device("cpu")
    with torch.no_grad():
        full = model(idx)  # (B, T, V)
        caches = model.new_caches(b, total, cpu, torch.float32)
        steps = [model(idx[:, :prompt_len], caches, pos=0)]  # prefill
        for p in range(prompt_len, total):
            steps.append(model(idx[:, p:p + 1], caches, pos=p))  # one token at a time
        caches2 = model.new_caches(b, total, cpu, torch.float32)
        model(idx[:, :prefix], caches2, pos=0)
        chunk = model(idx[:, prefix:], caches2, pos=prefix)
    torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(chunk, full[:, prefix:], rtol=1e-5, atol=1e-5)


def reference_sdpa(q, k, v, attn_mask=None, is_causal=False):
    """F.scaled_dot_product_attention as torch 2.x documents it: is_causal masks with
    tril(ones(L, S)) (aligned top-left), and a bool attn_mask is True where attention is allowed.
    Stands in for SDPA on torch 1.x, so the SDPA branches run there too."""
    import torch
    import torch.nn.functional as F

    L, S = q.size(-2), k.size(-2)
    s = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if is_causal:
        s = s.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    if attn_mask is not None:
        s = s.masked_fill(~attn_mask, float("-inf"))
    return F.softmax(s, -1) @ v


# ---- a validator mirroring invalidReason() in src/core/protocol.ts ----

ERROR_KINDS = ("oom", "unsupported", "invalid-config", "crash")
COUNTER_NUMBERS = ("params", "activeParams", "trainableParams", "weightBytes", "referenceWeightBytes",
                   "iterations", "tokensPerIteration", "generatedTokensPerIteration", "windowStartT", "windowEndT")
COUNTER_NULLABLE = ("kvCacheBytes", "optimizerStateBytes", "peakMemoryBytes", "ttftS", "tpotS", "energyJ",
                    "quality", "loss")


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _num_or_null(v):
    return v is None or _num(v)


def invalid_reason(o):
    """Why `o` is not a valid protocol v1 event, or None (same checks as protocol.ts)."""
    if not isinstance(o, dict):
        return "not a JSON object"
    t = o.get("type")
    if t == "hello":
        d = o.get("device")
        if o.get("protocol") != 1:
            return "hello.protocol is not 1"
        if not isinstance(o.get("python"), str) or not isinstance(o.get("torch"), str):
            return "hello.python or hello.torch is not a string"
        if not (o.get("cuda") is None or isinstance(o.get("cuda"), str)):
            return "hello.cuda is not a string or null"
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not _num(d.get("memoryBytes")):
            return "hello.device needs name and memoryBytes"
        if not isinstance(o.get("nvml"), bool):
            return "hello.nvml is not a boolean"
        if o.get("powerScope") not in (None, "gpu", "module") or "powerScope" not in o:
            return "hello.powerScope is not gpu, module or null"
        if o.get("memorySource") not in ("nvml", "cuda-reserved", "rss-delta", "process-rss"):
            return "hello.memorySource is not nvml, cuda-reserved, rss-delta or process-rss"
        if o.get("peakMemorySource", "rss-delta") not in ("cuda-allocator", "rss-delta"):
            return "hello.peakMemorySource is not cuda-allocator or rss-delta"
        for k in ("worldSize", "nodes"):
            n = o.get(k, 1)
            if not (_num(n) and float(n).is_integer() and n >= 1):
                return f"hello.{k} is not a whole number ≥ 1"
        return None
    if t == "progress":
        ok = isinstance(o.get("phase"), str) and _num(o.get("step")) and _num(o.get("total"))
        return None if ok else "progress needs phase, step and total"
    if t == "sample":
        ok = (_num(o.get("t")) and _num(o.get("memoryBytes")) and "utilization" in o and "powerW" in o
              and _num_or_null(o["utilization"]) and _num_or_null(o["powerW"]))
        return None if ok else "sample needs t, memoryBytes, utilization and powerW"
    if t == "eval":
        ok = _num(o.get("tokens")) and _num(o.get("seconds")) and _num(o.get("valLoss"))
        return None if ok else "eval needs tokens, seconds and valLoss"
    if t == "result":
        c = o.get("counters")
        if not isinstance(c, dict):
            return "result.counters is missing"
        for k in COUNTER_NUMBERS:
            if not _num(c.get(k)):
                return f"result.counters.{k} is not a number"
        for k in COUNTER_NULLABLE:
            # JS: undefined is not null, so a missing key fails there too.
            if k not in c or not _num_or_null(c[k]):
                return f"result.counters.{k} is not a number or null"
        it = c.get("iterationS")
        if not isinstance(it, list) or not all(_num(x) for x in it):
            return "result.counters.iterationS is not a list of numbers"
        per_rank = c.get("perRank")
        if per_rank is not None:
            if not isinstance(per_rank, list):
                return "result.counters.perRank is not a list"
            for i, r in enumerate(per_rank):
                if not isinstance(r, dict) or not all(_num(r.get(k)) for k in ("rank", "tokensPerS", "stepS")):
                    return f"result.counters.perRank[{i}] needs rank, tokensPerS and stepS"
                if not all(k in r and _num_or_null(r[k]) for k in ("peakMemoryBytes", "energyJ")):
                    return f"result.counters.perRank[{i}].peakMemoryBytes and energyJ are numbers or null"
        return None
    if t == "error":
        ok = o.get("kind") in ERROR_KINDS and isinstance(o.get("message"), str)
        return None if ok else "error needs kind and message"
    return f"unknown event type {t!r}"


def parse_events(text):
    """Every line must be a valid event; returns the list of events."""
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        ev = json.loads(line)  # raises on anything that is not JSON (NaN is rejected below too)
        reason = invalid_reason(ev)
        assert reason is None, f"line {n}: {reason}: {line}"
        events.append(ev)
    return events


@pytest.fixture
def run_in_process():
    """Runs one config in this process (torch already imported, so fast); returns (exit code, events)."""
    from efficientllm_harness.runner import run_config

    def run(cfg, tmp_path):
        path = tmp_path / "config.json"
        path.write_text(json.dumps(cfg))
        out = io.StringIO()
        code = run_config(str(path), out)
        return code, parse_events(out.getvalue())

    return run
