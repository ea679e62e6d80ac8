"""The three stages: build the model, run `warmup` unmeasured and `steps` measured iterations,
and return the raw counters of a `result`.

`inference_step` and `train_step` are looked up at call time, so tests can replace them (the only
seam where a CUDA OOM can be faked on a CPU machine).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import devices, moe, peft, quant, quality
from .config import ProfileConfig, Unsupported
from .model import Decoder, ModelArgs, cache_bytes, nbytes, weight_bytes
from .monitor import Nvml
from .protocol import EventWriter, ResultCounters


@dataclass
class RunContext:
    cfg: ProfileConfig
    device: torch.device
    dtype: torch.dtype
    writer: EventWriter
    nvml: Optional[Nvml]


def model_args(cfg: ProfileConfig, max_seq_len: int) -> ModelArgs:
    s = cfg.model.shape
    return ModelArgs(dim=s.hidden, n_layers=s.layers, n_heads=s.heads, n_kv_heads=cfg.attention.kv_heads,
                     head_dim=s.head_dim, ffn_dim=s.ffn, vocab_size=s.vocab, attention=cfg.attention.kind,
                     max_seq_len=max_seq_len, mla=cfg.attention.mla, nsa=cfg.attention.nsa, moe=cfg.moe)


def build_model(args: ModelArgs, device: torch.device, dtype: torch.dtype, seed: int) -> Decoder:
    """The model in `dtype` on `device`, initialised from `seed`. On torch ≥ 2 it is built on the meta
    device and materialised in place, so no fp32 copy of a large model ever exists (it would also
    count in the peak); torch 1.x builds on the CPU and casts."""
    if hasattr(torch.device, "__enter__"):
        with torch.device("meta"):
            model = Decoder(args)
        model = model.to(dtype=dtype).to_empty(device=device)
    else:
        model = Decoder(args).to(device=device, dtype=dtype)
    torch.manual_seed(seed)
    model.init_weights()
    return model


def random_tokens(vocab: int, shape, seed: int, device) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)  # on the CPU: the same tokens on every device
    return torch.randint(0, vocab, shape, generator=g).to(device)


def inference_step(model: Decoder, caches, prompt: torch.Tensor, new_tokens: int, clock: devices.Clock):
    """One request: prefill the prompt into the static caches, pick the first token greedily, then
    decode new_tokens − 1 more, one at a time. Returns timing marks (start, first token, end)."""
    start = clock.mark()
    logits = model(prompt, caches, pos=0, last_only=True)  # (B, 1, vocab)
    token = logits[:, -1].argmax(-1, keepdim=True)  # (B, 1), stays on the device: no host sync
    first = clock.mark()
    pos = prompt.size(1)
    for _ in range(new_tokens - 1):
        logits = model(token, caches, pos=pos, last_only=True)
        token = logits[:, -1].argmax(-1, keepdim=True)
        pos += 1
    return start, first, clock.mark()


def train_step(model: Decoder, optimizer, inputs, targets, clock: devices.Clock):
    """Forward, next-token cross-entropy (+ the MoE load-balancing loss), backward, AdamW step.
    Returns (start, end, cross-entropy)."""
    start = clock.mark()
    logits = model(inputs)  # (B, T, vocab)
    ce = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.reshape(-1))
    aux = moe.aux_loss(model)
    loss = ce if aux is None else ce + moe.AUX_LOSS_COEF * aux
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return start, clock.mark(), ce.detach()


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes of the optimizer's per-parameter state (AdamW: exp_avg and exp_avg_sq). The 0-dim `step`
    counters (one float32 per parameter tensor since torch 1.12) are bookkeeping, not state that
    scales with the model, and are left out."""
    return sum(nbytes(t) for st in optimizer.state.values() for t in st.values()
               if torch.is_tensor(t) and t.dim() > 0)


def _loop(ctx: RunContext, step: Callable[[], tuple]):
    """warmup unmeasured iterations, then the measured window. Returns (marks, start_t, end_t, energy)."""
    w = ctx.cfg.workload
    for i in range(w.warmup):
        step()
        ctx.writer.progress("warmup", i + 1, w.warmup)
    devices.synchronize(ctx.device)
    energy0 = ctx.nvml.energy_j() if ctx.nvml else None
    start_t = time.perf_counter()
    marks = []
    for i in range(w.steps):
        marks.append(step())
        ctx.writer.progress("measure", i + 1, w.steps)
    devices.synchronize(ctx.device)  # every event recorded in the window has now completed
    end_t = time.perf_counter()
    energy1 = ctx.nvml.energy_j() if ctx.nvml else None
    energy = energy1 - energy0 if energy0 is not None and energy1 is not None else None
    return marks, start_t, end_t, energy


def _mean(xs: List[float]) -> Optional[float]:
    return sum(xs) / len(xs) if xs else None


def run_inference(ctx: RunContext) -> ResultCounters:
    cfg, w = ctx.cfg, ctx.cfg.workload
    capacity = w.seq_len + w.new_tokens
    ctx.writer.progress("build", 0, 1)
    model = build_model(model_args(cfg, capacity), ctx.device, ctx.dtype, cfg.seed)
    model.eval()
    # Counted unquantised: a quantised matrix is buffers, not parameters.
    params = sum(p.numel() for p in model.parameters())
    active = params - moe.inactive_params(model)
    _quantize(ctx, model)
    caches = model.new_caches(w.batch, capacity, ctx.device, ctx.dtype)
    prompt = random_tokens(model.args.vocab_size, (w.batch, w.seq_len), cfg.seed, ctx.device)
    ctx.writer.progress("build", 1, 1)
    clock = devices.Clock(ctx.device)
    with torch.no_grad():
        marks, start_t, end_t, energy = _loop(ctx, lambda: inference_step(model, caches, prompt, w.new_tokens, clock))
    iteration_s = [clock.seconds(a, c) for a, _, c in marks]
    ttft = [clock.seconds(a, b) for a, b, _ in marks]
    tpot = [clock.seconds(b, c) / (w.new_tokens - 1) for _, b, c in marks] if w.new_tokens > 1 else []
    counters = ResultCounters(
        params=params, active_params=active, trainable_params=0,
        weight_bytes=weight_bytes(model), reference_weight_bytes=params * 2,
        kv_cache_bytes=cache_bytes(caches), optimizer_state_bytes=None,
        peak_memory_bytes=devices.peak_memory_bytes(ctx.device),
        iterations=w.steps, iteration_s=iteration_s,
        # Fed through the model: the prompt, then each generated token but the last.
        tokens_per_iteration=w.batch * (w.seq_len + w.new_tokens - 1),
        generated_tokens_per_iteration=w.batch * w.new_tokens,
        ttft_s=_mean(ttft), tpot_s=_mean(tpot),
        window_start_t=start_t, window_end_t=end_t, energy_j=energy, quality=None, loss=None,
    )
    caches = None  # after the window and its peak: free the cache before the quality pass
    counters.quality = quality.synthetic_quality(ctx, model, lambda: build_model(
        model_args(cfg, capacity), ctx.device, ctx.dtype, cfg.seed))
    return counters


def _quantize(ctx: RunContext, model, frozen_only: bool = False) -> None:
    """int8/int4/fp8 (quant.py); then the peak restarts, because the dense weights built before
    quantisation are a build artefact (a real quantised checkpoint loads packed)."""
    if quant.is_quantised(ctx.cfg.precision):
        quant.quantize_model(model, ctx.cfg.precision, ctx.dtype, frozen_only=frozen_only)
        devices.reset_memory(ctx.device)


def run_training(ctx: RunContext) -> ResultCounters:
    """pretrain and finetune run the same loop; finetune first applies cfg.peft (peft.py), which
    decides what trains (none given: full fine-tuning). With bf16/fp16 the weights, gradients and
    AdamW state are all in that dtype, with no fp32 master copy or loss scaling: we measure the cost
    of a step, not convergence."""
    cfg, w = ctx.cfg, ctx.cfg.workload
    refusal = quant.training_refusal(cfg.stage, cfg.precision, cfg.peft.method if cfg.peft else None)
    if refusal:
        raise Unsupported(refusal)
    ctx.writer.progress("build", 0, 1)
    model = build_model(model_args(cfg, w.seq_len), ctx.device, ctx.dtype, cfg.seed)
    model.train()
    params = sum(p.numel() for p in model.parameters())
    return train(ctx, model, params, params - moe.inactive_params(model), model.args.vocab_size)


def train(ctx: RunContext, model: nn.Module, params: int, active: int, vocab: int,
          logits: Optional[nn.Module] = None) -> ResultCounters:
    """What pretrain and finetune share, for either model source (hf_model.py too): cfg.peft, the
    QLoRA-style quantisation of the frozen base, AdamW, the measured loop and its counters. `model` is
    built and in train mode; `logits` is the module train_step calls, where model(ids) does not give
    logits itself (hf_model.LogitsOf). params, activeParams and weightBytes are the model's own,
    counted before PEFT adds adapters."""
    cfg, w = ctx.cfg, ctx.cfg.workload
    base_bytes = weight_bytes(model)
    if cfg.stage == "finetune" and cfg.peft is not None:
        peft.apply_peft(model, cfg.peft)  # in place: `logits`, which holds model, sees the adapters
    if quant.is_quantised(cfg.precision):  # QLoRA-style: the frozen base quantised, adapters not
        _quantize(ctx, model, frozen_only=True)
        base_bytes = quant.frozen_base_bytes(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.1)
    tokens = random_tokens(vocab, (w.batch, w.seq_len + 1), cfg.seed, ctx.device)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]  # predict token t+1 from tokens ≤ t
    ctx.writer.progress("build", 1, 1)
    clock = devices.Clock(ctx.device)
    forward = model if logits is None else logits
    marks, start_t, end_t, energy = _loop(ctx, lambda: train_step(forward, optimizer, inputs, targets, clock))
    return ResultCounters(
        params=params, active_params=active, trainable_params=peft.trainable_params(model),
        weight_bytes=base_bytes, reference_weight_bytes=params * 2,
        kv_cache_bytes=None, optimizer_state_bytes=optimizer_state_bytes(optimizer),
        peak_memory_bytes=devices.peak_memory_bytes(ctx.device),
        iterations=w.steps, iteration_s=[clock.seconds(a, b) for a, b, _ in marks],
        tokens_per_iteration=w.batch * w.seq_len, generated_tokens_per_iteration=0,
        ttft_s=None, tpot_s=None, window_start_t=start_t, window_end_t=end_t, energy_j=energy,
        quality=None, loss=float(marks[-1][2].item()),
    )


def run_stage(ctx: RunContext) -> ResultCounters:
    if ctx.cfg.model.source == "hf":
        from . import hf_model  # imports transformers, or says it is missing
        return hf_model.run_hf(ctx)
    return run_inference(ctx) if ctx.cfg.stage == "inference" else run_training(ctx)
