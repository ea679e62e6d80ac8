"""A seeded, learnable token source whose true conditional entropy is known exactly.

Random tokens cannot be learned, so a loss on them says nothing about a technique's quality. This
source can be learned, and because we generate it we know the floor no model can beat: the mean
conditional entropy of each predicted token given everything before it in its document
(`entropy_per_token`, nats/token). Every held-out loss we report is checked against it.

One document is `length` tokens (seq_len + 1: the model predicts tokens 1 … length−1):

    x0  x1 … x(M−1)   SEP  k1 v1 … kn vn  QUERY  kq  vq
    └── Markov text ──┘    └──────── associative recall ────────┘

- Markov text: x0 from a Zipf-like unigram law over the chain's alphabet; each next token from the
  previous token's own set of `SUCCESSORS` distinct tokens (drawn Zipf-weighted, a fixed random
  bigram model), the i-th of them with probability ∝ 1/(i+1)^1.1. Every context has that same law,
  so each Markov position carries exactly its entropy.
- Recall: n distinct keys (drawn without replacement from `key_alphabet` tokens) each followed by a
  value (uniform over `value_alphabet`), then QUERY, one of the n keys uniformly, and its value. The
  keys carry log(K − i) nats, values log(V), the queried key log(n), and the answer 0: only a model
  that attends back to the pair can predict it, which is what separates attention variants.
- SEP and QUERY sit at fixed positions: 0 nats each.

Sampling uses Python's `random.Random` (Mersenne Twister, seeded with a string), whose sequence the
language guarantees across versions and machines, so the data is the same everywhere.
"""
from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from typing import List, Sequence

import torch

ZIPF_EXPONENT = 1.1
SUCCESSORS = 8
# The chain's alphabet is capped so a small token budget can learn it on any vocabulary (a 151k
# vocabulary would need millions of tokens to see each context once); larger ids are never emitted.
MAX_ALPHABET = 4096
RECALL_ALPHABET = 64
MAX_PAIRS = 8


def _zipf_weights(n: int) -> List[float]:
    return [1.0 / (rank + 1) ** ZIPF_EXPONENT for rank in range(n)]


def _cumulative(weights: Sequence[float]) -> List[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _entropy(probs: Sequence[float]) -> float:
    return -sum(p * math.log(p) for p in probs if p > 0)


def recall_pairs(length: int) -> int:
    """How many key–value pairs a document of `length` tokens holds: about a quarter of it is recall,
    at most MAX_PAIRS pairs, none in documents too short to hold two."""
    pairs = (length // 4 - 4) // 2
    return max(0, min(MAX_PAIRS, pairs)) if pairs >= 2 else 0


@dataclass(frozen=True)
class Layout:
    length: int
    markov: int  # tokens x0 … x(M−1)
    pairs: int


class SyntheticSource:
    def __init__(self, vocab: int, seed: int = 0, variant: str = "") -> None:
        """`variant` names a related source with its own bigram chain and the same layout: "task" is the
        held-apart task that fine-tuning moves a base model to."""
        if vocab < 8:
            raise ValueError(f"the synthetic source needs a vocabulary of at least 8 tokens (got {vocab})")
        self.vocab = vocab
        self.seed = seed
        self.variant = variant
        self.sep, self.query = vocab - 2, vocab - 1
        self.alphabet = min(vocab - 2, MAX_ALPHABET)
        self.keys = min(self.alphabet, RECALL_ALPHABET)
        self.values = min(self.alphabet, RECALL_ALPHABET)
        rng = random.Random(f"efficientllm-synthetic/v1/vocab={vocab}/seed={seed}{'/' + variant if variant else ''}")
        unigram = _zipf_weights(self.alphabet)
        self.start_cum = _cumulative(unigram)
        # Each context's successors: `SUCCESSORS` distinct tokens drawn Zipf-weighted from the
        # alphabet, the first drawn the most likely, so frequent tokens stay frequent (a Zipf-like law).
        k = min(SUCCESSORS, self.alphabet)
        ranks = _zipf_weights(k)
        total = sum(ranks)
        self.next_probs = [w / total for w in ranks]
        self.next_cum = _cumulative(self.next_probs)
        self.successors: List[List[int]] = []
        for _ in range(self.alphabet):
            chosen: List[int] = []
            while len(chosen) < k:
                t = bisect.bisect_right(self.start_cum, rng.random() * self.start_cum[-1])
                t = min(t, self.alphabet - 1)
                if t not in chosen:
                    chosen.append(t)
            self.successors.append(chosen)
        self.context_entropy = _entropy(self.next_probs)  # the same for every context
        self._entropy_cache: dict = {}

    # --- the layout and its exact entropy ---------------------------------------------------------

    def layout(self, length: int) -> Layout:
        pairs = recall_pairs(length)
        recall = 2 * pairs + 4 if pairs else 0
        return Layout(length=length, markov=length - recall, pairs=pairs)

    def position_entropies(self, length: int) -> List[float]:
        """H(x_t | x_<t) in nats for t = 1 … length−1 (position 0 is never predicted)."""
        lay = self.layout(length)
        # Markov text: every context's successor law is the same Zipf law over distinct tokens, so
        # H(x_t | x_<t) = H(x_t | x_{t−1}) = H(next_probs) at every t ≥ 1, whatever x_{t−1}'s law is.
        out: List[float] = [self.context_entropy] * (lay.markov - 1)
        if lay.pairs:
            out.append(0.0)  # SEP
            for i in range(lay.pairs):
                out.append(math.log(self.keys - i))
                out.append(math.log(self.values))
            out.append(0.0)  # QUERY
            out.append(math.log(lay.pairs))
            out.append(0.0)  # the answer: the queried key's value, determined by the context
        assert len(out) == length - 1
        return out

    def entropy_per_token(self, length: int) -> float:
        """The mean of position_entropies: the loss floor of next-token prediction on these documents."""
        if length not in self._entropy_cache:
            h = self.position_entropies(length)
            self._entropy_cache[length] = sum(h) / len(h)
        return self._entropy_cache[length]

    # --- sampling -----------------------------------------------------------------------------------

    def document(self, rng: random.Random, length: int) -> List[int]:
        lay = self.layout(length)
        x = min(bisect.bisect_right(self.start_cum, rng.random() * self.start_cum[-1]), self.alphabet - 1)
        doc = [x]
        for _ in range(1, lay.markov):
            j = min(bisect.bisect_right(self.next_cum, rng.random() * self.next_cum[-1]), len(self.next_cum) - 1)
            x = self.successors[x][j]
            doc.append(x)
        if lay.pairs:
            keys = rng.sample(range(self.keys), lay.pairs)
            values = [rng.randrange(self.values) for _ in keys]
            doc.append(self.sep)
            for k, v in zip(keys, values):
                doc += [k, v]
            q = rng.randrange(lay.pairs)
            doc += [self.query, keys[q], values[q]]
        return doc

    def batch(self, stream: str, index: int, batch: int, length: int) -> torch.Tensor:
        """Documents `index·batch … (index+1)·batch − 1` of a named stream ("train", "heldout", …), as a
        (batch, length) tensor. Each document has its own seed, so any batch can be made on its own
        and the held-out stream never meets the training stream."""
        rows = [self.document(random.Random(f"{self.seed}{self.variant}/{stream}/{index * batch + b}"), length)
                for b in range(batch)]
        return torch.tensor(rows, dtype=torch.long)
