"""Sparse mixture-of-experts FFN (Mixtral / DeepSeekMoE style), the `make_ffn` choice when `moe` is set.

Every block's SwiGLU MLP is replaced by (src/core/estimate.ts, archFromConfig + moeFromSpec):
  * `experts` routed experts, each a SwiGLU of width ffn_dim (model.MLP, so their Linears are still
    named gate, up, down and PEFT `targets` reach them);
  * `shared` always-on experts of the same width (DeepSeekMoE), added for every token;
  * a router Linear dim → experts without bias; softmax over all experts in fp32, keep the top-k,
    renormalise those k weights to sum to 1 (Mixtral).
Tokens are dispatched by index: each expert gathers only the rows routed to it, runs on them, and its
weighted output is scattered back (index_add_). Nothing runs every expert on every token.

Load balancing (Switch Transformer eq. 4, GShard): aux = E · Σ_i f_i · P_i, where f_i is the share of
the N·k (token, slot) assignments that went to expert i and P_i the mean router probability of
expert i over the N tokens. Both sum to 1, so a uniform router gives exactly 1 whatever it picks, and a
router collapsed on one expert gives E. Each layer leaves its value in `last_aux_loss` during training;
`aux_loss(model)` collects them (summed over layers, as Switch adds each layer's loss) and the training
step adds AUX_LOSS_COEF × that to the cross-entropy.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import MLP, ModelArgs

AUX_LOSS_COEF = 0.01  # Switch Transformer's α


class MoE(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        spec = args.moe
        if not 1 <= spec.top_k <= spec.experts:
            raise ValueError(f"moe.topK {spec.top_k} must be from 1 to moe.experts ({spec.experts})")
        self.n_experts, self.top_k = spec.experts, spec.top_k
        self.router = nn.Linear(args.dim, spec.experts, bias=False)
        self.experts = nn.ModuleList(MLP(args) for _ in range(spec.experts))
        self.shared = nn.ModuleList(MLP(args) for _ in range(spec.shared))
        self.last_aux_loss: Optional[torch.Tensor] = None

    def route(self, x2):
        """x2 (N, dim) → (probs (N, E) fp32, weights (N, k) fp32 summing to 1, experts (N, k))."""
        probs = F.softmax(self.router(x2).float(), dim=-1)
        weights, experts = probs.topk(self.top_k, dim=-1)
        return probs, weights / weights.sum(-1, keepdim=True), experts

    def forward(self, x):
        shape = x.shape  # (B, T, dim)
        x2 = x.reshape(-1, shape[-1])  # (N, dim)
        probs, weights, experts = self.route(x2)
        # Sort the N·k assignments by expert (stable: each expert sees its tokens in order), so expert
        # e's rows are one contiguous run of `order`; one host sync per layer reads the run lengths.
        flat = experts.reshape(-1)  # (N·k,)
        _, order = torch.sort(flat, stable=True)
        counts = torch.bincount(flat, minlength=self.n_experts)
        token_of = order // self.top_k  # which token each sorted assignment belongs to
        weight_of = weights.reshape(-1)[order].to(x.dtype)
        out = torch.zeros_like(x2)
        start = 0
        for e, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            idx = token_of[start:start + n]
            y = self.experts[e](x2.index_select(0, idx))  # (n, dim): only the tokens routed to e
            out.index_add_(0, idx, y * weight_of[start:start + n, None])
            start += n
        for s in self.shared:
            out = out + s(x2)
        if self.training and torch.is_grad_enabled():
            f = counts.float() / flat.numel()  # share of assignments per expert (no gradient)
            self.last_aux_loss = self.n_experts * (f * probs.mean(0)).sum()
        return out.view(shape)

    def inactive_params(self) -> int:
        """Parameters of the routed experts a token does not use: (experts − topK) × one expert."""
        per_expert = sum(p.numel() for p in self.experts[0].parameters())
        return (self.n_experts - self.top_k) * per_expert


def aux_loss(model: nn.Module) -> Optional[torch.Tensor]:
    """Sum of the load-balancing losses the MoE layers left in the last forward (and clears them),
    or None for a dense model."""
    total = None
    for m in model.modules():
        if isinstance(m, MoE) and m.last_aux_loss is not None:
            total = m.last_aux_loss if total is None else total + m.last_aux_loss
            m.last_aux_loss = None
    return total


def inactive_params(model: nn.Module) -> int:
    """Parameters a token skips: activeParams = params − this (0 for a dense model)."""
    return sum(m.inactive_params() for m in model.modules() if isinstance(m, MoE))
