#!/usr/bin/env node
// 2-GPU data-parallel check over NCCL (issue 15), prepared for the next lent machine with ≥ 2 GPUs:
//   node scripts/build.mjs                          # here: dist/ travels with the working tree
//   EFFICIENTLLM_PYTHON=python3 node test/gpu/distributed.mjs
// With fewer than 2 GPUs it says so and exits 0 (nothing to check). Otherwise one sweep, --nproc 1,2
// × --parallel ddp,fsdp on the 0.5B preset in bf16, and these invariants (exit 1 when one fails):
// - every run completed; the 2-process runs report worldSize 2 and two perRank entries, one per GPU;
// - global tokens/s = Σ ranks' tokens/s within 5%; 0 < scalingEfficiency ≤ 1.1 (NVLink DDP on two GPUs
//   of one node should be well above 0.7; printed, not asserted);
// - FSDP shards weights, gradients and AdamW state: its per-rank peak is below DDP's;
// - energy (NVML) is summed over the ranks: the run's energyJ ≈ Σ perRank energyJ.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(root, 'dist', 'cli.js');
const python = process.env.EFFICIENTLLM_PYTHON ?? 'python3';
const preset = process.env.GPU_PRESET ?? '0.5b';

const gpus = spawnSync(python, ['-c', 'import torch; print(torch.cuda.device_count())'], { encoding: 'utf8' });
const count = Number((gpus.stdout ?? '').trim() || '0');
if (!(count >= 2)) {
  console.log(`distributed.mjs: SKIP — needs 2 CUDA GPUs, ${python} sees ${count} (${(gpus.stderr ?? '').trim()})`);
  process.exit(0);
}

const workspace = mkdtempSync(join(tmpdir(), 'elp-gpu-dist-'));
const args = ['profile', '--preset', preset, '--stage', 'pretrain', '--precision', 'bf16', '--batch', '4'];
args.push('--seq-len', '512', '--steps', '5', '--warmup', '2', '--nproc', '1,2', '--parallel', 'ddp,fsdp');
const r = spawnSync(process.execPath, [cli, ...args, '--python', python, '--json'], {
  cwd: workspace,
  encoding: 'utf8',
  maxBuffer: 256 * 1024 * 1024,
});
let runs = [];
try {
  runs = JSON.parse(r.stdout).runs;
} catch {
  console.error(`no JSON from the CLI (exit ${r.status})\n${r.stderr}`);
  process.exit(1);
}

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};
const gib = (b) => (b === null || b === undefined ? 'null' : (b / 2 ** 30).toFixed(2));
for (const run of runs) {
  const m = run.metrics;
  const ranks = run.perRank ?? [];
  const sum = ranks.reduce((a, x) => a + x.tokensPerS, 0);
  console.log(
    [
      run.config.label.padEnd(40),
      run.status.padEnd(9),
      `world ${run.env.worldSize ?? 1}`,
      `${(m.tokensPerS ?? 0).toFixed(0)} tok/s`,
      ranks.length ? `ranks ${ranks.map((x) => x.tokensPerS.toFixed(0)).join('+')}` : '',
      `eff ${m.scalingEfficiency?.toFixed(3) ?? 'null'}`,
      `peak ${gib(m.peakMemoryBytes)} GiB`,
      `MFU ${m.mfu?.toFixed(3) ?? 'null'}`,
      `${m.energyJ?.toFixed(1) ?? 'null'} J`,
      run.error ? `${run.error.kind}: ${run.error.message}` : '',
    ].join('  '),
  );
  check(run.status === 'completed', `${run.config.label}: ${run.status} ${run.error?.message ?? ''}`);
  if ((run.config.parallel?.nproc ?? 1) < 2 || run.status !== 'completed') continue;
  check(run.env.worldSize === 2 && ranks.length === 2, `${run.config.label}: worldSize/perRank`);
  check(Math.abs((m.tokensPerS ?? 0) - sum) / sum <= 0.05, `${run.config.label}: tokens/s ${m.tokensPerS} vs Σ ${sum}`);
  check(
    m.scalingEfficiency !== null && m.scalingEfficiency > 0 && m.scalingEfficiency <= 1.1,
    `${run.config.label}: scalingEfficiency ${m.scalingEfficiency}`,
  );
  const energies = ranks.map((x) => x.energyJ);
  if (m.energyJ !== null && energies.every((e) => e !== null)) {
    const total = energies.reduce((a, e) => a + e, 0);
    check(Math.abs(m.energyJ - total) / total < 0.01, `${run.config.label}: energy ${m.energyJ} vs Σ ${total}`);
  }
}
const two = (strategy) => runs.find((x) => x.config.parallel?.nproc === 2 && x.config.parallel.strategy === strategy);
const ddp = two('ddp');
const fsdp = two('fsdp');
if (ddp?.status === 'completed' && fsdp?.status === 'completed') {
  const peak = (x) => Math.max(...x.perRank.map((p) => p.peakMemoryBytes ?? Infinity));
  check(peak(fsdp) < peak(ddp), `FSDP per-rank peak ${gib(peak(fsdp))} GiB is not below DDP's ${gib(peak(ddp))} GiB`);
}
if (failures.length > 0) {
  console.error(`distributed.mjs: ${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log(`distributed.mjs: ${runs.length} runs, every check passed`);
