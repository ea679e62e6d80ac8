"""The user's own Hugging Face checkpoint (model.source "hf"), profiled with the same stages.

`model.path` is a local folder, or a hub id already in this machine's Hugging Face cache: loading is
`local_files_only=True`, because GPU nodes often have no network and a silent multi-GB download is
not a profiling step. transformers is optional (DESIGN.md, rooms): without it a run ends with kind
`unsupported` and the pip command.

Precision: fp32/bf16/fp16 load in that dtype; int8/int4/fp8 load in the compute dtype (bf16 on
CUDA, fp32 on the CPU) and then quant.py replaces every nn.Linear (lm_head too) and the input
embedding, as for synthetic models.

Stages: inference is prefill + greedy decode with transformers' own KV cache (whatever class this
version returns: tuples, DynamicCache's key_cache/value_cache, or its `layers`); kvCacheBytes is the
nbytes of the cache's tensors after the last decode step, its largest. pretrain/finetune run
stages.train, the synthetic models' loop, on the model's logits (LogitsOf); finetune applies cfg.peft
through peft.py first (QLoRA-style over int8/int4, as for synthetic models). Quality: perplexity on the bundled text (quality.py).
activeParams equals params: MoE checkpoints' routing is not inspected.
"""
from __future__ import annotations

import gc
import inspect
from typing import Optional

import torch
import torch.nn as nn

from . import devices, quant, quality
from .config import ConfigError, Unsupported
from .model import nbytes, weight_bytes
from .protocol import ResultCounters
from .stages import RunContext, _loop, _mean, _quantize, random_tokens, train

MISSING_TRANSFORMERS = "transformers is not installed on this target: pip install transformers (and peft for adapters)"


def import_transformers():
    try:
        import transformers
    except ImportError as e:
        raise Unsupported(MISSING_TRANSFORMERS) from e
    return transformers


def load_model(path: str, device: torch.device, dtype: torch.dtype) -> nn.Module:
    tf = import_transformers()
    try:
        # torch_dtype: still accepted by the newest releases (which also take `dtype`, but older ones
        # would silently ignore that name).
        model = tf.AutoModelForCausalLM.from_pretrained(path, torch_dtype=dtype, local_files_only=True)
    except OSError as e:
        raise ConfigError(
            f"model.path: cannot load {path!r} ({str(e).strip().splitlines()[0]}); give a local folder with config.json "
            "and weights, or a hub id already in this machine's Hugging Face cache (huggingface-cli download ID)") from e
    except ValueError as e:  # a config transformers cannot build as a causal LM
        raise Unsupported(f"model.path: {path!r} is not a causal language model transformers can build "
                          f"({str(e).strip().splitlines()[0]})") from e
    return model.to(device)


def load_tokenizer(path: str):
    """The checkpoint's tokenizer, or None (quality.corpus_ids then falls back to bytes)."""
    tf = import_transformers()
    try:
        return tf.AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any failure only costs the tokenizer
        quality.log(f"no tokenizer in {path} ({type(e).__name__}); perplexity runs on the text's bytes")
        return None


def cache_tensors(cache, out: Optional[dict] = None) -> dict:
    """id → tensor for every tensor a transformers KV cache holds, across its historical layouts."""
    out = {} if out is None else out
    if cache is None:
        return out
    if torch.is_tensor(cache):
        out[id(cache)] = cache
    elif isinstance(cache, (list, tuple)):
        for c in cache:
            cache_tensors(c, out)
    elif hasattr(cache, "key_cache") and hasattr(cache, "value_cache"):  # DynamicCache, transformers < 4.56
        cache_tensors(cache.key_cache, out)
        cache_tensors(cache.value_cache, out)
    elif hasattr(cache, "layers"):  # transformers ≥ 4.56: per-layer objects with keys/values
        for layer in cache.layers:
            cache_tensors(getattr(layer, "keys", None), out)
            cache_tensors(getattr(layer, "values", None), out)
    elif hasattr(cache, "to_legacy_cache"):
        cache_tensors(cache.to_legacy_cache(), out)
    return out


def cache_bytes(cache) -> int:
    return sum(nbytes(t) for t in cache_tensors(cache).values())


def last_logits_kwargs(model: nn.Module) -> dict:
    """Ask for the last position's logits only, where this transformers can (a prompt's full logits are
    batch × seqLen × vocab: gigabytes for a 150k vocabulary)."""
    params = inspect.signature(model.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):  # ≥ 4.50, 4.45–4.49
        if name in params:
            return {name: 1}
    return {}


class LogitsOf(nn.Module):
    """model(ids) → logits, the call stages.train_step makes."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, idx):
        return self.model(input_ids=idx, use_cache=False).logits


def run_hf(ctx: RunContext) -> ResultCounters:
    cfg = ctx.cfg
    refusal = quant.training_refusal(cfg.stage, cfg.precision, cfg.peft.method if cfg.peft else None)
    if refusal:
        raise Unsupported(refusal)
    ctx.writer.progress("build", 0, 1)
    model = load_model(cfg.model.path, ctx.device, ctx.dtype)
    params = sum(p.numel() for p in model.parameters())  # unquantised, tied weights once
    if cfg.stage != "inference":
        model.train()
        return train(ctx, model, params, params, model.config.vocab_size, LogitsOf(model))
    counters = _inference(ctx, model, params)
    holder = [model]
    del model  # _quality drops the last reference before it loads the bf16 reference
    counters.quality = _quality(ctx, holder)
    return counters


def _inference(ctx: RunContext, model: nn.Module, params: int) -> ResultCounters:
    w = ctx.cfg.workload
    model.eval()
    _quantize(ctx, model)
    prompt = random_tokens(model.config.vocab_size, (w.batch, w.seq_len), ctx.cfg.seed, ctx.device)
    keep = last_logits_kwargs(model)
    ctx.writer.progress("build", 1, 1)
    clock = devices.Clock(ctx.device)
    largest = [0]

    def step():
        start = clock.mark()
        out = model(input_ids=prompt, use_cache=True, **keep)
        past = out.past_key_values
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        first = clock.mark()
        for _ in range(w.new_tokens - 1):
            out = model(input_ids=token, past_key_values=past, use_cache=True, **keep)
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
        end = clock.mark()
        largest[0] = max(largest[0], cache_bytes(past))  # shapes only: no device sync
        return start, first, end

    with torch.no_grad():
        marks, start_t, end_t, energy = _loop(ctx, step)
    tpot = [clock.seconds(b, c) / (w.new_tokens - 1) for _, b, c in marks] if w.new_tokens > 1 else []
    return ResultCounters(
        params=params, active_params=params, trainable_params=0,
        weight_bytes=weight_bytes(model), reference_weight_bytes=params * 2,
        kv_cache_bytes=largest[0], optimizer_state_bytes=None,
        peak_memory_bytes=devices.peak_memory_bytes(ctx.device),
        iterations=w.steps, iteration_s=[clock.seconds(a, c) for a, _, c in marks],
        tokens_per_iteration=w.batch * (w.seq_len + w.new_tokens - 1),
        generated_tokens_per_iteration=w.batch * w.new_tokens,
        ttft_s=_mean([clock.seconds(a, b) for a, b, _ in marks]), tpot_s=_mean(tpot),
        window_start_t=start_t, window_end_t=end_t, energy_j=energy, quality=None, loss=None,
    )


def _logits_of(model: nn.Module):
    return lambda ids: model(input_ids=ids, use_cache=False).logits


def _quality(ctx: RunContext, holder: list) -> Optional[float]:
    """ppl(bf16 reference) ÷ ppl(run) on the bundled text (quality.py). `holder` has the run's model,
    its only reference, so it is freed before the reference loads."""
    cfg = ctx.cfg
    model = holder.pop()
    ctx.writer.progress("quality", 0, 1)
    ids = quality.corpus_ids(load_tokenizer(cfg.model.path), model.config.vocab_size).to(ctx.device)
    window = min(quality.PPL_WINDOW, getattr(model.config, "max_position_embeddings", None) or quality.PPL_WINDOW)
    try:
        ppl = quality.perplexity(_logits_of(model), ids, window)
        if cfg.precision == "bf16":
            quality.log(f"quality: bf16 is the reference (perplexity {ppl:.4g} on the bundled text), 1.0 by definition")
            return 1.0
        del model
        gc.collect()
        devices.reset_memory(ctx.device)
        ref_dtype = torch.bfloat16 if ctx.device.type == "cuda" else torch.float32
        ref = load_model(cfg.model.path, ctx.device, torch.bfloat16).to(ref_dtype).eval()  # CPU: bf16 weights, fp32 math
        ppl_ref = quality.perplexity(_logits_of(ref), ids, window)
        del ref
    except RuntimeError as e:
        if not quality.is_oom(e):
            raise
        quality.log(f"quality: not measured, out of memory ({str(e).splitlines()[0]})")
        return None
    ctx.writer.progress("quality", 1, 1)
    quality.log(f"quality: perplexity on the bundled text {ppl:.4g} ({cfg.precision}) vs {ppl_ref:.4g} (bf16 reference); "
                f"quality = {ppl_ref / ppl:.4f}")
    return ppl_ref / ppl
