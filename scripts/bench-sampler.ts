// Bench section "sampler": what the harness's monitor thread and its sample events cost in tokens/s.
// One harness process (`python3 -m efficientllm_harness --run-dir …`, as the targets start it) runs the
// same batch-1 decode config 2×pairs times, alternating sampleMs 50 and sampling off (A B A B), so
// torch is imported once and machine drift weighs on both. "Off" is sampleMs 60000, the largest the
// config allows: the monitor takes its one sample when it starts, before the model is built, and none
// in the measured window (checked below from the events). Batch-1 decode on the CPU is bound by Python
// overhead, where a thread taking the GIL every 50 ms costs most.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveConfig, type ProfileConfig } from '../src/core/config';
import { computeMetrics } from '../src/core/metrics';
import { parseEventLine, type ResultCounters } from '../src/core/protocol';
import { findHarnessRoot, HARNESS_MODULE } from '../src/run/harnessFiles';
import { pairedRow, type BenchSection, type Row } from './bench-rows';

const ON_MS = 50;
const OFF_MS = 60_000;

function decodeConfig(sampleMs: number): ProfileConfig {
  const cfg = resolveConfig({
    model: { preset: 'tiny' },
    stage: 'inference',
    workload: { batch: 1, seqLen: 64, newTokens: 64, steps: 4, warmup: 1 },
    sampleMs,
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  return cfg.value;
}

/** tokens/s of one run folder (the RunRecord's own formula) and its samples inside the measured window. */
async function readRun(dir: string, config: ProfileConfig): Promise<{ tokensPerS: number; samplesInWindow: number }> {
  const lines = (await readFile(path.join(dir, 'events.jsonl'), 'utf8')).split('\n');
  let counters: ResultCounters | null = null;
  const sampleTimes: number[] = [];
  for (const [i, line] of lines.entries()) {
    const parsed = line.trim() ? parseEventLine(line, i + 1) : null;
    if (!parsed?.ok) continue;
    if (parsed.event.type === 'result') counters = parsed.event.counters;
    if (parsed.event.type === 'sample') sampleTimes.push(parsed.event.t);
  }
  if (!counters)
    throw new Error(`no result in ${dir}: ${(await readFile(path.join(dir, 'stderr.log'), 'utf8')).slice(-300)}`);
  const m = computeMetrics({
    config,
    counters,
    samples: [],
    deviceMemoryBytes: null,
    iterationFlops: null,
    peakFlopsPerS: null,
    floorS: null,
  });
  if (m.tokensPerS === null) throw new Error(`no throughput in ${dir}`);
  const c = counters;
  return {
    tokensPerS: m.tokensPerS,
    samplesInWindow: sampleTimes.filter((t) => t >= c.windowStartT && t <= c.windowEndT).length,
  };
}

export function samplerSection(pairs: number): BenchSection {
  const name = `sampler: tokens/s of batch-1 decode with sampling every ${ON_MS} ms vs sampling off, one harness process, ${pairs} pairs`;
  let perPair: { sampledTokensPerS: number; offTokensPerS: number; ratio: number }[] = [];
  return {
    name: 'sampler',
    details: () => ({ pairs: perPair }),
    async run(): Promise<Row[]> {
      const python = process.env.EFFICIENTLLM_PYTHON ?? '/usr/bin/python3';
      const dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-bench-sampler-'));
      try {
        const on = decodeConfig(ON_MS);
        const off = decodeConfig(OFF_MS);
        const runs = Array.from({ length: 2 * pairs }, (_, i) => ({
          dir: path.join(dir, `run${i}`),
          config: i % 2 === 0 ? on : off,
        }));
        for (const r of runs) {
          await mkdir(r.dir);
          await writeFile(path.join(r.dir, 'config.json'), JSON.stringify(r.config));
        }
        const p = spawnSync(python, ['-m', HARNESS_MODULE, '--run-dir', ...runs.map((r) => r.dir)], {
          cwd: findHarnessRoot(),
          encoding: 'utf8',
          env: { ...process.env, PYTHONUNBUFFERED: '1' },
        });
        if (p.status !== 0) throw new Error(`the harness (${python}) exited ${p.status}: ${p.stderr.slice(-300)}`);
        const read = await Promise.all(runs.map((r) => readRun(r.dir, r.config)));
        const sampled = read.filter((_, i) => i % 2 === 0);
        const unsampled = read.filter((_, i) => i % 2 === 1);
        if (sampled.some((r) => r.samplesInWindow === 0))
          throw new Error(`a run sampled at ${ON_MS} ms has no sample in its window`);
        if (unsampled.some((r) => r.samplesInWindow > 0))
          throw new Error('a run with sampling off has samples in its window');
        perPair = sampled.map((r, i) => ({
          sampledTokensPerS: r.tokensPerS,
          offTokensPerS: unsampled[i].tokensPerS,
          ratio: unsampled[i].tokensPerS / r.tokensPerS,
        }));
        return [
          pairedRow(
            name,
            'tokens/s',
            sampled.map((r) => r.tokensPerS),
            unsampled.map((r) => r.tokensPerS),
            { on: 'ratio', op: '<', limit: 1.01 },
          ),
        ];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
