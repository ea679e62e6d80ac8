"""ViT and DiT (model_vision.py, stages_vision.py): attention is bidirectional over an image's patches
while the text decoder's stays causal; parameter counts equal the reference code's (timm's
vit_base_patch16_224: 86,567,656; DiT's models.py DiT-XL/2: 675,129,632); every attention kind runs
pretrain and inference on CPU through the harness, and NSA is refused as unsupported."""
import copy

import pytest
import torch

from conftest import BASE_CONFIG
from efficientllm_harness.config import parse_config
from efficientllm_harness.model import Decoder, ModelArgs
from efficientllm_harness.model_vision import DiT, Diffusion, ViT, dit_loss, sample

KINDS = ("mha", "gqa", "mqa", "mla")


def args(kind="gqa", causal=False, **over):
    kv = {"mha": 4, "mqa": 1}.get(kind, 2)
    base = dict(dim=64, n_layers=2, n_heads=4, n_kv_heads=kv, head_dim=16, ffn_dim=256, vocab_size=10,
                attention=kind, max_seq_len=64, causal=causal, attn_bias=not causal)
    base.update(over)
    return ModelArgs(**base)


def dit(kind="gqa"):
    torch.manual_seed(0)
    m = DiT(args(kind), latent=8, patch=2, channels=4, learn_sigma=True)
    m.init_weights()
    # adaLN-Zero starts every block as the identity; give the gates weight so attention shows in the output.
    with torch.no_grad():
        for p in m.parameters():
            if p.requires_grad and p.abs().sum() == 0 and p.dim() > 1:
                p.normal_(0.0, 0.02)
    return m.eval()


@pytest.mark.parametrize("kind", KINDS)
def test_vit_attention_is_bidirectional(kind):
    """Changing the last patch changes the class token's output: the first token sees the last."""
    torch.manual_seed(0)
    m = ViT(args(kind), image=32, patch=8, channels=3)
    m.init_weights()
    m.eval()
    x = torch.randn(1, 3, 32, 32)
    y = x.clone()
    y[..., 24:, 24:] += 1.0  # the last 8×8 patch only
    with torch.no_grad():
        assert not torch.allclose(m(x), m(y), atol=1e-6)
        # And per block: the first patch's output (token 1) moves when only the last token's input does.
        blk = m.blocks[0].attn
        h = torch.randn(1, 17, 64)
        h2 = h.clone()
        h2[:, -1] += 1.0
        assert not torch.allclose(blk(h)[:, 0], blk(h2)[:, 0], atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_dit_attention_is_bidirectional(kind):
    m = dit(kind)
    with torch.no_grad():
        h = torch.randn(1, 16, 64)
        h2 = h.clone()
        h2[:, -1] += 1.0
        attn = m.blocks[0].attn
        assert not torch.allclose(attn(h)[:, 0], attn(h2)[:, 0], atol=1e-6)
        x = torch.randn(1, 4, 8, 8)
        x2 = x.clone()
        x2[..., 6:, 6:] += 1.0  # the last latent patch
        t, y = torch.tensor([500]), torch.tensor([3])
        out, out2 = m(x, t, y), m(x2, t, y)
        assert not torch.allclose(out[..., :2, :2], out2[..., :2, :2], atol=1e-7)  # the first patch moved


@pytest.mark.parametrize("kind", KINDS)
def test_text_decoder_is_still_causal(kind):
    """The same attention classes, built for text: the first positions' logits ignore later tokens."""
    torch.manual_seed(0)
    d = Decoder(args(kind, causal=True, vocab_size=50))
    d.init_weights()
    d.eval()
    a = torch.randint(0, 50, (1, 12))
    b = a.clone()
    b[0, -1] = (a[0, -1] + 1) % 50
    with torch.no_grad():
        la, lb = d(a), d(b)
    assert torch.allclose(la[:, :-1], lb[:, :-1], atol=1e-6)
    assert not torch.allclose(la[:, -1], lb[:, -1], atol=1e-6)


def count(model_fn, layers):
    return sum(p.numel() for p in model_fn(layers).parameters())


def by_layers(model_fn, layers):
    """Parameters of an L-layer model from 1- and 2-layer builds (exact: the count is linear in L), so
    a 675M-parameter model is counted without allocating it."""
    one, two = count(model_fn, 1), count(model_fn, 2)
    return one + (layers - 1) * (two - one)


def test_published_parameter_counts():
    vit_b = lambda n: ViT(ModelArgs(dim=768, n_layers=n, n_heads=12, n_kv_heads=12, head_dim=64, ffn_dim=3072,
                                    vocab_size=1000, attention="mha", causal=False, attn_bias=True), 224, 16, 3)
    dit_xl = lambda n: DiT(ModelArgs(dim=1152, n_layers=n, n_heads=16, n_kv_heads=16, head_dim=72, ffn_dim=4608,
                                     vocab_size=1000, attention="mha", causal=False, attn_bias=True), 32, 2, 4, True)
    assert by_layers(vit_b, 12) == 86_567_656  # timm vit_base_patch16_224
    assert by_layers(dit_xl, 28) == 675_129_632  # DiT's models.py DiT_XL_2, learn_sigma


def test_dit_trains_and_samples():
    m = dit("gqa").train()
    diffusion = Diffusion("cpu")
    x0, noise = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    t, y = torch.tensor([10, 900]), torch.tensor([1, 2])
    loss = dit_loss(m, diffusion, x0, t, y, noise)
    loss.backward()
    assert loss.item() > 0 and m.blocks[0].attn.q.weight.grad is not None
    m.eval()
    with torch.no_grad():
        out, forwards = sample(m, diffusion, torch.randn(2, 4, 8, 8), y, 5)
    assert out.shape == (2, 4, 8, 8) and forwards == 5 and torch.isfinite(out).all()
    assert diffusion.timesteps(5) == [999, 749, 500, 250, 0]


def vision_config(preset, family, stage, kind, **workload):
    shape = {"layers": 2, "hidden": 64, "heads": 4, "kvHeads": {"mha": 4, "mqa": 1}.get(kind, 2), "headDim": 16,
             "ffn": 256, "vocab": 10}
    vision = ({"family": "vit", "imageSize": 32, "patch": 8, "channels": 3, "learnSigma": False} if family == "vit"
              else {"family": "dit", "imageSize": 64, "patch": 2, "channels": 4, "learnSigma": True})
    cfg = copy.deepcopy(BASE_CONFIG)
    cfg.update(label=f"{preset} {kind} {stage}", stage=stage)
    cfg["model"] = {"source": "synthetic", "preset": preset, "shape": shape, "vision": vision}
    mla = {"kvRank": 16, "qRank": 0, "ropeDim": 8} if kind == "mla" else None
    cfg["attention"] = {"kind": kind, "kvHeads": shape["kvHeads"], "mla": mla, "nsa": None}
    cfg["workload"] = {"batch": 2, "seqLen": 17 if family == "vit" else 16, "newTokens": 0, "steps": 2, "warmup": 1,
                       **workload}
    return cfg


def test_config_reads_vision_and_sampling_steps():
    cfg = parse_config(vision_config("dit-tiny", "dit", "inference", "gqa", samplingSteps=3))
    assert cfg.model.vision.family == "dit" and cfg.model.vision.tokens == 16 and cfg.workload.sampling_steps == 3
    bad = vision_config("vit-tiny", "vit", "inference", "gqa")
    bad["workload"]["seqLen"] = 5
    with pytest.raises(Exception, match="workload.seqLen"):
        parse_config(bad)


@pytest.mark.parametrize("family", ("vit", "dit"))
@pytest.mark.parametrize("stage", ("pretrain", "inference"))
def test_harness_runs_every_attention_kind(family, stage, run_in_process, tmp_path):
    for kind in KINDS:
        extra = {"samplingSteps": 2} if family == "dit" and stage == "inference" else {}
        code, events = run_in_process(vision_config(f"{family}-tiny", family, stage, kind, **extra), tmp_path)
        assert code == 0, events[-1]
        result = [e for e in events if e["type"] == "result"]
        assert result, events[-1]
        c = result[0]["counters"]
        assert c["iterations"] == 2 and all(s > 0 for s in c["iterationS"])
        assert c["generatedTokensPerIteration"] == 0
        assert (c["loss"] is not None) == (stage == "pretrain")


def test_nsa_is_refused_for_images(run_in_process, tmp_path):
    cfg = vision_config("vit-tiny", "vit", "inference", "gqa")
    cfg["attention"] = {"kind": "nsa", "kvHeads": 2, "mla": None, "nsa": {"block": 4, "selected": 2, "window": 8}}
    _, events = run_in_process(cfg, tmp_path)
    err = [e for e in events if e["type"] == "error"]
    assert err and err[0]["kind"] == "unsupported" and "causal" in err[0]["message"]


# (params, trainable) that src/core/estimateVision.ts gives for these configs (test/unit/vision-estimate.test.ts
# checks its published counts): the harness must build exactly those models.
ESTIMATED = {
    "vit moe4x2 pretrain": (433_482, 433_482),
    "dit mla pretrain": (177_600, 176_576),  # DiT's frozen sin-cos positions (16 × 64) do not train
    "dit dora q,v,up finetune": (174_880, 9_408),
    "vit freeze 1 finetune": (105_930, 45_824),
}


def estimated_case(name):
    if name.startswith("vit moe"):
        cfg = vision_config("vit-tiny", "vit", "pretrain", "gqa")
        cfg["moe"] = {"experts": 4, "topK": 2, "shared": 0}
    elif name.startswith("dit mla"):
        cfg = vision_config("dit-tiny", "dit", "pretrain", "mla")
    elif name.startswith("dit dora"):
        cfg = vision_config("dit-tiny", "dit", "finetune", "gqa")
        cfg["peft"] = {"method": "dora", "rank": 8, "alpha": 16, "targets": ["q", "v", "up"]}
    else:
        cfg = vision_config("vit-tiny", "vit", "finetune", "gqa")
        cfg["peft"] = {"method": "freeze", "rank": 1, "alpha": 0, "targets": []}
    cfg["workload"].update(steps=1, warmup=0)
    return cfg


@pytest.mark.parametrize("name", sorted(ESTIMATED))
def test_harness_builds_what_the_estimator_counts(name, run_in_process, tmp_path, monkeypatch):
    monkeypatch.setenv("EFFICIENTLLM_PEFT", "own")
    code, events = run_in_process(estimated_case(name), tmp_path)
    assert code == 0, events[-1]
    c = [e for e in events if e["type"] == "result"][0]["counters"]
    assert (c["params"], c["trainableParams"]) == ESTIMATED[name]
