"""A LLaMA-style decoder, in the manner of nanoGPT's model.py.

RMSNorm → attention → residual, RMSNorm → SwiGLU MLP → residual; rotary position embeddings; no
biases. MHA, MQA and GQA are one class: they differ only in `n_kv_heads` (MHA: n_heads, MQA: 1),
and each query head h reads KV head h // (n_heads // n_kv_heads).

Meant to be extended by later files (attention_mla.py, attention_nsa.py, moe.py, peft.py,
quant.py), so two seams are explicit:
  * `attention_class(kind)` picks the attention module; every attention class has the same API:
      __init__(args, rotary)
      new_cache(batch, capacity, device, dtype) -> dict[str, Tensor]   (static, preallocated)
      forward(x, cache, pos) -> Tensor   (writes its keys/values for positions pos.. into cache)
    Cache bytes are then counted generically: the sum of nbytes of the cache's tensors.
  * `make_ffn(args)` picks the feed-forward module (SwiGLU now, MoE later).
Linear layers are named q, k, v, o, gate, up, down: the names PEFT `targets` use.

lm_head is untied from the embedding (as in LLaMA and the larger Qwen2.5 models; the 0.5B–3B Qwen2.5
tie them). Untied keeps one parameter formula for every shape, and the weight bytes the harness
reports are the bytes a real untied model holds. `tie_embeddings=True` is there for who needs it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")  # torch ≥ 2.0

Cache = Dict[str, torch.Tensor]


@dataclass
class ModelArgs:
    dim: int = 256  # hidden size
    n_layers: int = 2
    n_heads: int = 8
    n_kv_heads: int = 2
    head_dim: int = 32  # need not be dim // n_heads: q is dim → n_heads * head_dim
    ffn_dim: int = 688
    vocab_size: int = 1024
    attention: str = "gqa"  # key into attention_class()
    max_seq_len: int = 2048  # longest position RoPE will be asked for
    norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    tie_embeddings: bool = False
    # Options of later attention kinds and the MoE FFN (config.MlaOptions, NsaOptions, MoeSpec).
    mla: Optional[object] = None
    nsa: Optional[object] = None
    moe: Optional[object] = None
    # Image models (model_vision.py): every patch sees every patch, and timm/DiT put biases on q, k, v, o.
    causal: bool = True
    attn_bias: bool = False


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        # Normalise in fp32: bf16/fp16 lose too much in the mean of squares.
        xf = x.float()
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return xf.type_as(x) * self.weight


class Rotary:
    """cos/sin tables of RoPE, shared by all layers and built lazily on the device that asks.

    A plain object, not a Module: the tables are not weights, so they are not in the state dict, not
    in weight bytes, and never cast to bf16 (positions need fp32). Keyed by rotary dimension because
    MLA rotates only part of each head.
    """

    def __init__(self, max_seq_len: int, theta: float):
        self.max_seq_len = max_seq_len
        self.theta = theta
        self._tables: Dict[tuple, tuple] = {}

    def cos_sin(self, dim: int, pos: int, length: int, device: torch.device):
        if pos + length > self.max_seq_len:
            raise ValueError(f"position {pos + length} is past max_seq_len {self.max_seq_len}")
        key = (dim, str(device))
        if key not in self._tables:
            inv_freq = 1.0 / (self.theta ** (torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim))
            t = torch.arange(self.max_seq_len, device=device, dtype=torch.float32)
            freqs = torch.outer(t, inv_freq)  # (max_seq_len, dim/2)
            self._tables[key] = (freqs.cos(), freqs.sin())
        cos, sin = self._tables[key]
        return cos[pos:pos + length], sin[pos:pos + length]  # (T, dim/2) each


def apply_rope(x, cos, sin):
    """x: (B, H, T, D); cos, sin: (T, D/2). Rotates the two halves of D (the HF/Qwen layout)."""
    d = x.size(-1) // 2
    xf = x.float()
    x1, x2 = xf[..., :d], xf[..., d:]
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).type_as(x)


def repeat_kv(x, n_rep: int):
    """(B, n_kv, S, D) → (B, n_kv * n_rep, S, D): KV head j serves query heads j*n_rep .. j*n_rep+n_rep-1.

    We expand by hand rather than pass SDPA's enable_gqa, which exists only from torch 2.5.
    """
    if n_rep == 1:
        return x
    b, h, s, d = x.shape
    return x[:, :, None].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)


def causal_mask(t: int, s: int, pos: int, device) -> torch.Tensor:
    """(T, S) bool, True where query i (at absolute position pos+i) may see key j: j ≤ pos + i."""
    q_pos = torch.arange(pos, pos + t, device=device)[:, None]
    k_pos = torch.arange(s, device=device)[None, :]
    return k_pos <= q_pos


def attend(q, k, v, pos: int, causal: bool = True):
    """Causal attention of q (B, H, T, D) over k, v (B, H, S, D), where S = pos + T; with causal=False
    (an image's patches) every query sees every key."""
    t, s = q.size(2), k.size(2)
    if not causal:
        return F.scaled_dot_product_attention(q, k, v) if HAS_SDPA else attend_explicit(q, k, v, pos, causal=False)
    if HAS_SDPA:
        # SDPA's is_causal aligns the mask top-left, which is only right when T == S; a single decode
        # query sees every cached key; anything else (a chunk after a prefix) needs the explicit mask.
        if t == s:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        if t == 1:
            return F.scaled_dot_product_attention(q, k, v)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(t, s, pos, q.device))
    return attend_explicit(q, k, v, pos)


def attend_explicit(q, k, v, pos: int, causal: bool = True):
    """The same attention written out (torch < 2.0 has no SDPA); softmax in fp32."""
    t, s = q.size(2), k.size(2)
    att = (q @ k.transpose(-2, -1)).float() * (1.0 / math.sqrt(q.size(-1)))  # (B, H, T, S)
    if causal and t > 1:
        att = att.masked_fill(~causal_mask(t, s, pos, q.device), float("-inf"))
    att = F.softmax(att, dim=-1).to(v.dtype)
    return att @ v  # (B, H, T, D)


class CausalSelfAttention(nn.Module):
    """Multi-head attention with n_kv_heads KV heads: MHA (= n_heads), GQA (between), MQA (= 1)."""

    def __init__(self, args: ModelArgs, rotary: Rotary):
        super().__init__()
        assert args.n_heads % args.n_kv_heads == 0, "n_kv_heads must divide n_heads"
        self.n_heads, self.n_kv_heads, self.head_dim = args.n_heads, args.n_kv_heads, args.head_dim
        self.rotary, self.causal, bias = rotary, args.causal, args.attn_bias
        self.q = nn.Linear(args.dim, args.n_heads * args.head_dim, bias=bias)
        self.k = nn.Linear(args.dim, args.n_kv_heads * args.head_dim, bias=bias)  # the few lines
        self.v = nn.Linear(args.dim, args.n_kv_heads * args.head_dim, bias=bias)  # where MHA/GQA/MQA differ
        self.o = nn.Linear(args.n_heads * args.head_dim, args.dim, bias=bias)

    def new_cache(self, batch: int, capacity: int, device, dtype) -> Cache:
        """A static cache for `capacity` positions: keys and values, (B, n_kv, capacity, D) each."""
        shape = (batch, self.n_kv_heads, capacity, self.head_dim)
        return {"k": torch.zeros(shape, device=device, dtype=dtype), "v": torch.zeros(shape, device=device, dtype=dtype)}

    def forward(self, x, cache: Optional[Cache] = None, pos: int = 0):
        q, k, v = self.qkv(x, cache, pos)
        rep = self.n_heads // self.n_kv_heads
        y = attend(q, repeat_kv(k, rep), repeat_kv(v, rep), pos, self.causal)  # (B, H, T, D)
        return self.out(y)

    def qkv(self, x, cache: Optional[Cache], pos: int):
        """x (B, T, dim) → q (B, H, T, D) and k, v (B, Hkv, pos+T, D): rotated, this step's written
        into the cache (when there is one) and read back with everything before it."""
        b, t, _ = x.shape  # (B, T, dim)
        q = self.q(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # (B, H, T, D)
        k = self.k(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)  # (B, Hkv, T, D)
        v = self.v(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        cos, sin = self.rotary.cos_sin(self.head_dim, pos, t, x.device)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            # Write this step's keys/values in place, then attend over everything so far.
            cache["k"][:, :, pos:pos + t] = k
            cache["v"][:, :, pos:pos + t] = v
            k, v = cache["k"][:, :, :pos + t], cache["v"][:, :, :pos + t]  # (B, Hkv, pos+T, D)
        return q, k, v

    def out(self, y):
        """y (B, H, T, D) → o over the heads concatenated: (B, T, dim)."""
        b, _, t, _ = y.shape
        return self.o(y.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim))


# Attention kinds built in this file; see attention_class() for the ones that live elsewhere.
ATTENTION = {"mha": CausalSelfAttention, "mqa": CausalSelfAttention, "gqa": CausalSelfAttention}


def attention_class(kind: str):
    """The attention module for a kind. MLA and NSA (attention_mla.py, attention_nsa.py) import RoPE
    and RMSNorm from here, so they are to be imported lazily in this function, not at the top."""
    if kind in ATTENTION:
        return ATTENTION[kind]
    if kind == "mla":
        from .attention_mla import MultiHeadLatentAttention
        return MultiHeadLatentAttention
    if kind == "nsa":
        from .attention_nsa import NativeSparseAttention
        return NativeSparseAttention
    raise ValueError(f"attention kind {kind!r} is not built; known: {', '.join(ATTENTION)}, mla, nsa")


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        self.gate = nn.Linear(args.dim, args.ffn_dim, bias=False)
        self.up = nn.Linear(args.dim, args.ffn_dim, bias=False)
        self.down = nn.Linear(args.ffn_dim, args.dim, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


def make_ffn(args: ModelArgs) -> nn.Module:
    """The feed-forward module of a block: SwiGLU, or moe.py's mixture of experts when args.moe is set
    (imported lazily: moe.py imports MLP from here)."""
    if args.moe is not None:
        from .moe import MoE
        return MoE(args)
    return MLP(args)


class Block(nn.Module):
    def __init__(self, args: ModelArgs, rotary: Rotary):
        super().__init__()
        self.attn_norm = RMSNorm(args.dim, args.norm_eps)
        self.attn = attention_class(args.attention)(args, rotary)
        self.ffn_norm = RMSNorm(args.dim, args.norm_eps)
        self.ffn = make_ffn(args)

    def forward(self, x, cache: Optional[Cache] = None, pos: int = 0):
        x = x + self.attn(self.attn_norm(x), cache, pos)
        return x + self.ffn(self.ffn_norm(x))


class Decoder(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.args = args
        self.rotary = Rotary(args.max_seq_len, args.rope_theta)
        self.embed = nn.Embedding(args.vocab_size, args.dim)
        self.blocks = nn.ModuleList(Block(args, self.rotary) for _ in range(args.n_layers))
        self.norm = RMSNorm(args.dim, args.norm_eps)
        self.lm_head = nn.Linear(args.dim, args.vocab_size, bias=False)
        if args.tie_embeddings:
            self.lm_head.weight = self.embed.weight

    @torch.no_grad()
    def init_weights(self, std: float = 0.02) -> None:
        """(Re)initialise every weight in place; also fills weights materialised from the meta device."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                m.weight.normal_(0.0, std)
                if getattr(m, "bias", None) is not None:
                    m.bias.zero_()
            elif isinstance(m, RMSNorm):
                m.weight.fill_(1.0)
            elif m is not self and hasattr(m, "reset_parameters") and not list(m.children()):
                m.reset_parameters()  # leaf modules added by later files (adapters, experts)

    def new_caches(self, batch: int, capacity: int, device, dtype) -> List[Cache]:
        """One static cache per layer, allocated once for `capacity` positions."""
        return [blk.attn.new_cache(batch, capacity, device, dtype) for blk in self.blocks]

    def forward(self, idx, caches: Optional[List[Cache]] = None, pos: int = 0, last_only: bool = False):
        """idx (B, T) token ids at positions pos..pos+T → logits (B, T, vocab), or (B, 1, vocab)
        with last_only (generation needs only the last position; skips a T × vocab matmul)."""
        x = self.embed(idx)  # (B, T, dim)
        for i, blk in enumerate(self.blocks):
            x = blk(x, None if caches is None else caches[i], pos)
        x = self.norm(x)
        if last_only:
            x = x[:, -1:]
        return self.lm_head(x)


def nbytes(t: torch.Tensor) -> int:
    """Bytes of a tensor's elements (Tensor.nbytes, which torch 1.x lacks)."""
    return t.numel() * t.element_size()


def cache_bytes(caches: List[Cache]) -> int:
    return sum(nbytes(t) for c in caches for t in c.values())


def weight_bytes(model: nn.Module) -> int:
    """Bytes of parameters and persistent buffers as stored (packed int weights are buffers)."""
    seen = {}
    persistent = set(model.state_dict().keys())
    for p in model.parameters():
        seen[id(p)] = p
    for name, b in model.named_buffers():
        if name in persistent:
            seen[id(b)] = b
    return sum(nbytes(t) for t in seen.values())
