#!/usr/bin/env node
// GPU-side checks of issue 12 items 6, 7 and 9, for the next lent GPU (bash test/gpu/run.sh runs it,
// or alone: EFFICIENTLLM_PYTHON=python3 node test/gpu/metric-checks.mjs, dist/ built beforehand).
// About a minute on an H100/H200; nothing from the network. Exits non-zero when a check fails.
//   6  each matmul at the dtype that computes it: QuantLinear really picks torch._int_mm for the
//      0.5b preset's shapes (the estimator assumes it on CUDA) and not for 16 rows or fewer; an int8
//      inference record names a blended int8 + bf16 peak between the two datasheet figures; an int8
//      LoRA fine-tune names bf16 (dequantised under a gradient); MFU < 1 and rooflineFraction <= 1.
//   7  power from NVML's energy counter: powerMethod "energy-counter" and powerW × window = energyJ,
//      also for a window well under NVML's 1-second power average.
//   9  memory without pynvml: a stub that fails to import hides NVML; the record says
//      memorySource "cuda-reserved" and AMU stays under the device's memory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(new URL('../..', import.meta.url).pathname);
const cli = join(root, 'dist', 'cli.js');
const python = process.env.EFFICIENTLLM_PYTHON ?? 'python3';
const out = process.env.OUT ?? mkdtempSync(join(tmpdir(), 'elp-metric-'));
const workspace = mkdtempSync(join(tmpdir(), 'elp-metric-ws-'));
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

function profile(args, env = {}) {
  const r = spawnSync(process.execPath, [cli, 'profile', ...args, '--python', python, '--json'], {
    cwd: workspace,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  try {
    return JSON.parse(r.stdout).runs;
  } catch {
    console.error(`profile ${args.join(' ')}: no JSON (exit ${r.status})\n${r.stderr}`);
    return [];
  }
}

const records = {};

// ---- 6: kernels and the peak they state ----
const kernel = spawnSync(
  python,
  [
    '-c',
    `import sys, torch; sys.path.insert(0, ${JSON.stringify(join(root, 'src', 'harness'))})
from efficientllm_harness.quant import QuantLinear
for out_f, in_f in ((896, 896), (4864, 896), (896, 4864), (151936, 896)):
    q = QuantLinear(torch.randn(out_f, in_f, device="cuda", dtype=torch.bfloat16), "int8", torch.bfloat16)
    print(out_f, in_f, q.kernel)`,
  ],
  { encoding: 'utf8' },
);
console.log(kernel.stdout.trim());
check(
  kernel.status === 0 &&
    kernel.stdout
      .trim()
      .split('\n')
      .every((l) => l.endsWith('int_mm')),
  'item 6: QuantLinear uses torch._int_mm for the 0.5b shapes (the estimator counts int8 there)',
);
const common = ['--preset', '0.5b', '--attention', 'gqa', '--steps', '3', '--warmup', '1'];
const int8 = profile([
  ...common,
  '--stage',
  'inference',
  '--precision',
  'int8,bf16',
  '--batch',
  '4',
  '--seq-len',
  '512',
  '--new-tokens',
  '32',
]);
const ft = profile([
  ...common,
  '--stage',
  'finetune',
  '--peft',
  'lora',
  '--precision',
  'int8',
  '--batch',
  '4',
  '--seq-len',
  '512',
]);
records.item6 = [...int8, ...ft];
const inf8 = int8.find((r) => r.config.precision === 'int8');
const infBf16 = int8.find((r) => r.config.precision === 'bf16');
const peak8 = inf8?.measurement?.peakFlops;
console.log('int8 inference peak:', JSON.stringify(peak8), 'bf16:', JSON.stringify(infBf16?.measurement?.peakFlops));
check(
  /int8/.test(peak8?.dtype ?? '') && /bf16/.test(peak8?.dtype ?? ''),
  'item 6: int8 inference names an int8 + bf16 blend',
);
check(
  peak8 && infBf16 && peak8.flopsPerS > infBf16.measurement.peakFlops.flopsPerS,
  'item 6: the int8 blend is above the bf16 peak (prefill in int8)',
);
check(
  ft[0]?.measurement?.peakFlops?.dtype === 'bf16',
  `item 6: int8 LoRA names bf16 (${ft[0]?.measurement?.peakFlops?.dtype})`,
);

// ---- 7: energy-counter power, long and short windows ----
const short = profile([
  '--preset',
  'tiny',
  '--stage',
  'inference',
  '--precision',
  'bf16',
  '--batch',
  '1',
  '--seq-len',
  '32',
  '--new-tokens',
  '4',
  '--steps',
  '2',
  '--warmup',
  '1',
]);
records.item7 = short;
for (const r of [...int8, ...short]) {
  const m = r.metrics;
  const windowS = m.latencyS * r.config.workload.steps;
  console.log(
    `${r.config.label}: powerMethod ${r.env.powerMethod} ${m.powerW} W × ${windowS.toFixed(4)} s, ${m.energyJ} J`,
  );
  check(r.env.powerMethod === 'energy-counter', `item 7: ${r.config.label} power from the energy counter`);
  check(
    m.powerW !== null && m.energyJ !== null && Math.abs((m.powerW * windowS) / m.energyJ - 1) < 0.2,
    `item 7: ${r.config.label} powerW × window ≈ energyJ`,
  );
}

// ---- 9: no pynvml ----
const stub = mkdtempSync(join(tmpdir(), 'elp-nopynvml-'));
writeFileSync(join(stub, 'pynvml.py'), 'raise ImportError("hidden by test/gpu/metric-checks.mjs")\n');
const noNvml = profile(
  ['--preset', 'tiny', '--stage', 'inference', '--precision', 'bf16', '--steps', '2', '--warmup', '1'],
  {
    PYTHONPATH: [stub, process.env.PYTHONPATH].filter(Boolean).join(':'),
  },
);
records.item9 = noNvml;
const n = noNvml[0];
console.log(
  'without pynvml:',
  n?.env?.memorySource,
  n?.env?.peakMemorySource,
  n?.metrics?.amuBytes,
  n?.env?.device?.memoryBytes,
);
check(
  n?.env?.nvml === false && n?.env?.memorySource === 'cuda-reserved',
  'item 9: memorySource cuda-reserved without NVML',
);
check(
  n?.metrics?.amuBytes > 0 && n.metrics.amuBytes < (n.env.device?.memoryBytes ?? 0),
  'item 9: AMU is CUDA memory, under the device memory (not host RSS)',
);

// ---- every record: a floor is a lower bound, a peak an upper one ----
for (const r of Object.values(records).flat()) {
  const m = r.metrics;
  check(r.status === 'completed', `${r.config.label}: ${r.status} ${r.error?.message ?? ''}`);
  check(m.mfu === null || m.mfu < 1, `${r.config.label}: MFU ${m.mfu} < 1`);
  check(
    m.rooflineFraction === null || m.rooflineFraction <= 1,
    `${r.config.label}: rooflineFraction ${m.rooflineFraction} <= 1`,
  );
}
writeFileSync(join(out, 'metric-checks.json'), JSON.stringify(records, null, 1));
console.log(failures.length === 0 ? '\nall metric checks hold' : `\n${failures.length} metric check(s) failed`);
process.exit(failures.length === 0 ? 0 : 1);
