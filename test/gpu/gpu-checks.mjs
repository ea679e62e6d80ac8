#!/usr/bin/env node
// GPU checks, prepared to run in one go on a lent GPU machine (H100/H200/GH200):
//   node scripts/build.mjs            # here, before: dist/ travels with the working tree
//   bash test/gpu/run.sh              # there: every kind, stage and precision on the 0.5B preset
// It needs node ≥ 18 and a Python with torch 2.x + CUDA (EFFICIENTLLM_PYTHON, default python3) on the
// GPU machine, and nothing from the network. It prints one table and exits non-zero when an
// invariant fails: energy > 0 and close to mean power × time; MFU < 1; int4 weight bytes < bf16 ÷ 3.5;
// KV bytes MLA < GQA < MHA.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(root, 'dist', 'cli.js');
const python = process.env.EFFICIENTLLM_PYTHON ?? 'python3';
const out = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'elp-gpu-'));
const workspace = mkdtempSync(join(tmpdir(), 'elp-gpu-ws-'));
const preset = process.env.GPU_PRESET ?? '0.5b';
// GPU_WORKLOAD overrides the workload flags, e.g. for a dry run of this script on a CPU.
const workload = (process.env.GPU_WORKLOAD ?? '--batch 4 --seq-len 512 --new-tokens 64 --steps 5 --warmup 2').split(
  ' ',
);

function profile(label, args) {
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [cli, 'profile', '--preset', preset, ...workload, ...args, '--python', python, '--json'],
    {
      cwd: workspace,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, EFFICIENTLLM_CACHE: join(workspace, 'cache') },
    },
  );
  const seconds = (Date.now() - started) / 1000;
  let runs = [];
  try {
    runs = JSON.parse(r.stdout).runs;
  } catch {
    console.error(`${label}: no JSON (exit ${r.status})\n${r.stderr}`);
  }
  console.error(`${label}: ${runs.length} runs in ${seconds.toFixed(1)} s (exit ${r.status})`);
  return runs;
}

const sweeps = [
  [
    'attention × stage (bf16)',
    ['--attention', 'mha,mqa,gqa,mla,nsa', '--stage', 'inference,pretrain', '--precision', 'bf16'],
  ],
  [
    'precision (gqa inference)',
    ['--attention', 'gqa', '--stage', 'inference', '--precision', 'fp32,bf16,fp16,int8,int4,fp8'],
  ],
  ['MoE 8x2 (bf16)', ['--attention', 'gqa', '--moe', '8x2', '--stage', 'inference,pretrain', '--precision', 'bf16']],
  [
    'PEFT (bf16 finetune)',
    ['--attention', 'gqa', '--stage', 'finetune', '--peft', 'full,freeze,lora,rslora,dora', '--precision', 'bf16'],
  ],
];
const runs = sweeps.flatMap(([label, args]) => profile(label, args));
writeFileSync(join(out, 'gpu-runs.json'), JSON.stringify({ runs }, null, 1));

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};
const fmt = (v, d = 3) =>
  v === null || v === undefined ? '—' : typeof v === 'number' ? Number(v.toPrecision(d)).toString() : String(v);
const rows = [
  [
    'label',
    'status',
    'latency s',
    'tok/s',
    'peak GiB',
    'weights MiB',
    'KV MiB',
    'W',
    'J',
    'MFU',
    'roofline',
    'quality',
  ],
];
for (const r of runs) {
  const m = r.metrics;
  rows.push([
    r.config.label,
    r.status,
    fmt(m.latencyS),
    fmt(m.tokensPerS),
    fmt(m.peakMemoryBytes / 2 ** 30),
    fmt(m.weightBytes / 2 ** 20),
    fmt(m.kvCacheBytes === null ? null : m.kvCacheBytes / 2 ** 20),
    fmt(m.powerW),
    fmt(m.energyJ),
    fmt(m.mfu),
    fmt(m.rooflineFraction),
    fmt(m.quality),
  ]);
  if (r.status !== 'completed') {
    // fp8 off Hopper is an honest "unsupported"; anything else is a failure.
    check(
      r.error?.kind === 'unsupported' && r.config.precision === 'fp8',
      `${r.config.label}: ${r.status} ${r.error?.kind}: ${r.error?.message}`,
    );
    continue;
  }
  check(r.env.nvml === true, `${r.config.label}: NVML not available`);
  check(m.energyJ !== null && m.energyJ > 0, `${r.config.label}: energy ${m.energyJ}`);
  const window = m.latencyS * r.config.workload.steps;
  if (m.energyJ !== null && m.powerW !== null && window > 0.5) {
    const ratio = m.energyJ / (m.powerW * window);
    check(
      ratio > 0.7 && ratio < 1.3,
      `${r.config.label}: energy ${fmt(m.energyJ)} J vs mean power × time ${fmt(m.powerW * window)} J`,
    );
  }
  check(m.mfu !== null && m.mfu > 0 && m.mfu < 1, `${r.config.label}: MFU ${m.mfu}`);
}
const find = (pred) => runs.find((r) => r.status === 'completed' && pred(r.config));
const kv = Object.fromEntries(
  ['mha', 'gqa', 'mla'].map((k) => [
    k,
    find((c) => c.stage === 'inference' && c.attention.kind === k && !c.moe)?.metrics.kvCacheBytes,
  ]),
);
check(kv.mla < kv.gqa && kv.gqa < kv.mha, `KV bytes MLA < GQA < MHA: ${JSON.stringify(kv)}`);
const weights = (p) =>
  find((c) => c.stage === 'inference' && c.precision === p && c.attention.kind === 'gqa' && !c.moe)?.metrics
    .weightBytes;
check(weights('int4') < weights('bf16') / 3.5, `int4 weight bytes ${weights('int4')} < bf16 ${weights('bf16')} ÷ 3.5`);

const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
const table = rows.map((row) => row.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n');
console.log(table);
writeFileSync(join(out, 'gpu-table.txt'), table + '\n');
console.log(
  failures.length === 0
    ? `\nall GPU invariants hold (${runs.length} runs)`
    : `\n${failures.length} invariant(s) failed:\n- ${failures.join('\n- ')}`,
);
process.exit(failures.length === 0 ? 0 : 1);
