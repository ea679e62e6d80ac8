import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { splitTopLevel } from '../../src/detect/blocks';
import { DetectionCache, detectText } from '../../src/detect/detector';
import { sharedPythonParser } from '../../src/detect/pythonParser';
import { listModelFiles, scanWorkspace } from '../../src/detect/scan';
import type { ModelSite } from '../../src/detect/site';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');

interface Expected {
  file: string;
  line: number;
  kind: string;
  attention: string | null;
  name: string;
}

const key = (s: Expected | ModelSite): Expected => ({
  file: s.file,
  line: s.line,
  kind: s.kind,
  attention: s.attention,
  name: s.name,
});

async function fixtureSites(): Promise<ModelSite[]> {
  const { files, problems } = await listModelFiles([FIXTURES]);
  assert.deepEqual(problems, []);
  const result = await new DetectionCache().detectFiles(files, {
    label: (f) => path.relative(FIXTURES, f).split(path.sep).join('/'),
  });
  assert.deepEqual(result.problems, []);
  return result.sites;
}

const find = (sites: ModelSite[], file: string, name: string): ModelSite => {
  const s = sites.find((x) => x.file === file && x.name === name);
  assert.ok(s, `no site ${name} in ${file}`);
  return s;
};

test('every fixture style: exactly the sites in expected.json (file, line, kind, attention, name)', async () => {
  const expected = JSON.parse(await readFile(path.join(FIXTURES, 'expected.json'), 'utf8')) as { sites: Expected[] };
  const sites = await fixtureSites();
  assert.deepEqual(sites.map(key), expected.sites);
});

test('details carry the numbers the estimator needs', async () => {
  const sites = await fixtureSites();
  const meta = find(sites, 'meta/model.py', 'Attention').details;
  assert.equal(meta.heads, 32);
  assert.equal(meta.kvHeads, 8);
  assert.equal(meta.hidden, 4096);
  assert.equal(meta.headDim, 128);
  const mqa = find(sites, 'config_driven/mqa_model.py', 'MultiQueryAttention').details;
  assert.deepEqual([mqa.heads, mqa.kvHeads, mqa.kernel], [16, 1, 'sdpa']);
  const gqa = find(sites, 'config_driven/mqa_model.py', 'GroupedAttention').details;
  assert.deepEqual([gqa.heads, gqa.kvHeads, gqa.slidingWindow], [8, 2, 256]);
  const llama = find(sites, 'hf/modeling_llama.py', 'LlamaAttention').details;
  assert.equal(llama.kvHeadsFrom, 'config.num_key_value_heads');
  assert.ok(llama.evidence?.includes('repeat_kv'));
  assert.equal(find(sites, 'hf/modeling_mixtral.py', 'MixtralAttention').details.slidingWindow, true);
  const moe = find(sites, 'hf/modeling_mixtral.py', 'MixtralSparseMoeBlock').details;
  assert.deepEqual([moe.expertsFrom, moe.topKFrom], ['config.num_local_experts', 'config.num_experts_per_tok']);
  assert.equal(find(sites, 'nanogpt/model.py', 'CausalSelfAttention').details.heads, 12);
  const nsa = find(sites, 'nsa/native_sparse_attention.py', 'SparseAttention').details;
  assert.deepEqual(nsa.nsaBranches, ['compressed', 'selected', 'sliding']);
  assert.deepEqual([nsa.blockSize, nsa.selectedBlocks, nsa.slidingWindow], [32, 16, 512]);

  const script = 'training/finetune_qlora.py';
  const lora = sites.filter((s) => s.file === script && s.kind === 'peft').map((s) => s.details);
  assert.deepEqual(lora[0], {
    rank: 16,
    alpha: 32,
    dropout: 0.05,
    useDora: true,
    targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    method: 'dora',
  });
  assert.deepEqual(lora[1], { rank: 8, alpha: 16, useRslora: true, targetModules: 'all-linear', method: 'rslora' });
  assert.deepEqual(find(sites, script, 'BitsAndBytesConfig').details, {
    loadIn4bit: true,
    precision: 'int4',
    quantType: 'nf4',
    computeDtype: 'bf16',
    doubleQuant: true,
  });
  const loads = sites.filter((s) => s.file === script && s.kind === 'load').map((s) => s.details);
  assert.deepEqual(loads[0], {
    model: 'meta-llama/Meta-Llama-3-8B',
    dtype: 'bf16',
    quantizationConfig: 'bnb_config',
    precision: 'int4',
    deviceMap: 'auto',
    attnImplementation: 'sdpa',
  });
  assert.deepEqual(loads[1], { model: 'gpt2', dtype: 'fp16', precision: 'fp16' });

  const ds = find(sites, 'deepseek-v2/config.json', 'DeepseekV2ForCausalLM').details;
  assert.deepEqual(
    [ds.kvRank, ds.qRank, ds.ropeDim, ds.experts, ds.topK, ds.sharedExperts],
    [512, 1536, 64, 160, 6, 2],
  );
  assert.equal(find(sites, 'mistral-7b/config.json', 'MistralForCausalLM').details.slidingWindow, 4096);
  assert.deepEqual(find(sites, 'llama-3-8b/config.json', 'LlamaForCausalLM').details.kvHeads, 8);
});

test('a syntax error does not hide the sites in the valid parts, and does not throw', async () => {
  const text = [
    'import torch',
    'from torch import nn',
    'def broken(:',
    '    return 1 +',
    'class Attn(nn.Module):',
    '    def __init__(self, dim=256, n_heads=8, n_kv_heads=2):',
    '        super().__init__()',
    '        self.n_heads = n_heads',
    '        self.n_kv_heads = n_kv_heads',
    '        self.q_proj = nn.Linear(dim, dim)',
    '        self.k_proj = nn.Linear(dim, dim // 4)',
    '        self.v_proj = nn.Linear(dim, dim // 4)',
    '    def forward(self, x):',
    '        y = = x +* 2',
    '        return torch.nn.functional.scaled_dot_product_attention(x, x, x)',
    'cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj"])',
    'x = [1, 2,',
    'model = AutoModelForCausalLM.from_pretrained("gpt2", load_in_8bit=True)',
  ].join('\n');
  const sites = await detectText('broken.py', text);
  assert.deepEqual(sites.map(key), [
    { file: 'broken.py', line: 5, kind: 'attention', attention: 'gqa', name: 'Attn' },
    { file: 'broken.py', line: 16, kind: 'peft', attention: null, name: 'LoraConfig' },
    { file: 'broken.py', line: 18, kind: 'load', attention: null, name: 'AutoModelForCausalLM.from_pretrained' },
  ]);
  assert.deepEqual([sites[0].details.heads, sites[0].details.kvHeads], [8, 2]);
  assert.equal(sites[2].details.precision, 'int8');
  // Garbage and empty input are no sites, not errors.
  assert.deepEqual(await detectText('empty.py', ''), []);
  assert.deepEqual(await detectText('junk.py', '\u0000\u0001 ))) class ((( """ \'\'\''), []);
});

test('top-level split: decorators stay with their class, strings and brackets at column 0 do not cut', () => {
  const text = [
    'import torch', // 0
    '@dataclass', // 1
    'class A:', // 2
    '    x: int = 1', // 3
    'DOC = """', // 4
    'class NotAClass:', // 5 (inside a string)
    '"""', // 6
    'y = foo(1,', // 7
    'class AlsoNot)', // 8 (inside brackets)
    'if x:', // 9
    '    pass', // 10
    'else:', // 11
    '    pass', // 12
    "s = 'unterminated", // 13
    'z = 1 + \\', // 14
    'class Continued', // 15 (backslash continuation)
    '# a comment at column 0', // 16
    'def f(): pass', // 17
  ].join('\n');
  assert.deepEqual(
    splitTopLevel(text).map((b) => b.line),
    [0, 1, 4, 7, 9, 13, 14, 17],
  );
});

test('the parser loads lazily: creating a cache or reading config.json does not load it', async () => {
  let loads = 0;
  const cache = new DetectionCache(() => {
    loads++;
    return sharedPythonParser();
  });
  const config = await readFile(path.join(FIXTURES, 'gpt2/config.json'), 'utf8');
  await cache.detectText('gpt2/config.json', config);
  assert.equal(loads, 0);
  await cache.detectText('a.py', 'class A:\n    pass\n');
  await cache.detectText('b.py', 'import os\n');
  assert.equal(loads, 1);
});

test('the cache re-parses only the changed file, and only the changed statement in it', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'detect-cache-'));
  try {
    const src = (name: string, kv: number): string =>
      `from torch import nn\n\nclass ${name}(nn.Module):\n    def __init__(self, n_heads=8, n_kv_heads=${kv}):\n        super().__init__()\n        self.n_heads = n_heads\n        self.n_kv_heads = n_kv_heads\n        self.qkv = nn.Linear(512, 1024)\n`;
    const files = ['a.py', 'b.py', 'c.py'].map((f) => path.join(dir, f));
    await Promise.all(files.map((f, i) => writeFile(f, src(`Attn${i}`, 8))));
    const cache = new DetectionCache();
    const first = await cache.detectFiles(files);
    assert.deepEqual(
      first.sites.map((s) => s.attention),
      ['mha', 'mha', 'mha'],
    );
    assert.equal(cache.stats.files, 3);
    const parsesAfterFirst = cache.stats.parses;

    const again = await cache.detectFiles(files);
    assert.deepEqual(again.sites, first.sites);
    assert.equal(cache.stats.files, 3, 'nothing changed: no file re-detected');
    assert.equal(cache.stats.parses, parsesAfterFirst);
    assert.equal(cache.stats.hits, 3);

    await writeFile(files[1], src('Attn1', 1) + '# a longer file now\n');
    const third = await cache.detectFiles(files);
    assert.equal(cache.stats.files, 4, 'only b.py was re-detected');
    assert.equal(cache.stats.parses, parsesAfterFirst + 1, 'one statement of b.py parsed again');
    assert.deepEqual(
      third.sites.map((s) => s.attention),
      ['mha', 'mqa', 'mha'],
    );

    // Editor buffers: an edit in one class re-parses that class only; the other keeps its facts
    // even though its lines moved.
    const two = `${src('X', 2)}\n${src('Y', 4).replace('from torch import nn\n', '')}`;
    const before = cache.stats.parses;
    const s1 = await cache.detectText('buf.py', two);
    assert.equal(cache.stats.parses - before, 2, 'two classes (the import mentions nothing we look for)');
    const edited = `# header line\n${two.replace('n_kv_heads=2', 'n_kv_heads=1')}`;
    const s2 = await cache.detectText('buf.py', edited);
    assert.equal(cache.stats.parses - before, 3, 'only class X parsed again');
    assert.deepEqual(
      s1.map((s) => [s.name, s.line, s.attention]),
      [
        ['X', 3, 'gqa'],
        ['Y', 11, 'gqa'],
      ],
    );
    assert.deepEqual(
      s2.map((s) => [s.name, s.line, s.attention]),
      [
        ['X', 4, 'mqa'],
        ['Y', 12, 'gqa'],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('workspace scan: skips dependency folders, environments and big files; reports progress; cancels', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'detect-scan-'));
  try {
    const attn =
      'from torch import nn\nclass A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.c_attn = nn.Linear(8, 24)\n';
    const put = async (rel: string, text: string): Promise<void> => {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    };
    await put('model.py', attn);
    await put('pkg/inner/model2.py', attn);
    await put(
      'ckpt/config.json',
      '{"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 1, "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 100}',
    );
    await put('other.json', '{"model_type": "llama"}');
    await put('node_modules/x/model.py', attn);
    await put('.git/hooks/model.py', attn);
    await put('env1/pyvenv.cfg', 'home = /usr/bin\n');
    await put('env1/lib/python3.11/site-packages/transformers/modeling.py', attn);
    await put('lib/site-packages/m.py', attn);
    await put('big.py', `${attn}${'#'.repeat(2 * 1024 * 1024)}\n`);

    const progress: [number, number][] = [];
    const result = await scanWorkspace([dir], {
      label: (f) => path.relative(dir, f),
      onProgress: (done, total) => progress.push([done, total]),
    });
    assert.deepEqual(
      result.sites.map((s) => `${s.file}:${s.line}:${s.attention}`),
      ['ckpt/config.json:1:mqa', 'model.py:2:mha', 'pkg/inner/model2.py:2:mha'],
    );
    assert.equal(result.files, 4, 'big.py is listed, then skipped when read');
    assert.deepEqual(progress, [
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);

    assert.deepEqual(
      result.skipped.map((p) => p.file),
      ['big.py'],
    );
    assert.deepEqual(result.problems, []);

    const controller = new AbortController();
    const scan = scanWorkspace([dir], {
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(scan, (e: Error) => e.name === 'AbortError');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('values resolve the way config-driven code writes them', async () => {
  const { Scope } = await import('../../src/detect/resolve');
  const file = new Map([
    ['n_heads', '32'],
    ['n_kv_heads', 'None'],
    ['dim', '4096'],
    ['window', '4_096'],
    ['MODEL', '"org/model"'],
  ]);
  const own = new Map([['n_kv_heads', 'args.n_heads if args.n_kv_heads is None else args.n_kv_heads']]);
  const scope = new Scope([own, file]);
  assert.equal(scope.resolveName('n_kv_heads'), 32, 'None falls back to n_heads (Meta style)');
  assert.equal(scope.resolve('args.dim // args.n_heads'), 128);
  assert.equal(scope.resolve('cfg["n_heads"]'), 32);
  assert.equal(scope.resolve('getattr(config, "head_dim", 64)'), 64);
  assert.equal(scope.resolve('config.get("dim", 1)'), 4096);
  assert.equal(scope.resolve('(window)'), 4096);
  assert.equal(scope.resolve('MODEL'), 'org/model');
  assert.equal(scope.resolve('config.num_key_value_heads'), undefined, 'not in this file: unresolved, not a guess');
  assert.equal(scope.resolve('n_kv_heads or n_heads'), 32);
  // A self-reference does not loop.
  assert.equal(new Scope([new Map([['x', 'self.x']])]).resolveName('x'), undefined);
});

test('tuple assignments and a low-rank query alone are read (Meta / DeepSeek habits)', async () => {
  const text = [
    'from torch import nn',
    'N_HEADS = 16',
    'class Attn(nn.Module):',
    '    def __init__(self, dim=1024, kv=4):',
    '        super().__init__()',
    '        self.n_heads, self.n_kv_heads = N_HEADS, kv',
    '        self.wq, self.wk, self.wv = nn.Linear(dim, dim), nn.Linear(dim, 256), nn.Linear(dim, 256)',
    'class Latent(nn.Module):',
    '    def __init__(self, config):',
    '        super().__init__()',
    '        self.q_lora_rank = 1536',
    '        self.q_a_proj = nn.Linear(config.hidden_size, self.q_lora_rank)',
    '        self.kv_proj = nn.Linear(config.hidden_size, 512)',
  ].join('\n');
  const sites = await detectText('t.py', text);
  assert.deepEqual(
    sites.map((s) => [s.name, s.attention, s.details.heads, s.details.kvHeads]),
    [
      ['Attn', 'gqa', 16, 4],
      ['Latent', 'mla', undefined, undefined],
    ],
  );
  assert.equal(sites[1].details.qRank, 1536);
});
