"""The MoE FFN (routing, dispatch, load-balancing loss, active parameters) and the PEFT methods
(what trains, adapters that start as the identity, counts equal to the estimator's formulas), then
both end to end through --config."""
import copy
import json
import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from conftest import HARNESS_DIR, TINY_SHAPE, build_decoder, model_args, parse_events, tiny_config
from efficientllm_harness import moe as moe_module
from efficientllm_harness.config import ConfigError, MoeSpec, PeftSpec
from efficientllm_harness.model import MLP, Decoder, ModelArgs
from efficientllm_harness.moe import MoE, aux_loss, inactive_params
from efficientllm_harness.peft import LoraLinear, apply_peft, trainable_params

DIM, FFN, LAYERS = 32, 48, 3


def small_args(moe=None, **kw):
    return model_args(dim=DIM, n_layers=LAYERS, head_dim=8, ffn_dim=FFN, vocab_size=61, moe=moe, **kw)


def expert_params(dim=DIM, ffn=FFN):
    return 3 * dim * ffn  # gate, up, down of one SwiGLU


# ---------------------------------------------------------------- MoE


def test_one_expert_top1_is_the_dense_ffn_exactly():
    torch.manual_seed(0)
    args = small_args(MoeSpec(experts=1, top_k=1, shared=0))
    dense, moe = MLP(args), MoE(args)
    moe.experts[0].load_state_dict(dense.state_dict())
    x = torch.randn(3, 7, DIM)
    with torch.no_grad():
        assert torch.equal(moe(x), dense(x))


def naive_moe(moe, x):
    """Token by token: softmax over all experts, top-k, renormalise, weighted sum, plus shared experts."""
    rows = []
    for xt in x.reshape(-1, x.size(-1)):
        p = F.softmax(moe.router.weight @ xt, -1)
        w, e = p.topk(moe.top_k)
        w = w / w.sum()
        y = sum(w[j] * moe.experts[int(e[j])](xt[None])[0] for j in range(moe.top_k))
        rows.append(y + sum((s(xt[None])[0] for s in moe.shared), torch.zeros_like(xt)))
    return torch.stack(rows).view(x.shape)


@pytest.mark.parametrize("experts,top_k,shared", [(4, 2, 0), (6, 3, 1), (5, 1, 2)])
def test_routing_matches_a_naive_loop_and_sends_each_token_to_top_k_experts(experts, top_k, shared):
    torch.manual_seed(1)
    moe = MoE(small_args(MoeSpec(experts, top_k, shared)))
    nn.init.normal_(moe.router.weight, std=0.5)  # a decisive router: distinct top-k choices
    x = torch.randn(2, 9, DIM)
    seen = {e: [] for e in range(experts)}
    hooks = [moe.experts[e].register_forward_hook(lambda m, i, o, e=e: seen[e].append(i[0].clone()))
             for e in range(experts)]
    with torch.no_grad():
        out = moe(x)
        for h in hooks:
            h.remove()
        expected = naive_moe(moe, x)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    # Dispatch by index: expert e ran once, on exactly the tokens whose top-k holds e, in order.
    x2 = x.reshape(-1, DIM)
    chosen = F.softmax(x2 @ moe.router.weight.t(), -1).topk(top_k, -1).indices  # (N, k)
    assert sum(len(v) for v in seen.values()) == len([e for e in range(experts) if (chosen == e).any()])
    total_rows = 0
    for e in range(experts):
        tokens = (chosen == e).any(-1).nonzero().flatten()
        rows = torch.cat(seen[e]) if seen[e] else torch.empty(0, DIM)
        assert torch.equal(rows, x2[tokens])
        total_rows += rows.size(0)
    assert total_rows == x2.size(0) * top_k


def test_aux_loss_is_one_for_a_uniform_router_and_experts_for_a_collapsed_one():
    experts = 4
    moe = MoE(small_args(MoeSpec(experts, 2, 0))).train()
    x = torch.randn(2, 8, DIM, requires_grad=True)
    nn.init.zeros_(moe.router.weight)  # every probability exactly 1/E: E · Σ f_i / E = Σ f_i = 1
    moe(x)
    assert moe.last_aux_loss.item() == pytest.approx(1.0, abs=1e-6)
    # Collapsed: every token gives ~all probability to expert 0, so f_0 = 1/k, P_0 ≈ 1 → E/k.
    with torch.no_grad():
        moe.router.weight.zero_()
        moe.router.weight[0] = 1e3
    x2 = torch.ones(2, 8, DIM)  # logits: 1e3 · 32 for expert 0, 0 for the others
    moe(x2)
    assert aux_loss(moe).item() == pytest.approx(experts / 2, rel=1e-4)
    assert moe.last_aux_loss is None  # collected once
    moe.eval()
    moe(x)
    assert moe.last_aux_loss is None  # inference computes none


def test_aux_loss_reaches_the_router_and_the_training_loss():
    torch.manual_seed(0)
    model = build_decoder(small_args(MoeSpec(4, 2, 0))).train()
    idx = torch.randint(0, 61, (2, 8))
    model(idx)
    aux = aux_loss(model)
    assert aux is not None and 0 < aux.item() <= 4 * LAYERS  # each layer's value lies in (0, E]
    aux.backward()
    assert all(b.ffn.router.weight.grad is not None for b in model.blocks)
    assert moe_module.AUX_LOSS_COEF == 0.01
    assert aux_loss(build_decoder(small_args())) is None  # dense: nothing to add


@pytest.mark.parametrize("experts,top_k,shared", [(4, 2, 0), (8, 1, 2), (3, 3, 1)])
def test_active_params_formula(experts, top_k, shared):
    model = build_decoder(small_args(MoeSpec(experts, top_k, shared)))
    params = sum(p.numel() for p in model.parameters())
    dense = sum(p.numel() for p in build_decoder(small_args()).parameters())
    # estimate.ts: each layer's MLP becomes `experts + shared` SwiGLUs of width ffn and a router.
    assert params == dense + LAYERS * ((experts + shared - 1) * expert_params() + DIM * experts)
    assert params - inactive_params(model) == params - LAYERS * (experts - top_k) * expert_params()
    assert inactive_params(build_decoder(small_args())) == 0


# ---------------------------------------------------------------- PEFT


def targets_all():
    return ["q", "k", "v", "o", "gate", "up", "down"]


def adapter_formula(model_args, targets, rank, dora, moe=None):
    """Σ over targeted Linears of rank × (in + out) (+ out for DoRA), as trainableParams in estimate.ts."""
    a = model_args
    shapes = {"q": (a.dim, a.n_heads * a.head_dim), "k": (a.dim, a.n_kv_heads * a.head_dim),
              "v": (a.dim, a.n_kv_heads * a.head_dim), "o": (a.n_heads * a.head_dim, a.dim),
              "gate": (a.dim, a.ffn_dim), "up": (a.dim, a.ffn_dim), "down": (a.ffn_dim, a.dim)}
    per_ffn = 1 if moe is None else moe.experts + moe.shared
    n = 0
    for t in targets:
        i, o = shapes[t]
        count = per_ffn if t in ("gate", "up", "down") else 1
        n += a.n_layers * count * (rank * (i + o) + (o if dora else 0))
    return n


@pytest.mark.parametrize("method", ["lora", "rslora", "dora"])
def test_adapters_leave_outputs_unchanged_at_init(method):
    args = small_args(MoeSpec(4, 2, 1))
    base = build_decoder(args).eval()
    tuned = copy.deepcopy(base)
    apply_peft(tuned, PeftSpec(method, 4, 8, targets_all()))
    idx = torch.randint(0, 61, (2, 10))
    with torch.no_grad():
        assert torch.equal(tuned(idx), base(idx))
    assert isinstance(tuned.blocks[0].attn.q, LoraLinear)
    assert isinstance(tuned.blocks[0].ffn.experts[3].down, LoraLinear)
    assert isinstance(tuned.blocks[0].ffn.router, nn.Linear)  # not targeted


@pytest.mark.parametrize("method,scale", [("lora", 16 / 4), ("rslora", 16 / 2)])
def test_lora_and_rslora_compute_w_plus_scaled_ba(method, scale):
    torch.manual_seed(0)
    lin = nn.Linear(12, 7, bias=False)
    w = lin.weight.detach().clone()
    ad = LoraLinear(lin, rank=4, alpha=16, method=method)
    with torch.no_grad():
        ad.lora_B.normal_()
    x = torch.randn(5, 12)
    torch.testing.assert_close(ad(x), x @ (w + scale * ad.lora_B @ ad.lora_A).t())


def test_dora_rescales_each_output_row_to_its_magnitude():
    torch.manual_seed(0)
    lin = nn.Linear(12, 7, bias=False)
    w = lin.weight.detach().clone()
    ad = LoraLinear(lin, rank=4, alpha=8, method="dora")
    torch.testing.assert_close(ad.magnitude.detach(), w.norm(dim=1))  # m = ‖W‖ over the input dim
    with torch.no_grad():
        ad.lora_B.normal_()
        ad.magnitude.mul_(torch.linspace(0.5, 2.0, 7))
    merged = w + 2.0 * ad.lora_B @ ad.lora_A
    expected_w = ad.magnitude[:, None] * merged / merged.norm(dim=1, keepdim=True)
    x = torch.randn(5, 12)
    torch.testing.assert_close(ad(x), x @ expected_w.t())


@pytest.mark.parametrize("targets", [["q", "k", "v", "o"], ["q", "v"], targets_all()])
@pytest.mark.parametrize("moe", [None, MoeSpec(4, 2, 1)])
def test_trainable_counts_follow_the_formulas_and_order(targets, moe):
    args = small_args(moe)
    counts = {}
    for method in ("full", "lora", "rslora", "dora"):
        model = build_decoder(args)
        apply_peft(model, PeftSpec(method, 4, 8, targets))
        counts[method] = trainable_params(model)
    assert counts["lora"] == counts["rslora"] == adapter_formula(args, targets, 4, dora=False, moe=moe)
    assert counts["dora"] == adapter_formula(args, targets, 4, dora=True, moe=moe)
    base = build_decoder(args)
    assert counts["full"] == sum(p.numel() for p in base.parameters())
    assert counts["lora"] == counts["rslora"] < counts["dora"] < counts["full"]


@pytest.mark.parametrize("rank", [1, 2, 5])
def test_freeze_trains_the_last_rank_blocks_only(rank):
    model = build_decoder(small_args(MoeSpec(4, 2, 0)))
    apply_peft(model, PeftSpec("freeze", rank, 0, []))
    trained = min(rank, LAYERS)
    block = sum(p.numel() for p in model.blocks[0].parameters())  # linears, experts, router and both norms
    assert trainable_params(model) == trained * block
    for i, blk in enumerate(model.blocks):
        assert all(p.requires_grad == (i >= LAYERS - trained) for p in blk.parameters())
    # Embedding, final norm and lm_head stay frozen (LLaMA-Factory's freeze tuning).
    for m in (model.embed, model.norm, model.lm_head):
        assert not any(p.requires_grad for p in m.parameters())


def test_specs_that_train_nothing_name_the_field():
    with pytest.raises(ConfigError, match=r"^peft\.rank"):
        apply_peft(build_decoder(small_args()), PeftSpec("freeze", 0, 0, []))
    with pytest.raises(ConfigError, match=r"^peft\.targets"):
        apply_peft(build_decoder(small_args()), PeftSpec("lora", 8, 16, ["c_attn"]))
    with pytest.raises(ConfigError, match=r"^peft\.rank"):
        apply_peft(build_decoder(small_args()), PeftSpec("dora", 0, 0, ["q"]))


@pytest.mark.parametrize("method", ["full", "freeze", "lora", "rslora", "dora"])
def test_a_finetune_step_changes_only_trainable_params(method):
    from efficientllm_harness import devices, stages
    torch.manual_seed(0)
    model = build_decoder(small_args(MoeSpec(4, 2, 1))).train()
    apply_peft(model, PeftSpec(method, 1 if method == "freeze" else 4, 8, ["q", "v", "down"]))
    if method in ("lora", "rslora", "dora"):  # B = 0 gives A no gradient on the first step; move B off 0
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, LoraLinear):
                    m.lora_B.normal_(std=0.01)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    tokens = torch.randint(0, 61, (2, 9))
    stages.train_step(model, optimizer, tokens[:, :-1], tokens[:, 1:], devices.Clock(torch.device("cpu")))
    for n, p in model.named_parameters():
        changed = not torch.equal(p.detach(), before[n])
        assert changed == p.requires_grad, n
    state = stages.optimizer_state_bytes(optimizer)
    assert state == 2 * 4 * trainable_params(model)  # AdamW: exp_avg, exp_avg_sq, fp32


def test_hf_peft_builds_the_same_adapters():
    """Runs only where Hugging Face peft is installed (skipped on the CI image, which has none)."""
    hf = pytest.importorskip("peft")

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.q = nn.Linear(16, 24, bias=False)
            self.v = nn.Linear(16, 8, bias=False)
            self.o = nn.Linear(16, 16, bias=False)

        def forward(self, x):
            return self.q(x).sum(-1, keepdim=True) * self.v(x).mean(-1, keepdim=True) + self.o(x)

    from efficientllm_harness import peft as own
    x = torch.randn(3, 16)
    for method in ("lora", "rslora", "dora"):
        torch.manual_seed(0)
        base = Tiny()
        ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
        spec = PeftSpec(method, 4, 8, ["q", "v"])
        os.environ["EFFICIENTLLM_PEFT"] = "own"
        try:
            own.apply_peft(ours, spec)
        finally:
            del os.environ["EFFICIENTLLM_PEFT"]
        assert own.implementation(method) == "hf"
        assert own.apply_peft(theirs, spec) == "hf"
        assert trainable_params(ours) == trainable_params(theirs)
        with torch.no_grad():
            for name in ("q", "v"):
                mine, layer = getattr(ours, name), getattr(theirs, name)
                mine.lora_B.normal_()
                layer.lora_A["default"].weight.copy_(mine.lora_A)
                layer.lora_B["default"].weight.copy_(mine.lora_B)
                if method == "dora":
                    mag = layer.lora_magnitude_vector["default"]
                    mag = getattr(mag, "weight", mag)
                    torch.testing.assert_close(mag, mine.magnitude)  # both ‖W‖ per row
                    mine.magnitude.mul_(1.5)
                    mag.copy_(mine.magnitude)
            torch.testing.assert_close(theirs(x), ours(x), rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- end to end


def tiny_args(moe=None):
    s = TINY_SHAPE
    return ModelArgs(dim=s["hidden"], n_layers=s["layers"], n_heads=s["heads"], n_kv_heads=s["kvHeads"],
                     head_dim=s["headDim"], ffn_dim=s["ffn"], vocab_size=s["vocab"], moe=moe)


TRAIN_WORKLOAD = {"batch": 1, "seqLen": 16, "newTokens": 0, "steps": 1, "warmup": 0}
MOE_4X2 = {"experts": 4, "topK": 2, "shared": 0}
FINETUNES = {
    "full": {"method": "full", "rank": 0, "alpha": 0, "targets": []},
    "freeze": {"method": "freeze", "rank": 1, "alpha": 0, "targets": []},
    "lora": {"method": "lora", "rank": 8, "alpha": 16, "targets": ["q", "k", "v", "o"]},
    "rslora": {"method": "rslora", "rank": 8, "alpha": 16, "targets": ["q", "k", "v", "o"]},
    "dora": {"method": "dora", "rank": 8, "alpha": 16, "targets": ["q", "k", "v", "o"]},
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """The MoE pretrain and a finetune per PEFT method, as one sweep: one harness subprocess
    (--run-dir, one torch import, as a sweep on one GPU runs) → {name: result counters}."""
    root = tmp_path_factory.mktemp("sweep")
    configs = {"moe-pretrain": tiny_config(stage="pretrain", workload=TRAIN_WORKLOAD, moe=MOE_4X2)}
    for name, peft in FINETUNES.items():
        configs[name] = tiny_config(stage="finetune", workload=TRAIN_WORKLOAD, peft=peft)
    for name, cfg in configs.items():
        (root / name).mkdir()
        (root / name / "config.json").write_text(json.dumps(cfg))
    env = dict(os.environ, PYTHONPATH=HARNESS_DIR)
    dirs = [str(root / name) for name in configs]
    proc = subprocess.run([sys.executable, "-m", "efficientllm_harness", "--run-dir", *dirs],
                          capture_output=True, text=True, env=env, timeout=180)
    counters = {}
    for name in configs:
        events = parse_events((root / name / "events.jsonl").read_text())
        assert events[-1]["type"] == "result", (name, events[-1], (root / name / "stderr.log").read_text())
        counters[name] = events[-1]["counters"]
    assert proc.returncode == 0
    return counters


def test_moe_pretrain_end_to_end(sweep):
    c = sweep["moe-pretrain"]
    s = TINY_SHAPE
    per_expert = 3 * s["hidden"] * s["ffn"]
    params = sum(p.numel() for p in Decoder(tiny_args(MoeSpec(4, 2, 0))).parameters())
    assert c["params"] == params and c["trainableParams"] == params
    assert c["activeParams"] == params - s["layers"] * (4 - 2) * per_expert
    # AdamW makes its state on a parameter's first gradient, and an expert no token reached this step
    # has none yet (here 16 tokens leave one expert of layer 0 idle): between those bounds, in whole experts.
    state = c["optimizerStateBytes"]
    assert 2 * 4 * (params - s["layers"] * 4 * per_expert) < state <= 2 * 4 * params
    assert (2 * 4 * params - state) % (2 * 4 * per_expert) == 0 and math.isfinite(c["loss"])


def test_moe_inference_reports_active_params(tmp_path, run_in_process):
    cfg = tiny_config(workload={"seqLen": 8, "newTokens": 3}, moe={"experts": 4, "topK": 1, "shared": 1})
    code, events = run_in_process(cfg, tmp_path)
    assert code == 0, events[-1]
    c = events[-1]["counters"]
    assert c["params"] - c["activeParams"] == TINY_SHAPE["layers"] * 3 * 3 * TINY_SHAPE["hidden"] * TINY_SHAPE["ffn"]


@pytest.mark.parametrize("method", list(FINETUNES))
def test_finetune_end_to_end(sweep, method):
    c = sweep[method]
    args = tiny_args()
    model = Decoder(args)
    params = sum(p.numel() for p in model.parameters())
    targets = FINETUNES[method]["targets"]
    expected = {
        "full": params,
        "freeze": sum(p.numel() for p in model.blocks[-1].parameters()),  # the last layer, its norms included
        "lora": adapter_formula(args, targets, 8, dora=False),
        "rslora": adapter_formula(args, targets, 8, dora=False),
        "dora": adapter_formula(args, targets, 8, dora=True),
    }[method]
    assert c["params"] == params == c["activeParams"] and c["weightBytes"] == 4 * params
    assert c["trainableParams"] == expected
    assert c["optimizerStateBytes"] == 2 * 4 * expected and math.isfinite(c["loss"])
