"""Ground truth for the FLOPs that MFU and the roofline floor divide: every matmul the harness executes,
counted outside the estimator, against `node dist/cli.js estimate ... --json`.

How the count is made, with no formula of src/core/estimate.ts:
  * a TorchDispatchMode sees every aten matmul that runs (mm, addmm, bmm, baddbmm), in forward and in
    backward: the linears, the adapters (LoRA's F.linear, DoRA's weight norm), the experts and the
    router, lm_head, MLA's absorbed einsums, and every gradient autograd decides to compute;
  * attention cores (model.attend, used by MHA/GQA/MQA and MLA's naive path, and NSA's three
    branches) run dense under a mask on torch 1.13, so the executed matmuls count the masked half
    too. They run inside an opaque autograd function with the dispatch count paused, and are counted
    instead from their actual arguments: the (query, key) pairs their masks let through
    (causal_mask, the NSA masks the branches build), 2 FLOPs per multiply-add over the widths of q and
    v, and in backward the products autograd needs (ctx.needs_input_grad: dQ, dK, dP, dV);
  * the harness itself runs: stages.run_stage on a resolved config, with devices.Clock replaced by a
    clock whose marks read the FLOP counter, so the run's own timing marks cut the count into prefill
    (start → first token), decode (first token → end) and one training step (start → end).
The estimate must agree within 1% for every attention kind, MoE, every PEFT method and the precisions
the CPU runs (fp32, bf16; int8 and int4 dequantise to fp32 here).
"""
import io
import json
import os
import shutil
import subprocess

import pytest
import torch

from conftest import ROOT
from efficientllm_harness import attention_mla, attention_nsa, devices, model as model_mod, quality, stages
from efficientllm_harness.config import parse_config
from efficientllm_harness.protocol import EventWriter

try:
    from torch.utils._python_dispatch import TorchDispatchMode
except ImportError:  # pragma: no cover - torch without the dispatch mode
    TorchDispatchMode = None

CLI = os.path.join(ROOT, "dist", "cli.js")
NODE = shutil.which("node")
TOLERANCE = 0.01

pytestmark = [
    pytest.mark.skipif(TorchDispatchMode is None, reason="torch has no TorchDispatchMode"),
    pytest.mark.skipif(NODE is None or not os.path.exists(CLI), reason="needs node and dist/cli.js (npm run build)"),
]


# ---- the counter ----

class FlopCounter(TorchDispatchMode if TorchDispatchMode else object):
    """2·M·N·K per executed matmul, plus what the attention wrappers add; paused inside them."""

    def __init__(self):
        super().__init__()
        self.flops = 0
        self.paused = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.paused:
            return out
        name = str(func)  # "aten.mm.default"
        base = name.split(".")[1] if name.startswith("aten.") else name
        if base in ("mm", "addmm"):
            a, b = (args[0], args[1]) if base == "mm" else (args[1], args[2])
            self.flops += 2 * a.shape[0] * a.shape[1] * b.shape[1]
        elif base in ("bmm", "baddbmm"):
            a, b = (args[0], args[1]) if base == "bmm" else (args[1], args[2])
            self.flops += 2 * a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2]
        elif base in ("mv", "dot", "addmv", "addbmm", "convolution"):
            raise AssertionError(f"uncounted matmul kind {name}: extend the counter")
        return out


COUNTER = None  # the active FlopCounter (the attention wrappers add to it)


class Paused:
    def __enter__(self):
        COUNTER.paused += 1

    def __exit__(self, *exc):
        COUNTER.paused -= 1


def opaque(fn, tensors, forward_flops, backward_flops):
    """Runs fn(*tensors) with the dispatch count paused and adds forward_flops; under autograd,
    backward runs paused too and adds backward_flops(needs_input_grad)."""
    if not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)):
        with Paused():
            out = fn(*tensors)
        COUNTER.flops += forward_flops
        return out

    class Opaque(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *ts):
            with torch.enable_grad(), Paused():
                inner = [t.detach().requires_grad_(t.requires_grad) for t in ts]
                out = fn(*inner)
            outs = out if isinstance(out, tuple) else (out,)
            ctx.inner, ctx.outs, ctx.single = inner, outs, not isinstance(out, tuple)
            COUNTER.flops += forward_flops
            return outs[0].detach() if ctx.single else tuple(o.detach() for o in outs)

        @staticmethod
        def backward(ctx, *grads):
            COUNTER.flops += backward_flops(ctx.needs_input_grad)
            want = [t for t in ctx.inner if t.requires_grad]
            pairs = [(o, g) for o, g in zip(ctx.outs, grads) if g is not None and o.requires_grad]
            with Paused():
                got = torch.autograd.grad([o for o, _ in pairs], want, [g for _, g in pairs], allow_unused=True)
            it = iter(got)
            return tuple(next(it) if t.requires_grad else None for t in ctx.inner)

    return Opaque.apply(*tensors)


def attention_flops(b, h, pairs, dqk, dv):
    """Forward FLOPs and the backward rule of softmax(q·kᵀ)·v over `pairs` visible pairs per (batch, head)."""
    scores, values = 2 * b * h * pairs * dqk, 2 * b * h * pairs * dv

    def backward(needs):
        q, k, v = needs[:3]
        return scores * (q + k) + values * ((q or k) + v)

    return scores + values, backward


ORIGINAL_ATTEND = model_mod.attend
ORIGINAL_BRANCHES = attention_nsa.NativeSparseAttention.branches
ORIGINAL_MASKED = attention_nsa.attend_masked


def counted_attend(q, k, v, pos, causal=True):
    b, h, t, dqk = q.shape
    pairs = int(model_mod.causal_mask(t, k.size(2), pos, q.device).sum()) if causal else t * k.size(2)
    fwd, bwd = attention_flops(b, h, pairs, dqk, v.size(-1))
    return opaque(lambda q, k, v: ORIGINAL_ATTEND(q, k, v, pos, causal), (q, k, v), fwd, bwd)


def counted_branches(self, q, k, v, pos):
    """NSA: the pairs each branch's mask lets through, read from the masks the branches build."""
    b, h, t, d = q.shape
    s, blk = k.size(2), self.block
    q_pos = torch.arange(pos, pos + t)[:, None]
    ends = torch.arange(s // blk) * blk + blk - 1
    pairs = int((ends[None, :] <= q_pos).sum())  # compressed: blocks ended at or before the query
    masks = []

    def recording(q_, k_, v_, mask):
        masks.append(int(mask.expand(q_.size(0), q_.size(1), q_.size(2), k_.size(2)).sum()))
        return ORIGINAL_MASKED(q_, k_, v_, mask)

    # The selected and window masks: run the branch code once (no grad, paused) to read them.
    attention_nsa.attend_masked = recording
    try:
        with torch.no_grad(), Paused():
            ORIGINAL_BRANCHES(self, q, k, v, pos)
    finally:
        attention_nsa.attend_masked = ORIGINAL_MASKED
    per_head = pairs + sum(masks) // (b * h)
    fwd, bwd = attention_flops(b, h, per_head, d, d)
    return opaque(lambda q, k, v: ORIGINAL_BRANCHES(self, q, k, v, pos), (q, k, v), fwd, bwd)


class FlopClock:
    """devices.Clock for the count: a mark is the FLOPs executed so far."""

    def __init__(self, device):
        pass

    def mark(self):
        return COUNTER.flops

    def seconds(self, a, b):
        return float(b - a)


@pytest.fixture
def counting(monkeypatch):
    global COUNTER
    monkeypatch.setattr(model_mod, "attend", counted_attend)
    monkeypatch.setattr(attention_mla, "attend", counted_attend)
    monkeypatch.setattr(attention_nsa.NativeSparseAttention, "branches", counted_branches)
    monkeypatch.setattr(devices, "Clock", FlopClock)
    monkeypatch.setattr(quality, "synthetic_quality", lambda *a, **k: None)  # after the window; not counted
    monkeypatch.setenv("EFFICIENTLLM_PEFT", "own")
    COUNTER = FlopCounter()
    yield COUNTER
    COUNTER = None


def run_counted(cfg_json):
    """The harness's stage on this config, counted: (prefill, decode) for inference, trainStep otherwise."""
    cfg = parse_config(cfg_json)
    device = torch.device("cpu")
    dtype = devices.check_dtype(device, cfg.precision)
    torch.manual_seed(cfg.seed)
    ctx = stages.RunContext(cfg, device, dtype, EventWriter(io.StringIO()), None)
    with COUNTER:
        counters = stages.run_stage(ctx)
    step = counters.iteration_s[-1]
    if cfg.stage == "inference":
        return {"prefill": counters.ttft_s, "decode": step - counters.ttft_s}
    return {"trainStep": step}


def estimate(*flags):
    proc = subprocess.run([NODE, CLI, "estimate", *flags, "--json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def check(counted, est, what):
    for phase, n in counted.items():
        want = est["flops"][phase]
        assert n > 0, f"{what}: nothing counted for {phase}"
        rel = abs(want - n) / n
        assert rel <= TOLERANCE, f"{what} {phase}: estimate {want:.6g} vs executed {n:.6g} ({rel:.2%})"


WORK = ["--batch", "2", "--seq-len", "80", "--new-tokens", "6"]
SMALL = ["--steps", "1", "--warmup", "0"]


def cfg_of(est, **workload):
    cfg = est["config"]
    cfg["workload"].update({"steps": 1, "warmup": 0, **workload})
    return cfg


# ---- the Must show of issue 12 ----

def test_must_show_tiny_gqa_bf16(counting):
    flags = ["--preset", "tiny", "--attention", "gqa", "--kv-heads", "2", "--batch", "1", "--seq-len", "128",
             "--new-tokens", "32", "--precision", "bf16"]
    est = estimate(*flags)
    counted = run_counted(cfg_of(est))
    check(counted, est, "tiny gqa bf16 inference")
    # trainStep of an inference estimate is full training: the pretrain stage of the same config.
    cfg = cfg_of(est)
    cfg["stage"], cfg["peft"] = "pretrain", None
    train = run_counted(cfg)
    check(train, est, "tiny gqa bf16 pretrain")
    print(f"\nmust-show: estimate {est['flops']} executed {{**{counted}, **{train}}}")


# ---- every attention kind, MoE, precisions ----

INFERENCE = [
    ("mha", ["--attention", "mha"]),
    ("gqa", ["--attention", "gqa", "--kv-heads", "2"]),
    ("mqa", ["--attention", "mqa"]),
    ("mla", ["--attention", "mla"]),
    ("mla q-rank", ["--attention", "mla", "--mla-q-rank", "48", "--mla-kv-rank", "96"]),
    # NSA with small blocks so the 80-token prompt has several, and a window shorter than the prompt.
    ("nsa", ["--attention", "nsa", "--kv-heads", "2", "--nsa-block", "16", "--nsa-selected", "2",
             "--nsa-window", "32"]),
    ("moe", ["--moe", "4x2+1"]),
    ("moe mla", ["--moe", "4x2", "--attention", "mla"]),
    ("int8", ["--precision", "int8"]),
    ("int4", ["--precision", "int4"]),
    ("bf16", ["--precision", "bf16"]),
]


@pytest.mark.parametrize("what,flags", INFERENCE, ids=[w for w, _ in INFERENCE])
def test_inference_prefill_and_decode(counting, what, flags):
    est = estimate("--preset", "tiny", *WORK, *flags)
    check(run_counted(cfg_of(est)), est, what)


TRAINING = [
    ("pretrain gqa", ["--stage", "pretrain"]),
    ("pretrain mla", ["--stage", "pretrain", "--attention", "mla"]),
    ("pretrain nsa", ["--stage", "pretrain", "--attention", "nsa", "--nsa-block", "16", "--nsa-selected", "2",
                      "--nsa-window", "32"]),
    ("pretrain moe", ["--stage", "pretrain", "--moe", "4x2+1"]),
    ("full", ["--stage", "finetune", "--peft", "full"]),
    ("lora", ["--stage", "finetune", "--peft", "lora"]),
    ("lora mlp", ["--stage", "finetune", "--peft", "lora", "--peft-targets", "gate,up,down"]),
    ("rslora", ["--stage", "finetune", "--peft", "rslora", "--peft-rank", "4"]),
    ("dora", ["--stage", "finetune", "--peft", "dora"]),
    ("freeze", ["--stage", "finetune", "--peft", "freeze", "--peft-rank", "1"]),
    ("lora mla", ["--stage", "finetune", "--peft", "lora", "--attention", "mla"]),
    ("lora moe", ["--stage", "finetune", "--peft", "lora", "--moe", "4x2", "--peft-targets", "q,v,up"]),
    ("freeze moe", ["--stage", "finetune", "--peft", "freeze", "--moe", "4x2+1"]),
    ("lora int8", ["--stage", "finetune", "--peft", "lora", "--precision", "int8"]),
    ("lora bf16", ["--stage", "finetune", "--peft", "lora", "--precision", "bf16"]),
]


@pytest.mark.parametrize("what,flags", TRAINING, ids=[w for w, _ in TRAINING])
def test_training_step(counting, what, flags):
    est = estimate("--preset", "tiny", "--batch", "2", "--seq-len", "64", *flags)
    check(run_counted(cfg_of(est)), est, what)


def test_the_old_conventions_are_outside_the_tolerance(counting):
    """Each counting defect of issue 12 against the executed count: lm_head at every prompt position
    (defect 1), MLA decode in the decompressed form (4), PEFT training as 3× forward (5). What the old
    estimator said is more than 1% from what runs; the estimate now is within it (tests above)."""
    est = estimate("--preset", "tiny", *WORK, "--attention", "mla")
    counted = run_counted(cfg_of(est))
    s = est["config"]["model"]["shape"]
    mla = est["config"]["attention"]["mla"]
    b, t = 2, 80
    old_prefill = est["flops"]["prefill"] + b * (t - 1) * 2 * s["vocab"] * s["hidden"]
    assert (old_prefill - counted["prefill"]) / counted["prefill"] > TOLERANCE
    # Decompressed decode: scores over headDim + ropeDim and values over headDim instead of kvRank.
    under = sum(4 * s["heads"] * c * (mla["kvRank"] - s["headDim"]) for c in range(t + 1, t + 6)) * s["layers"] * b
    assert under / counted["decode"] > TOLERANCE
    train = ["--preset", "tiny", "--batch", "2", "--seq-len", "64"]
    full = estimate(*train, "--stage", "pretrain")["flops"]["trainStep"]  # 3 × forward
    for method in ("lora", "freeze"):
        lora = estimate(*train, "--stage", "finetune", "--peft", method)
        step = run_counted(cfg_of(lora))["trainStep"]
        assert step < 0.85 * full, f"{method}: a step executes {step / full:.2f} of 3× forward"
