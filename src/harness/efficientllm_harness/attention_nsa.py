"""Native Sparse Attention (Yuan et al. 2025, arXiv 2502.11089), in the manner of model.py.

The projections are GQA's (q, k, v, o with n_kv_heads), and so is the cache (full K and V). What
differs is how each query reads the causal context, through three branches mixed by a gate:
  * compressed: the keys/values of each complete block of `block` tokens are mean-pooled into one
    (parameter-free, the estimator's assumption); a query attends over the blocks that end at or
    before it;
  * selected: the compressed branch's attention probabilities, summed over the query heads of a GQA
    group, rank the blocks; the top `selected` (the query's own block always among them) are read
    token by token, causally masked. One choice per group, so a group shares its KV reads;
  * window: the last `window` tokens, the query's own included;
  * out = Σ_branch sigmoid(gate_nsa(x))[branch, head] · branch output, per head, then o.
Block scores of the compressed branch pick blocks of the same size (the paper's l' = l = d case).

This is a reference implementation: every branch is dense attention under a boolean mask, so its
cost is that of dense attention plus the masks, not the paper's sparse kernels. It is exact and
vectorised (no loop over tokens or blocks); timings measure it, not a fused NSA kernel.

The gate Linear is named gate_nsa, not gate: "gate" is the MLP's PEFT target (as in estimate.ts).
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import model as _model
from .model import Cache, CausalSelfAttention, ModelArgs, Rotary, repeat_kv


def nsa_options(args: ModelArgs) -> Tuple[int, int, int]:
    """(block, selected, window): args.nsa (config.NsaOptions) or DEFAULT_NSA of src/core/config.ts."""
    if args.nsa is not None:
        return args.nsa.block, args.nsa.selected, args.nsa.window
    return 64, 4, 128


def attend_masked(q, k, v, mask):
    """softmax(q kᵀ / sqrt(D) where mask, −inf elsewhere) v. mask: bool, True = visible, broadcast to
    (B, H, T, S); every row must see at least one key."""
    if _model.HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    att = (q @ k.transpose(-2, -1)).float() * (1.0 / math.sqrt(q.size(-1)))
    att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1).to(v.dtype)
    return att @ v


class NativeSparseAttention(CausalSelfAttention):
    """GQA's projections and cache, inherited (compressed blocks are recomputed, not cached); what
    differs is the gate and how each query reads k, v: `branches`."""

    def __init__(self, args: ModelArgs, rotary: Rotary):
        super().__init__(args, rotary)  # q, k, v, o with n_kv_heads; cache: full K and V
        self.block, self.selected, self.window = nsa_options(args)
        self.gate_nsa = nn.Linear(args.dim, 3 * args.n_heads, bias=False)  # the one new weight

    def forward(self, x, cache: Optional[Cache] = None, pos: int = 0):
        b, t, _ = x.shape  # (B, T, dim)
        q, k, v = self.qkv(x, cache, pos)  # (B, H, T, D); (B, Hkv, S, D) each
        y_cmp, y_sel, y_win = self.branches(q, k, v, pos)  # (B, H, T, D) each
        g = torch.sigmoid(self.gate_nsa(x)).view(b, t, 3, self.n_heads)  # per token, branch and head
        g = g.permute(2, 0, 3, 1)[..., None]  # (3, B, H, T, 1)
        y = g[0] * y_cmp + g[1] * y_sel + g[2] * y_win
        return self.out(y)

    def branches(self, q, k, v, pos: int):
        """The three branch outputs for queries q (B, H, T, D) at positions pos.. over k, v (B, Hkv, S, D)."""
        b, h, t, d = q.shape
        hkv, s, blk = k.size(1), k.size(2), self.block
        rep = h // hkv
        q_pos = torch.arange(pos, pos + t, device=q.device)[:, None]  # (T, 1) absolute query positions
        k_pos = torch.arange(s, device=q.device)[None, :]  # (1, S)
        causal = k_pos <= q_pos  # (T, S)

        # 1. Compressed: one mean key/value per complete block; a block is visible once it has ended.
        n_cmp = s // blk
        k_cmp = k[:, :, :n_cmp * blk].reshape(b, hkv, n_cmp, blk, d).mean(3)  # (B, Hkv, n_cmp, D)
        v_cmp = v[:, :, :n_cmp * blk].reshape(b, hkv, n_cmp, blk, d).mean(3)
        ends = torch.arange(n_cmp, device=q.device) * blk + blk - 1
        seen = ends[None, :] <= q_pos  # (T, n_cmp)
        att = (q @ repeat_kv(k_cmp, rep).transpose(-2, -1)).float() * (1.0 / math.sqrt(d))
        p_cmp = F.softmax(att.masked_fill(~seen, float("-inf")), dim=-1)
        p_cmp = p_cmp.masked_fill(~seen, 0.0)  # a query before the first block end sees nothing: 0, not NaN
        y_cmp = p_cmp.to(v.dtype) @ repeat_kv(v_cmp, rep)  # (B, H, T, D)

        # 2. Selected: rank blocks by the group's compressed probabilities; keep the top `selected`,
        # always the query's own block, never a later one. The choice is discrete: no gradient.
        with torch.no_grad():
            n_blk = -(-s // blk)  # blocks touched by the context, the last maybe incomplete
            score = F.pad(p_cmp.view(b, hkv, rep, t, n_cmp).sum(2), (0, n_blk - n_cmp))  # (B, Hkv, T, n_blk)
            ids = torch.arange(n_blk, device=q.device)[None, :]
            own = q_pos // blk  # (T, 1)
            score = score.masked_fill(ids == own, float("inf")).masked_fill(ids > own, float("-inf"))
            top = score.topk(min(self.selected, n_blk), dim=-1).indices
            chosen = torch.zeros_like(score, dtype=torch.bool).scatter_(-1, top, True) & (ids <= own)
            sel = chosen[..., k_pos[0] // blk] & causal  # (B, Hkv, T, S): chosen blocks' tokens, causal
        y_sel = attend_masked(q, repeat_kv(k, rep), repeat_kv(v, rep), repeat_kv(sel, rep))

        # 3. Sliding window: the last `window` positions up to the query.
        win = causal & (k_pos > q_pos - self.window)  # (T, S)
        y_win = attend_masked(q, repeat_kv(k, rep), repeat_kv(v, rep), win)
        return y_cmp, y_sel, y_win
