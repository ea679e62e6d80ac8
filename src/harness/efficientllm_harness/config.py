"""The resolved ProfileConfig (src/core/config.ts), read and checked field by field.

The TS side resolves presets and defaults before writing config.json, so every field is required
here. Two failures are kept apart: `ConfigError` (a field is missing or wrong: `invalid-config`) and
`Unsupported` (valid, but this harness cannot run it yet: `unsupported`). Both name the field.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import List, Optional

STAGES = ("pretrain", "finetune", "inference")
ATTENTION_KINDS = ("mha", "mqa", "gqa", "mla", "nsa")
PRECISIONS = ("fp32", "bf16", "fp16", "int8", "int4", "fp8")
PEFT_METHODS = ("full", "lora", "rslora", "dora", "freeze")
PARALLEL_STRATEGIES = ("ddp", "fsdp")

# What this harness can run today; attention_mla.py, attention_nsa.py, moe.py, peft.py and quant.py
# widen these.
SUPPORTED_ATTENTION = ("mha", "mqa", "gqa", "mla", "nsa")
SUPPORTED_PRECISIONS = PRECISIONS  # quant.py; fp8 is refused at run time off Hopper (kind unsupported)
SUPPORTED_PEFT = PEFT_METHODS  # peft.py


class ConfigError(Exception):
    """One or more fields are missing or invalid; the message lists each as `field: problem`."""


class Unsupported(Exception):
    """The config is valid but asks for something this harness (or this device) cannot run."""


@dataclass
class ModelShape:
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    vocab: int


VISION_FAMILIES = ("vit", "dit")


@dataclass
class VisionSpec:
    """An image model (config.ts VisionSpec; model_vision.py builds it). shape.vocab holds the classes."""
    family: str  # 'vit' | 'dit'
    image_size: int
    patch: int
    channels: int
    learn_sigma: bool

    @property
    def side(self) -> int:
        """Side of what is patchified: the image (ViT) or its VAE latent (DiT, 8× smaller)."""
        return self.image_size // 8 if self.family == "dit" else self.image_size

    @property
    def tokens(self) -> int:
        return (self.side // self.patch) ** 2 + (1 if self.family == "vit" else 0)


@dataclass
class ModelSpec:
    source: str  # 'synthetic' | 'hf'
    preset: Optional[str]
    shape: Optional[ModelShape]  # None for 'hf'
    path: Optional[str]  # only for 'hf'
    vision: Optional[VisionSpec] = None  # None for a text decoder


@dataclass
class MlaOptions:
    kv_rank: int
    q_rank: int
    rope_dim: int


@dataclass
class NsaOptions:
    block: int
    selected: int
    window: int


@dataclass
class AttentionSpec:
    kind: str
    kv_heads: int
    mla: Optional[MlaOptions]
    nsa: Optional[NsaOptions]


@dataclass
class MoeSpec:
    experts: int
    top_k: int
    shared: int


@dataclass
class PeftSpec:
    method: str
    rank: int
    alpha: int
    targets: List[str]


@dataclass
class Workload:
    batch: int
    seq_len: int
    new_tokens: int
    steps: int
    warmup: int
    sampling_steps: Optional[int] = None  # DiT inference: denoising steps per image


@dataclass
class ParallelSpec:
    nproc: int  # ranks per node (torchrun's --nproc-per-node); workload.batch is per rank
    nodes: int
    strategy: str  # 'ddp' | 'fsdp'


@dataclass
class ProfileConfig:
    label: str
    stage: str
    model: ModelSpec
    attention: AttentionSpec
    moe: Optional[MoeSpec]
    peft: Optional[PeftSpec]
    precision: str
    workload: Workload
    sample_ms: int
    seed: int
    # Quality beside cost (budget.py): where tokens come from, and a training budget. Without a
    # budget a run measures speed only, on random tokens, as before.
    data: str = "synthetic"
    train_tokens: Optional[int] = None
    eval_every: Optional[int] = None
    # Data parallelism over processes (distributed.py); None: one process.
    parallel: Optional[ParallelSpec] = None


_MISSING = object()


class _Checker:
    """Collects every problem of one config, each under its dotted field name (as config.ts does)."""

    def __init__(self) -> None:
        self.errors: List[str] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(f"{field}: {message}")

    def obj(self, field: str, parent: dict, key: str, nullable: bool = False) -> Optional[dict]:
        v = parent.get(key, _MISSING)
        if v is None and nullable:
            return None
        if not isinstance(v, dict):
            self.fail(field, "is missing" if v is _MISSING else f"{json.dumps(v)} is not an object")
            return None
        return v

    def int(self, field: str, parent: dict, key: str, minimum: int, maximum: Optional[int] = None) -> int:
        v = parent.get(key, _MISSING)
        # JSON numbers: 2.0 is the integer 2 (as in JavaScript); booleans are not numbers.
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer()
        if ok and v >= minimum and (maximum is None or v <= maximum):
            return int(v)
        if v is _MISSING:
            self.fail(field, "is missing")
        else:
            rng = f"an integer ≥ {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"
            self.fail(field, f"{json.dumps(v)} is not allowed; use {rng}")
        return minimum

    def choice(self, field: str, parent: dict, key: str, values: tuple) -> str:
        v = parent.get(key, _MISSING)
        if isinstance(v, str) and v in values:
            return v
        allowed = ", ".join(f'"{x}"' for x in values)
        self.fail(field, "is missing" if v is _MISSING else f"{json.dumps(v)} is not allowed; use one of {allowed}")
        return values[0]

    def string(self, field: str, parent: dict, key: str, nullable: bool = False) -> Optional[str]:
        v = parent.get(key, _MISSING)
        if isinstance(v, str) or (v is None and nullable):
            return v
        self.fail(field, "is missing" if v is _MISSING else f"{json.dumps(v)} is not a string")
        return None


def _shape(c: _Checker, m: dict) -> Optional[ModelShape]:
    s = c.obj("model.shape", m, "shape")
    if s is None:
        return None
    shape = ModelShape(
        layers=c.int("model.shape.layers", s, "layers", 1),
        hidden=c.int("model.shape.hidden", s, "hidden", 1),
        heads=c.int("model.shape.heads", s, "heads", 1),
        kv_heads=c.int("model.shape.kvHeads", s, "kvHeads", 1),
        head_dim=c.int("model.shape.headDim", s, "headDim", 1),
        ffn=c.int("model.shape.ffn", s, "ffn", 1),
        vocab=c.int("model.shape.vocab", s, "vocab", 2),
    )
    if shape.head_dim % 2:
        c.fail("model.shape.headDim", f"{shape.head_dim} is odd; RoPE needs an even head dimension")
    return shape


def _vision(c: _Checker, m: dict, shape: Optional[ModelShape]) -> Optional[VisionSpec]:
    if m.get("vision") is None:
        return None
    o = c.obj("model.vision", m, "vision") or {}
    sigma = o.get("learnSigma", _MISSING)
    if not isinstance(sigma, bool):
        c.fail("model.vision.learnSigma", "is missing" if sigma is _MISSING else f"{json.dumps(sigma)} is not true or false")
    v = VisionSpec(c.choice("model.vision.family", o, "family", VISION_FAMILIES),
                   c.int("model.vision.imageSize", o, "imageSize", 1), c.int("model.vision.patch", o, "patch", 1),
                   c.int("model.vision.channels", o, "channels", 1), sigma is True)
    if v.family == "dit" and v.image_size % 8:
        c.fail("model.vision.imageSize", f"{v.image_size} is not a multiple of 8, the VAE's downsampling")
    elif v.side % v.patch:
        c.fail("model.vision.patch", f"{v.patch} does not divide the side {v.side}")
    return v


def _attention(c: _Checker, raw: dict, shape: Optional[ModelShape]) -> AttentionSpec:
    a = c.obj("attention", raw, "attention") or {}
    kind = c.choice("attention.kind", a, "kind", ATTENTION_KINDS)
    kv = c.int("attention.kvHeads", a, "kvHeads", 1)
    if shape is not None:
        if kind == "mha" and kv != shape.heads:
            c.fail("attention.kvHeads", f"{kv} contradicts attention.kind \"mha\", which uses {shape.heads}")
        if kind == "mqa" and kv != 1:
            c.fail("attention.kvHeads", f"{kv} contradicts attention.kind \"mqa\", which uses 1")
        if kv > shape.heads or shape.heads % kv:
            c.fail("attention.kvHeads", f"{kv} does not divide the {shape.heads} query heads")
        if kv != shape.kv_heads:
            c.fail("model.shape.kvHeads", f"{shape.kv_heads} differs from attention.kvHeads {kv}; the resolved config keeps them equal")
    mla = nsa = None
    if a.get("mla") is not None or kind == "mla":
        o = c.obj("attention.mla", a, "mla") or {}
        mla = MlaOptions(c.int("attention.mla.kvRank", o, "kvRank", 1), c.int("attention.mla.qRank", o, "qRank", 0),
                         c.int("attention.mla.ropeDim", o, "ropeDim", 2))
        if mla.rope_dim % 2:
            c.fail("attention.mla.ropeDim", f"{mla.rope_dim} is odd; RoPE needs an even dimension")
    if a.get("nsa") is not None or kind == "nsa":
        o = c.obj("attention.nsa", a, "nsa") or {}
        nsa = NsaOptions(c.int("attention.nsa.block", o, "block", 1), c.int("attention.nsa.selected", o, "selected", 1),
                         c.int("attention.nsa.window", o, "window", 1))
    return AttentionSpec(kind, kv, mla, nsa)


def parse_config(raw: object) -> ProfileConfig:
    """Reads a resolved ProfileConfig; raises ConfigError listing every bad field."""
    if not isinstance(raw, dict):
        raise ConfigError("(config): must be a JSON object")
    c = _Checker()
    label = c.string("label", raw, "label") or ""
    stage = c.choice("stage", raw, "stage", STAGES)

    m = c.obj("model", raw, "model") or {}
    source = c.choice("model.source", m, "source", ("synthetic", "hf"))
    if source == "hf":
        path = c.string("model.path", m, "path")
        if path == "":
            c.fail("model.path", "is empty; give the local folder or cached hub id of the Hugging Face model")
        model = ModelSpec("hf", None, None, path)
    else:
        model = ModelSpec("synthetic", c.string("model.preset", m, "preset", nullable=True), _shape(c, m), None)
        model.vision = _vision(c, m, model.shape)

    attention = _attention(c, raw, model.shape)

    moe = None
    mo = c.obj("moe", raw, "moe", nullable=True)
    if mo is not None:
        moe = MoeSpec(c.int("moe.experts", mo, "experts", 1), c.int("moe.topK", mo, "topK", 1), c.int("moe.shared", mo, "shared", 0))
        if moe.top_k > moe.experts:
            c.fail("moe.topK", f"{moe.top_k} is more than moe.experts ({moe.experts})")

    peft = None
    po = c.obj("peft", raw, "peft", nullable=True)
    if po is not None:
        if stage != "finetune":
            c.fail("peft", f"PEFT applies to stage \"finetune\" only, not \"{stage}\"")
        targets = po.get("targets")
        if not isinstance(targets, list) or not all(isinstance(t, str) and t for t in targets):
            c.fail("peft.targets", "must be a list of module names such as \"q\", \"k\", \"v\", \"o\", \"gate\", \"up\", \"down\"")
            targets = []
        peft = PeftSpec(c.choice("peft.method", po, "method", PEFT_METHODS), c.int("peft.rank", po, "rank", 0),
                        c.int("peft.alpha", po, "alpha", 0), list(targets))

    precision = c.choice("precision", raw, "precision", PRECISIONS)
    w = c.obj("workload", raw, "workload") or {}
    workload = Workload(
        batch=c.int("workload.batch", w, "batch", 1),
        seq_len=c.int("workload.seqLen", w, "seqLen", 1),
        # An image model generates no tokens (model.vision): newTokens is 0 at every stage.
        new_tokens=c.int("workload.newTokens", w, "newTokens", 1 if stage == "inference" and model.vision is None else 0),
        steps=c.int("workload.steps", w, "steps", 1),
        warmup=c.int("workload.warmup", w, "warmup", 0),
    )
    if w.get("samplingSteps") is not None:
        workload.sampling_steps = c.int("workload.samplingSteps", w, "samplingSteps", 1)
    if model.vision is not None and workload.seq_len != model.vision.tokens:
        c.fail("workload.seqLen", f"{workload.seq_len} is not the image's {model.vision.tokens} tokens")
    sample_ms = c.int("sampleMs", raw, "sampleMs", 1, 60_000)
    seed = c.int("seed", raw, "seed", 0)
    # Optional, for configs written before they existed.
    data = c.string("data", raw, "data") if "data" in raw else "synthetic"
    train_tokens = c.int("trainTokens", raw, "trainTokens", 1) if raw.get("trainTokens") is not None else None
    eval_every = c.int("evalEvery", raw, "evalEvery", 1) if raw.get("evalEvery") is not None else None
    if data is not None and data != "synthetic" and not data.startswith(("text:", "tokens:")):
        c.fail("data", f'{json.dumps(data)} is not allowed; use "synthetic", "text:PATH" or "tokens:PATH"')
    parallel = None
    pa = c.obj("parallel", raw, "parallel", nullable=True) if "parallel" in raw else None
    if pa is not None:
        parallel = ParallelSpec(c.int("parallel.nproc", pa, "nproc", 1, 256), c.int("parallel.nodes", pa, "nodes", 1),
                                c.choice("parallel.strategy", pa, "strategy", PARALLEL_STRATEGIES))
    if c.errors:
        raise ConfigError("; ".join(c.errors))
    return ProfileConfig(label, stage, model, attention, moe, peft, precision, workload, sample_ms, seed,
                         data or "synthetic", train_tokens, eval_every, parallel)


def check_supported(cfg: ProfileConfig) -> None:
    """Raises Unsupported naming the first field whose value this harness cannot run yet."""
    later = "is not supported by this harness yet"
    if cfg.attention.kind not in SUPPORTED_ATTENTION:
        raise Unsupported(f"attention.kind \"{cfg.attention.kind}\" {later}; use one of {', '.join(SUPPORTED_ATTENTION)}")
    if cfg.peft is not None and cfg.peft.method not in SUPPORTED_PEFT:
        raise Unsupported(f"peft.method \"{cfg.peft.method}\" {later}; use \"full\"")
    if cfg.precision not in SUPPORTED_PRECISIONS:
        raise Unsupported(f"precision \"{cfg.precision}\" {later} (weight-only quantisation); use one of {', '.join(SUPPORTED_PRECISIONS)}")
