"""Where training and held-out tokens come from: `data` in the ProfileConfig.

- `synthetic`: the seeded source of synthetic.py, documents aligned to the sequence length; its exact
  conditional entropy is the loss floor (`entropy`).
- `text:PATH`: a UTF-8 file, or every file of a folder in name order, as bytes (synthetic models need a
  vocabulary of at least 256).
- `tokens:PATH`: a nanoGPT-style `.bin` of little-endian uint16 token ids.

Text and token data are split once: the last HELDOUT_FRACTION of the tokens is held out and never
trained on. Training windows start at seeded random offsets in the rest; held-out windows are the
first consecutive windows of the held-out part, the same for every run. Bad paths, empty files and
data too short for one window are `ConfigError`s naming the path, raised before any work starts.
"""
from __future__ import annotations

import os
import random
from typing import List, Optional

import torch

from ..config import ConfigError
from .synthetic import SyntheticSource

HELDOUT_FRACTION = 0.1


class DataSource:
    """Batches of (batch, length) token ids; the model predicts tokens 1 … length−1 from those before."""

    description: str
    entropy: Optional[float]  # nats/token when known (synthetic), else None

    def train_batch(self, step: int, batch: int, length: int) -> torch.Tensor:
        raise NotImplementedError

    def heldout_batch(self, index: int, batch: int, length: int) -> torch.Tensor:
        raise NotImplementedError

    def heldout_batches(self, batch: int, length: int) -> int:
        """How many distinct held-out batches there are (None-free: synthetic has as many as asked)."""
        raise NotImplementedError


class Synthetic(DataSource):
    def __init__(self, vocab: int, seed: int, length: int, variant: str = "") -> None:
        self.source = SyntheticSource(vocab, seed, variant)
        self.description = f"synthetic (seed {seed}{', ' + variant if variant else ''})"
        self.entropy = self.source.entropy_per_token(length)

    def train_batch(self, step: int, batch: int, length: int) -> torch.Tensor:
        return self.source.batch("train", step, batch, length)

    def heldout_batch(self, index: int, batch: int, length: int) -> torch.Tensor:
        return self.source.batch("heldout", index, batch, length)

    def heldout_batches(self, batch: int, length: int) -> int:
        return 1 << 30


class TokenArray(DataSource):
    """Text bytes or uint16 ids in memory, split into a training part and a held-out tail."""

    def __init__(self, tokens: torch.Tensor, description: str, length: int, seed: int) -> None:
        split = int(len(tokens) * (1 - HELDOUT_FRACTION))
        self.train, self.heldout = tokens[:split], tokens[split:]
        self.description = description
        self.entropy = None
        self.seed = seed
        for part, name in ((self.train, "training part"), (self.heldout, f"held-out last {HELDOUT_FRACTION:.0%}")):
            if len(part) < length:
                raise ConfigError(
                    f"data: {description} has {len(tokens)} tokens; its {name} ({len(part)}) is shorter than one "
                    f"window of {length} (workload.seqLen + 1): give more data or a shorter --seq-len"
                )

    def train_batch(self, step: int, batch: int, length: int) -> torch.Tensor:
        rng = random.Random(f"{self.seed}/train/{step}")
        starts = [rng.randrange(len(self.train) - length + 1) for _ in range(batch)]
        return torch.stack([self.train[s : s + length] for s in starts]).long()

    def heldout_batch(self, index: int, batch: int, length: int) -> torch.Tensor:
        n = len(self.heldout) // length
        rows = [self.heldout[((index * batch + b) % n) * length :][:length] for b in range(batch)]
        return torch.stack(rows).long()

    def heldout_batches(self, batch: int, length: int) -> int:
        return max(1, (len(self.heldout) // length) // batch)


def _files(path: str) -> List[str]:
    if os.path.isdir(path):
        found = sorted(
            os.path.join(root, name) for root, _, names in os.walk(path) for name in names if not name.startswith(".")
        )
        if not found:
            raise ConfigError(f"data: text:{path} is an empty folder on this machine; put UTF-8 text files in it")
        return found
    if not os.path.exists(path):
        raise ConfigError(f"data: {path} does not exist on this machine; give a path on the target (--data)")
    return [path]


def _read_text(path: str) -> bytes:
    chunks = []
    for name in _files(path):
        try:
            with open(name, "rb") as f:
                raw = f.read()
            raw.decode("utf-8")
        except OSError as e:
            raise ConfigError(f"data: cannot read {name}: {e.strerror}") from e
        except UnicodeDecodeError as e:
            raise ConfigError(f"data: {name} is not UTF-8 text (byte {e.start}); give text or use tokens:PATH") from e
        chunks.append(raw)
    data = b"".join(chunks)
    if not data:
        raise ConfigError(f"data: text:{path} is empty; give a file with text in it")
    return data


def _read_tokens(path: str, vocab: int) -> torch.Tensor:
    if not os.path.isfile(path):
        raise ConfigError(f"data: tokens:{path} is not a file on this machine; give a uint16 .bin (nanoGPT's format)")
    size = os.path.getsize(path)
    if size == 0 or size % 2:
        raise ConfigError(f"data: tokens:{path} has {size} bytes; a uint16 .bin has an even, non-zero size")
    with open(path, "rb") as f:
        raw = bytearray(f.read())
    ids = torch.frombuffer(raw, dtype=torch.int16).to(torch.int32) & 0xFFFF  # uint16, little-endian
    top = int(ids.max())
    if top >= vocab:
        raise ConfigError(f"data: tokens:{path} holds token id {top}, outside the model's vocabulary of {vocab}")
    return ids


def open_source(spec: str, vocab: int, seed: int, length: int, variant: str = "") -> DataSource:
    """The DataSource of a `data` field; `length` = workload.seqLen + 1 (one window). `variant` "task" is
    the held-apart fine-tuning task: for synthetic data a source with its own bigram chain; text and
    token data have one distribution, so fine-tuning continues on them (the held-out tail stays unseen)."""
    if spec == "synthetic":
        return Synthetic(vocab, seed, length, variant)
    if spec.startswith("text:"):
        path = spec[len("text:") :]
        if vocab < 256:
            raise ConfigError(f"data: text data is read as bytes and needs a vocabulary of 256 or more (model: {vocab})")
        data = _read_text(path)
        return TokenArray(torch.frombuffer(bytearray(data), dtype=torch.uint8), f"text:{path}", length, seed)
    if spec.startswith("tokens:"):
        path = spec[len("tokens:") :]
        return TokenArray(_read_tokens(path, vocab), f"tokens:{path}", length, seed)
    raise ConfigError(f'data: "{spec}" is not allowed; use "synthetic", "text:PATH" or "tokens:PATH"')
