"""Weight-only quantisation (quant.py), the MCR quality measure (quality.py) and Hugging Face loading
(hf_model.py).

Bounds the tests hold the code to, on random weights:
  * int8 (symmetric, per output row): |w − deq| ≤ scale/2 per element, scale being the stored bf16
    scale (rounded up, so no code is clipped).
  * int4 (asymmetric, per row and 128-input group): |w − deq| ≤ scale/2 ≤ (max − min)/15/2 per group,
    plus bf16 rounding of the stored scale and zero (≤ |min|/64 added to the range, 1.2% on the scale).
  * a QuantLinear's output on random input: relative error ≤ 2% (int8) and ≤ 15% (int4); for
    N(0, σ²) weights the expected values are about 0.8% and 10%.
"""
import json
import math
import os
import subprocess
import sys
import textwrap
import types

import pytest
import torch
import torch.nn as nn

from conftest import HARNESS_DIR, TINY_SHAPE, parse_events, tiny_config
from efficientllm_harness import quant
from efficientllm_harness.model import nbytes, weight_bytes


def harness(*args, pythonpath=HARNESS_DIR):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run([sys.executable, "-m", "efficientllm_harness", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def run_config_file(tmp_path, cfg, **kw):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    proc = harness("--config", str(path), **kw)
    return proc, parse_events(proc.stdout)


def random_weight(out_f, in_f, seed=0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out_f, in_f, generator=g) * 0.02
    w[:, :3] += 0.05  # an offset and some outliers, so groups are not all centred
    return w


def group_view(t, in_f):
    """(out, in) → (out, groups, g), padding the last group with NaN."""
    g = quant.int4_group(in_f)
    groups = math.ceil(in_f / g)
    return torch.nn.functional.pad(t, (0, groups * g - in_f), value=float("nan")).view(t.size(0), groups, g)


# ---- round trips ----

@pytest.mark.parametrize("in_f", [256, 688, 100, 33])
def test_int8_round_trip_is_within_half_a_step(in_f):
    w = random_weight(64, in_f)
    q, scale = quant.quantize_int8(w)
    assert q.dtype == torch.int8 and scale.dtype == torch.bfloat16 and scale.shape == (64,)
    err = (w - quant.dequantize_int8(q, scale, torch.float32)).abs()
    assert bool((err <= scale.float()[:, None] / 2 * (1 + 1e-6)).all())
    # The scale is max|w|/127 rounded up to bf16: never below it, at most 2^-6 above.
    exact = w.abs().amax(1) / 127
    assert bool((scale.float() >= exact).all()) and bool((scale.float() <= exact * (1 + 2 ** -6)).all())


@pytest.mark.parametrize("in_f", [256, 688, 100, 33])
def test_int4_round_trip_is_within_half_a_step_per_group(in_f):
    w = random_weight(48, in_f, seed=1)
    packed, scale, zero = quant.quantize_int4(w)
    groups = math.ceil(in_f / quant.int4_group(in_f))
    assert packed.dtype == torch.uint8 and packed.shape == (48, math.ceil(in_f / 2))
    assert scale.shape == zero.shape == (48, groups) and scale.dtype == zero.dtype == torch.bfloat16
    err = group_view((w - quant.dequantize_int4(packed, scale, zero, in_f, torch.float32)).abs(), in_f)
    wg = group_view(w, in_f)
    lo = torch.where(wg.isnan(), torch.full_like(wg, math.inf), wg).amin(-1)
    hi = torch.where(wg.isnan(), torch.full_like(wg, -math.inf), wg).amax(-1)
    assert bool((err.nan_to_num(0) <= scale.float()[..., None] / 2 * (1 + 1e-5)).all())
    bound = ((hi - lo) + lo.abs() / 64) / 15 / 2 * 1.012 + 1e-7  # (max − min)/15/2 + bf16 rounding
    assert bool((err.nan_to_num(0) <= bound[..., None]).all())


def test_int4_packing_round_trips_and_puts_two_codes_in_a_byte():
    codes = torch.randint(0, 16, (5, 17), dtype=torch.uint8)
    packed = quant.pack_int4(codes)
    assert packed.shape == (5, 9)
    assert int(packed[0, 0]) == int(codes[0, 0]) | int(codes[0, 1]) << 4  # even column low nibble
    assert torch.equal(quant.unpack_int4(packed, 17), codes)


# ---- packed storage and layer outputs ----

def layer_bytes(m):
    return sum(nbytes(b) for b in m.buffers())


@pytest.mark.parametrize("in_f", [256, 688])
def test_quantised_linear_stores_the_stated_bytes(in_f):
    lin = nn.Linear(in_f, 64, bias=False)
    dense_bf16 = 2 * 64 * in_f
    i8 = quant.QuantLinear.from_linear(lin, "int8", torch.float32)
    i4 = quant.QuantLinear.from_linear(lin, "int4", torch.float32)
    assert list(i8.parameters()) == [] and list(i4.parameters()) == []  # frozen storage: buffers only
    assert layer_bytes(i8) == 64 * in_f + 64 * 2  # int8 codes + a bf16 scale per row
    groups = math.ceil(in_f / 128)  # 688: five groups of 128 and one of 48
    assert layer_bytes(i4) == 64 * in_f // 2 + 64 * groups * (2 + 2)  # two codes a byte + scale and zero
    assert dense_bf16 / layer_bytes(i8) >= 1.9 and dense_bf16 / layer_bytes(i4) >= 3.5


@pytest.mark.parametrize("kind,bound", [("int8", 0.02), ("int4", 0.15)])
def test_quantised_linear_output_is_close_to_dense(kind, bound):
    torch.manual_seed(0)
    lin = nn.Linear(256, 96, bias=True)
    with torch.no_grad():
        lin.weight.normal_(0, 0.02)
    q = quant.QuantLinear.from_linear(lin, kind, torch.float32)
    x = torch.randn(3, 5, 256)
    dense, approx = lin(x), q(x)
    assert approx.shape == dense.shape == (3, 5, 96)
    assert ((approx - dense).norm() / dense.norm()).item() <= bound
    # The layer computes exactly with its dequantised weight (and the bf16-stored bias).
    exact = torch.nn.functional.linear(x, q.dequantize(torch.float32), q.bias.float())
    assert torch.allclose(approx, exact, rtol=1e-4, atol=1e-5)


def test_gradients_flow_to_the_input_through_frozen_quantised_weights():
    """QLoRA-style fine-tuning needs d(out)/d(in) through the frozen layer."""
    lin = nn.Linear(128, 64, bias=False)
    q = quant.QuantLinear.from_linear(lin, "int4", torch.float32)
    x = torch.randn(4, 128, requires_grad=True)
    q(x).sum().backward()
    assert torch.allclose(x.grad, q.dequantize(torch.float32).sum(0).expand(4, 128), atol=1e-5)


@pytest.mark.parametrize("kind", ["int8", "int4"])
def test_quantised_embedding_gathers_dequantised_rows(kind):
    emb = nn.Embedding(50, 200)
    q = quant.QuantEmbedding(emb.weight, kind, torch.float32)
    idx = torch.tensor([[3, 49, 0], [7, 7, 1]])
    rows = q(idx)
    assert rows.shape == (2, 3, 200) and rows.dtype == torch.float32
    full = q.weight  # every row dequantised
    assert torch.equal(rows, full[idx])
    assert ((full - emb.weight).norm() / emb.weight.norm()).item() <= (0.02 if kind == "int8" else 0.15)


def test_tied_lm_head_and_embedding_share_one_quantised_matrix():
    model = nn.Module()
    model.embed = nn.Embedding(64, 32)
    model.lm_head = nn.Linear(32, 64, bias=False)
    model.lm_head.weight = model.embed.weight
    quant.quantize_model(model, "int8", torch.float32)
    assert model.embed.qweight is model.lm_head.qweight
    assert weight_bytes(model) == 64 * 32 + 64 * 2  # counted once
    assert quant.logical_params(model) == 64 * 32


# ---- the whole tiny model ----

def estimator_weight_bytes(shape, precision):
    """src/core/estimate.ts weightBytes() for a synthetic dense decoder, recomputed here on its own:
    every linear (lm_head too) and the embedding table quantised, norms in 16 bits."""
    h, L, v = shape["hidden"], shape["layers"], shape["vocab"]
    q_out, kv_out = shape["heads"] * shape["headDim"], shape["kvHeads"] * shape["headDim"]

    def matrix(out_f, in_f):
        if precision == "int8":
            return out_f * in_f + 2 * out_f
        if precision == "int4":
            return out_f * math.ceil(in_f / 2) + out_f * math.ceil(in_f / 128) * 4
        return (4 if precision == "fp32" else 2) * out_f * in_f

    layer = (matrix(q_out, h) + 2 * matrix(kv_out, h) + matrix(h, q_out)
             + 2 * matrix(shape["ffn"], h) + matrix(h, shape["ffn"]))
    norms = (2 * L + 1) * h * (4 if precision == "fp32" else 2)
    return L * layer + 2 * matrix(v, h) + norms  # + embedding and lm_head


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """One in-process inference run per precision (shared by the tests below: each is ~0.5 s)."""
    import io
    from efficientllm_harness.runner import run_config
    out = {}
    for precision in ("bf16", "fp32", "int8", "int4"):
        path = tmp_path_factory.mktemp(precision) / "config.json"
        path.write_text(json.dumps(tiny_config(precision=precision)))
        buf = io.StringIO()
        code = run_config(str(path), buf)
        events = parse_events(buf.getvalue())
        assert code == 0 and events[-1]["type"] == "result", events[-1]
        out[precision] = events[-1]["counters"]
    return out


def test_tiny_model_weight_bytes_shrink_and_match_the_estimator(tiny_runs):
    bf16 = tiny_runs["bf16"]["weightBytes"]
    assert tiny_runs["int8"]["weightBytes"] <= bf16 / 1.9
    assert tiny_runs["int4"]["weightBytes"] <= bf16 / 3.5
    for precision, c in tiny_runs.items():
        assert c["weightBytes"] == estimator_weight_bytes(TINY_SHAPE, precision), precision
        assert c["referenceWeightBytes"] == bf16 == 2 * c["params"]  # params counted unquantised


def test_quality_is_agreement_with_the_bf16_reference(tiny_runs):
    assert tiny_runs["bf16"]["quality"] == 1.0  # the reference itself
    for precision in ("fp32", "int8", "int4"):
        assert 0.0 <= tiny_runs[precision]["quality"] <= 1.0
    assert tiny_runs["fp32"]["quality"] >= 0.9
    assert tiny_runs["int8"]["quality"] >= 0.5
    assert tiny_runs["int8"]["quality"] >= tiny_runs["int4"]["quality"]


def test_quantised_inference_keeps_the_activation_dtype_cache(tiny_runs):
    # Weight-only: on the CPU activations (and so the KV cache) are fp32; bf16 on a GPU.
    kv = 2 * 2 * 2 * 32 * 1 * (32 + 8)
    assert tiny_runs["int8"]["kvCacheBytes"] == kv * (2 if torch.cuda.is_available() else 4)


# ---- through --config: end to end, and the refusals ----

def test_int4_inference_end_to_end(tmp_path):
    proc, events = run_config_file(tmp_path, tiny_config(precision="int4"))
    assert proc.returncode == 0, proc.stderr
    c = events[-1]["counters"]
    assert c["weightBytes"] == estimator_weight_bytes(TINY_SHAPE, "int4") and 0 <= c["quality"] <= 1
    assert "top-1 agreement" in proc.stderr and "KL" in proc.stderr  # KL goes to stderr only


def test_fp8_off_hopper_is_unsupported(tmp_path):
    if torch.cuda.is_available() and quant.has_fp8(torch.device("cuda")):
        pytest.skip("this machine has a Hopper GPU")
    proc, events = run_config_file(tmp_path, tiny_config(precision="fp8"))
    assert proc.returncode == 1
    assert events[-1]["type"] == "error" and events[-1]["kind"] == "unsupported"
    assert "fp8 needs an NVIDIA Hopper GPU (H100/H200/GH200) and torch ≥ 2.1" in events[-1]["message"]


@pytest.mark.parametrize("precision", ["int8", "int4"])
def test_pretrain_with_quantised_weights_is_unsupported(tmp_path, run_in_process, precision):
    """Decision: weight-only quantised weights are frozen, so pretraining (and full fine-tuning) with
    them trains nothing and is refused; fine-tuning adapters over them (QLoRA-style) runs."""
    code, events = run_in_process(tiny_config(stage="pretrain", precision=precision, workload={"newTokens": 0}), tmp_path)
    assert code == 1 and events[-1]["kind"] == "unsupported"
    assert "pretraining would train nothing" in events[-1]["message"] and "lora" in events[-1]["message"]
    code, events = run_in_process(tiny_config(stage="finetune", precision=precision, workload={"newTokens": 0}), tmp_path)
    assert code == 1 and events[-1]["kind"] == "unsupported" and "peft.method" in events[-1]["message"]


def test_lora_over_int4_weights_trains_qlora_style(tmp_path, run_in_process):
    peft = {"method": "lora", "rank": 8, "alpha": 16, "targets": ["q", "v"]}
    cfg = tiny_config(stage="finetune", precision="int4", peft=peft, workload={"newTokens": 0})
    code, events = run_in_process(cfg, tmp_path)
    assert code == 0, events[-1]
    c = events[-1]["counters"]
    h, q_out, kv_out = 256, 8 * 32, 2 * 32
    assert c["trainableParams"] == 2 * 8 * ((h + q_out) + (h + kv_out))  # A and B of q and v, both layers
    assert c["weightBytes"] == estimator_weight_bytes(TINY_SHAPE, "int4")  # the frozen base, adapters apart
    assert math.isfinite(c["loss"]) and c["quality"] is None


# ---- Hugging Face checkpoints ----

def test_hf_without_transformers_is_unsupported(tmp_path):
    try:
        import transformers  # noqa: F401
        pytest.skip("transformers is installed here")
    except ImportError:
        pass
    cfg = tiny_config(model={"source": "hf", "preset": None, "shape": None, "path": str(tmp_path)})
    proc, events = run_config_file(tmp_path, cfg)
    assert proc.returncode == 1
    assert events[-1]["kind"] == "unsupported"
    assert events[-1]["message"] == ("transformers is not installed on this target: pip install transformers "
                                     "(and peft for adapters)")


# A stand-in for transformers with the calls hf_model.py makes (from_pretrained, forward with
# past_key_values / use_cache / logits_to_keep, config.vocab_size, legacy tuple caches, no tokenizer),
# so the hf path runs here, where transformers cannot be installed. The real one is tested below.
FAKE_TRANSFORMERS = textwrap.dedent('''
    import json, os
    from types import SimpleNamespace
    import torch, torch.nn as nn

    class FakeRMSNorm(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))
        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight

    class TinyCausalLM(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.config = SimpleNamespace(**c)
            h, v = c["hidden_size"], c["vocab_size"]
            self.embed_tokens = nn.Embedding(v, h)
            self.k_proj = nn.Linear(h, h, bias=True)
            self.o_proj = nn.Linear(h, h, bias=False)
            self.norm = FakeRMSNorm(h)
            self.lm_head = nn.Linear(h, v, bias=False)

        def forward(self, input_ids, past_key_values=None, use_cache=False, logits_to_keep=0):
            x = self.embed_tokens(input_ids)
            k = self.k_proj(x)
            if past_key_values is not None:
                k = torch.cat([past_key_values[0][0], k], dim=1)
            x = x + self.o_proj(k.mean(1, keepdim=True).expand_as(x))
            logits = self.lm_head(self.norm(x))
            if logits_to_keep:
                logits = logits[:, -logits_to_keep:]
            return SimpleNamespace(logits=logits, past_key_values=((k, k.clone()),) if use_cache else None)

    class AutoModelForCausalLM:
        @staticmethod
        def from_pretrained(path, torch_dtype=None, local_files_only=False):
            assert local_files_only
            if not os.path.isfile(os.path.join(path, "config.json")):
                raise OSError(f"{path} does not appear to have a file named config.json")
            with open(os.path.join(path, "config.json")) as f:
                c = json.load(f)
            torch.manual_seed(0)
            return TinyCausalLM(c).to(torch_dtype)

    class AutoTokenizer:
        @staticmethod
        def from_pretrained(path, local_files_only=False):
            raise OSError("no tokenizer files")
''')


def hf_config(path, precision, stage="inference"):
    cfg = tiny_config(precision=precision, stage=stage,
                      model={"source": "hf", "preset": None, "shape": None, "path": str(path)})
    if stage != "inference":
        cfg["workload"]["newTokens"] = 0
    return cfg


def test_hf_path_with_a_stand_in_transformers(tmp_path, run_in_process, monkeypatch):
    fake = types.ModuleType("transformers")
    exec(FAKE_TRANSFORMERS, fake.__dict__)
    monkeypatch.setitem(sys.modules, "transformers", fake)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text(json.dumps({"hidden_size": 64, "vocab_size": 300}))
    results = {}
    for precision in ("bf16", "int8"):
        code, events = run_in_process(hf_config(ckpt, precision), tmp_path)
        assert code == 0, events[-1]
        results[precision] = events[-1]["counters"]
    i8, bf = results["int8"], results["bf16"]
    h, v = 64, 300
    params = v * h + (h * h + h) + h * h + h + h * v
    assert i8["params"] == bf["params"] == params and bf["weightBytes"] == 2 * params
    # int8: embedding, lm_head, k_proj and o_proj quantised (+ bf16 scales), k_proj's bias and the norm in bf16.
    assert i8["weightBytes"] == (v * h + 2 * v) * 2 + (h * h + 2 * h) * 2 + 2 * h + 2 * h
    # The cache after the last decode step: prompt + newTokens − 1 positions, K and V, fp32 on the CPU.
    assert i8["kvCacheBytes"] == 2 * 1 * (32 + 8 - 1) * h * (2 if torch.cuda.is_available() else 4)
    assert bf["quality"] == 1.0 and 0 < i8["quality"] < 2  # ppl(bf16) / ppl(int8) on the bundled text's bytes
    # Training: pretrain refused with int8 as for synthetic models; fp32 pretrain runs.
    code, events = run_in_process(hf_config(ckpt, "int8", "pretrain"), tmp_path)
    assert events[-1]["kind"] == "unsupported"
    code, events = run_in_process(hf_config(ckpt, "fp32", "pretrain"), tmp_path)
    assert code == 0, events[-1]
    assert events[-1]["counters"]["trainableParams"] == params
    # A path that is neither a folder with config.json nor cached: invalid-config naming model.path.
    code, events = run_in_process(hf_config(tmp_path / "nowhere", "bf16"), tmp_path)
    assert events[-1]["kind"] == "invalid-config" and events[-1]["message"].startswith("model.path:")


def test_hf_tiny_llama_with_real_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(config).save_pretrained(str(tmp_path / "llama"))
    for precision, stage in (("fp32", "inference"), ("int8", "inference"), ("int4", "inference"), ("fp32", "pretrain")):
        proc, events = run_config_file(tmp_path, hf_config(tmp_path / "llama", precision, stage))
        assert proc.returncode == 0, proc.stderr
        c = events[-1]["counters"]
        if stage == "inference":
            # K and V of 2 layers × 2 KV heads × 16 dims, for 32 + 8 − 1 positions, fp32 on the CPU.
            element = 4 if precision == "fp32" or not torch.cuda.is_available() else 2
            assert c["kvCacheBytes"] == 2 * 2 * 2 * 16 * (32 + 8 - 1) * element
            assert c["quality"] is not None and c["quality"] > 0
