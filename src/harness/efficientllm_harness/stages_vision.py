"""The stages of an image model (cfg.model.vision): build a ViT or DiT (model_vision.py), run `warmup`
unmeasured and `steps` measured iterations on seeded synthetic images, and return the counters.

* pretrain / finetune: one AdamW step per iteration. ViT: cross-entropy of random labels on random
  images; DiT: the noise-prediction loss on random latents at random timesteps. finetune applies
  cfg.peft first (peft.py: LoRA/RSLoRA/DoRA on q, k, v, o, up, down; freeze: the last blocks).
* inference: ViT: one forward pass of the batch; DiT: `samplingSteps` DDIM steps from noise, each a
  forward pass of the batch (model_vision.sample).
An iteration processes `batch` images, so the record's samplesPerS is images/s. Nothing is trained to
a budget here (config.ts refuses trainTokens for images), so quality stays null; FID would need
Inception weights that this harness does not fetch.
"""
from __future__ import annotations

import torch

from . import devices, moe, peft, quant
from .config import ProfileConfig, Unsupported
from .model import ModelArgs, weight_bytes
from .model_vision import DiT, Diffusion, ViT, dit_loss, sample
from .protocol import ResultCounters
from .stages import RunContext, _loop, _quantize, optimizer_state_bytes


def vision_args(cfg: ProfileConfig) -> ModelArgs:
    s, v = cfg.model.shape, cfg.model.vision
    return ModelArgs(dim=s.hidden, n_layers=s.layers, n_heads=s.heads, n_kv_heads=cfg.attention.kv_heads,
                     head_dim=s.head_dim, ffn_dim=s.ffn, vocab_size=s.vocab, attention=cfg.attention.kind,
                     max_seq_len=v.tokens, mla=cfg.attention.mla, nsa=None, moe=cfg.moe,
                     causal=False, attn_bias=True)


def build_vision(cfg: ProfileConfig, device: torch.device, dtype: torch.dtype):
    """The ViT or DiT of cfg in `dtype` on `device`, initialised from cfg.seed."""
    v = cfg.model.vision
    args = vision_args(cfg)
    torch.manual_seed(cfg.seed)
    if v.family == "vit":
        model = ViT(args, v.image_size, v.patch, v.channels)
    else:
        model = DiT(args, v.side, v.patch, v.channels, v.learn_sigma)
    model.init_weights()
    return model.to(device=device, dtype=dtype)


def _inputs(cfg: ProfileConfig, device, dtype):
    """Seeded synthetic images (ViT) or latents (DiT), and labels, made on the CPU: the same on every device."""
    v, w = cfg.model.vision, cfg.workload
    g = torch.Generator().manual_seed(cfg.seed)
    x = torch.randn((w.batch, v.channels, v.side, v.side), generator=g).to(device=device, dtype=dtype)
    y = torch.randint(0, cfg.model.shape.vocab, (w.batch,), generator=g).to(device)
    t = torch.randint(0, Diffusion.STEPS, (w.batch,), generator=g).to(device)
    noise = torch.randn(x.shape, generator=g).to(device=device, dtype=dtype)
    return x, y, t, noise


def _counters(cfg: ProfileConfig, model, params: int, marks, window, **over) -> ResultCounters:
    w, v = cfg.workload, cfg.model.vision
    start_t, end_t, energy = window
    fields = dict(
        params=params, active_params=params - moe.inactive_params(model), trainable_params=0,
        weight_bytes=weight_bytes(model), reference_weight_bytes=params * 2,
        kv_cache_bytes=None, optimizer_state_bytes=None, peak_memory_bytes=None,
        iterations=w.steps, iteration_s=marks,
        # Patch tokens through the model per iteration; an image model generates none.
        tokens_per_iteration=w.batch * v.tokens, generated_tokens_per_iteration=0,
        ttft_s=None, tpot_s=None, window_start_t=start_t, window_end_t=end_t, energy_j=energy,
        quality=None, loss=None)
    fields.update(over)
    return ResultCounters(**fields)


def run_vision_inference(ctx: RunContext) -> ResultCounters:
    cfg = ctx.cfg
    v = cfg.model.vision
    ctx.writer.progress("build", 0, 1)
    model = build_vision(cfg, ctx.device, ctx.dtype).eval()
    params = sum(p.numel() for p in model.parameters())  # before quantisation turns weights into buffers
    _quantize(ctx, model)
    x, y, _, _ = _inputs(cfg, ctx.device, ctx.dtype)
    diffusion = Diffusion(ctx.device) if v.family == "dit" else None
    steps = cfg.workload.sampling_steps or 1
    ctx.writer.progress("build", 1, 1)
    clock = devices.Clock(ctx.device)

    def step():
        start = clock.mark()
        if diffusion is None:
            model(x)
        else:
            sample(model, diffusion, x, y, steps)
        return start, clock.mark()

    with torch.no_grad():
        marks, start_t, end_t, energy = _loop(ctx, step)
    return _counters(cfg, model, params, [clock.seconds(a, b) for a, b in marks], (start_t, end_t, energy),
                     tokens_per_iteration=cfg.workload.batch * v.tokens * (steps if diffusion else 1),
                     peak_memory_bytes=devices.peak_memory_bytes(ctx.device))


def run_vision_training(ctx: RunContext) -> ResultCounters:
    cfg = ctx.cfg
    v = cfg.model.vision
    refusal = quant.training_refusal(cfg.stage, cfg.precision, cfg.peft.method if cfg.peft else None)
    if refusal:
        raise Unsupported(refusal)
    ctx.writer.progress("build", 0, 1)
    model = build_vision(cfg, ctx.device, ctx.dtype).train()
    params = sum(p.numel() for p in model.parameters())
    base_bytes = weight_bytes(model)
    if cfg.stage == "finetune" and cfg.peft is not None:
        peft.apply_peft(model, cfg.peft)
        if v.family == "dit":
            model.pos_embed.requires_grad_(False)  # fixed sin-cos, as DiT keeps it ("full" would free it)
    if quant.is_quantised(cfg.precision):  # QLoRA-style: the frozen base quantised, adapters not
        _quantize(ctx, model, frozen_only=True)
        base_bytes = quant.frozen_base_bytes(model)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.0 if v.family == "dit" else 0.1)
    x, y, t, noise = _inputs(cfg, ctx.device, ctx.dtype)
    diffusion = Diffusion(ctx.device) if v.family == "dit" else None
    ctx.writer.progress("build", 1, 1)
    clock = devices.Clock(ctx.device)

    def step():
        start = clock.mark()
        if diffusion is None:
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        else:
            loss = dit_loss(model, diffusion, x, t, y, noise)
        aux = moe.aux_loss(model)
        (loss if aux is None else loss + moe.AUX_LOSS_COEF * aux).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return start, clock.mark(), loss.detach()

    marks, start_t, end_t, energy = _loop(ctx, step)
    return _counters(cfg, model, params, [clock.seconds(a, b) for a, b, _ in marks], (start_t, end_t, energy),
                     trainable_params=peft.trainable_params(model), weight_bytes=base_bytes,
                     optimizer_state_bytes=optimizer_state_bytes(optimizer),
                     peak_memory_bytes=devices.peak_memory_bytes(ctx.device), loss=float(marks[-1][2].item()))


def run_vision(ctx: RunContext) -> ResultCounters:
    cfg = ctx.cfg
    if cfg.attention.kind == "nsa":
        raise Unsupported(f"attention.kind \"nsa\" is not supported for {cfg.model.vision.family}: NSA's sliding "
                          "window and block selection are built for causal decoding of an ordered sequence; "
                          "use mha, mqa, gqa or mla")
    if cfg.train_tokens is not None:
        raise Unsupported(f"trainTokens: training {cfg.model.vision.family} to a budget is not supported yet")
    return run_vision_inference(ctx) if cfg.stage == "inference" else run_vision_training(ctx)
