"""Trained base models for the quality side of fine-tuning and quantisation (budget.py).

A PEFT method is scored by how far it moves a trained base model on a held-apart task, and a precision
by how much held-out perplexity it costs a trained model. Both need the base model: the same shape
trained from scratch for `trainTokens` on `data` (full parameters, the reference dtype: fp32 on a CPU,
bf16 on a GPU) — exactly what a pretrain run of that config trains, batch for batch, so a pretrain run
in the reference dtype saves its model as the base. A base is trained once per shape, attention, MoE,
data, seed, budget and workload, kept in this process for the configs of a sweep that share it, and
saved under ~/.cache/efficientllm/bases/<key>.pt on the target ($EFFICIENTLLM_CACHE/bases where set) so later sweeps reuse it. The key
includes a hash of the harness code that defines the model and the data, so a changed harness never
reuses a stale base.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Callable, Dict

import torch
import torch.nn as nn

from . import budget
from .config import ProfileConfig
from .data.sources import DataSource

# None: $EFFICIENTLLM_CACHE/bases, else ~/.cache/efficientllm/bases (as the targets' run folders); tests set it.
CACHE_DIR = None


def cache_dir() -> str:
    if CACHE_DIR is not None:
        return CACHE_DIR
    root = os.environ.get("EFFICIENTLLM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "efficientllm")
    return os.path.join(root, "bases")
# The files whose code decides what a base model is: any change to them makes a new key.
_KEY_SOURCES = ("model.py", "attention_mla.py", "attention_nsa.py", "moe.py", "budget.py", "trained.py",
                os.path.join("data", "synthetic.py"), os.path.join("data", "sources.py"))
_in_process: Dict[str, Dict[str, torch.Tensor]] = {}


def reference_dtype(device: torch.device) -> torch.dtype:
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def base_key(cfg: ProfileConfig, device: torch.device) -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    code = hashlib.sha256()
    for rel in _KEY_SOURCES:
        with open(os.path.join(here, rel), "rb") as f:
            code.update(f.read())
    w = cfg.workload
    what = {
        "shape": dataclasses.asdict(cfg.model.shape), "attention": dataclasses.asdict(cfg.attention),
        "moe": dataclasses.asdict(cfg.moe) if cfg.moe else None, "data": cfg.data, "seed": cfg.seed,
        "steps": budget.total_steps(cfg), "batch": w.batch, "seqLen": w.seq_len, "device": device.type,
        "code": code.hexdigest(),
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:24]


def base_state(ctx, build: Callable[[torch.dtype], nn.Module], data: DataSource,
               train_step: Callable) -> Dict[str, torch.Tensor]:
    """The trained base's weights (on the CPU): from this process, from the cache folder, or trained now.
    `build(dtype)` makes the untrained model; `train_step(model, optimizer, inputs, targets)` is one step."""
    cfg = ctx.cfg
    key = base_key(cfg, ctx.device)
    if key in _in_process:
        return _in_process[key]
    path = os.path.join(cache_dir(), f"{key}.pt")
    if os.path.exists(path):
        try:
            state = torch.load(path, map_location="cpu")
            budget.log(f"base model: reused {path}")
            _in_process[key] = state
            return state
        except Exception as e:  # noqa: BLE001 - a damaged cache file is retrained, never fatal
            budget.log(f"base model: {path} unreadable ({e}); training it again")
    w = cfg.workload
    model = build(reference_dtype(ctx.device))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=budget.LEARNING_RATE, weight_decay=0.1)
    steps = budget.total_steps(cfg)
    for i in range(steps):
        ids = data.train_batch(i, w.batch, w.seq_len + 1).to(ctx.device)
        train_step(model, optimizer, ids[:, :-1], ids[:, 1:])
        ctx.writer.progress("base model", i + 1, steps)
    del optimizer
    state = save_base(ctx, model)
    budget.log(f"base model: trained {steps} steps ({steps * w.batch * w.seq_len} tokens), key {key}")
    return state


def save_base(ctx, model: nn.Module) -> Dict[str, torch.Tensor]:
    """Keeps `model`'s weights as the base of ctx.cfg: in this process and in the cache folder."""
    key = base_key(ctx.cfg, ctx.device)
    path = os.path.join(cache_dir(), f"{key}.pt")
    state = {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}
    try:
        os.makedirs(cache_dir(), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        torch.save(state, tmp)
        os.replace(tmp, path)  # atomic: a concurrent run never reads half a file
    except OSError as e:
        budget.log(f"base model: not cached ({e}); it stays in this process only")
    _in_process[key] = state
    return state
