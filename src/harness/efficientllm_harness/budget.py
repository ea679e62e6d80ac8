"""Training to a token budget, with held-out evaluation: the quality side of every trade-off.

With `trainTokens` a run trains for that many tokens (batch × seqLen per step) and evaluates the
held-out loss every `evalEvery` tokens, at 0 and at the end too. The speed metrics still come from
the measured window of `steps` steps after `warmup`, which now sits inside the same training: an
evaluation that falls due inside the window is held back until the window closes, so the window
times training alone. Each evaluation is an `eval` event {tokens, seconds, valLoss}; `seconds` is
training time so far, evaluation time excluded.
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .data.sources import DataSource

EVAL_TOKENS = 16_384  # held-out tokens per evaluation (fewer when the held-out data is shorter)
# Training to a budget is about what a model learns, so it uses a learning rate a small model learns
# with in a small budget (AdamW, constant); the speed-only runs keep 1e-4, which is never seen in the time.
LEARNING_RATE = 1e-3
EVALS_PER_BUDGET = 4  # evalEvery by default: a quarter of the budget, so 0, ¼, ½, ¾ and the end


def log(message: str) -> None:
    print(f"efficientllm harness: {message}", file=sys.stderr)


@dataclass
class Eval:
    tokens: int
    seconds: float
    val_loss: float


def heldout_loss(forward: Callable[[torch.Tensor], torch.Tensor], data: DataSource, batch: int, length: int,
                 device: torch.device, eval_tokens: int = EVAL_TOKENS) -> float:
    """Mean next-token cross-entropy (nats/token) over the first held-out batches; the same batches
    for every run with this data, batch and length, so losses compare."""
    count = max(1, min(data.heldout_batches(batch, length), math.ceil(eval_tokens / (batch * (length - 1)))))
    total, n = 0.0, 0
    with torch.no_grad():
        for i in range(count):
            ids = data.heldout_batch(i, batch, length).to(device)
            logits = forward(ids[:, :-1])
            ce = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), ids[:, 1:].reshape(-1), reduction="sum")
            total += float(ce.item())
            n += ids[:, 1:].numel()
    return total / n


def steps_for(train_tokens: int, batch: int, seq_len: int) -> int:
    return max(1, math.ceil(train_tokens / (batch * seq_len)))


def total_steps(cfg) -> int:
    """Steps of a budget: enough batches for trainTokens, and at least the warmup and measured steps."""
    w = cfg.workload
    return max(steps_for(cfg.train_tokens, w.batch, w.seq_len), w.warmup + w.steps)


def eval_points(total_steps: int, tokens_per_step: int, eval_every: int) -> List[int]:
    """The steps after which to evaluate: 0 (before training), every `eval_every` tokens, and the last."""
    every = max(1, round(eval_every / tokens_per_step))
    points = list(range(0, total_steps, every)) + [total_steps]
    return sorted(set(points))


def trainer_for(cfg, model: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor], data: DataSource,
                device: torch.device, writer) -> "BudgetTrainer":
    """The trainer of cfg.trainTokens: at least the warmup and measured steps, evaluations to `writer`."""
    w = cfg.workload
    total = total_steps(cfg)
    every = cfg.eval_every or max(1, cfg.train_tokens // EVALS_PER_BUDGET)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    return BudgetTrainer(
        model, lambda: heldout_loss(forward, data, w.batch, w.seq_len + 1, device),
        lambda e: writer.eval(e.tokens, e.seconds, e.val_loss), sync, total, w.batch * w.seq_len, every)


class BudgetTrainer:
    """Drives the steps of a budget and the evaluations between them. `evaluate()` returns the
    held-out loss (run with the model in eval mode; train mode is restored after)."""

    def __init__(self, model: nn.Module, evaluate: Callable[[], float], on_eval: Callable[[Eval], None],
                 synchronize: Callable[[], None], total_steps: int, tokens_per_step: int, eval_every: int) -> None:
        self.model = model
        self.evaluate = evaluate
        self.on_eval = on_eval
        self.synchronize = synchronize
        self.total_steps = total_steps
        self.tokens_per_step = tokens_per_step
        self.pending = eval_points(total_steps, tokens_per_step, eval_every)
        self.evals: List[Eval] = []
        self.done = 0  # steps trained so far
        self.started: Optional[float] = None
        self.eval_seconds = 0.0

    def _eval_now(self) -> None:
        self.synchronize()  # the steps launched so far count as training time, not evaluation time
        t0 = time.perf_counter()
        if self.started is None:
            self.started = t0
        was_training = self.model.training
        self.model.eval()
        loss = self.evaluate()
        self.model.train(was_training)
        e = Eval(tokens=self.done * self.tokens_per_step, seconds=t0 - self.started - self.eval_seconds, val_loss=loss)
        self.eval_seconds += time.perf_counter() - t0
        self.evals.append(e)
        self.on_eval(e)

    def evals_due(self, hold: bool = False) -> None:
        """Runs the evaluations that are due; with `hold` (inside the measured window) none."""
        while not hold and self.pending and self.pending[0] <= self.done:
            self.pending.pop(0)
            self._eval_now()

    def step(self, train_step: Callable[[], tuple]) -> tuple:
        if self.started is None:
            self.started = time.perf_counter()
        out = train_step()
        self.done += 1
        return out

    def finish(self, train_step: Callable[[], tuple]) -> None:
        """The steps left after the measured window, then the final evaluation."""
        self.evals_due()
        while self.done < self.total_steps:
            self.step(train_step)
            self.evals_due()
        if not self.evals or self.evals[-1].tokens != self.done * self.tokens_per_step:
            self._eval_now()
