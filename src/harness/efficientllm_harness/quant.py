"""Weight-only quantisation: int8, int4 and fp8 linear layers and embedding tables, really packed.

`quantize_model(model, precision, compute_dtype)` runs after the model is built (synthetic, in the
compute dtype) or loaded (hf), and swaps in place:
  * every nn.Linear (lm_head included) → QuantLinear, except MoE routers (a Linear whose name ends in
    "router"), which stay 16-bit like quantisation recipes keep them (they are tiny and routing is
    sensitive); those become Bf16Linear;
  * every nn.Embedding → QuantEmbedding (rows quantised like a Linear's output channels, dequantised on
    gather); a tied lm_head shares the embedding's storage;
  * RMSNorm weights → 16-bit.
Everything else is left as built. The bytes of one out×in matrix, which src/core/estimate.ts
(linearBytes) states too, so that estimate and measurement agree byte for byte for synthetic models:

  int8  out·in int8, symmetric, one bf16 scale per output row            out·in + 2·out
  int4  two 4-bit codes per uint8 byte, asymmetric, a bf16 scale and a
        bf16 zero point per row and group of 128 inputs                  out·⌈in/2⌉ + 4·out·⌈in/128⌉
  fp8   out·in float8_e4m3fn, one fp32 per-tensor scale                  out·in + 4

int4 groups run along the input dimension: 128 inputs each, the last group shorter when in is not a
multiple of 128 (ffn 688 = 5 × 128 + 48), so a layer narrower than 128 has one group as wide as the
layer. Norms (and biases, and routers) are stored in 16 bits: bf16, or the compute dtype when that
is 16-bit.

Compute. The compute (activation) dtype is bf16 on CUDA (fp16 where the GPU lacks bf16) and fp32 on
the CPU, where bf16 matmuls are many times slower than fp32 (torch 1.13 has no fast bf16 CPU GEMM).
Where PyTorch has integer kernels on CUDA, and a test call at construction agrees with the
dequantising path, they are used:
  * int8: torch._int_mm (torch ≥ 2.1) with dynamic per-token symmetric int8 activations (W8A8) when
    M > 16 and in, out are multiples of 8 — prefill; decode steps (M = batch) fall back;
  * int4: torch._weight_int4pack_mm on weights from torch._convert_weight_to_int4pack (tinygemm,
    bf16 only). Its input layout changed: torch 2.2–2.4 take int32 codes (out, in); 2.5+ take uint8
    (out, in/2) with the even column in the high nibble. Both are tried; the packed result and the
    (groups, out, 2) scales-and-zeros tensor (tinygemm's zero is ours + 8·scale) replace our storage,
    with the same byte count. Needs in % 128 == 0 and out % 8 == 0, else falls back;
  * fp8: torch._scaled_mm (Hopper, torch ≥ 2.1) with a dynamic per-tensor e4m3 activation scale, rows
    padded to a multiple of 16. It returned (out, amax) before torch 2.4 and a tensor since; both
    are handled. fp8 off Hopper is refused (`unsupported`) before anything is built.
Elsewhere, and whenever a gradient must flow through the layer (QLoRA-style adapters on top), the
weight is dequantised to the compute dtype and multiplied with F.linear. int8 codes are exact in
bf16, so that path multiplies by the int8 weight and scales the output rows afterwards.
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Dict, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import Unsupported

QUANTISED = ("int8", "int4", "fp8")
INT4_GROUP = 128
FP8_MAX = 448.0  # largest finite float8_e4m3fn
FP8_MESSAGE = "fp8 needs an NVIDIA Hopper GPU (H100/H200/GH200) and torch ≥ 2.1"


def is_quantised(precision: str) -> bool:
    return precision in QUANTISED


def has_fp8(device: torch.device) -> bool:
    return (device.type == "cuda" and hasattr(torch, "float8_e4m3fn") and hasattr(torch, "_scaled_mm")
            and torch.cuda.get_device_capability(device) >= (9, 0))


def compute_dtype(device: torch.device, precision: str) -> torch.dtype:
    """The activation dtype a quantised precision computes in; raises Unsupported for fp8 off Hopper."""
    if precision == "fp8" and not has_fp8(device):
        raise Unsupported(f"precision \"fp8\" is not supported on {_device_words(device)}: {FP8_MESSAGE}; use int8, int4 or bf16")
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _device_words(device: torch.device) -> str:
    if device.type != "cuda":
        return "the CPU"
    cc = ".".join(map(str, torch.cuda.get_device_capability(device)))
    return f"{torch.cuda.get_device_name(device)} (compute capability {cc}) with torch {torch.__version__}"


def training_refusal(stage: str, precision: str, peft_method: Optional[str]) -> Optional[str]:
    """Why a training stage cannot run at this precision, or None. Weight-only quantised weights are
    frozen buffers: pretraining would train nothing, full fine-tuning likewise. Fine-tuning adapters
    (lora, rslora, dora) over frozen int8/int4 weights is QLoRA-style and allowed: gradients flow
    through QuantLinear's dequantising path to the inputs. fp8 is an inference path (_scaled_mm has no
    backward) and is refused for training."""
    if stage == "inference" or not is_quantised(precision):
        return None
    if precision == "fp8":
        return (f"precision \"fp8\" is an inference path here (weight-only e4m3 with torch._scaled_mm, which has no "
                f"backward); {stage} in bf16, or finetune with peft lora over int8/int4 weights")
    if stage == "pretrain":
        return (f"precision \"{precision}\" stores frozen weight-only quantised weights, so pretraining would train "
                "nothing; pretrain in bf16 (or fp16/fp32), or use stage \"finetune\" with peft.method lora, rslora or dora "
                f"over {precision} weights (QLoRA-style)")
    if peft_method in (None, "full", "freeze"):
        return (f"precision \"{precision}\" freezes the quantised weights, so peft.method \"{peft_method or 'full'}\" "
                "has nothing to train in them; use peft.method lora, rslora or dora (QLoRA-style), or precision bf16")
    return None


# ---- rounding the stored bf16 scales and zeros in the safe direction ----

def _bf16_at_least(x: torch.Tensor) -> torch.Tensor:
    """x (fp32, ≥ 0) in bf16, rounded so that the result is ≥ x: bf16 rounding to nearest is off by at
    most 2^-8 relative, and the 2^-7 nudge covers it. A scale never below its exact value means no
    code is ever clipped, which is what makes the round-trip bounds hold."""
    return (x * (1.0 + 2.0 ** -7)).to(torch.bfloat16)


def _bf16_at_most(x: torch.Tensor) -> torch.Tensor:
    """x (fp32) in bf16, rounded so that the result is ≤ x (an int4 zero point below the group minimum)."""
    return (x - x.abs() * 2.0 ** -7).to(torch.bfloat16)


# ---- int8: symmetric per output row ----

def quantize_int8(w: torch.Tensor):
    """w (out, in) → codes int8 (out, in), scale bf16 (out,), with |w − code·scale| ≤ scale/2."""
    w = w.detach().float()
    scale = _bf16_at_least((w.abs().amax(dim=1) / 127.0).clamp(min=1e-12))
    q = torch.round(w / scale.float()[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize_int8(q: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Works on any leading shape: q (..., in), scale (...,)."""
    return (q.float() * scale.float()[..., None]).to(dtype)


# ---- int4: asymmetric per row and group of 128 inputs, two codes per byte ----

def int4_group(in_features: int) -> int:
    return min(INT4_GROUP, in_features)


def quantize_int4(w: torch.Tensor):
    """w (out, in) → packed uint8 (out, ⌈in/2⌉), scale and zero bf16 (out, groups). Dequantised
    w ≈ code·scale + zero with code in 0..15, and |w − that| ≤ scale/2 ≈ (max − min)/15/2 per group."""
    w = w.detach().float()
    out_f, in_f = w.shape
    g = int4_group(in_f)
    groups = math.ceil(in_f / g)
    pad = groups * g - in_f
    lo = F.pad(w, (0, pad), value=math.inf).view(out_f, groups, g).amin(-1)
    hi = F.pad(w, (0, pad), value=-math.inf).view(out_f, groups, g).amax(-1)
    zero = _bf16_at_most(lo)
    scale = _bf16_at_least(((hi - zero.float()) / 15.0).clamp(min=1e-12))
    wg = F.pad(w, (0, pad)).view(out_f, groups, g)
    q = torch.round((wg - zero.float()[..., None]) / scale.float()[..., None]).clamp(0, 15)
    q = q.view(out_f, groups * g)[:, :in_f].to(torch.uint8)
    return pack_int4(q), scale, zero


def pack_int4(q: torch.Tensor) -> torch.Tensor:
    """codes uint8 (..., n) in 0..15 → (..., ⌈n/2⌉): column 2j in the low nibble, 2j+1 in the high one."""
    if q.size(-1) % 2:
        q = F.pad(q, (0, 1))
    return q[..., 0::2] | (q[..., 1::2] << 4)


def unpack_int4(packed: torch.Tensor, n: int) -> torch.Tensor:
    """(..., ⌈n/2⌉) uint8 → codes uint8 (..., n)."""
    codes = torch.stack((packed & 15, packed >> 4), dim=-1)  # (..., n/2, 2)
    return codes.flatten(-2)[..., :n]


def dequantize_int4(packed, scale, zero, in_features: int, dtype: torch.dtype) -> torch.Tensor:
    """Works on any leading shape: packed (..., ⌈in/2⌉), scale and zero (..., groups) → (..., in)."""
    g = int4_group(in_features)
    groups = scale.size(-1)
    q = unpack_int4(packed, in_features).float()
    q = F.pad(q, (0, groups * g - in_features)).unflatten(-1, (groups, g))
    w = q * scale.float()[..., None] + zero.float()[..., None]
    return w.flatten(-2)[..., :in_features].to(dtype)


# ---- fp8: e4m3 with a per-tensor scale ----

def quantize_fp8(w: torch.Tensor):
    w = w.detach().float()
    scale = (w.abs().amax() / FP8_MAX).clamp(min=1e-12).reshape(())
    return (w / scale).to(torch.float8_e4m3fn), scale


def dequantize_fp8(data: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return (data.float() * scale).to(dtype)


def _scaled_mm(a, b, scale_a, scale_b, out_dtype):
    """torch._scaled_mm returned (out, amax) until torch 2.3 and a tensor since 2.4; keywords work in both."""
    r = torch._scaled_mm(a, b, scale_a=scale_a, scale_b=scale_b, out_dtype=out_dtype)
    return r[0] if isinstance(r, tuple) else r


def quantize_weight(w: torch.Tensor, kind: str) -> Dict[str, torch.Tensor]:
    """w (rows, cols) → the buffers that store it as `kind`, by name, in registration order: qweight
    and scale, and zero for int4. QuantLinear quantises by output channel, QuantEmbedding by row."""
    if kind == "int8":
        q, scale = quantize_int8(w)
        return {"qweight": q, "scale": scale}
    if kind == "int4":
        packed, scale, zero = quantize_int4(w)
        return {"qweight": packed, "scale": scale, "zero": zero}
    if kind == "fp8":
        data, scale = quantize_fp8(w)
        return {"qweight": data, "scale": scale}
    raise ValueError(f"unknown quantisation {kind!r}; use one of {', '.join(QUANTISED)}")


class QuantLinear(nn.Module):
    """A frozen weight-only quantised linear layer (no parameters: its storage is buffers).

    `weight` dequantises on every read, so code that reads a Linear's weight (DoRA's norm, dtype
    probes) still works, at the cost of a dense copy. `kernel` names the CUDA kernel in use, if any.
    """

    def __init__(self, weight: torch.Tensor, kind: str, compute_dtype: torch.dtype,
                 bias: Optional[torch.Tensor] = None, storage_dtype: torch.dtype = torch.bfloat16,
                 use_kernels: bool = True):
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self.kind = kind
        self.compute_dtype = compute_dtype
        self.kernel: Optional[str] = None
        for name, t in quantize_weight(weight, kind).items():
            self.register_buffer(name, t)
        self.register_buffer("bias", None if bias is None else bias.detach().to(storage_dtype))
        if use_kernels and weight.is_cuda:
            self._pick_kernel()

    @classmethod
    def from_linear(cls, linear: nn.Linear, kind: str, compute_dtype: torch.dtype, **kw) -> "QuantLinear":
        return cls(linear.weight, kind, compute_dtype, linear.bias, **kw)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, kind={self.kind}, kernel={self.kernel}"

    @property
    def weight(self) -> torch.Tensor:
        return self.dequantize(self.compute_dtype)

    def dequantize(self, dtype: torch.dtype) -> torch.Tensor:
        """The (out, in) weight in `dtype`, from whichever storage is in place."""
        if self.kernel == "int4pack":  # our layout is gone; ask the kernel for W·I
            eye = torch.eye(self.in_features, device=self.qweight.device, dtype=torch.bfloat16)
            return self._int4pack(eye).t().to(dtype)
        if self.kind == "int8":
            return dequantize_int8(self.qweight, self.scale, dtype)
        if self.kind == "int4":
            return dequantize_int4(self.qweight, self.scale, self.zero, self.in_features, dtype)
        return dequantize_fp8(self.qweight, self.scale, dtype)

    # -- CUDA kernels --

    def _pick_kernel(self) -> None:
        """Try this kind's kernel once on a random input; keep it only if it runs and agrees with the
        dequantising path (layouts have changed between torch releases: wrong output must not pass)."""
        n, k = self.out_features, self.in_features
        x = torch.randn(32, k, device=self.qweight.device, dtype=self.compute_dtype)
        want = self._dense(x).float()

        def agrees(y, tol):
            return y is not None and y.shape == want.shape and bool(
                (y.float() - want).norm() <= tol * want.norm() + 1e-6)

        try:
            if self.kind == "int8" and hasattr(torch, "_int_mm") and k % 8 == 0 and n % 8 == 0:
                if agrees(self._int_mm(x), 0.05):
                    self.kernel = "int_mm"
            elif self.kind == "fp8" and k % 16 == 0 and n % 16 == 0:
                if agrees(self._fp8_mm(x), 0.15):
                    self.kernel = "scaled_mm"
            elif (self.kind == "int4" and self.compute_dtype == torch.bfloat16 and hasattr(torch, "_weight_int4pack_mm")
                  and k % INT4_GROUP == 0 and n % 8 == 0):
                self._try_int4pack(x, want)
        except (RuntimeError, TypeError, ValueError) as e:  # missing on this build or GPU: dequantising is right too
            print(f"efficientllm harness: {self.kind} kernel unavailable ({str(e).splitlines()[0]}); dequantising instead",
                  file=sys.stderr)
            self.kernel = None

    def _int_mm(self, x2):
        """x2 (M, in) → (M, out): per-token symmetric int8 activations × int8 weight, int32 accumulation.
        Rows are padded to a multiple of 8 (some torch 2.x releases require it)."""
        m = x2.size(0)
        xs = (x2.float().abs().amax(dim=1) / 127.0).clamp(min=1e-12)
        xq = torch.round(x2.float() / xs[:, None]).clamp(-127, 127).to(torch.int8)
        xq = F.pad(xq, (0, 0, 0, (-m) % 8))
        acc = torch._int_mm(xq, self.qweight.t())[:m]  # (M, out) int32; the weight's transpose is column-major
        return (acc.float() * xs[:, None] * self.scale.float()[None, :]).to(x2.dtype)

    def _fp8_mm(self, x2):
        m = x2.size(0)
        pad = (-m) % 16
        xs = (x2.float().abs().amax() / FP8_MAX).clamp(min=1e-12).reshape(())
        xq = F.pad(x2.float() / xs, (0, 0, 0, pad)).to(torch.float8_e4m3fn)
        y = _scaled_mm(xq, self.qweight.t(), xs, self.scale.float(), x2.dtype)
        return y[:m]

    def _try_int4pack(self, x, want) -> None:
        n, k = self.out_features, self.in_features
        codes = unpack_int4(self.qweight, k).to(torch.int32)  # (n, k) in 0..15
        # tinygemm dequantises (code − 8)·scale + zero', so zero' = zero + 8·scale.
        sz = torch.stack((self.scale.float().t(), (self.zero.float() + 8 * self.scale.float()).t()), dim=-1)
        sz = sz.to(torch.bfloat16).contiguous()  # (groups, n, 2)
        tiles = next(t for t in (8, 4, 2) if k % (t * 16) == 0)
        layouts = (codes, (codes[:, 0::2] << 4 | codes[:, 1::2]).to(torch.uint8))  # torch 2.2–2.4, then 2.5+
        for layout in layouts:
            try:
                packed = torch._convert_weight_to_int4pack(layout.contiguous(), tiles)
                y = torch._weight_int4pack_mm(x.to(torch.bfloat16).contiguous(), packed, INT4_GROUP, sz)
            except (RuntimeError, TypeError, ValueError):
                continue
            if (y.float() - want).norm() <= 0.05 * want.norm() + 1e-6:
                # Replace our storage with the kernel's (same bytes: n·k/2 and groups·n·4).
                self.qweight, self.scale, self.zero = packed, sz, torch.empty(0, dtype=torch.bfloat16, device=sz.device)
                self.kernel = "int4pack"
                return

    def _int4pack(self, x2):
        return torch._weight_int4pack_mm(x2.to(torch.bfloat16).contiguous(), self.qweight, INT4_GROUP, self.scale)

    # -- forward --

    def _dense(self, x):
        if self.kind == "int8":  # int8 codes are exact in bf16/fp32: scale the output, not the weight
            y = F.linear(x, self.qweight.to(x.dtype)) * self.scale.to(x.dtype)
        else:
            y = F.linear(x, self.dequantize(x.dtype))
        return y

    def forward(self, x):
        x = x.to(self.compute_dtype)
        grad = torch.is_grad_enabled() and x.requires_grad  # the kernels have no backward
        shape = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        if self.kernel == "int4pack" and not grad:
            y = self._int4pack(x2).to(x.dtype)
        elif self.kernel == "int_mm" and not grad and x2.size(0) > 16:
            y = self._int_mm(x2.contiguous())
        elif self.kernel == "scaled_mm" and not grad:
            y = self._fp8_mm(x2)
        elif self.kernel == "int4pack":
            y = F.linear(x2, self.dequantize(x.dtype))
        else:
            y = self._dense(x2)
        if self.bias is not None:
            y = y + self.bias.to(y.dtype)
        return y.reshape(*shape, self.out_features)


class QuantEmbedding(nn.Module):
    """An embedding table quantised by rows (each row like one output channel of QuantLinear), with
    the row's codes dequantised on gather. `source` shares a tied lm_head's storage."""

    def __init__(self, weight: Optional[torch.Tensor], kind: str, compute_dtype: torch.dtype,
                 source: Optional[QuantLinear] = None, padding_idx: Optional[int] = None):
        super().__init__()
        self.kind = kind
        self.compute_dtype = compute_dtype
        self.padding_idx = padding_idx
        if source is not None:
            assert source.kernel is None, "a tied lm_head keeps the plain layout"
            self.num_embeddings, self.embedding_dim = source.out_features, source.in_features
            # The same tensor objects as the lm_head's buffers: weight_bytes counts them once.
            self.register_buffer("qweight", source.qweight)
            self.register_buffer("scale", source.scale)
            if kind == "int4":
                self.register_buffer("zero", source.zero)
            return
        self.num_embeddings, self.embedding_dim = weight.shape
        for name, t in quantize_weight(weight, kind).items():
            self.register_buffer(name, t)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, kind={self.kind}"

    @property
    def weight(self) -> torch.Tensor:
        return self.forward(torch.arange(self.num_embeddings, device=self.qweight.device))

    def forward(self, idx):
        dt = self.compute_dtype
        if self.kind == "int8":
            return dequantize_int8(self.qweight[idx], self.scale[idx], dt)
        if self.kind == "int4":
            return dequantize_int4(self.qweight[idx], self.scale[idx], self.zero[idx], self.embedding_dim, dt)
        # Gather fp8 bytes as uint8: indexing float8 tensors is not implemented everywhere.
        rows = self.qweight.view(torch.uint8)[idx].view(torch.float8_e4m3fn)
        return dequantize_fp8(rows, self.scale, dt)


class Bf16Linear(nn.Module):
    """A linear layer left unquantised (a MoE router), stored in 16 bits and run in the input's dtype."""

    def __init__(self, linear: nn.Linear, storage_dtype: torch.dtype):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight = nn.Parameter(linear.weight.detach().to(storage_dtype), requires_grad=False)
        self.bias = None if linear.bias is None else nn.Parameter(linear.bias.detach().to(storage_dtype), requires_grad=False)

    def forward(self, x):
        return F.linear(x, self.weight.to(x.dtype), None if self.bias is None else self.bias.to(x.dtype))


def is_router(name: str) -> bool:
    return name.split(".")[-1].endswith("router")


def quantize_model(model: nn.Module, precision: str, compute_dtype: torch.dtype,
                   skip: Callable[[str], bool] = is_router, frozen_only: bool = False) -> nn.Module:
    """Replaces, in place, the model's Linear and Embedding layers by quantised ones (see the module
    docstring); a no-op for fp32/bf16/fp16. Returns the model. `frozen_only` (QLoRA-style training,
    after PEFT has added its adapters) leaves alone every layer whose weight still trains."""
    if not is_quantised(precision):
        return model
    storage = compute_dtype if compute_dtype in (torch.bfloat16, torch.float16) else torch.bfloat16
    done: Dict[int, nn.Module] = {}  # id(weight) → the QuantLinear made from it (tied lm_head / embedding)
    tied = _tied_weight_ids(model)
    for parent_name, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            full = f"{parent_name}.{name}" if parent_name else name
            new: Optional[nn.Module] = None
            if frozen_only and isinstance(child, (nn.Linear, nn.Embedding)) and child.weight.requires_grad:
                continue
            if isinstance(child, nn.Linear):
                if skip(full):
                    new = Bf16Linear(child, storage)
                elif id(child.weight) in done:  # tied to an embedding met first: share its storage
                    new = done[id(child.weight)]
                else:
                    new = QuantLinear.from_linear(child, precision, compute_dtype, storage_dtype=storage,
                                                  use_kernels=not frozen_only and id(child.weight) not in tied)
                    done[id(child.weight)] = new
            elif isinstance(child, nn.Embedding):
                key = id(child.weight)
                source = done.get(key)
                if source is None and key in tied:  # make the tied lm_head's storage first, then share it
                    source = QuantLinear(child.weight, precision, compute_dtype, storage_dtype=storage, use_kernels=False)
                    done[key] = source
                new = QuantEmbedding(None if source else child.weight, precision, compute_dtype, source, child.padding_idx)
            elif type(child).__name__.endswith("RMSNorm"):
                for p in child.parameters(recurse=False):
                    p.data = p.data.to(storage)
            if new is not None:
                setattr(parent, name, new)
    return model


def _tied_weight_ids(model: nn.Module) -> set:
    """ids of weights used by more than one Linear/Embedding (a tied lm_head and embedding)."""
    count: Dict[int, int] = {}
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            count[id(m.weight)] = count.get(id(m.weight), 0) + 1
    return {k for k, n in count.items() if n > 1}


def frozen_base_bytes(model: nn.Module) -> int:
    """weightBytes of a QLoRA-style model: everything stored but the parameters that train (adapters)."""
    from .model import nbytes, weight_bytes
    return weight_bytes(model) - sum(nbytes(p) for p in model.parameters() if p.requires_grad)


def logical_params(model: nn.Module) -> int:
    """Parameters the model would have unquantised: its parameters plus each quantised matrix's
    out × in (a shared tied matrix counted once)."""
    seen = set()
    n = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            n += p.numel()
    for m in model.modules():
        if isinstance(m, (QuantLinear, QuantEmbedding)) and id(m.qweight) not in seen:
            seen.add(id(m.qweight))
            rows, cols = ((m.out_features, m.in_features) if isinstance(m, QuantLinear)
                          else (m.num_embeddings, m.embedding_dim))
            n += rows * cols
    return n
