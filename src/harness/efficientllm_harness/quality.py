"""Quality for MCR (DESIGN.md, Metrics): how much a precision changes what the model predicts.

MCR = (reference bytes ÷ bytes) × (quality after ÷ quality before); `quality` in a result is already
that ratio, relative to the bf16 reference, so 1 means "as good as bf16".

Synthetic models (random weights, so there is no text to score): after the measured window the same
seeded batch of 4 × 64 tokens goes through the model as it ran and through the bf16 reference — the
same weights before quantisation (rebuilt from the same seed) rounded to bf16 — and
`quality` = top-1 agreement of the next-token predictions (0–1). The mean KL(reference ‖ run) of the
next-token distributions goes to stderr only: the protocol has no field for it. bf16 is the
reference itself: 1.0 by definition. fp32/fp16 are measured the same way and come out near 1.
On the CPU the reference computes in fp32 with its bf16-rounded weights (bf16 CPU matmuls are slow);
on a GPU it computes in bf16.

Hugging Face checkpoints: perplexity on the bundled public-domain text (data/corpus.py), and
`quality` = ppl(bf16 reference) ÷ ppl(run): 1 for bf16, below 1 when the precision makes the model
worse at the text (above 1 is possible, by chance). The inverse ratio keeps "higher is better" and
makes MCR = compression × quality, as for synthetic models.
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

QUALITY_BATCH = 4
QUALITY_LEN = 64
QUALITY_SEED_OFFSET = 1  # the inputs differ from the measured prompt, and are the same for every precision
PPL_WINDOW = 512  # tokens per non-overlapping perplexity window


def log(message: str) -> None:
    print(f"efficientllm harness: {message}", file=sys.stderr)


def is_oom(e: BaseException) -> bool:
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or isinstance(e, MemoryError) or "out of memory" in str(e).lower()


def compare(ref_logits: torch.Tensor, logits: torch.Tensor) -> Tuple[float, float]:
    """(top-1 agreement, mean KL(ref ‖ run) in nats) over every position of (..., vocab) logits."""
    ref_logp = F.log_softmax(ref_logits.float(), dim=-1)
    logp = F.log_softmax(logits.float(), dim=-1)
    kl = (ref_logp.exp() * (ref_logp - logp)).sum(-1).mean()
    agree = (ref_logits.argmax(-1) == logits.argmax(-1)).float().mean()
    return float(agree.item()), float(kl.item())


def round_to_bf16(model: nn.Module) -> nn.Module:
    """The reference's weights: every floating parameter rounded to bf16, kept in its dtype."""
    with torch.no_grad():
        for p in model.parameters():
            if p.is_floating_point():
                p.copy_(p.to(torch.bfloat16).to(p.dtype))
    return model


def synthetic_quality(ctx, model: nn.Module, rebuild: Callable[[], nn.Module]) -> Optional[float]:
    """Top-1 agreement of `model` with the bf16 reference that `rebuild()` (same shape, dtype and seed:
    the weights before quantisation) gives. Returns None, with a note on stderr, if memory runs out."""
    precision = ctx.cfg.precision
    if precision == "bf16":
        log("quality: bf16 is the reference, 1.0 by definition")
        return 1.0
    args = model.args
    length = min(QUALITY_LEN, args.max_seq_len)
    g = torch.Generator().manual_seed(ctx.cfg.seed + QUALITY_SEED_OFFSET)
    tokens = torch.randint(0, args.vocab_size, (QUALITY_BATCH, length), generator=g).to(ctx.device)
    ctx.writer.progress("quality", 0, 1)
    try:
        with torch.no_grad():
            logits = model(tokens).float()
            ref = round_to_bf16(rebuild()).eval()
            ref_logits = ref(tokens).float()
            del ref
    except RuntimeError as e:
        if not is_oom(e):
            raise
        log(f"quality: not measured, out of memory for the bf16 reference ({str(e).splitlines()[0]})")
        return None
    agree, kl = compare(ref_logits, logits)
    ctx.writer.progress("quality", 1, 1)
    log(f"quality: {precision} vs the bf16 reference on {QUALITY_BATCH}×{length} seeded tokens: "
        f"top-1 agreement {agree:.4f}, mean KL(ref‖{precision}) {kl:.4g} nats")
    return agree


def corpus_ids(tokenizer, vocab: int) -> torch.Tensor:
    """The bundled text as token ids (1, N). Without a tokenizer the text's UTF-8 bytes (mod vocab) are
    the tokens: meaningless as language, but both models see the same sequence, so the ratio of their
    perplexities still says how far the precision moved the model."""
    from .data.corpus import TEXT
    if tokenizer is not None:
        ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
        return ids.long()
    return torch.tensor([[b % vocab for b in TEXT.encode("utf-8")]], dtype=torch.long)


def perplexity(logits_of: Callable[[torch.Tensor], torch.Tensor], ids: torch.Tensor, window: int = PPL_WINDOW) -> float:
    """exp(mean next-token negative log-likelihood) over non-overlapping windows of `window` tokens;
    `logits_of(ids (1, T))` returns (1, T, vocab)."""
    nll, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, ids.size(1) - 1, window):
            chunk = ids[:, start:start + window + 1]
            if chunk.size(1) < 2:
                break
            logits = logits_of(chunk[:, :-1]).float()
            nll += float(F.cross_entropy(logits.reshape(-1, logits.size(-1)), chunk[:, 1:].reshape(-1),
                                         reduction="sum").item())
            count += chunk.size(1) - 1
    return math.exp(nll / count)
