// The generated corpora of the detection benchmarks (scripts/bench-detect.ts, scripts/bench.ts) and of
// the prefilter test (test/unit/detect-prefilter.test.ts).
//
// Real public model code cannot be downloaded here, so the workspace corpus imitates the shape of a
// real LLM repository (nanoGPT, litgpt, torchtitan, peft): most files are NOT model code — data
// loaders and preparation scripts, utilities, training, sampling and evaluation scripts, config
// modules, package __init__ files and tests — and a minority (about one in eight) are model files
// built from the styles of test/fixtures/models with renamed classes, plus Hugging Face config.json
// checkpoints. The ordinary files still use the words model code uses (dtype, Config, n_head,
// heads, query, window, gate…) as real ones do, and some of them hold real sites
// (from_pretrained in evaluation and sampling scripts, LoraConfig in adapter tests).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { listModelFiles } from '../src/detect/scan';

const FIXTURES = path.resolve(__dirname, '../test/fixtures/models');

/** mulberry32: a seeded PRNG so every run benchmarks the same corpus. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ordinary code found around models: utilities, data, training loops, docstrings. */
const FILLER = [
  (n: string) =>
    `def rotate_half_${n}(x):\n    """Rotates half the hidden dims of the input."""\n    x1 = x[..., : x.shape[-1] // 2]\n    x2 = x[..., x.shape[-1] // 2 :]\n    return torch.cat((-x2, x1), dim=-1)\n`,
  (n: string) =>
    `def apply_rotary_${n}(t, cos, sin, unsqueeze_dim=1):\n    cos = cos.unsqueeze(unsqueeze_dim)\n    sin = sin.unsqueeze(unsqueeze_dim)\n    return (t * cos) + (rotate_half(t) * sin)\n`,
  (n: string) =>
    `class TextDataset_${n}(torch.utils.data.Dataset):\n    def __init__(self, path, block=1024):\n        self.data = np.memmap(path, dtype=np.uint16, mode="r")\n        self.block = block\n\n    def __len__(self):\n        return len(self.data) - self.block\n\n    def __getitem__(self, i):\n        x = torch.from_numpy(self.data[i : i + self.block].astype(np.int64))\n        y = torch.from_numpy(self.data[i + 1 : i + 1 + self.block].astype(np.int64))\n        return x, y\n`,
  (n: string) =>
    `def train_step_${n}(model, batch, optimizer, scaler, grad_clip=1.0):\n    """One optimisation step with gradient scaling and clipping."""\n    x, y = batch\n    with torch.autocast(device_type="cuda", dtype=torch.bfloat16):\n        logits = model(x)\n        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1), ignore_index=-1)\n    scaler.scale(loss).backward()\n    if grad_clip != 0.0:\n        scaler.unscale_(optimizer)\n        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)\n    scaler.step(optimizer)\n    scaler.update()\n    optimizer.zero_grad(set_to_none=True)\n    return loss.item()\n`,
  (n: string) =>
    `def get_lr_${n}(it, warmup_iters=2000, lr_decay_iters=600000, learning_rate=6e-4, min_lr=6e-5):\n    # 1) linear warmup for warmup_iters steps\n    if it < warmup_iters:\n        return learning_rate * (it + 1) / (warmup_iters + 1)\n    # 2) if it > lr_decay_iters, return min learning rate\n    if it > lr_decay_iters:\n        return min_lr\n    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)\n    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))\n    return min_lr + coeff * (learning_rate - min_lr)\n`,
  (n: string) =>
    `class RMSNorm_${n}(nn.Module):\n    def __init__(self, size, eps=1e-6):\n        super().__init__()\n        self.eps = eps\n        self.weight = nn.Parameter(torch.ones(size))\n\n    def forward(self, x):\n        out = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)\n        return out * self.weight\n`,
  (n: string) =>
    `@torch.no_grad()\ndef estimate_loss_${n}(model, loaders, eval_iters=200):\n    out = {}\n    model.eval()\n    for split, loader in loaders.items():\n        losses = torch.zeros(eval_iters)\n        for k, (x, y) in zip(range(eval_iters), loader):\n            losses[k] = model(x, y)[1].item()\n        out[split] = losses.mean()\n    model.train()\n    return out\n`,
  (n: string) =>
    `def parse_args_${n}():\n    parser = argparse.ArgumentParser(description="train a language model")\n    parser.add_argument("--batch-size", type=int, default=12)\n    parser.add_argument("--lr", type=float, default=6e-4)\n    parser.add_argument("--max-iters", type=int, default=600000)\n    parser.add_argument("--eval-interval", type=int, default=2000)\n    parser.add_argument("--out-dir", default="out")\n    return parser.parse_args()\n`,
];

interface Template {
  name: string;
  text: string;
  classes: string[];
}

async function loadTemplates(): Promise<{ py: Template[]; configs: string[] }> {
  const { files } = await listModelFiles([FIXTURES]);
  const py: Template[] = [];
  const configs: string[] = [];
  for (const f of files) {
    const text = await readFile(f, 'utf8');
    if (f.endsWith('.json')) configs.push(text);
    else
      py.push({
        name: path.relative(FIXTURES, f),
        text,
        classes: [...text.matchAll(/^class (\w+)/gm)].map((m) => m[1]),
      });
  }
  return { py, configs };
}

function renamed(t: Template, suffix: string): string {
  if (t.classes.length === 0) return t.text;
  const re = new RegExp(`\\b(${t.classes.join('|')})\\b`, 'g');
  return t.text.replace(re, `$1${suffix}`);
}

/** One model file: 1–3 fixture styles, renamed, among 0–40 pieces of ordinary code. */
function modelFile(templates: Template[], rand: () => number, i: number): string {
  const parts: string[] = [
    'import math\nimport argparse\nimport numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n',
  ];
  const styles = 1 + Math.floor(rand() * 3);
  for (let s = 0; s < styles; s++) parts.push(renamed(templates[Math.floor(rand() * templates.length)], `_${i}_${s}`));
  const fillers = Math.floor(rand() * rand() * 40);
  for (let k = 0; k < fillers; k++)
    parts.splice(1 + Math.floor(rand() * parts.length), 0, FILLER[Math.floor(rand() * FILLER.length)](`${i}_${k}`));
  return parts.join('\n\n');
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** Some of FILLER's pieces of ordinary code, in random order. */
function fillers(rand: () => number, tag: string, max: number): string[] {
  const n = Math.floor(rand() * (max + 1));
  return Array.from({ length: n }, (_, k) => pick(rand, FILLER)(`${tag}_${k}`));
}

/** nanoGPT's train.py shape: module-level settings, helpers, the loop; one in four loads a checkpoint. */
function trainScript(rand: () => number, tag: string): string {
  const loads = rand() < 0.25;
  return [
    `"""Training script ${tag}: single GPU or DDP (torchrun)."""\nimport os\nimport time\nimport math\nimport pickle\nfrom contextlib import nullcontext\n\nimport numpy as np\nimport torch\nfrom torch.nn.parallel import DistributedDataParallel as DDP\nfrom torch.distributed import init_process_group, destroy_process_group\n\nfrom model import GPTConfig, GPT\n`,
    `# I/O\nout_dir = "out"\neval_interval = 2000\nlog_interval = 1\neval_iters = 200\nalways_save_checkpoint = True\ninit_from = "scratch"  # 'scratch' or 'resume' or 'gpt2*'\n# data\ndataset = "openwebtext"\ngradient_accumulation_steps = 5 * 8\nbatch_size = 12\nblock_size = 1024\n# model\nn_layer = 12\nn_head = 12\nn_embd = 768\ndropout = 0.0\nbias = False\n# adamw optimizer\nlearning_rate = 6e-4\nmax_iters = 600000\nweight_decay = 1e-1\nbeta1 = 0.9\nbeta2 = 0.95\ngrad_clip = 1.0\n# system\ndevice = "cuda"\ndtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float16"\ncompile = True\n`,
    `config_keys = [k for k, v in globals().items() if not k.startswith("_") and isinstance(v, (int, float, bool, str))]\nexec(open("configurator.py").read())\nconfig = {k: globals()[k] for k in config_keys}\n`,
    `ddp = int(os.environ.get("RANK", -1)) != -1\nif ddp:\n    init_process_group(backend="nccl")\n    ddp_rank = int(os.environ["RANK"])\n    ddp_local_rank = int(os.environ["LOCAL_RANK"])\n    device = f"cuda:{ddp_local_rank}"\n    torch.cuda.set_device(device)\n    master_process = ddp_rank == 0\nelse:\n    master_process = True\n`,
    `ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]\nctx = nullcontext() if device == "cpu" else torch.amp.autocast(device_type="cuda", dtype=ptdtype)\n`,
    `def get_batch(split):\n    data = np.memmap(os.path.join("data", dataset, f"{split}.bin"), dtype=np.uint16, mode="r")\n    ix = torch.randint(len(data) - block_size, (batch_size,))\n    x = torch.stack([torch.from_numpy((data[i : i + block_size]).astype(np.int64)) for i in ix])\n    y = torch.stack([torch.from_numpy((data[i + 1 : i + 1 + block_size]).astype(np.int64)) for i in ix])\n    return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)\n`,
    ...fillers(rand, tag, 4),
    loads
      ? `if init_from.startswith("gpt2"):\n    print(f"Initializing from OpenAI GPT-2 weights: {init_from}")\n    override_args = dict(dropout=dropout)\n    model = GPT.from_pretrained(init_from, override_args)\n    for k in ["n_layer", "n_head", "n_embd", "block_size", "bias", "vocab_size"]:\n        model_args[k] = getattr(model.config, k)\n`
      : `model_args = dict(n_layer=n_layer, n_head=n_head, n_embd=n_embd, block_size=block_size, bias=bias, vocab_size=None, dropout=dropout)\ngptconf = GPTConfig(**model_args)\nmodel = GPT(gptconf)\nmodel.to(device)\n`,
    `scaler = torch.cuda.amp.GradScaler(enabled=(dtype == "float16"))\noptimizer = model.configure_optimizers(weight_decay, learning_rate, (beta1, beta2), device)\nif compile:\n    model = torch.compile(model)\nif ddp:\n    model = DDP(model, device_ids=[ddp_local_rank])\n`,
    `X, Y = get_batch("train")\nt0 = time.time()\niter_num = 0\nwhile True:\n    for micro_step in range(gradient_accumulation_steps):\n        with ctx:\n            logits, loss = model(X, Y)\n            loss = loss / gradient_accumulation_steps\n        X, Y = get_batch("train")\n        scaler.scale(loss).backward()\n    if grad_clip != 0.0:\n        scaler.unscale_(optimizer)\n        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)\n    scaler.step(optimizer)\n    scaler.update()\n    optimizer.zero_grad(set_to_none=True)\n    t1 = time.time()\n    dt, t0 = t1 - t0, t1\n    if iter_num % log_interval == 0 and master_process:\n        print(f"iter {iter_num}: loss {loss.item() * gradient_accumulation_steps:.4f}, time {dt * 1000:.2f}ms")\n    iter_num += 1\n    if iter_num > max_iters:\n        break\n\nif ddp:\n    destroy_process_group()\n`,
  ].join('\n\n');
}

/** A dataset preparation script and a loader module (tokenise, memmap, batches, a retrieval set). */
function dataModule(rand: () => number, tag: string): string {
  return [
    `"""Data for ${tag}: tokenised shards, a memmapped dataset, and a query/passage set for retrieval evals."""\nimport os\nimport json\nimport random\nfrom dataclasses import dataclass\n\nimport numpy as np\nimport torch\nfrom torch.utils.data import DataLoader, Dataset, IterableDataset\n`,
    `num_proc = 8\nshard_size = 10_000_000\nDATA_CACHE_DIR = os.path.join(os.path.dirname(__file__), "cache")\n`,
    `def tokenize(doc, enc, eot):\n    tokens = [eot]\n    tokens.extend(enc.encode_ordinary(doc["text"]))\n    arr = np.array(tokens)\n    assert (0 <= arr).all() and (arr < 2**16).all(), "token dictionary too large for uint16"\n    return arr.astype(np.uint16)\n`,
    `def write_shard(filename, tokens):\n    header = np.zeros(256, dtype=np.int32)\n    header[0] = 20240520\n    header[1] = 1\n    header[2] = len(tokens)\n    with open(filename, "wb") as f:\n        f.write(header.tobytes())\n        f.write(tokens.tobytes())\n`,
    `class ShardedTokens(IterableDataset):\n    """Streams fixed-length windows from every shard, a different order on each rank."""\n\n    def __init__(self, files, seq_len, rank=0, world=1, seed=1337):\n        self.files = sorted(files)\n        self.seq_len = seq_len\n        self.rank = rank\n        self.world = world\n        self.seed = seed\n\n    def __iter__(self):\n        rng = random.Random(self.seed + self.rank)\n        files = self.files[self.rank :: self.world]\n        rng.shuffle(files)\n        for name in files:\n            data = np.memmap(name, dtype=np.uint16, mode="r", offset=1024)\n            for i in range(0, len(data) - self.seq_len - 1, self.seq_len):\n                chunk = torch.from_numpy(data[i : i + self.seq_len + 1].astype(np.int64))\n                yield chunk[:-1], chunk[1:]\n`,
    `@dataclass\nclass RetrievalExample:\n    query: str\n    positive: str\n    negatives: list\n\n\nclass RetrievalDataset(Dataset):\n    def __init__(self, path, tokenizer, max_len=512):\n        with open(path) as f:\n            self.rows = [json.loads(line) for line in f]\n        self.tokenizer = tokenizer\n        self.max_len = max_len\n\n    def __len__(self):\n        return len(self.rows)\n\n    def __getitem__(self, i):\n        row = self.rows[i]\n        query = self.tokenizer(row["query"], truncation=True, max_length=self.max_len)\n        passage = self.tokenizer(row["positive"], truncation=True, max_length=self.max_len)\n        return RetrievalExample(query, passage, row.get("negatives", []))\n`,
    `def collate(batch, pad_id=0):\n    width = max(len(x) for x, _ in batch)\n    xs = torch.full((len(batch), width), pad_id, dtype=torch.long)\n    ys = torch.full((len(batch), width), -1, dtype=torch.long)\n    for i, (x, y) in enumerate(batch):\n        xs[i, : len(x)] = x\n        ys[i, : len(y)] = y\n    return xs, ys\n`,
    ...fillers(rand, tag, 3),
    `def make_loader(files, seq_len, batch_size, rank=0, world=1, workers=4):\n    ds = ShardedTokens(files, seq_len, rank=rank, world=world)\n    return DataLoader(ds, batch_size=batch_size, num_workers=workers, pin_memory=True, collate_fn=collate)\n`,
  ].join('\n\n');
}

/** Utilities: logging, seeding, checkpoints, timers, dtype names, parameter counts. */
function utilsModule(rand: () => number, tag: string): string {
  return [
    `"""Helpers shared by the training and evaluation scripts (${tag})."""\nimport logging\nimport os\nimport random\nimport time\nfrom collections import defaultdict\n\nimport numpy as np\nimport torch\nimport torch.distributed as dist\n\nlogger = logging.getLogger(__name__)\n`,
    `DTYPES = {\n    "fp32": torch.float32,\n    "bf16": torch.bfloat16,\n    "fp16": torch.float16,\n}\n`,
    `def get_dtype(name):\n    try:\n        return DTYPES[name]\n    except KeyError:\n        raise ValueError(f"unknown dtype {name!r}; expected one of {sorted(DTYPES)}") from None\n`,
    `def seed_everything(seed):\n    random.seed(seed)\n    np.random.seed(seed)\n    torch.manual_seed(seed)\n    torch.cuda.manual_seed_all(seed)\n`,
    `class AverageMeter:\n    """Keeps the running mean of a scalar (loss, tokens/s)."""\n\n    def __init__(self, window=100):\n        self.window = window\n        self.values = []\n\n    def update(self, value):\n        self.values.append(float(value))\n        if len(self.values) > self.window:\n            self.values.pop(0)\n\n    @property\n    def mean(self):\n        return sum(self.values) / max(1, len(self.values))\n`,
    `class Timer:\n    def __init__(self):\n        self.totals = defaultdict(float)\n        self.starts = {}\n\n    def start(self, name):\n        torch.cuda.synchronize() if torch.cuda.is_available() else None\n        self.starts[name] = time.perf_counter()\n\n    def stop(self, name):\n        torch.cuda.synchronize() if torch.cuda.is_available() else None\n        self.totals[name] += time.perf_counter() - self.starts.pop(name)\n`,
    `def save_checkpoint(path, model, optimizer, step, config):\n    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "config": config}\n    tmp = path + ".tmp"\n    torch.save(state, tmp)\n    os.replace(tmp, path)\n    logger.info("saved checkpoint %s at step %d", path, step)\n`,
    `def load_checkpoint(path, model, optimizer=None, map_location="cpu"):\n    state = torch.load(path, map_location=map_location)\n    model.load_state_dict(state["model"])\n    if optimizer is not None:\n        optimizer.load_state_dict(state["optimizer"])\n    return state["step"], state.get("config", {})\n`,
    `def count_parameters(model, trainable_only=False):\n    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)\n`,
    `def is_main_process():\n    return not dist.is_initialized() or dist.get_rank() == 0\n`,
    ...fillers(rand, tag, 5),
  ].join('\n\n');
}

/** pytest tests of a model and its helpers; one in five is an adapter test with LoraConfig calls (peft's tests). */
function testModule(rand: () => number, tag: string): string {
  const adapters = rand() < 0.2;
  const parts = [
    `import math\n\nimport pytest\nimport torch\n\nfrom model import GPT, GPTConfig\nfrom utils import count_parameters, get_dtype\n`,
    `@pytest.fixture\ndef tiny_config():\n    return GPTConfig(n_layer=2, n_head=4, n_embd=64, block_size=32, vocab_size=128, dropout=0.0)\n`,
    `@pytest.mark.parametrize("heads", [1, 2, 4])\ndef test_forward_shapes_${tag}(tiny_config, heads):\n    tiny_config.n_head = heads\n    model = GPT(tiny_config)\n    x = torch.randint(0, tiny_config.vocab_size, (2, 16))\n    logits, loss = model(x, x)\n    assert logits.shape == (2, 16, tiny_config.vocab_size)\n    assert math.isfinite(loss.item())\n`,
    `def test_parameter_count_${tag}(tiny_config):\n    model = GPT(tiny_config)\n    assert count_parameters(model) > 0\n    assert count_parameters(model, trainable_only=True) == count_parameters(model)\n`,
    `@pytest.mark.parametrize("name,dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])\ndef test_get_dtype_${tag}(name, dtype):\n    assert get_dtype(name) is dtype\n\n\ndef test_get_dtype_rejects_unknown_${tag}():\n    with pytest.raises(ValueError, match="unknown dtype"):\n        get_dtype("fp7")\n`,
    `def test_generate_is_deterministic_${tag}(tiny_config):\n    torch.manual_seed(0)\n    model = GPT(tiny_config).eval()\n    idx = torch.zeros((1, 1), dtype=torch.long)\n    a = model.generate(idx, max_new_tokens=8, temperature=1.0, top_k=5)\n    torch.manual_seed(0)\n    b = model.generate(idx, max_new_tokens=8, temperature=1.0, top_k=5)\n    assert torch.equal(a, b)\n`,
  ];
  if (adapters)
    parts.push(
      `from peft import LoraConfig, get_peft_model\n`,
      `def test_lora_trains_only_adapters_${tag}(tiny_config):\n    config = LoraConfig(r=8, lora_alpha=16, target_modules=["c_attn"], lora_dropout=0.0)\n    model = get_peft_model(GPT(tiny_config), config)\n    trainable = [n for n, p in model.named_parameters() if p.requires_grad]\n    assert trainable and all("lora_" in n for n in trainable)\n`,
    );
  return [...parts, ...fillers(rand, tag, 2)].join('\n\n');
}

/** lm-eval-style scoring of a checkpoint; half load it through transformers (a load site). */
function evalScript(rand: () => number, tag: string): string {
  const hf = rand() < 0.5;
  return [
    `"""Perplexity and accuracy of a checkpoint on held-out text (${tag})."""\nimport argparse\nimport json\nimport math\n\nimport torch\nimport torch.nn.functional as F\n`,
    hf
      ? `from transformers import AutoModelForCausalLM, AutoTokenizer\n\n\ndef load(args):\n    tokenizer = AutoTokenizer.from_pretrained(args.model)\n    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.bfloat16, device_map="auto")\n    return model.eval(), tokenizer\n`
      : `from model import GPT, GPTConfig\n\n\ndef load(args):\n    ckpt = torch.load(args.ckpt, map_location=args.device)\n    model = GPT(GPTConfig(**ckpt["model_args"]))\n    model.load_state_dict(ckpt["model"])\n    return model.eval().to(args.device), None\n`,
    `@torch.no_grad()\ndef perplexity(model, batches, window=1024):\n    nll, count = 0.0, 0\n    for x, y in batches:\n        logits = model(x[:, -window:])[0]\n        nll += F.cross_entropy(logits.flatten(0, 1), y[:, -window:].flatten(), reduction="sum").item()\n        count += y.numel()\n    return math.exp(nll / count)\n`,
    ...fillers(rand, tag, 3),
    `def main():\n    parser = argparse.ArgumentParser()\n    parser.add_argument("--model", default="gpt2")\n    parser.add_argument("--ckpt", default="out/ckpt.pt")\n    parser.add_argument("--device", default="cuda")\n    parser.add_argument("--out", default="eval.json")\n    args = parser.parse_args()\n    model, _ = load(args)\n    result = {"model": args.model}\n    with open(args.out, "w") as f:\n        json.dump(result, f, indent=2)\n\n\nif __name__ == "__main__":\n    main()\n`,
  ].join('\n\n');
}

/** nanoGPT's config/*.py: nothing but settings (model sizes among them). */
function configModule(rand: () => number, tag: string): string {
  const [layers, heads, embd] = pick(rand, [
    [6, 6, 384],
    [12, 12, 768],
    [24, 16, 1024],
  ] as const);
  return `# config ${tag}: train a character-level model\nout_dir = "out-${tag}"\neval_interval = 250\neval_iters = 200\nlog_interval = 10\nalways_save_checkpoint = False\nwandb_log = False\nwandb_project = "${tag}"\ndataset = "shakespeare_char"\ngradient_accumulation_steps = 1\nbatch_size = 64\nblock_size = 256\nn_layer = ${layers}\nn_head = ${heads}\nn_embd = ${embd}\ndropout = 0.2\nlearning_rate = 1e-3\nmax_iters = 5000\nlr_decay_iters = 5000\nmin_lr = 1e-4\nbeta2 = 0.99\nwarmup_iters = 100\n`;
}

/** A package's __init__.py. */
function initModule(_rand: () => number, tag: string): string {
  return `"""${tag}: a small GPT and its training utilities."""\nfrom .model import GPT, GPTConfig\nfrom .utils import count_parameters, get_dtype, load_checkpoint, save_checkpoint\n\n__all__ = ["GPT", "GPTConfig", "count_parameters", "get_dtype", "load_checkpoint", "save_checkpoint"]\n__version__ = "0.1.0"\n`;
}

/** sample.py: generate from a checkpoint or from GPT-2 weights (half of them: a load site). */
function sampleScript(rand: () => number, tag: string): string {
  const fromGpt2 = rand() < 0.5;
  return [
    `"""Sample from a trained model (${tag})."""\nimport os\nimport pickle\nfrom contextlib import nullcontext\n\nimport torch\nimport tiktoken\n\nfrom model import GPTConfig, GPT\n`,
    `init_from = "resume"\nout_dir = "out"\nstart = "\\n"\nnum_samples = 10\nmax_new_tokens = 500\ntemperature = 0.8\ntop_k = 200\nseed = 1337\ndevice = "cuda"\ndtype = "bfloat16"\n`,
    fromGpt2
      ? `model = GPT.from_pretrained(init_from, dict(dropout=0.0))\n`
      : `ckpt_path = os.path.join(out_dir, "ckpt.pt")\ncheckpoint = torch.load(ckpt_path, map_location=device)\ngptconf = GPTConfig(**checkpoint["model_args"])\nmodel = GPT(gptconf)\nmodel.load_state_dict(checkpoint["model"])\n`,
    `model.eval()\nmodel.to(device)\nenc = tiktoken.get_encoding("gpt2")\nencode = lambda s: enc.encode(s, allowed_special={"<|endoftext|>"})\ndecode = lambda l: enc.decode(l)\nx = torch.tensor(encode(start), dtype=torch.long, device=device)[None, ...]\nwith torch.no_grad():\n    for k in range(num_samples):\n        y = model.generate(x, max_new_tokens, temperature=temperature, top_k=top_k)\n        print(decode(y[0].tolist()))\n        print("---------------")\n`,
    ...fillers(rand, tag, 1),
  ].join('\n\n');
}

/** What the workspace corpus holds besides model files and config.json, with the share of each. */
const ORDINARY: readonly {
  weight: number;
  file: (rand: () => number, tag: string) => string;
  path: (i: number) => string;
}[] = [
  { weight: 14, file: trainScript, path: (i) => `train_${i}.py` },
  { weight: 16, file: dataModule, path: (i) => `data_${i}.py` },
  { weight: 18, file: utilsModule, path: (i) => `utils_${i}.py` },
  { weight: 22, file: testModule, path: (i) => path.join('tests', `test_${i}.py`) },
  { weight: 8, file: evalScript, path: (i) => `eval_${i}.py` },
  { weight: 8, file: configModule, path: (i) => path.join('config', `train_${i}.py`) },
  { weight: 8, file: initModule, path: (i) => path.join(`lib${i}`, '__init__.py') },
  { weight: 6, file: sampleScript, path: (i) => `sample_${i}.py` },
];

function ordinaryFile(rand: () => number, i: number): { path: string; text: string } {
  const total = ORDINARY.reduce((s, k) => s + k.weight, 0);
  let r = rand() * total;
  const kind = ORDINARY.find((k) => (r -= k.weight) < 0) ?? ORDINARY[0];
  return { path: kind.path(i), text: kind.file(rand, String(i)) };
}

export interface Corpus {
  files: number;
  bytes: number;
  /** Python files built from the model fixtures. */
  modelFiles: number;
  /** Hugging Face config.json checkpoints. */
  configFiles: number;
  /** Everything else: data, utils, training, sampling and evaluation scripts, config modules, tests. */
  ordinaryFiles: number;
}

/** Shares of the workspace corpus: one file in eight is a model file, one in twenty-five a config.json. */
const MODEL_SHARE = 0.125;
const CONFIG_SHARE = 0.04;

/**
 * A workspace of `n` files, the same for a given `n` on every run: folders of 50, most files
 * ordinary code, a minority model files and config.json checkpoints (see the shares above).
 */
export async function generateCorpus(dir: string, n: number): Promise<Corpus> {
  const { py, configs } = await loadTemplates();
  const rand = rng(42);
  const corpus: Corpus = { files: n, bytes: 0, modelFiles: 0, configFiles: 0, ordinaryFiles: 0 };
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, `pkg${String(Math.floor(i / 50)).padStart(2, '0')}`);
    const r = rand();
    let file: string;
    let text: string;
    if (r < CONFIG_SHARE) {
      text = configs[i % configs.length];
      file = path.join(sub, `ckpt${i}`, 'config.json');
      corpus.configFiles++;
    } else if (r < CONFIG_SHARE + MODEL_SHARE) {
      text = modelFile(py, rand, i);
      file = path.join(sub, `modeling_${i}.py`);
      corpus.modelFiles++;
    } else {
      const made = ordinaryFile(rand, i);
      text = made.text;
      file = path.join(sub, made.path);
      corpus.ordinaryFiles++;
    }
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
    corpus.bytes += Buffer.byteLength(text);
  }
  return corpus;
}

/** A 5,000-line modeling file: the fixture styles repeated with renamed classes and ordinary code. */
export async function bigFile(lines: number): Promise<string> {
  const { py } = await loadTemplates();
  const rand = rng(7);
  const parts: string[] = [];
  let count = 0;
  for (let i = 0; count < lines; i++) {
    const part = rand() < 0.5 ? renamed(py[i % py.length], `_${i}`) : FILLER[i % FILLER.length](String(i));
    parts.push(part);
    count += part.split('\n').length + 1;
  }
  return parts.join('\n').split('\n').slice(0, lines).join('\n');
}
