// The fit check's memory floor against real runs of the harness on this machine's CPU: the weights
// and KV cache it counts are the bytes the harness reports holding, and the whole floor lies below
// the peak resident memory the run reached, yet not far below where weights and optimizer state
// dominate (an estimate that double-counted, or missed the AdamW state, would fail one side).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { estimatePeakMemory } from '../../src/core/fit';
import type { RunRecord } from '../../src/core/record';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const PYTHON = process.env.EFFICIENTLLM_PYTHON ?? 'python3';

async function profilePlan(plan: unknown): Promise<RunRecord[]> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  const cwd = await mkdtemp(join(tmpdir(), 'elp-fit-'));
  try {
    await writeFile(join(cwd, 'plan.json'), JSON.stringify(plan));
    const env = { ...process.env, EFFICIENTLLM_CACHE: join(cwd, 'cache'), EFFICIENTLLM_PYTHON: PYTHON };
    // One process per config: each peak is its own, not the one an earlier config reached.
    const child = spawn(process.execPath, [CLI, 'profile', '--plan', 'plan.json', '--isolate', '--json'], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((done) => child.on('close', done));
    assert.equal(code, 0, stderr + stdout);
    return (JSON.parse(stdout) as { runs: RunRecord[] }).runs;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

test('inference: weights and KV cache equal what the harness holds; the floor is under the peak', async () => {
  const [r] = await profilePlan({
    model: { preset: 'tiny' },
    attention: { kind: 'gqa', kvHeads: 2 },
    workload: { batch: 2, seqLen: 64, newTokens: 8, steps: 1, warmup: 0 },
  });
  assert.equal(r.status, 'completed', JSON.stringify(r.error));
  const m = estimatePeakMemory(r.config);
  assert.ok(m);
  assert.equal(m.weightBytes, r.metrics.weightBytes);
  assert.equal(m.kvCacheBytes, r.metrics.kvCacheBytes);
  assert.ok(r.metrics.peakMemoryBytes !== null);
  assert.ok(m.totalBytes <= r.metrics.peakMemoryBytes, `floor ${m.totalBytes} ≤ peak ${r.metrics.peakMemoryBytes}`);
});

test('pretrain of a 117M-parameter model: the floor (weights, gradients, AdamW) is under the peak and over half of it', async () => {
  const shape = { layers: 4, hidden: 1024, heads: 8, kvHeads: 8, headDim: 128, ffn: 2816, vocab: 32000 };
  const [r] = await profilePlan({
    stage: 'pretrain',
    model: { preset: 'tiny', shape },
    attention: { kind: 'mha' },
    workload: { batch: 1, seqLen: 32, steps: 1, warmup: 1 },
  });
  assert.equal(r.status, 'completed', JSON.stringify(r.error));
  const m = estimatePeakMemory(r.config);
  assert.ok(m);
  assert.equal(m.weightBytes, r.metrics.weightBytes);
  assert.equal(m.gradientBytes, 4 * (r.metrics.trainableParams ?? NaN));
  const peak = r.metrics.peakMemoryBytes;
  assert.ok(peak !== null);
  assert.ok(m.totalBytes <= peak, `floor ${m.totalBytes} ≤ peak ${peak}`);
  assert.ok(m.totalBytes >= 0.5 * peak, `floor ${m.totalBytes} is over half the peak ${peak}`);
});
