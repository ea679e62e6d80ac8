// The benchmark: `npm run bench [-- --json] [--only detection,CodeLens,SSH,sampler,activation,.vsix]`.
// Every row is a figure, its budget, and a baseline measured in the same run on the same input,
// alternated with ours (A B A B) so machine drift cancels; ratio = baseline ÷ value (scripts/bench-rows.ts).
//
//   detection   efficientllm detect as a whole process vs a whole-process bare web-tree-sitter parse of
//               the same generated workspace (scripts/bench-detect.ts)                    ratio ≥ 4
//   CodeLens    the provider's code path on a 5,000-line file after a one-line edit, and on first open
//               with the parser loaded (scripts/bench-lens.ts)                     p95 < 10 ms, < 30 ms
//   SSH         8 tiny configs through our SSH target vs one `ssh host python3 …` per config, on a
//               loopback sshd of its own (root only; scripts/bench-ssh.ts)   ≤ 0.2 s/config, ratio ≥ 5,
//               and upload bytes ≤ the gzip tarball's
//   sampler     tokens/s with sampling at 50 ms vs off (scripts/bench-sampler.ts)  < 1% (ratio < 1.01)
//   activation, .vsix (scripts/bench-extension.ts)
//
// Timings are wall clock: a busy machine inflates both sides of a row, which alternation evens out,
// but not the budgets, so the output records the load average at the start and the end.
// --json prints one object {node, cpus, loadavg, rows, details}; the plain form prints a table.
// Sizes: --files N (detection workspace, 1000), --detect-pairs N (3), --lines N (5000), --requests N
// (40), --ssh-pairs N (2), --sampler-pairs N (3), --activations N (5).
import { cpus, loadavg } from 'node:os';
import { detectionSection } from './bench-detect';
import { activationSection, vsixSection } from './bench-extension';
import { codeLensSection } from './bench-lens';
import { notMeasured, type BenchSection, type Row } from './bench-rows';
import { samplerSection } from './bench-sampler';
import { sshSection } from './bench-ssh';

const args = process.argv.slice(2);

/** `--name N`: a positive integer, or the default; anything else is refused naming the flag. */
function count(name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} needs a positive whole number (got ${args[i + 1] ?? 'nothing'})`);
  return n;
}

function sections(): BenchSection[] {
  return [
    detectionSection(count('--files', 1000), count('--detect-pairs', 3)),
    codeLensSection(count('--lines', 5000), count('--requests', 40)),
    sshSection(count('--ssh-pairs', 2)),
    samplerSection(count('--sampler-pairs', 3)),
    activationSection(count('--activations', 5)),
    vsixSection,
  ];
}

function fmt(x: number | null, unit: string): string {
  if (x === null) return '—';
  if (unit === 'B') return `${(x / 1024).toFixed(1)} KiB`;
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 1 ? 2 : 3;
  return `${x.toFixed(digits)} ${unit}`;
}

function printTable(rows: Row[]): void {
  const headers = ['name', 'value', 'baseline', 'ratio', 'budget', 'pass'];
  const cells = rows.map((r) => [
    r.name,
    fmt(r.value, r.unit),
    fmt(r.baseline, r.unit),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    r.budget ?? '',
    r.pass === null ? (r.note ?? '') : r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string =>
    c
      .map((x, i) => x.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log([line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n'));
}

async function main(): Promise<void> {
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1]?.split(',') ?? []) : null;
  const all = sections();
  const unknown = (only ?? []).filter((n) => !all.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(`--only: no section ${unknown.join(', ')} (sections: ${all.map((s) => s.name).join(', ')})`);
  const loadStart = loadavg();
  const rows: Row[] = [];
  let crashed = 0;
  for (const section of all) {
    if (only && !only.includes(section.name)) continue;
    const t0 = performance.now();
    try {
      rows.push(...(await section.run()));
    } catch (e) {
      const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
      rows.push(notMeasured(`${section.name} (did not run)`, '', message));
      crashed++;
    }
    console.error(`bench: ${section.name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const load = { start: loadStart, end: loadavg() };
  if (args.includes('--json')) {
    const details = Object.fromEntries(
      all.filter((s) => s.details && (!only || only.includes(s.name))).map((s) => [s.name, s.details?.()]),
    );
    const out = { node: process.version, cpus: cpus().length, loadavg: load, rows, details };
    console.log(JSON.stringify(out, null, 2));
  } else {
    const la = (xs: number[]): string => xs.map((x) => x.toFixed(1)).join(' ');
    console.log(
      `EfficientLLM Profiler benchmark · node ${process.version} · ${cpus().length} CPUs · load average ${la(load.start)} → ${la(load.end)} (wall clock: a busy machine inflates both sides)\n`,
    );
    printTable(rows);
  }
  // A failed budget or a section that broke fails the command; a row skipped for a stated reason does not.
  if (crashed > 0 || rows.some((r) => r.pass === false)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
