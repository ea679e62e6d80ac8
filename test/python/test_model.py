"""The decoder: MHA/GQA/MQA are the same maths, the KV cache reproduces the full forward, and the
parameter count follows the closed-form formula."""
import math

import pytest
import torch
import torch.nn.functional as F

from conftest import assert_cache_matches_full_forward, build_decoder, model_args, reference_sdpa
from efficientllm_harness.model import CausalSelfAttention, Decoder, ModelArgs, Rotary, attend_explicit


def reference_attention(attn, x):
    """Written independently of the module: per query head, its KV head is h // (H / Hkv)."""
    b, t, _ = x.shape
    hd, h, hkv = attn.head_dim, attn.n_heads, attn.n_kv_heads
    q = attn.q(x).view(b, t, h, hd)
    k = attn.k(x).view(b, t, hkv, hd)
    v = attn.v(x).view(b, t, hkv, hd)
    # RoPE on the two halves, positions 0..t-1, theta 10000.
    inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
    ang = torch.arange(t).float()[:, None] * inv[None]  # (t, hd/2)
    cos, sin = ang.cos()[None, :, None], ang.sin()[None, :, None]

    def rope(z):
        z1, z2 = z[..., : hd // 2], z[..., hd // 2:]
        return torch.cat((z1 * cos - z2 * sin, z2 * cos + z1 * sin), -1)

    q, k = rope(q), rope(k)
    heads = []
    for i in range(h):
        j = i // (h // hkv)
        s = q[:, :, i] @ k[:, :, j].transpose(1, 2) / math.sqrt(hd)  # (b, t, t)
        s = s.masked_fill(torch.triu(torch.ones(t, t, dtype=torch.bool), 1), float("-inf"))
        heads.append(F.softmax(s, -1) @ v[:, :, j])
    return attn.o(torch.cat(heads, -1))


@pytest.mark.parametrize("kv", [4, 2, 1])
def test_attention_matches_independent_reference(kv):
    torch.manual_seed(0)
    args = model_args(n_kv_heads=kv)
    attn = CausalSelfAttention(args, Rotary(args.max_seq_len, args.rope_theta))
    x = torch.randn(2, 7, args.dim)
    with torch.no_grad():
        torch.testing.assert_close(attn(x), reference_attention(attn, x), rtol=1e-5, atol=1e-5)


def test_gqa_with_all_kv_heads_is_mha():
    mha = build_decoder(model_args(attention="mha", n_kv_heads=4))
    gqa = build_decoder(model_args(attention="gqa", n_kv_heads=4), seed=1)
    gqa.load_state_dict(mha.state_dict())  # same weights, same shapes
    idx = torch.randint(0, 97, (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(gqa(idx), mha(idx), rtol=0, atol=0)


def test_mqa_is_gqa_with_one_kv_head():
    mqa = build_decoder(model_args(attention="mqa", n_kv_heads=1))
    gqa = build_decoder(model_args(attention="gqa", n_kv_heads=1), seed=1)
    gqa.load_state_dict(mqa.state_dict())
    assert mqa.blocks[0].attn.k.weight.shape == (16, 64)  # one KV head of 16
    idx = torch.randint(0, 97, (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(gqa(idx), mqa(idx), rtol=0, atol=0)


def check_cache_matches_full_forward(kind, kv):
    model = build_decoder(model_args(attention=kind, n_kv_heads=kv))
    idx = torch.randint(0, 97, (2, 6 + 5))
    assert_cache_matches_full_forward(model, idx, prompt_len=6, prefix=4)


@pytest.mark.parametrize("kind,kv", [("mha", 4), ("mqa", 1), ("gqa", 2)])
def test_kv_cache_decoding_reproduces_full_forward(kind, kv):
    check_cache_matches_full_forward(kind, kv)


@pytest.mark.parametrize("kind,kv", [("mha", 4), ("mqa", 1), ("gqa", 2)])
def test_kv_cache_decoding_on_the_sdpa_path(monkeypatch, kind, kv):
    """The torch ≥ 2 branch of attend(); on torch 1.x it runs against the documented SDPA semantics."""
    from efficientllm_harness import model as model_module
    monkeypatch.setattr(model_module, "HAS_SDPA", True)
    if not hasattr(F, "scaled_dot_product_attention"):
        monkeypatch.setattr(F, "scaled_dot_product_attention", reference_sdpa, raising=False)
    check_cache_matches_full_forward(kind, kv)


def test_explicit_attention_decode_step_sees_all_keys():
    q, k, v = torch.randn(1, 2, 1, 8), torch.randn(1, 2, 5, 8), torch.randn(1, 2, 5, 8)
    expected = F.softmax(q @ k.transpose(-1, -2) / math.sqrt(8), -1) @ v
    torch.testing.assert_close(attend_explicit(q, k, v, pos=4), expected)


def closed_form_params(layers, hidden, heads, kv_heads, head_dim, ffn, vocab):
    embedding = vocab * hidden
    attention = hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim + heads * head_dim * hidden
    mlp = 3 * hidden * ffn  # gate, up, down
    norms = 2 * hidden
    return embedding + layers * (attention + mlp + norms) + hidden + vocab * hidden  # + final norm + lm_head


@pytest.mark.parametrize("shape", [
    dict(layers=2, hidden=256, heads=8, kv_heads=2, head_dim=32, ffn=688, vocab=1024),
    dict(layers=3, hidden=64, heads=4, kv_heads=1, head_dim=24, ffn=100, vocab=50),  # hidden ≠ heads × headDim
    dict(layers=1, hidden=48, heads=6, kv_heads=6, head_dim=8, ffn=64, vocab=10),
])
def test_parameter_count_is_the_closed_form(shape):
    args = ModelArgs(dim=shape["hidden"], n_layers=shape["layers"], n_heads=shape["heads"], n_kv_heads=shape["kv_heads"],
                     head_dim=shape["head_dim"], ffn_dim=shape["ffn"], vocab_size=shape["vocab"])
    model = Decoder(args)
    assert sum(p.numel() for p in model.parameters()) == closed_form_params(**shape)
