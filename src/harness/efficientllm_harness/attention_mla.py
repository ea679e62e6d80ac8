"""Multi-head Latent Attention (DeepSeek-V2, arXiv 2405.04434), in the manner of model.py.

What differs from CausalSelfAttention, in a few lines each:
  * keys and values come from one latent per token: c_kv = RMSNorm(kv_a(x)[:kv_rank]) (kv_rank wide),
    decompressed per head by kv_b: kv_rank → heads × (head_dim for k_nope + head_dim for v);
  * RoPE is decoupled: each query head has rope_dim extra rotated dims (q_pe), and one rotated key
    k_pe = RoPE(kv_a(x)[kv_rank:]) (rope_dim wide) is shared by every head;
  * the query may be compressed too (q_rank > 0: q_a → RMSNorm → q_b), or not (q_rank = 0: q);
  * the cache holds only c_kv and k_pe: (kv_rank + rope_dim) numbers per token and layer, against
    2 × kv_heads × head_dim for GQA;
  * scores are q_nope·k_nope + q_pe·k_pe, scaled by 1/sqrt(head_dim + rope_dim).

Two ways to attend, equal in exact arithmetic:
  * naive: decompress K and V of every position with kv_b, then ordinary attention (`attend`);
  * absorbed: fold kv_b's key half W_uk into the query (q_lat = q_nope W_uk, kv_rank wide) and its
    value half W_uv into the output, so attention runs over the latents c_kv themselves and nothing
    is decompressed per cached token. Cheaper for decoding (one query, a long cache); the naive path
    is cheaper for prefill and training (head_dim < kv_rank, and it can use fused SDPA kernels).
`absorb` picks: None (the default) takes the absorbed path for one-token steps with a cache and the
naive path otherwise; True or False forces one (tests compare them).

Linear names: q (or q_a, q_b), kv_a, kv_b, o. As in src/core/estimate.ts, the PEFT target "q" covers
q, q_a and q_b, and "k" or "v" covers kv_a and kv_b (peft.py's TARGET_ALIASES).
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import Cache, ModelArgs, RMSNorm, Rotary, apply_rope, attend, causal_mask


def mla_options(args: ModelArgs):
    """(kv_rank, q_rank, rope_dim): args.mla (config.MlaOptions) or the defaults of src/core/config.ts."""
    if args.mla is not None:
        return args.mla.kv_rank, args.mla.q_rank, args.mla.rope_dim
    return max(16, args.dim // 4), 0, max(2, args.head_dim // 2)


class MultiHeadLatentAttention(nn.Module):
    """MLA with qk_nope = v_head = head_dim (the estimator's assumption); no biases."""

    def __init__(self, args: ModelArgs, rotary: Rotary):
        super().__init__()
        self.kv_rank, self.q_rank, self.rope_dim = mla_options(args)
        if self.rope_dim % 2:
            raise ValueError(f"attention.mla.ropeDim {self.rope_dim} is odd; RoPE needs an even dimension")
        self.n_heads, self.head_dim = args.n_heads, args.head_dim
        self.rotary, self.causal = rotary, args.causal
        self.absorb: Optional[bool] = None  # None: absorbed for decode steps, naive otherwise
        h, d, r, dr = args.n_heads, args.head_dim, self.kv_rank, self.rope_dim
        if self.q_rank > 0:
            self.q_a = nn.Linear(args.dim, self.q_rank, bias=False)  # query compression
            self.q_norm = RMSNorm(self.q_rank, args.norm_eps)
            self.q_b = nn.Linear(self.q_rank, h * (d + dr), bias=False)
        else:
            self.q = nn.Linear(args.dim, h * (d + dr), bias=False)
        self.kv_a = nn.Linear(args.dim, r + dr, bias=False)  # → latent c_kv and the shared rope key
        self.kv_norm = RMSNorm(r, args.norm_eps)
        self.kv_b = nn.Linear(r, h * (d + d), bias=False)  # latent → per-head k_nope and v
        self.o = nn.Linear(h * d, args.dim, bias=False)

    def new_cache(self, batch: int, capacity: int, device, dtype) -> Cache:
        """Only the latent (B, capacity, kv_rank) and the rope key (B, capacity, rope_dim)."""
        return {"c_kv": torch.zeros((batch, capacity, self.kv_rank), device=device, dtype=dtype),
                "k_pe": torch.zeros((batch, capacity, self.rope_dim), device=device, dtype=dtype)}

    def forward(self, x, cache: Optional[Cache] = None, pos: int = 0):
        b, t, _ = x.shape  # (B, T, dim)
        h, d, dr = self.n_heads, self.head_dim, self.rope_dim
        q = self.q_b(self.q_norm(self.q_a(x))) if self.q_rank > 0 else self.q(x)
        q_nope, q_pe = q.view(b, t, h, d + dr).transpose(1, 2).split([d, dr], -1)  # (B, H, T, D), (B, H, T, R)
        c_kv, k_pe = self.kv_a(x).split([self.kv_rank, dr], -1)  # (B, T, r), (B, T, R)
        c_kv = self.kv_norm(c_kv)
        cos, sin = self.rotary.cos_sin(dr, pos, t, x.device)
        q_pe = apply_rope(q_pe, cos, sin)
        k_pe = apply_rope(k_pe[:, None], cos, sin)[:, 0]  # one rope key, shared by every head
        if cache is not None:
            cache["c_kv"][:, pos:pos + t] = c_kv
            cache["k_pe"][:, pos:pos + t] = k_pe
            c_kv, k_pe = cache["c_kv"][:, :pos + t], cache["k_pe"][:, :pos + t]  # (B, S, r), (B, S, R)
        absorb = (cache is not None and t == 1) if self.absorb is None else self.absorb
        attend_fn = self.attend_absorbed if absorb else self.attend_naive
        y = attend_fn(q_nope, q_pe, c_kv, k_pe, pos)  # (B, H, T, D)
        return self.o(y.transpose(1, 2).reshape(b, t, h * d))

    def attend_naive(self, q_nope, q_pe, c_kv, k_pe, pos: int):
        """Decompress K and V of all S positions, then ordinary causal attention."""
        b, s, _ = c_kv.shape
        h, d, dr = self.n_heads, self.head_dim, self.rope_dim
        k_nope, v = self.kv_b(c_kv).view(b, s, h, d + d).transpose(1, 2).split([d, d], -1)  # (B, H, S, D) each
        k = torch.cat((k_nope, k_pe[:, None].expand(b, h, s, dr)), -1)  # (B, H, S, D + R)
        q = torch.cat((q_nope, q_pe), -1)  # (B, H, T, D + R); attend scales by 1/sqrt(D + R)
        return attend(q, k, v, pos, self.causal)

    def attend_absorbed(self, q_nope, q_pe, c_kv, k_pe, pos: int):
        """The same attention in the latent space: scores q_nope·(W_uk c) = (q_nope W_uk)·c, and
        output W_uv (Σ p c), so K and V are never decompressed."""
        t, s = q_nope.size(2), c_kv.size(1)
        w = self.kv_b_weight(c_kv).view(self.n_heads, 2 * self.head_dim, self.kv_rank)
        w_uk, w_uv = w.split(self.head_dim, 1)  # (H, D, r) each: the key and value halves of kv_b
        q_lat = torch.einsum("bhtd,hdr->bhtr", q_nope, w_uk)  # (B, H, T, r): the query in latent space
        c = c_kv[:, None]  # (B, 1, S, r): one latent "head" serves every query head
        att = q_lat @ c.transpose(-2, -1) + q_pe @ k_pe[:, None].transpose(-2, -1)  # (B, H, T, S)
        att = att.float() * (1.0 / math.sqrt(self.head_dim + self.rope_dim))
        if self.causal and t > 1:
            att = att.masked_fill(~causal_mask(t, s, pos, att.device), float("-inf"))
        o_lat = F.softmax(att, dim=-1).to(c.dtype) @ c  # (B, H, T, r)
        return torch.einsum("bhtr,hdr->bhtd", o_lat, w_uv)  # (B, H, T, D)

    def kv_b_weight(self, like: torch.Tensor) -> torch.Tensor:
        """kv_b's matrix (H × 2D, r) in like's dtype and device. A plain Linear hands it over; a
        quantised one (quant.py's QuantLinear) dequantises it; anything else (a PEFT wrapper) is
        applied to the identity. The last two cost a pass over the matrix per call, where a serving
        kernel would keep the absorbed weights; we measure the straightforward way."""
        if type(self.kv_b) is nn.Linear:
            return self.kv_b.weight.to(like.dtype)
        if hasattr(self.kv_b, "dequantize"):
            return self.kv_b.dequantize(like.dtype)
        eye = torch.eye(self.kv_rank, device=like.device, dtype=like.dtype)
        return self.kv_b(eye).t()
