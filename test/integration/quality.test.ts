// Quality beside cost through the CLI on CPU, with the real harness: pretraining to a budget with
// seeds, real text, fine-tuning before and after, precisions on a trained model, and recommend
// weighing quality. Budgets are smaller than the commands (which the closing note measured)
// so the tier stays short; the assertions are the same. Losses are recomputed outside the harness in
// test/python/test_budget.py; here the floors are the ground truth: ln(vocab) for an untrained model,
// the synthetic source's exact entropy, ln 256 for bytes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../../src/core/record';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const PYTHON = process.env.EFFICIENTLLM_PYTHON ?? 'python3';
const VOCAB = 1024; // the tiny preset
const GPL = '/usr/share/common-licenses/GPL-3';
const SMALL = ['--preset', 'tiny', '--batch', '4', '--seq-len', '64', '--steps', '2', '--warmup', '1'];

async function workspace(): Promise<{ cwd: string; env: NodeJS.ProcessEnv }> {
  const cwd = await mkdtemp(join(tmpdir(), 'elp-quality-'));
  return { cwd, env: { ...process.env, EFFICIENTLLM_CACHE: join(cwd, 'cache'), EFFICIENTLLM_PYTHON: PYTHON } };
}

function cli(
  args: string[],
  ws: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; out: string; err: string }> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ws.cwd, env: ws.env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, out, err })));
}

async function profile(args: string[], ws: { cwd: string; env: NodeJS.ProcessEnv }): Promise<RunRecord[]> {
  const r = await cli(['profile', ...SMALL, ...args, '--json'], ws);
  assert.equal(r.code, 0, r.err);
  const runs = (JSON.parse(r.out) as { runs: RunRecord[] }).runs;
  for (const run of runs) assert.equal(run.status, 'completed', JSON.stringify(run.error));
  return runs;
}

test('pretrain to a budget with two seeds: held-out loss falls to above the entropy floor', async () => {
  const ws = await workspace();
  const runs = await profile(
    ['--attention', 'gqa,mla', '--stage', 'pretrain', '--train-tokens', '40k', '--seeds', '0,1'],
    ws,
  );
  assert.equal(runs.length, 4);
  for (const r of runs) {
    const m = r.metrics;
    const evals = r.evals ?? [];
    assert.ok(evals.length >= 3, `${evals.length} evals`);
    assert.ok(evals[evals.length - 1].valLoss < evals[0].valLoss);
    assert.ok(Math.abs(evals[0].valLoss - Math.log(VOCAB)) < 0.3, 'an untrained model predicts ~uniformly');
    assert.equal(m.valLoss, evals[evals.length - 1].valLoss);
    assert.ok(m.perplexity !== null && m.valLoss !== null && Math.abs(m.perplexity - Math.exp(m.valLoss)) < 1e-9);
    assert.ok(m.dataEntropy !== null && m.valLoss >= m.dataEntropy - 0.02);
    assert.ok(m.valLoss < Math.log(VOCAB) - 1, `valLoss ${m.valLoss} is not well under ln(vocab)`);
    assert.ok((m.trainTokens ?? 0) >= 40_000);
  }
  assert.notEqual(runs[0].metrics.valLoss, runs[1].metrics.valLoss, 'two seeds, two trainings');

  const rec = await cli(['recommend', '--objective', 'quality,latency', '--json'], ws);
  assert.equal(rec.code, 0, rec.err);
  const [group] = (
    JSON.parse(rec.out) as {
      groups: { objectives: string[]; recommendation: { reason: string; evidence: string[] } }[];
    }
  ).groups;
  assert.deepEqual(group.objectives, ['perplexity', 'latency']);
  assert.match(group.recommendation.reason, /ppl \d/);
  assert.ok(group.recommendation.evidence.length >= 2);
});

test(
  'real text: bytes learned well under ln 256',
  { skip: existsSync(GPL) ? false : `${GPL} is missing` },
  async () => {
    const ws = await workspace();
    const [run] = await profile(['--stage', 'pretrain', '--data', `text:${GPL}`, '--train-tokens', '40k'], ws);
    assert.equal(run.metrics.dataEntropy, null); // unknown for real text: null, not a guess
    assert.ok((run.metrics.valLoss ?? 99) < Math.log(256) - 1.5, `held-out loss per byte ${run.metrics.valLoss}`);
  },
);

test('fine-tuning moves the base on the held-apart task; precisions are scored on the trained model', async () => {
  const ws = await workspace();
  const ft = await profile(['--stage', 'finetune', '--peft', 'lora,dora,full', '--train-tokens', '24k'], ws);
  assert.equal(ft.length, 3);
  const base = ft[0].metrics.baseValLoss;
  for (const r of ft) {
    assert.ok(r.metrics.baseValLoss !== null && r.metrics.valLoss !== null);
    assert.equal(r.metrics.baseValLoss, base, 'one base model for every method');
    assert.ok(r.metrics.valLoss < r.metrics.baseValLoss, `${r.config.label}: ${r.metrics.valLoss} ≥ ${base}`);
  }
  const inf = await profile(
    ['--stage', 'inference', '--new-tokens', '4', '--precision', 'bf16,int8,int4', '--train-tokens', '24k'],
    ws,
  );
  const [bf16, , int4] = inf;
  for (const r of inf) assert.ok(r.metrics.perplexity !== null && r.metrics.quality !== null);
  assert.equal(bf16.metrics.quality, 1);
  assert.ok((int4.metrics.valLoss ?? 0) > (bf16.metrics.valLoss ?? 0) - 0.02, 'int4 no better than bf16 beyond noise');
});

test('bad data: a missing path on the target is invalid-config before any work', async () => {
  const ws = await workspace();
  const r = await cli(
    [
      'profile',
      ...SMALL,
      '--stage',
      'pretrain',
      '--data',
      'text:/nonexistent/corpus.txt',
      '--train-tokens',
      '10k',
      '--json',
    ],
    ws,
  );
  const [run] = (JSON.parse(r.out) as { runs: RunRecord[] }).runs;
  assert.equal(run.status, 'failed');
  assert.equal(run.error?.kind, 'invalid-config');
  assert.match(run.error?.message ?? '', /\/nonexistent\/corpus\.txt/);
  const usage = await cli(['profile', '--data', 'synthetic'], ws);
  assert.notEqual(usage.code, 0);
  assert.match(usage.err, /--train-tokens/);
});
