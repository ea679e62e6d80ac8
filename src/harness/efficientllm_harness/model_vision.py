"""ViT and DiT, in the manner of model.py: small classes, shapes in comments.

Both are the text decoder's attention over image patches instead of tokens, so they reuse its
attention classes (model.attention_class: MHA/GQA/MQA, MLA) built with `causal=False` (every patch
sees every patch) and `attn_bias=True` (timm's Attention has qkv_bias=True and a biased proj). NSA is
refused before anything is built (config.ts and stages_vision.py): its sliding window and block
selection are defined for causal decoding of an ordered sequence.

Positions are absolute embeddings added to the input, as in both papers (ViT: learned, one per token;
DiT: a fixed 2-D sin-cos table), so the attention classes get `NoRotary`, which rotates nothing. MLA's
decoupled RoPE dimensions then are plain extra query/key dimensions.

* ViT (Dosovitskiy et al. 2021, as timm's VisionTransformer): a stride-p convolution cuts the image
  into patches, a class token is prepended, pre-norm blocks (LayerNorm → attention, LayerNorm → GELU
  MLP), a final LayerNorm, and a linear head on the class token.
* DiT (Peebles & Xie 2023, as its models.py): patchified VAE latents, conditioning c = timestep
  embedding + label embedding, adaLN-Zero blocks (LayerNorm without affine parameters, shifted, scaled
  and gated by a zero-initialised linear of c), and a final adaLN layer that unpatchifies to the noise
  (and, with learn_sigma, the variance) per latent pixel.

The feed-forward is a GELU MLP named up/down (the PEFT target names), or moe.py's mixture of SwiGLU
experts when args.moe is set. Parameter counts equal timm's and DiT's code for the published shapes
(test/python/test_vision.py; src/core/estimateVision.ts counts the same modules).
"""
from __future__ import annotations

import math
from typing import Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import ModelArgs, attention_class

# DiT's timestep embedding: a 256-wide sinusoid into an MLP (frequency_embedding_size).
FREQUENCY_DIM = 256
# The SD VAE's latents are 8× smaller than the image on each side.
VAE_DOWNSAMPLE = 8


class NoRotary:
    """The attention classes' Rotary, rotating nothing: positions come from the embeddings added to x."""

    def cos_sin(self, dim: int, pos: int, length: int, device: torch.device):
        shape = (length, dim // 2)
        return torch.ones(shape, device=device), torch.zeros(shape, device=device)


class GeluMLP(nn.Module):
    """timm's Mlp: down(gelu(up(x))), with biases. DiT uses the tanh approximation of GELU."""

    def __init__(self, args: ModelArgs, approximate: str = "none"):
        super().__init__()
        self.up = nn.Linear(args.dim, args.ffn_dim)
        self.down = nn.Linear(args.ffn_dim, args.dim)
        self.approximate = approximate

    def forward(self, x):
        return self.down(F.gelu(self.up(x), approximate=self.approximate))


def vision_ffn(args: ModelArgs, approximate: str) -> nn.Module:
    if args.moe is not None:
        from .moe import MoE
        return MoE(args)
    return GeluMLP(args, approximate)


def vision_attention(args: ModelArgs) -> nn.Module:
    assert not args.causal, "image models attend bidirectionally"
    return attention_class(args.attention)(args, NoRotary())


class PatchEmbed(nn.Module):
    """(B, C, H, W) → (B, (H/p)·(W/p), dim): a convolution with kernel = stride = p, as timm's PatchEmbed."""

    def __init__(self, channels: int, dim: int, patch: int):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class ViTBlock(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.norm1 = nn.LayerNorm(args.dim, eps=1e-6)
        self.attn = vision_attention(args)
        self.norm2 = nn.LayerNorm(args.dim, eps=1e-6)
        self.ffn = vision_ffn(args, "none")

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, args: ModelArgs, image: int, patch: int, channels: int):
        super().__init__()
        self.args, self.image, self.patch, self.channels = args, image, patch, channels
        self.tokens = (image // patch) ** 2 + 1  # patches + the class token
        self.patch_embed = PatchEmbed(channels, args.dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, args.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.tokens, args.dim))  # learned, cls included
        self.blocks = nn.ModuleList(ViTBlock(args) for _ in range(args.n_layers))
        self.norm = nn.LayerNorm(args.dim, eps=1e-6)
        self.head = nn.Linear(args.dim, args.vocab_size)  # vocab_size holds the number of classes

    @torch.no_grad()
    def init_weights(self, std: float = 0.02) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.weight.normal_(0.0, std)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.LayerNorm):
                m.weight.fill_(1.0)
                m.bias.zero_()
            elif m is not self and hasattr(m, "reset_parameters") and not list(m.children()):
                m.reset_parameters()
        self.cls_token.normal_(0.0, 1e-6)
        self.pos_embed.normal_(0.0, std)

    def forward(self, images):
        """images (B, C, H, W) → class logits (B, classes)."""
        x = self.patch_embed(images)  # (B, N, dim)
        x = torch.cat((self.cls_token.expand(x.size(0), -1, -1), x), 1) + self.pos_embed  # (B, T, dim)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])  # the class token


def modulate(x, shift, scale):
    """x (B, T, dim); shift, scale (B, dim): DiT's adaLN."""
    return x * (1 + scale[:, None]) + shift[:, None]


class TimestepEmbedder(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(FREQUENCY_DIM, dim), nn.SiLU(), nn.Linear(dim, dim))

    @staticmethod
    def sinusoid(t, dim: int = FREQUENCY_DIM, max_period: float = 10000.0):
        """t (B,) → (B, dim): cos and sin of t at geometric frequencies (DiT's timestep_embedding)."""
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
        args = t[:, None].float() * freqs[None]
        return torch.cat((torch.cos(args), torch.sin(args)), -1)

    def forward(self, t):
        return self.mlp(self.sinusoid(t).to(self.mlp[0].weight.dtype))


class DiTBlock(nn.Module):
    """adaLN-Zero: c gives shift, scale and gate for attention and MLP; the gates start at zero."""

    def __init__(self, args: ModelArgs):
        super().__init__()
        self.norm1 = nn.LayerNorm(args.dim, elementwise_affine=False, eps=1e-6)
        self.attn = vision_attention(args)
        self.norm2 = nn.LayerNorm(args.dim, elementwise_affine=False, eps=1e-6)
        self.ffn = vision_ffn(args, "tanh")
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(args.dim, 6 * args.dim))

    def forward(self, x, c):
        shift_a, scale_a, gate_a, shift_m, scale_m, gate_m = self.adaLN_modulation(c).chunk(6, dim=1)
        x = x + gate_a[:, None] * self.attn(modulate(self.norm1(x), shift_a, scale_a))
        return x + gate_m[:, None] * self.ffn(modulate(self.norm2(x), shift_m, scale_m))


class FinalLayer(nn.Module):
    def __init__(self, dim: int, patch: int, out_channels: int):
        super().__init__()
        self.norm_final = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(dim, patch * patch * out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))

    def forward(self, x, c):
        shift, scale = self.adaLN_modulation(c).chunk(2, dim=1)
        return self.linear(modulate(self.norm_final(x), shift, scale))


def sincos_2d(dim: int, side: int) -> torch.Tensor:
    """(side², dim): half the channels encode the row, half the column, each as sin and cos (MAE/DiT)."""
    def one_axis(d: int, pos: torch.Tensor) -> torch.Tensor:
        omega = 1.0 / 10000 ** (torch.arange(d // 2, dtype=torch.float64) / (d / 2.0))
        out = pos.reshape(-1)[:, None].double() * omega[None]  # (side², d/2)
        return torch.cat((torch.sin(out), torch.cos(out)), 1)
    grid_h, grid_w = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    return torch.cat((one_axis(dim // 2, grid_w), one_axis(dim // 2, grid_h)), 1).float()


class DiT(nn.Module):
    def __init__(self, args: ModelArgs, latent: int, patch: int, channels: int, learn_sigma: bool):
        super().__init__()
        self.args, self.latent, self.patch, self.channels = args, latent, patch, channels
        self.out_channels = channels * 2 if learn_sigma else channels
        self.tokens = (latent // patch) ** 2
        self.x_embedder = PatchEmbed(channels, args.dim, patch)
        self.t_embedder = TimestepEmbedder(args.dim)
        # num_classes + 1: the null label of classifier-free guidance (DiT's class_dropout_prob 0.1).
        self.y_embedder = nn.Embedding(args.vocab_size + 1, args.dim)
        # Fixed, but a Parameter (frozen) as in DiT's code, so it counts where DiT's parameter count has it.
        self.pos_embed = nn.Parameter(torch.zeros(1, self.tokens, args.dim), requires_grad=False)
        self.blocks = nn.ModuleList(DiTBlock(args) for _ in range(args.n_layers))
        self.final_layer = FinalLayer(args.dim, patch, self.out_channels)

    @torch.no_grad()
    def init_weights(self, std: float = 0.02) -> None:
        """DiT's initialize_weights, with its adaLN-Zero: modulations and the output start at zero."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(m.weight.view(m.weight.size(0), -1))
                if m.bias is not None:
                    m.bias.zero_()
            elif m is not self and hasattr(m, "reset_parameters") and not list(m.children()) \
                    and not isinstance(m, nn.LayerNorm):
                m.reset_parameters()
        self.y_embedder.weight.normal_(0.0, std)
        for lin in (self.t_embedder.mlp[0], self.t_embedder.mlp[2]):
            lin.weight.normal_(0.0, std)
        self.pos_embed.copy_(sincos_2d(self.args.dim, self.latent // self.patch)[None])
        for blk in self.blocks:
            blk.adaLN_modulation[1].weight.zero_()
            blk.adaLN_modulation[1].bias.zero_()
        for lin in (self.final_layer.adaLN_modulation[1], self.final_layer.linear):
            lin.weight.zero_()
            lin.bias.zero_()

    def unpatchify(self, x):
        """(B, T, p²·C_out) → (B, C_out, latent, latent)."""
        b, p, c, s = x.size(0), self.patch, self.out_channels, self.latent // self.patch
        x = x.reshape(b, s, s, p, p, c)
        return torch.einsum("nhwpqc->nchpwq", x).reshape(b, c, s * p, s * p)

    def forward(self, x, t, y):
        """x (B, C, latent, latent) noisy latents, t (B,) timesteps, y (B,) labels → (B, C_out, latent, latent)."""
        h = self.x_embedder(x) + self.pos_embed  # (B, T, dim)
        c = self.t_embedder(t) + self.y_embedder(y)  # (B, dim)
        for blk in self.blocks:
            h = blk(h, c)
        return self.unpatchify(self.final_layer(h, c))


class Diffusion:
    """DiT's Gaussian diffusion: 1000 steps of a linear beta schedule (1e-4 … 0.02)."""

    STEPS = 1000

    def __init__(self, device):
        betas = torch.linspace(1e-4, 0.02, self.STEPS, dtype=torch.float64)
        self.alpha_bar = torch.cumprod(1.0 - betas, 0).float().to(device)  # (1000,)

    def noised(self, x0, t, noise):
        """q(x_t | x_0): sqrt(ᾱ_t) x0 + sqrt(1 − ᾱ_t) ε."""
        ab = self.alpha_bar[t].to(x0.dtype)[:, None, None, None]
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def timesteps(self, n: int) -> list:
        """n sampling steps spread evenly from the last timestep to the first (DDIM respacing)."""
        return [round(i * (self.STEPS - 1) / max(1, n - 1)) for i in range(n - 1, -1, -1)] if n > 1 else [self.STEPS - 1]

    def ddim_step(self, x, eps, t: int, t_prev: int):
        """One deterministic DDIM step (η = 0) from t to t_prev (−1: the clean sample)."""
        ab = self.alpha_bar[t]
        ab_prev = self.alpha_bar[t_prev] if t_prev >= 0 else torch.ones((), device=x.device)
        x0 = (x - (1 - ab).sqrt() * eps) / ab.sqrt()
        return ab_prev.sqrt() * x0 + (1 - ab_prev).sqrt() * eps


def dit_loss(model: DiT, diffusion: Diffusion, x0, t, y, noise) -> torch.Tensor:
    """The noise-prediction loss: MSE between ε and the first C output channels. With learn_sigma the
    variance channels are computed (their cost is in every step) but get no loss here: DiT's hybrid
    L_vlb term is left out, so this measures the cost of a step, not DiT's exact objective."""
    out = model(diffusion.noised(x0, t, noise), t, y)
    return F.mse_loss(out[:, :model.channels].float(), noise.float())


def sample(model: DiT, diffusion: Diffusion, x, y, steps: int) -> Tuple[torch.Tensor, int]:
    """`steps` DDIM steps from the noise x, conditioned on labels y (no classifier-free guidance, which
    would double the batch). Returns the sample and the forward passes run."""
    ts = diffusion.timesteps(steps)
    for i, t in enumerate(ts):
        tt = torch.full((x.size(0),), t, device=x.device, dtype=torch.long)
        eps = model(x, tt, y)[:, :model.channels]
        x = diffusion.ddim_step(x, eps, t, ts[i + 1] if i + 1 < len(ts) else -1)
    return x, len(ts)
