"""MLA and NSA: each against a reference written here from the papers' definitions, decoding with the
cache against the full forward, MLA's absorbed path against its naive one, NSA's reduction to dense
attention, parameter counts against closed forms (those of src/core/estimate.ts), cache bytes, and
both kinds through the harness end to end."""
import json
import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F

from conftest import (TINY_SHAPE, assert_cache_matches_full_forward, build_decoder, model_args, parse_events,
                      reference_sdpa, tiny_config)
from efficientllm_harness import model as model_module
from efficientllm_harness.attention_mla import MultiHeadLatentAttention
from efficientllm_harness.attention_nsa import NativeSparseAttention
from efficientllm_harness.model import (CausalSelfAttention, Decoder, ModelArgs, Rotary, apply_rope, attend_explicit,
                                        repeat_kv)
from test_harness import harness


def mla_opts(kv_rank=16, q_rank=0, rope_dim=8):
    return SimpleNamespace(kv_rank=kv_rank, q_rank=q_rank, rope_dim=rope_dim)  # as config.MlaOptions


def nsa_opts(block=2, selected=2, window=3):
    return SimpleNamespace(block=block, selected=selected, window=window)  # as config.NsaOptions


def module(cls, args, seed=0, dtype=torch.float64):
    """One attention module with nn.Linear's default init (larger than 0.02: scores far from uniform)."""
    torch.manual_seed(seed)
    return cls(args, Rotary(args.max_seq_len, args.rope_theta)).to(dtype)


def rope(z, pos0=0):
    """RoPE on the two halves of the last dim of z (…, T, D), positions pos0.., theta 10000."""
    t, d = z.size(-2), z.size(-1)
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2).double() / d))
    ang = torch.arange(pos0, pos0 + t).double()[:, None] * inv[None]
    cos, sin = ang.cos().to(z.dtype), ang.sin().to(z.dtype)
    z1, z2 = z[..., : d // 2], z[..., d // 2:]
    return torch.cat((z1 * cos - z2 * sin, z2 * cos + z1 * sin), -1)


# The modules run in fp64 here, but RoPE (fp32 tables) and RMSNorm (fp32 statistics) round to fp32
# inside, as they do in every dtype; the references below do not, hence fp32-level tolerances.
REF_TOL = dict(rtol=1e-5, atol=1e-6)


def softmax_attend(q, k, v, keep):
    """q (D,), k, v (S, D), keep (S,) bool → Σ softmax(q·k/√D over keep) v."""
    s = (k @ q) / math.sqrt(q.numel())
    p = F.softmax(s.masked_fill(~keep, float("-inf")), 0)
    return p @ v


# ---- MLA ----

def reference_mla(attn, x):
    """DeepSeek-V2's MLA, eq. (9)–(19), per head and per query, decompressing every key and value."""
    b, t, _ = x.shape
    h, d, r, dr = attn.n_heads, attn.head_dim, attn.kv_rank, attn.rope_dim
    q = attn.q_b(attn.q_norm(attn.q_a(x))) if attn.q_rank else attn.q(x)
    q = q.view(b, t, h, d + dr)
    ckv_kpe = attn.kv_a(x)
    c = attn.kv_norm(ckv_kpe[..., :r])  # (B, T, r)
    k_pe = rope(ckv_kpe[..., r:])  # (B, T, R), one per token
    kv = attn.kv_b(c).view(b, t, h, 2 * d)
    out = torch.zeros(b, t, h, d, dtype=x.dtype)
    for i in range(h):
        q_i = torch.cat((q[:, :, i, :d], rope(q[:, :, i, d:])), -1)  # (B, T, D + R)
        k_i = torch.cat((kv[:, :, i, :d], k_pe), -1)
        s = q_i @ k_i.transpose(1, 2) / math.sqrt(d + dr)
        s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        out[:, :, i] = F.softmax(s, -1) @ kv[:, :, i, d:]
    return attn.o(out.reshape(b, t, h * d))


@pytest.mark.parametrize("q_rank", [0, 24])
@pytest.mark.parametrize("absorb", [False, True])
def test_mla_matches_independent_reference(q_rank, absorb):
    attn = module(MultiHeadLatentAttention, model_args(attention="mla", mla=mla_opts(q_rank=q_rank)))
    attn.absorb = absorb
    x = torch.randn(2, 9, 64, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(attn(x), reference_mla(attn, x), **REF_TOL)


@pytest.mark.parametrize("q_rank", [0, 24])
def test_mla_absorbed_equals_naive(q_rank):
    """The same weights and inputs through both paths: a full causal sequence, then one decode step
    over a cache, in fp64 (equal to rounding) and fp32 (as the harness runs it)."""
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 2e-6)):
        attn = module(MultiHeadLatentAttention, model_args(attention="mla", mla=mla_opts(q_rank=q_rank)), dtype=dtype)
        x = torch.randn(2, 10, 64, dtype=dtype)
        outs = {}
        with torch.no_grad():
            for absorb in (False, True):
                attn.absorb = absorb
                cache = attn.new_cache(2, 10, torch.device("cpu"), dtype)
                prefix = attn(x[:, :9], cache, 0)
                outs[absorb] = (prefix, attn(x[:, 9:], cache, 9), attn(x))
        for naive, absorbed in zip(outs[False], outs[True]):
            torch.testing.assert_close(absorbed, naive, rtol=tol, atol=tol)


class Wrapped(torch.nn.Module):
    """Stands in for an adapter-wrapped kv_b: a linear map that is not an nn.Linear."""

    def __init__(self, linear):
        super().__init__()
        self.inner = linear

    def forward(self, x):
        return self.inner(x)


def test_mla_absorbed_path_reads_a_wrapped_kv_b():
    attn = module(MultiHeadLatentAttention, model_args(attention="mla", mla=mla_opts()))
    x = torch.randn(2, 7, 64, dtype=torch.float64)
    with torch.no_grad():
        attn.absorb = False
        naive = attn(x)
        attn.kv_b, attn.absorb = Wrapped(attn.kv_b), True
        torch.testing.assert_close(attn(x), naive, rtol=1e-12, atol=1e-12)


# ---- NSA ----

def reference_nsa(attn, x):
    """NSA as the paper describes it, one query and one KV group at a time (mean-pooled compression,
    top-n blocks by the group's summed compressed probabilities with the own block forced in, window)."""
    b, t, _ = x.shape
    h, hkv, d, l = attn.n_heads, attn.n_kv_heads, attn.head_dim, attn.block
    rep = h // hkv
    q = rope(attn.q(x).view(b, t, h, d).transpose(1, 2))  # (B, H, T, D)
    k = rope(attn.k(x).view(b, t, hkv, d).transpose(1, 2))
    v = attn.v(x).view(b, t, hkv, d).transpose(1, 2)
    gate = torch.sigmoid(attn.gate_nsa(x)).view(b, t, 3, h)
    out = torch.zeros(b, t, h, d, dtype=x.dtype)
    for bi in range(b):
        for i in range(t):
            n_cmp = (i + 1) // l  # complete blocks ending at or before i
            own = i // l
            for g in range(hkv):
                kc = torch.stack([k[bi, g, j * l:(j + 1) * l].mean(0) for j in range(n_cmp)]) if n_cmp else None
                vc = torch.stack([v[bi, g, j * l:(j + 1) * l].mean(0) for j in range(n_cmp)]) if n_cmp else None
                importance = torch.zeros(own + 1, dtype=torch.float64)
                y_cmp = {}
                for hh in range(g * rep, (g + 1) * rep):
                    if n_cmp:
                        p = F.softmax(kc @ q[bi, hh, i] / math.sqrt(d), 0)
                        importance[:n_cmp] += p
                        y_cmp[hh] = p @ vc
                    else:
                        y_cmp[hh] = torch.zeros(d, dtype=x.dtype)
                others = sorted(range(own), key=lambda j: -importance[j].item())[:attn.selected - 1]
                blocks = set(others) | {own}
                pos = torch.arange(t)
                keep_sel = torch.tensor([(p // l) in blocks for p in range(t)]) & (pos <= i)
                keep_win = (pos <= i) & (pos > i - attn.window)
                for hh in range(g * rep, (g + 1) * rep):
                    y_sel = softmax_attend(q[bi, hh, i], k[bi, g], v[bi, g], keep_sel)
                    y_win = softmax_attend(q[bi, hh, i], k[bi, g], v[bi, g], keep_win)
                    gc, gs, gw = gate[bi, i, :, hh]
                    out[bi, i, hh] = gc * y_cmp[hh] + gs * y_sel + gw * y_win
    return attn.o(out.reshape(b, t, h * d))


@pytest.mark.parametrize("opts", [nsa_opts(2, 2, 3), nsa_opts(3, 2, 4), nsa_opts(4, 1, 1)])
def test_nsa_matches_independent_reference(opts):
    attn = module(NativeSparseAttention, model_args(attention="nsa", nsa=opts))
    x = torch.randn(2, 11, 64, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(attn(x), reference_nsa(attn, x), **REF_TOL)


def test_nsa_with_everything_selected_is_dense_plus_half_the_compressed_branch():
    """What is proven, for T = 12, block 4, selected 3 (= every block), window 12 (= T):
      1. the selected branch and the window branch each equal dense causal attention (attend_explicit);
      2. the compressed branch equals attention over mean-pooled complete blocks, computed here (to
         fp32 rounding: the branch takes its softmax in fp32), and is 0 before the first block ends;
      3. with the gate weights zero (each branch weighted sigmoid(0) = ½), the whole module equals
         GQA with the same q, k, v, o weights plus ½·o(compressed branch)."""
    args = model_args(attention="nsa", nsa=nsa_opts(block=4, selected=3, window=12))
    nsa = module(NativeSparseAttention, args)
    x = torch.randn(2, 12, 64, dtype=torch.float64)
    b, t, h, hkv, d = 2, 12, 4, 2, 16
    with torch.no_grad():
        cos, sin = nsa.rotary.cos_sin(d, 0, t, x.device)  # the module's own RoPE, so step 3 can be exact
        q = apply_rope(nsa.q(x).view(b, t, h, d).transpose(1, 2), cos, sin)
        k = apply_rope(nsa.k(x).view(b, t, hkv, d).transpose(1, 2), cos, sin)
        v = nsa.v(x).view(b, t, hkv, d).transpose(1, 2)
        y_cmp, y_sel, y_win = nsa.branches(q, k, v, 0)
        dense = attend_explicit(q, repeat_kv(k, 2), repeat_kv(v, 2), 0)
        torch.testing.assert_close(y_sel, dense, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(y_win, dense, rtol=1e-12, atol=1e-12)

        expected_cmp = torch.zeros_like(y_cmp)
        for i in range(t):
            n = (i + 1) // 4
            if n == 0:
                continue  # nothing complete yet: the branch gives 0
            kc = k[:, :, :4 * n].reshape(b, hkv, n, 4, d).mean(3)
            vc = v[:, :, :4 * n].reshape(b, hkv, n, 4, d).mean(3)
            p = F.softmax(q[:, :, i:i + 1] @ repeat_kv(kc, 2).transpose(-1, -2) / math.sqrt(d), -1)
            expected_cmp[:, :, i:i + 1] = p @ repeat_kv(vc, 2)
        torch.testing.assert_close(y_cmp, expected_cmp, **REF_TOL)  # its softmax runs in fp32
        assert y_cmp[:, :, :3].abs().max() == 0 and y_cmp[:, :, 3:].abs().min() > 0

        nsa.gate_nsa.weight.zero_()
        gqa = module(CausalSelfAttention, args)
        gqa.load_state_dict({n: p for n, p in nsa.state_dict().items() if not n.startswith("gate_nsa")})
        half_cmp = nsa.o(0.5 * y_cmp.transpose(1, 2).reshape(b, t, h * d))
        torch.testing.assert_close(nsa(x), gqa(x) + half_cmp, rtol=1e-12, atol=1e-12)


# ---- both, through the decoder ----

CASES = {
    "mla": dict(attention="mla", mla=mla_opts()),
    "mla-qrank": dict(attention="mla", mla=mla_opts(kv_rank=20, q_rank=24, rope_dim=4)),
    "nsa": dict(attention="nsa", nsa=nsa_opts(block=2, selected=2, window=3)),
    "nsa-mqa": dict(attention="nsa", n_kv_heads=1, nsa=nsa_opts(block=3, selected=1, window=2)),
}


def check_cache_matches_full_forward(case):
    """Prefill (MLA: the naive path), decode (MLA: the absorbed path), and a chunk after a prefix
    (offset masks; NSA: blocks across the prefix's end)."""
    model = build_decoder(model_args(**CASES[case]))
    idx = torch.randint(0, 97, (2, 6 + 7), generator=torch.Generator().manual_seed(1))
    assert_cache_matches_full_forward(model, idx, prompt_len=6, prefix=5)


@pytest.mark.parametrize("case", list(CASES))
def test_kv_cache_decoding_reproduces_full_forward(case):
    check_cache_matches_full_forward(case)


@pytest.mark.parametrize("case", ["mla", "nsa"])
def test_kv_cache_decoding_on_the_sdpa_path(monkeypatch, case):
    """The torch ≥ 2 branches (attend, attend_masked); on torch 1.x against SDPA's documented semantics."""
    monkeypatch.setattr(model_module, "HAS_SDPA", True)
    if not hasattr(F, "scaled_dot_product_attention"):
        monkeypatch.setattr(F, "scaled_dot_product_attention", reference_sdpa, raising=False)
    check_cache_matches_full_forward(case)


def test_nsa_trains():
    """Gradients reach every weight, the gate included (selection itself is discrete)."""
    model = build_decoder(model_args(**CASES["nsa"])).train()
    idx = torch.randint(0, 97, (2, 12))
    F.cross_entropy(model(idx).view(-1, 97), idx.view(-1)).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


# ---- parameter counts and cache bytes (the formulas of src/core/estimate.ts) ----

def common_params(layers, hidden, ffn, vocab):
    return 2 * vocab * hidden + layers * (3 * hidden * ffn + 2 * hidden) + hidden  # embed, lm_head, MLP, norms


def mla_params(layers, hidden, heads, head_dim, ffn, vocab, kv_rank, q_rank, rope_dim):
    if q_rank:
        q = hidden * q_rank + q_rank + q_rank * heads * (head_dim + rope_dim)
    else:
        q = hidden * heads * (head_dim + rope_dim)
    kv = hidden * (kv_rank + rope_dim) + kv_rank + kv_rank * heads * 2 * head_dim
    o = heads * head_dim * hidden
    return common_params(layers, hidden, ffn, vocab) + layers * (q + kv + o)


def nsa_params(layers, hidden, heads, kv_heads, head_dim, ffn, vocab):
    gqa = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    gate = hidden * 3 * heads
    return common_params(layers, hidden, ffn, vocab) + layers * (gqa + gate)


def count(args):
    return sum(p.numel() for p in Decoder(args).parameters())


@pytest.mark.parametrize("shape,opts", [
    (dict(layers=2, hidden=256, heads=8, head_dim=32, ffn=688, vocab=1024), (64, 0, 16)),  # tiny, defaults
    (dict(layers=2, hidden=256, heads=8, head_dim=32, ffn=688, vocab=1024), (64, 96, 16)),
    (dict(layers=3, hidden=48, heads=6, head_dim=10, ffn=64, vocab=50), (20, 12, 4)),  # hidden ≠ heads × headDim
])
def test_mla_parameter_count_is_the_closed_form(shape, opts):
    kv_rank, q_rank, rope_dim = opts
    args = ModelArgs(dim=shape["hidden"], n_layers=shape["layers"], n_heads=shape["heads"], head_dim=shape["head_dim"],
                     ffn_dim=shape["ffn"], vocab_size=shape["vocab"], attention="mla",
                     mla=mla_opts(kv_rank, q_rank, rope_dim))
    assert count(args) == mla_params(**shape, kv_rank=kv_rank, q_rank=q_rank, rope_dim=rope_dim)


def test_mla_defaults_are_config_ts_defaults():
    """No options: kvRank max(16, hidden/4) = 64, qRank 0, ropeDim headDim/2 = 16 on the tiny shape."""
    attn = Decoder(ModelArgs(attention="mla")).blocks[0].attn
    assert (attn.kv_rank, attn.q_rank, attn.rope_dim) == (64, 0, 16)


@pytest.mark.parametrize("shape", [
    dict(layers=2, hidden=256, heads=8, kv_heads=2, head_dim=32, ffn=688, vocab=1024),
    dict(layers=3, hidden=48, heads=6, kv_heads=3, head_dim=10, ffn=64, vocab=50),
])
def test_nsa_parameter_count_is_the_closed_form(shape):
    args = ModelArgs(dim=shape["hidden"], n_layers=shape["layers"], n_heads=shape["heads"],
                     n_kv_heads=shape["kv_heads"], head_dim=shape["head_dim"], ffn_dim=shape["ffn"],
                     vocab_size=shape["vocab"], attention="nsa", nsa=nsa_opts(8, 2, 16))
    assert count(args) == nsa_params(**shape)


def attention_config(kind, kv_heads, **options):
    return tiny_config(attention={"kind": kind, "kvHeads": kv_heads, **options},
                       model={"shape": {**TINY_SHAPE, "kvHeads": kv_heads}})


def test_cache_bytes_mla_below_gqa_below_mha(tmp_path, run_in_process):
    layers, batch, context, fp32 = 2, 1, 32 + 8, 4
    kv = {}
    for name, cfg in {
        "mla": attention_config("mla", 2, mla={"kvRank": 64, "qRank": 0, "ropeDim": 16}),
        "nsa": attention_config("nsa", 2, nsa={"block": 8, "selected": 2, "window": 16}),
        "gqa": attention_config("gqa", 2),
        "mha": attention_config("mha", 8),
    }.items():
        code, events = run_in_process(cfg, tmp_path)
        assert code == 0, events[-1]
        kv[name] = events[-1]["counters"]["kvCacheBytes"]
    assert kv["mla"] == layers * batch * context * (64 + 16) * fp32  # the latent and the rope key only
    assert kv["nsa"] == kv["gqa"] == 2 * layers * 2 * 32 * batch * context * fp32
    assert kv["mla"] < kv["gqa"] < kv["mha"]


def test_odd_mla_rope_dim_is_invalid_config(tmp_path, run_in_process):
    code, events = run_in_process(attention_config("mla", 2, mla={"kvRank": 64, "qRank": 0, "ropeDim": 15}), tmp_path)
    assert code == 1 and events[-1]["kind"] == "invalid-config"
    assert "attention.mla.ropeDim: 15 is odd" in events[-1]["message"]


# ---- end to end ----

def end_to_end_config(kind, stage, options):
    cfg = attention_config(kind, 2, **{kind: options})
    cfg["stage"] = stage
    if stage != "inference":
        cfg["workload"]["newTokens"] = 0
    return cfg


def check_result(events, kind, stage, options):
    assert events[0]["type"] == "hello" and events[-1]["type"] == "result", events[-1]
    c = events[-1]["counters"]
    shape = dict(layers=2, hidden=256, heads=8, head_dim=32, ffn=688, vocab=1024)
    if kind == "mla":
        expected = mla_params(**shape, kv_rank=options["kvRank"], q_rank=options["qRank"], rope_dim=options["ropeDim"])
    else:
        expected = nsa_params(**shape, kv_heads=2)
    assert c["params"] == expected
    if stage == "inference":
        assert c["ttftS"] > 0 and c["tpotS"] > 0 and c["kvCacheBytes"] > 0
    else:
        assert c["loss"] > 0 and c["kvCacheBytes"] is None


MLA_E2E = {"kvRank": 64, "qRank": 96, "ropeDim": 16}
NSA_E2E = {"block": 8, "selected": 2, "window": 16}


@pytest.mark.parametrize("kind,stage,options", [("mla", "inference", MLA_E2E), ("nsa", "pretrain", NSA_E2E)])
def test_config_mode_end_to_end(tmp_path, kind, stage, options):
    """A separate process per run (about 3 s each, mostly importing torch), so two of the four pairs."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(end_to_end_config(kind, stage, options)))
    proc = harness("--config", str(path))
    assert proc.returncode == 0, proc.stderr
    check_result(parse_events(proc.stdout), kind, stage, options)


@pytest.mark.parametrize("kind,stage,options", [("nsa", "inference", NSA_E2E), ("mla", "pretrain", MLA_E2E)])
def test_config_mode_in_process(tmp_path, run_in_process, kind, stage, options):
    """The other two pairs through the same run_config, in this process."""
    code, events = run_in_process(end_to_end_config(kind, stage, options), tmp_path)
    assert code == 0, events[-1]
    check_result(events, kind, stage, options)
