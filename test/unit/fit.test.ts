// The fit check's memory floor, against formulas written here from the shape alone (not estimate.ts),
// the verdicts it gives, the orchestrator refusing before the target or the store is touched, and this
// machine's memory against /proc/meminfo.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_WORKLOAD, resolveConfig, type ProfileConfig, type ProfileConfigInput } from '../../src/core/config';
import { checkFit, estimatePeakMemory, FitError, refuseWhatCannotFit } from '../../src/core/fit';
import { findGpuByUserName } from '../../src/core/gpus';
import { gresGpuMemory, localDeviceMemory } from '../../src/run/deviceMemory';
import { profile } from '../../src/run/profile';
import type { Target } from '../../src/run/target';

const TINY = { layers: 2, hidden: 256, heads: 8, headDim: 32, ffn: 688, vocab: 1024 };

/** Parameters of the synthetic decoder (untied embedding and lm_head, RMSNorm, SwiGLU, no biases). */
function paramsOf(kvHeads: number): number {
  const { layers, hidden, heads, headDim, ffn, vocab } = TINY;
  const attention = 2 * hidden * heads * headDim + 2 * hidden * kvHeads * headDim;
  return 2 * vocab * hidden + layers * (attention + 3 * hidden * ffn + 2 * hidden) + hidden;
}

function config(input: ProfileConfigInput): ProfileConfig {
  const r = resolveConfig({ model: { preset: 'tiny' }, ...input });
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}

test('inference: weights, the static KV cache and the prefill MLP activations, from the shape', () => {
  const [B, L, N] = [4, 128, 16];
  const m = estimatePeakMemory(
    config({ attention: { kind: 'gqa', kvHeads: 2 }, workload: { batch: B, seqLen: L, newTokens: N } }),
  );
  assert.ok(m);
  assert.equal(m.weightBytes, 4 * paramsOf(2));
  assert.equal(m.kvCacheBytes, 2 * TINY.layers * 2 * TINY.headDim * 4 * B * (L + N));
  assert.equal(m.activationBytes, B * L * (2 * TINY.hidden + 2 * TINY.ffn) * 4);
  assert.equal(m.gradientBytes + m.optimizerBytes, 0);
  assert.equal(m.totalBytes, m.weightBytes + m.kvCacheBytes + m.activationBytes);
  // bf16 halves every part; MQA keeps one KV head.
  const half = estimatePeakMemory(
    config({ attention: { kind: 'mqa' }, precision: 'bf16', workload: { batch: B, seqLen: L, newTokens: N } }),
  );
  assert.equal(half?.kvCacheBytes, 2 * TINY.layers * 1 * TINY.headDim * 2 * B * (L + N));
  assert.equal(half?.weightBytes, 2 * paramsOf(1));
});

test('pretrain: AdamW moments and gradients per parameter in the weights dtype; activations or gradients at the peak', () => {
  const [B, L] = [2, 64];
  const m = estimatePeakMemory(
    config({ stage: 'pretrain', attention: { kind: 'mha' }, workload: { batch: B, seqLen: L } }),
  );
  assert.ok(m);
  const p = paramsOf(8);
  assert.equal(m.gradientBytes, 4 * p);
  assert.equal(m.optimizerBytes, 8 * p);
  const saved = B * L * (TINY.layers * (2 * TINY.hidden + 2 * TINY.ffn) * 4 + TINY.vocab * 8);
  assert.equal(m.activationBytes, saved);
  assert.equal(m.totalBytes, 4 * p + 8 * p + Math.max(4 * p, saved));
  // One iteration only: the moments appear at the step, beside the gradients, after the activations are gone.
  const once = estimatePeakMemory(
    config({ stage: 'pretrain', attention: { kind: 'mha' }, workload: { batch: B, seqLen: L, steps: 1, warmup: 0 } }),
  );
  assert.equal(once?.totalBytes, 4 * p + Math.max(12 * p, saved));
});

test('LoRA trains rank × (in + out) per targeted matrix; freeze saves activations of its trained layers only', () => {
  const lora = estimatePeakMemory(
    config({ stage: 'finetune', attention: { kind: 'mha' }, peft: { method: 'lora', rank: 4 } }),
  );
  const h = TINY.hidden;
  const perLayer = 4 * 4 * (h + TINY.heads * TINY.headDim); // q, k, v, o: all hidden × heads·headDim under MHA
  assert.equal(lora?.gradientBytes, 4 * TINY.layers * perLayer);
  const full = estimatePeakMemory(config({ stage: 'finetune', attention: { kind: 'mha' } }));
  const freeze = estimatePeakMemory(
    config({ stage: 'finetune', attention: { kind: 'mha' }, peft: { method: 'freeze', rank: 1 } }),
  );
  assert.ok(full && freeze);
  const { batch: B, seqLen: L } = DEFAULT_WORKLOAD;
  assert.equal(full.activationBytes - freeze.activationBytes, B * L * (2 * h + 2 * TINY.ffn) * 4, 'one layer fewer');
});

test('checkFit: refuses what exceeds the memory, naming config, estimate and memory; unknown memory checks nothing', () => {
  const small = config({});
  const huge = config({ workload: { seqLen: 99_999_999 } });
  const memory = { name: 'local CPU', bytes: 16 * 2 ** 30 };
  const v = checkFit([small, huge], memory, 'local');
  assert.equal(v.refused.length, 1);
  assert.equal(v.refused[0].index, 1);
  assert.match(
    v.refused[0].message,
    /^config 2 \(tiny gqa-2 fp32 inference\) needs ≈ [\d.]+ GiB \(a floor: weights .*KV cache .*\); local CPU has 16\.0 GiB$/,
  );
  const unknown = checkFit([huge], null, 'ssh:gpubox');
  assert.deepEqual(unknown.refused, []);
  assert.match(unknown.notes[0], /^ssh:gpubox: device memory unknown before the runs start/);
  const hf = resolveConfig({ model: { source: 'hf', path: 'Qwen/Qwen2.5-0.5B' } });
  assert.ok(hf.ok);
  assert.match(checkFit([hf.value], memory, 'local').notes[0], /not checked against local CPU .*Qwen\/Qwen2\.5-0\.5B/);
});

test('profile() refuses before the target prepares or the store saves anything', async () => {
  const calls: string[] = [];
  const target: Target = {
    kind: 'local',
    name: 'local',
    prepare: async () => void calls.push('prepare'),
    execute: async () => void calls.push('execute'),
  };
  const logged: string[] = [];
  await assert.rejects(
    profile({
      configs: [config({ workload: { seqLen: 99_999_999 } })],
      target,
      store: { save: async () => void calls.push('save') },
      analytic: () => {
        throw new Error('not reached');
      },
      newId: () => 'id',
      fit: {
        memory: async () => ({ name: 'local CPU', bytes: 2 ** 30 }),
        log: (l) => logged.push(l),
        override: 'untick the check',
      },
    }),
    (e: unknown) => e instanceof FitError && /or untick the check to try anyway$/.test(e.message),
  );
  assert.deepEqual(calls, []);
  await refuseWhatCannotFit([config({})], 'ssh:a', {
    memory: async () => null,
    log: (l) => logged.push(l),
    override: '',
  });
  assert.equal(logged.length, 1);
});

test("this machine without nvidia-smi: the CPU's RAM as /proc/meminfo states it", async () => {
  const memTotalKb = Number(/^MemTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  const m = await localDeviceMemory('python3', { PATH: '/nonexistent' });
  assert.deepEqual(m, { name: 'local CPU', bytes: memTotalKb * 1024 });
});

test('a Slurm job whose --gres names a GPU type gets its memory from the catalogue; a bare count gets none', () => {
  assert.deepEqual(gresGpuMemory('gpu:h100:2', 'slurm:hpc'), {
    name: 'slurm:hpc GPU H100 SXM (catalogue)',
    bytes: findGpuByUserName('h100')?.memoryBytes,
  });
  assert.equal(gresGpuMemory('gpu:2', 'slurm:hpc'), null);
  assert.equal(gresGpuMemory(undefined, 'slurm:hpc'), null);
});
