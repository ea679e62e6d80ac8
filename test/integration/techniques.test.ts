// The technique space on CPU through the CLI and the real harness: every attention kind, MoE, PEFT and
// precision completes, and what the harness counted equals the analytic estimator (src/core/estimate.ts),
// an independent implementation of the same formulas in another language.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  archFromConfig,
  countActiveParams,
  countParams,
  kvBytesPerToken,
  trainableParams,
} from '../../src/core/estimate';
import type { RunRecord } from '../../src/core/record';

const CLI = join(resolve(__dirname, '..', '..'), 'dist', 'cli.js');
const SMALL = ['--preset', 'tiny', '--seq-len', '32', '--new-tokens', '4', '--steps', '1', '--warmup', '0', '--json'];

async function profile(args: string[]): Promise<RunRecord[]> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  const cwd = await mkdtemp(join(tmpdir(), 'elp-tech-'));
  const child = spawn(process.execPath, [CLI, 'profile', ...args, ...SMALL], {
    cwd,
    env: { ...process.env, EFFICIENTLLM_CACHE: join(cwd, 'cache') },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('close', done));
  const runs = (JSON.parse(stdout || '{"runs":[]}') as { runs: RunRecord[] }).runs;
  for (const r of runs)
    assert.equal(r.status, 'completed', `${r.config.label}: ${r.error?.message}\n${r.error?.stderrTail}`);
  assert.equal(code, 0, stderr);
  return runs;
}

function checkAgainstEstimator(run: RunRecord): void {
  const arch = archFromConfig(run.config);
  assert.ok(arch, run.config.label);
  assert.equal(run.metrics.params, countParams(arch), `${run.config.label}: params`);
  assert.equal(run.metrics.activeParams, countActiveParams(arch), `${run.config.label}: active params`);
}

for (const moe of [[], ['--moe', '4x2']]) {
  test(`every attention kind, inference and pretrain${moe.length ? ', with MoE 4x2' : ''}`, async () => {
    const runs = await profile(['--attention', 'mha,mqa,gqa,mla,nsa', '--stage', 'inference,pretrain', ...moe]);
    assert.equal(runs.length, 10);
    for (const run of runs) {
      checkAgainstEstimator(run);
      assert.ok(run.metrics.latencyS! > 0 && run.metrics.tokensPerS! > 0);
      if (moe.length) assert.ok(run.metrics.activeParams! < run.metrics.params!, 'MoE activates a part of the experts');
    }
    const inference = runs.filter((r) => r.config.stage === 'inference');
    const kv = Object.fromEntries(inference.map((r) => [r.config.attention.kind, r.metrics.kvCacheBytes!]));
    for (const r of inference) {
      const arch = archFromConfig(r.config)!;
      // The harness's cache is fp32 on CPU: 4 bytes an element, tokens = batch × (seqLen + newTokens).
      const tokens = r.config.workload.batch * (r.config.workload.seqLen + r.config.workload.newTokens);
      assert.equal(r.metrics.kvCacheBytes, kvBytesPerToken(arch, 'fp32') * tokens, `${r.config.label}: KV bytes`);
    }
    assert.ok(kv.mla < kv.gqa && kv.gqa < kv.mha && kv.mqa < kv.gqa, JSON.stringify(kv));
  });
}

test('PEFT methods: trainable parameters ordered lora = rslora < dora < full, equal to the formulas', async () => {
  const runs = await profile(['--stage', 'finetune', '--peft', 'full,freeze,lora,rslora,dora']);
  const trainable = Object.fromEntries(runs.map((r) => [r.config.peft!.method, r.metrics.trainableParams!]));
  assert.equal(trainable.lora, trainable.rslora);
  assert.ok(trainable.lora < trainable.dora && trainable.dora < trainable.full, JSON.stringify(trainable));
  assert.equal(trainable.full, runs[0].metrics.params);
  for (const r of runs) {
    assert.equal(
      r.metrics.trainableParams,
      trainableParams(archFromConfig(r.config)!, 'finetune', r.config.peft),
      `${r.config.peft!.method}`,
    );
  }
});

test('int8 and int4 shrink the weights at least 1.9× and 3.5× against bf16, with MCR filled in', async () => {
  const runs = await profile(['--stage', 'inference', '--precision', 'bf16,int8,int4']);
  const [bf16, int8, int4] = runs.map((r) => r.metrics);
  assert.ok(bf16.weightBytes! / int8.weightBytes! >= 1.9, `int8 ${bf16.weightBytes! / int8.weightBytes!}×`);
  assert.ok(bf16.weightBytes! / int4.weightBytes! >= 3.5, `int4 ${bf16.weightBytes! / int4.weightBytes!}×`);
  for (const m of [int8, int4]) {
    assert.ok(m.compressionRate !== null && m.quality !== null && m.mcr !== null);
    assert.ok(m.quality! >= 0 && m.quality! <= 1);
    assert.ok(Math.abs(m.mcr! - m.compressionRate! * m.quality!) < 1e-12);
  }
  assert.equal(bf16.compressionRate, 1);
});
