"""The three stages: build the model, run `warmup` unmeasured and `steps` measured iterations,
and return the raw counters of a `result`.

`inference_step` and `train_step` are looked up at call time, so tests can replace them (the only
seam where a CUDA OOM can be faked on a CPU machine).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import budget, devices, distributed, moe, peft, quant, quality, trained
from .config import ProfileConfig, Unsupported
from .data.sources import DataSource, open_source
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
    data: Optional[DataSource] = None  # with a training budget: opened (and checked) before any work


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
    """warmup unmeasured iterations, then the measured window. Returns (marks, start_t, end_t, energy).
    With a training budget the same loop is the first part of the training (budget.py)."""
    w = ctx.cfg.workload
    for i in range(w.warmup):
        step()
        ctx.writer.progress("warmup", i + 1, w.warmup)
    devices.synchronize(ctx.device)
    distributed.barrier()  # a data-parallel run's ranks start the window together
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
    reference_loss = None
    if ctx.data is not None:  # score the precision on a trained model: the base, before quantisation
        state = _base_state(ctx)
        model.load_state_dict(state)
        reference_loss = _reference_loss(ctx, state, capacity)
    # Counted unquantised: a quantised matrix is buffers, not parameters.
    params = sum(p.numel() for p in model.parameters())
    active = params - moe.inactive_params(model)
    _quantize(ctx, model)
    caches = model.new_caches(w.batch, capacity, ctx.device, ctx.dtype)
    # Data parallel: each replica serves its own rows of one global batch (distributed.py).
    prompt = distributed.my_rows(random_tokens(model.args.vocab_size, (distributed.world() * w.batch, w.seq_len),
                                               cfg.seed, ctx.device))
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
    if ctx.data is None:  # random weights: agreement with the bf16 reference, the labelled fallback
        counters.quality = quality.synthetic_quality(ctx, model, lambda: build_model(
            model_args(cfg, capacity), ctx.device, ctx.dtype, cfg.seed))
        counters.quality_source = None if counters.quality is None else "agreement"
        return counters
    with torch.no_grad():
        run_loss = budget.heldout_loss(model, ctx.data, w.batch, w.seq_len + 1, ctx.device)
    # quality = ppl(bf16) ÷ ppl(run) = exp(loss(bf16) − loss(run)); bf16 is the reference itself.
    counters.quality = 1.0 if cfg.precision == "bf16" else math.exp(reference_loss - run_loss)
    counters.quality_source = "perplexity"
    counters.val_loss, counters.data_entropy, counters.train_tokens = run_loss, ctx.data.entropy, cfg.train_tokens
    return counters


def _base_state(ctx: RunContext):
    """The trained base model of this config's shape, seed, data and budget (trained.py)."""
    cfg, w = ctx.cfg, ctx.cfg.workload
    clock = devices.Clock(ctx.device)
    return trained.base_state(
        ctx, lambda dtype: build_model(model_args(cfg, w.seq_len), ctx.device, dtype, cfg.seed), ctx.data,
        lambda m, opt, inputs, targets: train_step(m, opt, inputs, targets, clock))


def _reference_loss(ctx: RunContext, state, capacity: int) -> float:
    """Held-out loss of the trained base with its weights rounded to bf16: the reference of `quality`."""
    cfg, w = ctx.cfg, ctx.cfg.workload
    ref = build_model(model_args(cfg, capacity), ctx.device, trained.reference_dtype(ctx.device), cfg.seed)
    ref.load_state_dict(state)
    quality.round_to_bf16(ref).eval()
    with torch.no_grad():
        loss = budget.heldout_loss(ref, ctx.data, w.batch, w.seq_len + 1, ctx.device)
    del ref
    return loss


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
    if ctx.data is not None and cfg.stage == "finetune":  # fine-tune a trained base on a held-apart task
        model.load_state_dict(_base_state(ctx))
        ctx.data = open_source(cfg.data, model.args.vocab_size, cfg.seed, w.seq_len + 1, variant="task")
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
    base_loss = None
    if ctx.data is not None and cfg.stage == "finetune":  # the task's held-out loss before fine-tuning
        forward0 = model if logits is None else logits
        model.eval()
        base_loss = budget.heldout_loss(forward0, ctx.data, w.batch, w.seq_len + 1, ctx.device)
        model.train()
    if cfg.stage == "finetune" and cfg.peft is not None:
        peft.apply_peft(model, cfg.peft)  # in place: `logits`, which holds model, sees the adapters
    if quant.is_quantised(cfg.precision):  # QLoRA-style: the frozen base quantised, adapters not
        _quantize(ctx, model, frozen_only=True)
        base_bytes = quant.frozen_base_bytes(model)
    trainable_params = peft.trainable_params(model)  # before a data-parallel wrapper (an FSDP rank holds a shard)
    # Data parallel: DDP averages the ranks' gradients each step; the optimizer takes the wrapped parameters.
    forward = distributed.wrap(model if logits is None else logits, cfg, ctx.device)
    trainable = [p for p in forward.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=budget.LEARNING_RATE if ctx.data else 1e-4, weight_decay=0.1)
    clock = devices.Clock(ctx.device)
    trainer = None
    if ctx.data is None:  # speed only: one batch of random tokens, over and over
        # Data parallel: this rank's rows of one global batch, so N ranks with batch b step as one with N·b.
        tokens = distributed.my_rows(random_tokens(vocab, (distributed.world() * w.batch, w.seq_len + 1),
                                                   cfg.seed, ctx.device))
        inputs, targets = tokens[:, :-1], tokens[:, 1:]  # predict token t+1 from tokens ≤ t
        ctx.writer.progress("build", 1, 1)
        marks, start_t, end_t, energy = _loop(ctx, lambda: train_step(forward, optimizer, inputs, targets, clock))
    else:
        trainer = budget.trainer_for(ctx.cfg, model, forward, ctx.data, ctx.device, ctx.writer)
        # The window's batches are made before it, so making them is never timed as training.
        window = [ctx.data.train_batch(i, w.batch, w.seq_len + 1).to(ctx.device) for i in range(w.warmup + w.steps)]
        ctx.writer.progress("build", 1, 1)
        trainer.evals_due()  # the held-out loss before any training
        step = lambda ids: trainer.step(lambda: train_step(forward, optimizer, ids[:, :-1], ids[:, 1:], clock))
        marks, start_t, end_t, energy = _loop(ctx, lambda: step(window[trainer.done]))
        trainer.finish(lambda: step(ctx.data.train_batch(trainer.done, w.batch, w.seq_len + 1).to(ctx.device)))
        if cfg.stage == "pretrain" and ctx.dtype == trained.reference_dtype(ctx.device):
            trained.save_base(ctx, model)  # the base that finetune and inference of this config reuse
    counters = ResultCounters(
        params=params, active_params=active, trainable_params=trainable_params,
        weight_bytes=base_bytes, reference_weight_bytes=params * 2,
        kv_cache_bytes=None, optimizer_state_bytes=optimizer_state_bytes(optimizer),
        peak_memory_bytes=devices.peak_memory_bytes(ctx.device),
        iterations=w.steps, iteration_s=[clock.seconds(a, b) for a, b, _ in marks],
        tokens_per_iteration=w.batch * w.seq_len, generated_tokens_per_iteration=0,
        ttft_s=None, tpot_s=None, window_start_t=start_t, window_end_t=end_t, energy_j=energy,
        quality=None, loss=float(marks[-1][2].item()),
    )
    if trainer is not None:
        counters.val_loss = trainer.evals[-1].val_loss
        counters.data_entropy = ctx.data.entropy
        counters.train_tokens = trainer.done * w.batch * w.seq_len
        counters.base_val_loss = base_loss
    return counters


def run_stage(ctx: RunContext) -> ResultCounters:
    cfg = ctx.cfg
    if cfg.model.vision is not None:  # ViT / DiT: stages_vision.py (imported here: it imports this file)
        from . import stages_vision
        return stages_vision.run_vision(ctx)
    if cfg.train_tokens is not None:  # bad paths and empty files fail here, before any work
        if cfg.model.source == "hf":
            raise Unsupported("trainTokens: training a Hugging Face checkpoint to a budget is not supported yet; "
                              "its quality is measured as perplexity on the bundled text without it")
        ctx.data = open_source(cfg.data, cfg.model.shape.vocab, cfg.seed, cfg.workload.seq_len + 1)
    if ctx.cfg.model.source == "hf":
        from . import hf_model  # imports transformers, or says it is missing
        return hf_model.run_hf(ctx)
    return run_inference(ctx) if ctx.cfg.stage == "inference" else run_training(ctx)
