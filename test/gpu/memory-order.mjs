#!/usr/bin/env node
// Memory per config whatever ran before it, on CUDA (issue 10; the CPU half is
// test/integration/memory-order.test.ts). Prepared to run in one go on a lent GPU machine:
//   node scripts/build.mjs                  # here, before: dist/ travels with the working tree
//   node test/gpu/memory-order.mjs          # there (bash test/gpu/run.sh runs it first)
// Checks, through the real CLI, in one harness process per sweep (the default on one GPU):
//   1. config A's peak (torch's allocator peak, reset between configs) and AMU (NVML's device memory
//      in use) alone and after a larger config B agree within 5%;
//   2. in an MHA / GQA / MQA inference sweep run largest first, a config with more weights and more
//      KV cache (counted here from the shape) has the larger peak, the memory-only recommendation is
//      MQA, and the default recommendation (the dashboard's) never claims less memory than a config
//      with fewer weights and less KV cache.
// GPU_MEMORY_SMALL=1 shrinks every shape for a dry run of the script's logic on a CPU.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(root, 'dist', 'cli.js');
const python = process.env.EFFICIENTLLM_PYTHON ?? 'python3';
const out = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'elp-gpu-mem-'));
const small = process.env.GPU_MEMORY_SMALL === '1';
const TOLERANCE = 0.05;

// On the GPU: A is the 0.5B preset's shape; B is the 1.5B preset at a longer prompt (several times A).
const Q05 = { layers: 24, hidden: 896, heads: 14, kvHeads: 2, headDim: 64, ffn: 4864, vocab: 151936 };
const Q15 = { layers: 28, hidden: 1536, heads: 12, kvHeads: 2, headDim: 128, ffn: 8960, vocab: 151936 };
const TINY = { layers: 4, hidden: 256, heads: 8, kvHeads: 2, headDim: 32, ffn: 688, vocab: 1024 };
// The dry run's A: large enough that the CPU allocator's run-to-run noise (1-3 MiB) is under 5% of it.
const SMALL_A = { layers: 4, hidden: 512, heads: 8, kvHeads: 2, headDim: 64, ffn: 1408, vocab: 16384 };
const A_SHAPE = small ? SMALL_A : Q05;
const SWEEP_SHAPE = small ? TINY : Q05;
const B_SHAPE = small ? { ...SMALL_A, layers: 8, hidden: 1024, headDim: 128, ffn: 2816 } : Q15;
const precision = small ? 'fp32' : 'bf16';
const bytesPer = precision === 'fp32' ? 4 : 2;
const A_LOAD = small
  ? { batch: 2, seqLen: 64, newTokens: 8, steps: 2, warmup: 1 }
  : { batch: 4, seqLen: 512, newTokens: 32, steps: 3, warmup: 1 };
const B_LOAD = small
  ? { batch: 4, seqLen: 128, newTokens: 8, steps: 2, warmup: 1 }
  : { batch: 8, seqLen: 2048, newTokens: 32, steps: 3, warmup: 1 };
// The attention sweep: a long prompt, so the KV cache (what the variants change) is a good share.
const SWEEP_LOAD = small
  ? { batch: 8, seqLen: 128, newTokens: 16, steps: 2, warmup: 1 }
  : { batch: 8, seqLen: 2048, newTokens: 64, steps: 3, warmup: 1 };

const inference = (shape, workload, attention) => ({
  stage: 'inference',
  model: { preset: 'tiny', shape },
  attention,
  precision,
  workload,
});

function run(args, cwd) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, EFFICIENTLLM_CACHE: join(cwd, 'cache'), EFFICIENTLLM_PYTHON: python },
  });
  if (r.status !== 0) throw new Error(`efficientllm ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

function profilePlan(label, plan) {
  const cwd = mkdtempSync(join(tmpdir(), 'elp-gpu-mem-ws-'));
  writeFileSync(join(cwd, 'plan.json'), JSON.stringify(plan));
  const started = Date.now();
  const { runs } = run(['profile', '--plan', 'plan.json', '--json'], cwd);
  console.error(`${label}: ${runs.length} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { runs, cwd };
}

/** Parameters of the decoder (untied head) from its shape, counted here. */
const paramsOf = (s) =>
  s.vocab * s.hidden +
  s.layers *
    (2 * s.hidden * s.heads * s.headDim + 2 * s.hidden * s.kvHeads * s.headDim + 3 * s.hidden * s.ffn + 2 * s.hidden) +
  s.hidden +
  s.hidden * s.vocab;
const kvBytesOf = (s, w) => 2 * s.layers * s.kvHeads * s.headDim * w.batch * (w.seqLen + w.newTokens) * bytesPer;
const MiB = (b) => (b === null || b === undefined ? 'null' : `${(b / 2 ** 20).toFixed(1)} MiB`);

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const completed = (runs) => runs.every((r) => r.status === 'completed');

// ---- 1. the same config alone and after a larger one ----
const a = inference(A_SHAPE, A_LOAD, { kind: 'gqa', kvHeads: A_SHAPE.kvHeads });
const b = inference(B_SHAPE, B_LOAD, { kind: 'gqa', kvHeads: B_SHAPE.kvHeads });
const alone = profilePlan('A alone', [a]).runs;
const sweep = profilePlan('B then A', [b, a]).runs;
check(
  completed(alone) && completed(sweep),
  `every run completed: ${[...alone, ...sweep].map((r) => `${r.status} ${r.error?.message ?? ''}`).join('; ')}`,
);
if (completed(alone) && completed(sweep)) {
  const [ra, rb, rl] = [alone[0], sweep[0], sweep[1]];
  console.log(
    `device ${ra.env.device?.name}; sources: samples ${ra.env.memorySource}, peak ${ra.env.peakMemorySource}`,
  );
  check(
    small || ra.env.peakMemorySource === 'cuda-allocator',
    `peak source ${ra.env.peakMemorySource} is cuda-allocator`,
  );
  check(
    rb.metrics.peakMemoryBytes > 2 * ra.metrics.peakMemoryBytes,
    `B's peak ${MiB(rb.metrics.peakMemoryBytes)} is more than twice A's ${MiB(ra.metrics.peakMemoryBytes)}`,
  );
  for (const [what, key] of [
    ['peak', 'peakMemoryBytes'],
    ['AMU', 'amuBytes'],
  ]) {
    const x = ra.metrics[key];
    const y = rl.metrics[key];
    const rel = x > 0 && y !== null ? Math.abs(y - x) / x : Infinity;
    check(rel <= TOLERANCE, `A's ${what}: alone ${MiB(x)}, after B ${MiB(y)} (${(rel * 100).toFixed(2)}% ≤ 5%)`);
  }
}

// ---- 2. MHA / GQA / MQA, largest first ----
const variants = [
  { kind: 'mha', kvHeads: SWEEP_SHAPE.heads, label: 'MHA' },
  { kind: 'gqa', kvHeads: SWEEP_SHAPE.kvHeads, label: `GQA-${SWEEP_SHAPE.kvHeads}` },
  { kind: 'mqa', kvHeads: 1, label: 'MQA' },
];
const attn = profilePlan(
  'MHA, GQA, MQA',
  variants.map((v) =>
    inference(
      { ...SWEEP_SHAPE, kvHeads: v.kvHeads },
      SWEEP_LOAD,
      v.kind === 'gqa' ? { kind: 'gqa', kvHeads: v.kvHeads } : { kind: v.kind },
    ),
  ),
);
check(completed(attn.runs), `the attention sweep completed: ${attn.runs.map((r) => r.status).join(', ')}`);
if (completed(attn.runs)) {
  const size = (i) => {
    const shape = { ...SWEEP_SHAPE, kvHeads: variants[i].kvHeads };
    return { weights: paramsOf(shape) * bytesPer, kv: kvBytesOf(shape, SWEEP_LOAD) };
  };
  attn.runs.forEach((r, i) => {
    const s = size(i);
    console.log(
      `${variants[i].label}: weights ${MiB(s.weights)}, KV ${MiB(s.kv)}, peak ${MiB(r.metrics.peakMemoryBytes)}, AMU ${MiB(r.metrics.amuBytes)}`,
    );
    check(
      r.metrics.kvCacheBytes === s.kv,
      `${variants[i].label}: KV bytes ${r.metrics.kvCacheBytes} = ${s.kv} from the shape`,
    );
  });
  const larger = (i, j) => size(i).weights > size(j).weights && size(i).kv > size(j).kv;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      if (larger(i, j))
        check(
          attn.runs[i].metrics.peakMemoryBytes > attn.runs[j].metrics.peakMemoryBytes,
          `${variants[i].label} peak ${MiB(attn.runs[i].metrics.peakMemoryBytes)} > ${variants[j].label} ${MiB(attn.runs[j].metrics.peakMemoryBytes)}`,
        );
  const byLabel = (label) => variants.findIndex((v) => v.label === label);
  const dashboard = run(['recommend', '--json'], attn.cwd).groups[0]?.recommendation;
  console.log(`recommendation: ${dashboard?.reason}`);
  const chosen = attn.runs.findIndex((r) => r.id === dashboard?.runId);
  check(chosen >= 0, 'the default (dashboard) objectives recommend a run of the sweep');
  for (const clause of (dashboard?.reason ?? '').split(' — ')[0].split(';')) {
    const m = /less memory than ([A-Z]+(?:-\d+)?)/.exec(clause);
    if (m) check(!larger(chosen, byLabel(m[1])), `"${clause.trim()}" is not claimed by a larger config`);
  }
  const memory = run(['recommend', '--objective', 'memory', '--json'], attn.cwd).groups[0]?.recommendation;
  console.log(`recommend --objective memory: ${memory?.reason}`);
  check(memory?.runId === attn.runs[2].id, 'for memory alone, MQA');
}

writeFileSync(join(out, 'gpu-memory-order.json'), JSON.stringify({ alone, sweep, attention: attn.runs }, null, 1));
console.log(
  failures.length === 0
    ? '\nmemory order: all checks hold'
    : `\nmemory order: ${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`,
);
process.exit(failures.length === 0 ? 0 : 1);
