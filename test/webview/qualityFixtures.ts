// RunRecords of the three stages trained to a budget, shaped like `profile --preset tiny
// --train-tokens 150k --seeds 0,1` output on the CPU: pretrain GQA/MLA over two seeds (evals falling
// toward the synthetic source's entropy), fine-tuning LoRA/DoRA with a before and after, and inference
// at two precisions scored by perplexity. The numbers are fixed here so tests can check what the pages
// draw against them.
import assert from 'node:assert/strict';
import { resolveConfig } from '../../src/core/config';
import type { ProfileConfigInput } from '../../src/core/config';
import { emptyMetrics } from '../../src/core/record';
import type { RunEval, RunMetrics, RunRecord } from '../../src/core/record';

const MiB = 2 ** 20;
/** The synthetic source's true conditional entropy in these fixtures (nats/token). */
export const ENTROPY = 3.05;

function config(input: ProfileConfigInput) {
  const c = resolveConfig({ model: { preset: 'tiny' }, ...input });
  assert.ok(c.ok, c.ok ? '' : JSON.stringify(c.errors));
  return c.value;
}

/** Four evals every 37.5k tokens, falling from near ln(vocab) to `last`. */
export function evalsTo(last: number, secondsPerEval: number): RunEval[] {
  const first = 6.2;
  return [1, 2, 3, 4].map((i) => ({
    tokens: 37_500 * i,
    seconds: secondsPerEval * i,
    valLoss: last + (first - last) * Math.pow(0.35, i - 1) * (i === 4 ? 0 : 1),
  }));
}

function record(
  id: string,
  minute: number,
  input: ProfileConfigInput,
  m: Partial<RunMetrics>,
  evals: RunEval[] | undefined,
): RunRecord {
  return {
    schema: 1,
    id,
    createdAt: `2025-07-01T09:${String(minute).padStart(2, '0')}:00.000Z`,
    status: 'completed',
    target: { kind: 'local', name: 'local' },
    config: config(input),
    env: {
      python: '3.11.2',
      torch: '1.13.1',
      cuda: null,
      device: { name: 'cpu', memoryBytes: 8 * 2 ** 30 },
      nvml: false,
      powerScope: null,
      memorySource: 'rss-delta',
    },
    metrics: { ...emptyMetrics(), ...m },
    measurement: null,
    ...(evals ? { evals } : {}),
    samples: [],
    protocolProblems: [],
    error: null,
  };
}

const q = (valLoss: number): Partial<RunMetrics> => ({ valLoss, perplexity: Math.exp(valLoss) });

/** GQA-2 and MLA pretrain runs, seeds 0 and 1, to 150k tokens of synthetic data. */
export function pretrainRuns(): RunRecord[] {
  const budget = { stage: 'pretrain', trainTokens: 150_000, data: 'synthetic' } as const;
  const run = (id: string, minute: number, kind: 'gqa' | 'mla', seed: number, valLoss: number, latencyS: number) =>
    record(
      id,
      minute,
      { ...budget, attention: kind === 'gqa' ? { kind, kvHeads: 2 } : { kind }, seed },
      {
        ...q(valLoss),
        dataEntropy: ENTROPY,
        trainTokens: 150_000,
        latencyS,
        peakMemoryBytes: (kind === 'gqa' ? 310 : 325) * MiB,
        tokensPerS: 1024 / latencyS,
      },
      evalsTo(valLoss, latencyS * 37.5),
    );
  return [
    run('20250701-090000-aa01', 0, 'gqa', 0, 3.42, 0.081),
    run('20250701-090100-aa02', 1, 'gqa', 1, 3.46, 0.083),
    run('20250701-090200-bb01', 2, 'mla', 0, 3.31, 0.094),
    run('20250701-090300-bb02', 3, 'mla', 1, 3.33, 0.096),
  ];
}

/** LoRA and DoRA fine-tuning of a trained base, 60k tokens: valLoss under baseValLoss. */
export function finetuneRuns(): RunRecord[] {
  const run = (id: string, minute: number, method: 'lora' | 'dora', valLoss: number, latencyS: number) =>
    record(
      id,
      minute,
      { stage: 'finetune', trainTokens: 60_000, peft: { method }, attention: { kind: 'gqa', kvHeads: 2 } },
      { ...q(valLoss), baseValLoss: 4.1, trainTokens: 60_000, latencyS, peakMemoryBytes: 280 * MiB },
      [
        { tokens: 30_000, seconds: latencyS * 30, valLoss: 3.9 },
        { tokens: 60_000, seconds: latencyS * 60, valLoss },
      ],
    );
  return [run('20250701-091000-cc01', 10, 'lora', 3.71, 0.05), run('20250701-091100-cc02', 11, 'dora', 3.66, 0.061)];
}

/** bf16 and int4 inference scored on a model trained to 100k tokens. */
export function inferenceRuns(): RunRecord[] {
  const run = (id: string, minute: number, precision: 'bf16' | 'int4', valLoss: number, latencyS: number) =>
    record(
      id,
      minute,
      { stage: 'inference', trainTokens: 100_000, precision, attention: { kind: 'gqa', kvHeads: 2 } },
      { ...q(valLoss), trainTokens: 100_000, latencyS, peakMemoryBytes: (precision === 'bf16' ? 220 : 140) * MiB },
      undefined,
    );
  return [run('20250701-092000-dd01', 20, 'bf16', 3.52, 0.021), run('20250701-092100-dd02', 21, 'int4', 3.6, 0.026)];
}

/** All three stages: eight runs in three groups; the inference group is the newest. */
export function stagedRuns(): RunRecord[] {
  return [...pretrainRuns(), ...finetuneRuns(), ...inferenceRuns()];
}
