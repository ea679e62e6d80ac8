// `efficientllm profile` refusing bad input before anything runs: a plan with a misspelt or misplaced
// field, a sweep flag beside --plan, an unknown flag, an absurd shape, and configs that cannot fit the
// machine's memory. Each exits 2 with one line naming the field (and the estimate), and leaves no run
// record and no run folder. No harness is started: the refusals come before the interpreter is asked.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli';
import { formatBytes } from '../../src/core/units';
import { fakeIo } from './helpers';

interface Refused {
  code: number;
  stderr: string;
  stdout: string;
}

/** Runs profile in a fresh workspace with `plan` (if given) as plan.json; checks nothing was stored or started. */
async function profileIn(args: string[], plan?: unknown): Promise<Refused> {
  const dir = await mkdtemp(path.join(tmpdir(), 'elp-profile-cli-'));
  try {
    if (plan !== undefined) await writeFile(path.join(dir, 'plan.json'), JSON.stringify(plan));
    const io = fakeIo(dir);
    // A python that cannot start: were the harness launched, the error would say so instead.
    io.env = { EFFICIENTLLM_CACHE: path.join(dir, 'cache'), EFFICIENTLLM_PYTHON: path.join(dir, 'no-python') };
    const code = await main(['profile', ...args], io);
    assert.equal(existsSync(path.join(dir, '.efficientllm', 'runs')), false, 'no run record is stored');
    assert.equal(existsSync(path.join(dir, 'cache', 'runs')), false, 'no run folder is made');
    assert.deepEqual(
      (await readdir(dir)).sort(),
      plan === undefined ? [] : ['plan.json'],
      'nothing else is written in the workspace',
    );
    return { code, stderr: io.stderr, stdout: io.stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a misspelt field in --plan exits 2 naming its path and the nearest known field; nothing is stored', async () => {
  const r = await profileIn(['--plan', 'plan.json'], { model: { preset: 'tiny' }, attention: { kvheads: 4 } });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^efficientllm: --plan .*plan\.json: attention\.kvheads: unknown field; did you mean attention\.kvHeads\?\n$/,
  );
  assert.equal(r.stdout, '');
});

test('a field in the wrong place in --plan says where it belongs', async () => {
  const r = await profileIn(['--plan', 'plan.json'], { model: { preset: 'tiny' }, seqLen: 512 });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /plan\.json: seqLen: belongs under workload\n$/);
});

test('a {base, axes} plan and a list of plans name the entry and the path inside it', async () => {
  const sweep = await profileIn(['--plan', 'plan.json'], {
    base: { model: { preset: 'tiny' }, workload: { seqlen: 64 } },
    axes: { attention: ['mha', 'gqa'], precison: ['bf16'] },
  });
  assert.equal(sweep.code, 2);
  assert.match(sweep.stderr, /base\.workload\.seqlen: unknown field; did you mean base\.workload\.seqLen\?/);
  assert.match(sweep.stderr, /axes\.precison: unknown field; did you mean axes\.precision\?/);
  const list = await profileIn(
    ['--plan', 'plan.json'],
    [{ model: { preset: 'tiny' } }, { model: { preset: 'tiny' }, stage: 'pretrain', warmup: 1 }],
  );
  assert.equal(list.code, 2);
  assert.match(list.stderr, /\[1\]\.warmup: belongs under \[1\]\.workload\n$/);
});

test('sweep flags beside --plan are refused instead of ignored', async () => {
  const r = await profileIn(['--plan', 'plan.json', '--seq-len', '64'], { model: { preset: 'tiny' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--seq-len does not apply with --plan; put it in the plan file or drop --plan/);
});

test('an unknown flag names the nearest one', async () => {
  const r = await profileIn(['--seqlen', '64']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--seqlen: unknown flag; did you mean --seq-len\?/);
});

test('layers 1,000,000 is refused by validation, naming the field and the bound', async () => {
  const r = await profileIn(['--plan', 'plan.json'], { model: { preset: 'tiny', shape: { layers: 1_000_000 } } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /model\.shape\.layers: 1000000 is beyond any published model \(at most 1,000/);
});

test('--seq-len 99999999 is refused before any process starts, with the estimate and the memory', async () => {
  const r = await profileIn(['--seq-len', '99999999', '--attention', 'gqa']);
  assert.equal(r.code, 2);
  // tiny gqa-2 fp32: KV cache 2 (K, V) × 2 layers × 2 KV heads × 32 × 4 bytes × (99,999,999 + 32) tokens.
  const kv = 2 * 2 * 2 * 32 * 4 * (99_999_999 + 32);
  assert.match(r.stderr, /config 1 \(tiny gqa-2 fp32 inference\) needs ≈ [\d.]+ GiB \(a floor: /);
  assert.ok(r.stderr.includes(`KV cache ${formatBytes(kv)}`), r.stderr);
  assert.ok(r.stderr.includes(`local CPU has ${formatBytes(totalmem())}`), r.stderr);
  assert.match(r.stderr, /or pass --no-fit-check to try anyway/);
});

test('a model of 1,000 layers at Llama-3.1-405B width is refused by the fit check, not started', async () => {
  const shape = { layers: 1000, hidden: 16384, heads: 128, kvHeads: 8, headDim: 128, ffn: 53248, vocab: 128256 };
  const r = await profileIn(['--plan', 'plan.json'], { model: { preset: 'tiny', shape }, precision: 'bf16' });
  assert.equal(r.code, 2);
  // bf16 weights: per layer q, o (16384²) + k, v (16384 × 1024) + gate, up, down (3 × 16384 × 53248) + 2 norms,
  // plus the embedding and lm_head (2 × 128256 × 16384) and the final norm; 2 bytes each.
  const h = 16384;
  const perLayer = 2 * h * h + 2 * h * 1024 + 3 * h * 53248 + 2 * h;
  const weights = 2 * (1000 * perLayer + 2 * 128256 * h + h);
  assert.ok(r.stderr.includes(`weights ${formatBytes(weights)}`), r.stderr);
  assert.match(r.stderr, /needs ≈ [\d.]+ TiB \(a floor: /);
});

test('--no-fit-check lets a config that looks too large through to the target', async () => {
  const r = await profileIn(['--seq-len', '99999999', '--attention', 'gqa', '--no-fit-check']);
  // The launch is tried: the missing interpreter is what stops it now, still before any record.
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no-python.*could not start/);
  assert.doesNotMatch(r.stderr, /needs ≈/);
});
