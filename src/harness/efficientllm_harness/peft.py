"""PEFT methods of the finetune stage: full, freeze, LoRA, rsLoRA and DoRA.

What trains (and so what `trainableParams` counts, exactly the elements with requires_grad):
  * full   — every parameter.
  * freeze — the last `rank` decoder blocks, whole (their attention, FFN or experts and router, and
             their two RMSNorms); the embedding, earlier blocks, final norm and lm_head stay frozen.
             This is LLaMA-Factory's freeze tuning (freeze_trainable_layers=N, modules "all", no
             extra modules), the recipe the EfficientLLM study ran. `rank` > layers trains them all.
  * lora   — each targeted Linear W (out × in) gets A (rank × in, kaiming-uniform as nn.Linear and HF
             peft) and B (out × rank, zeros): y = W x + (alpha / rank) · B A x. W and everything
             else is frozen. Trainable: rank × (in + out) per targeted Linear.
  * rslora — the same with scale alpha / √rank (Kalajdzievski 2023; HF peft use_rslora).
  * dora   — LoRA plus a magnitude vector m (out), initialised to the row norms of W (the norm over the
             input dimension of each output row, as HF peft's DoRA): y = m ⊙ (W + s·B A) x / ‖W + s·B A‖.
             The norm is detached (DoRA paper §4.3, HF peft), so no gradient flows through it.
             Trainable: rank × (in + out) + out per targeted Linear.
At initialisation B = 0, so LoRA and rsLoRA add exactly 0 and DoRA's m / ‖W‖ is exactly 1: outputs are
unchanged bit for bit. Adapters are kept in the model's dtype (no fp32 copies, like the rest of the
training stage).

Targets are module names: a Linear is targeted when the last part of its name is a target or an alias
of one (TARGET_ALIASES, mirroring the `targets` of src/core/estimate.ts's breakdown, so MLA's q_a/q_b
count as "q", its kv_a/kv_b as "k" and "v", and LLaMA-style checkpoints' q_proj … down_proj as q … down).
With MoE, "gate", "up" and "down" reach every routed and shared expert; the router and lm_head only
when named ("router", "lm_head"), as in the estimator.

Hugging Face `peft`, where importable (it is optional, DESIGN.md), builds lora, rslora and dora
instead of the adapters below (`implementation()`; EFFICIENTLLM_PEFT=own forces ours). Both follow the
same formulas, so the counts are the same; test_moe_peft.py checks both agree when peft is installed.
"""
from __future__ import annotations

import inspect
import math
import os
import sys
from typing import Dict, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import ConfigError, PeftSpec

ADAPTER_METHODS = ("lora", "rslora", "dora")

TARGET_ALIASES: Dict[str, Tuple[str, ...]] = {
    "q": ("q", "q_a", "q_b", "q_proj"),
    "k": ("k", "kv_a", "kv_b", "k_proj"),
    "v": ("v", "kv_a", "kv_b", "v_proj"),
    "o": ("o", "o_proj"),
    "gate": ("gate", "gate_proj"),
    "up": ("up", "up_proj"),
    "down": ("down", "down_proj"),
}


class LoraLinear(nn.Module):
    """A frozen Linear with a LoRA / rsLoRA / DoRA adapter. Parameter names follow HF peft's roles:
    lora_A (rank × in), lora_B (out × rank), magnitude (out, DoRA only)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, method: str):
        super().__init__()
        assert method in ADAPTER_METHODS and rank >= 1
        self.base, self.method, self.rank = base, method, rank
        self.scale = alpha / math.sqrt(rank) if method == "rslora" else alpha / rank
        w = base.weight
        for p in base.parameters():
            p.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.empty(rank, base.in_features, device=w.device, dtype=w.dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, rank, device=w.device, dtype=w.dtype))
        self.magnitude = nn.Parameter(self.weight_norm()) if method == "dora" else None
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # nn.Linear's default, as HF peft
        self.lora_B.zero_()
        if self.magnitude is not None:
            self.magnitude.copy_(self.weight_norm())

    def weight_norm(self) -> torch.Tensor:
        """‖W + s·B A‖ per output row (out,), in fp32 then cast to the weights' dtype, without gradient.
        Cast the same way here and at init, m / norm is exactly 1 at init in any dtype."""
        w = self.base.weight
        merged = w.float() + self.scale * (self.lora_B.float() @ self.lora_A.float())
        return merged.norm(p=2, dim=1).to(w.dtype).detach()

    def forward(self, x):
        y = self.base(x)
        delta = F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale
        if self.magnitude is None:
            return y + delta
        # m ⊙ (W + sBA) x / ‖W + sBA‖; the bias (none in our model) is not rescaled, as in HF peft.
        g = self.magnitude / self.weight_norm()
        bias = self.base.bias
        if bias is None:
            return g * (y + delta)
        return g * (y - bias + delta) + bias

    def extra_repr(self) -> str:
        return f"method={self.method}, rank={self.rank}, scale={self.scale:g}"


def implementation(method: str) -> str:
    """"hf" when HF peft is importable and builds this method (lora, rslora, dora), else "own"."""
    if method not in ADAPTER_METHODS or os.environ.get("EFFICIENTLLM_PEFT") == "own":
        return "own"
    try:
        import peft  # noqa: F401
    except Exception:  # not installed, or broken against this torch: use ours
        return "own"
    return "hf"


def targeted_linears(model: nn.Module, targets: List[str]) -> List[str]:
    """Qualified names of the Linears the targets select (see TARGET_ALIASES)."""
    wanted = set()
    for t in targets:
        wanted.update(TARGET_ALIASES.get(t, (t,)))
    return [name for name, m in model.named_modules()
            if isinstance(m, nn.Linear) and name.rsplit(".", 1)[-1] in wanted]


def apply_peft(model: nn.Module, spec: PeftSpec) -> str:
    """Makes exactly the parameters of `spec.method` trainable, adding adapters in place.
    Returns the implementation used ("own" or "hf"). Raises ConfigError naming the peft field when the
    spec selects nothing to train."""
    if spec.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return "own"
    for p in model.parameters():
        p.requires_grad_(False)
    if spec.method == "freeze":
        _freeze(model, spec.rank)
        return "own"
    if spec.rank < 1:
        raise ConfigError(f"peft.rank: {spec.rank} is not allowed for {spec.method}; use an integer ≥ 1")
    names = targeted_linears(model, spec.targets)
    if not names:
        raise ConfigError(f"peft.targets: {spec.targets} select no linear layer of this model; "
                          "use names such as \"q\", \"k\", \"v\", \"o\", \"gate\", \"up\", \"down\"")
    impl = implementation(spec.method)
    if impl == "hf":
        _apply_hf(model, spec, names)
    else:
        for name in names:
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, LoraLinear(getattr(parent, child), spec.rank, spec.alpha, spec.method))
    return impl


def decoder_layers(model: nn.Module):
    """The ModuleList of decoder layers: ours (blocks), LLaMA/Qwen/Mistral (model.layers), GPT-2 (transformer.h)."""
    for name, m in model.named_modules():
        if isinstance(m, nn.ModuleList) and name.rsplit(".", 1)[-1] in ("blocks", "layers", "h"):
            return m
    return None


def _freeze(model: nn.Module, rank: int) -> None:
    blocks = decoder_layers(model)
    if blocks is None:
        raise ConfigError("peft.method: \"freeze\" found no list of decoder layers (blocks, layers or h) "
                          "in this model; use lora, rslora, dora or full")
    if rank < 1:
        raise ConfigError(f"peft.rank: {rank} leaves nothing to train with \"freeze\"; use 1 to {len(blocks)} "
                          "(the number of last decoder layers that train)")
    for blk in list(blocks)[-rank:]:
        for p in blk.parameters():
            p.requires_grad_(True)


def _apply_hf(model: nn.Module, spec: PeftSpec, names: List[str]) -> None:
    """The same adapters built by HF peft, injected in place (no PeftModel wrapper, so the harness
    calls the model as before). Adapters stay in the model's dtype, like ours."""
    import peft as hf

    config = hf.LoraConfig(r=spec.rank, lora_alpha=spec.alpha, lora_dropout=0.0, bias="none",
                           target_modules=names, use_rslora=spec.method == "rslora",
                           use_dora=spec.method == "dora")
    kwargs = {}
    if "autocast_adapter_dtype" in inspect.signature(hf.inject_adapter_in_model).parameters:
        kwargs["autocast_adapter_dtype"] = False  # newer peft would upcast bf16 adapters to fp32
    hf.inject_adapter_in_model(config, model, **kwargs)
    for name, p in model.named_parameters():
        p.requires_grad_("lora_" in name)  # lora_A, lora_B, lora_magnitude_vector; base frozen
    print(f"efficientllm harness: peft.method \"{spec.method}\" built with Hugging Face peft {hf.__version__}",
          file=sys.stderr)


def trainable_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
