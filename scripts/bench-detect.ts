// Bench section "detection": `efficientllm detect --json` over a generated workspace (scripts/bench-corpus.ts),
// as a whole process, against a whole process that does nothing but parse every `.py` file of the same
// workspace with web-tree-sitter — what detection costs without the prefilter, so "≥ 4×" means the
// prefilter and the statement-level parsing pay off in the time a user waits, start-up included.
//
// Both sides are fresh `node` processes started alternately (A B A B), so machine drift weighs on both.
// Ours is the CLI bundled from the current sources into a temporary folder (esbuild, the options of
// scripts/build.mjs) rather than dist/cli.js, which other work may rebuild while the bench runs.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { alternate, median, notMeasured, pairedRow, row, type BenchSection, type Row } from './bench-rows';
import { generateCorpus } from './bench-corpus';

const ROOT = path.resolve(__dirname, '..');
const RUNTIME_WASM = require.resolve('web-tree-sitter/web-tree-sitter.wasm');
const PYTHON_WASM = require.resolve('tree-sitter-python/tree-sitter-python.wasm');

/** The baseline process: load web-tree-sitter and the grammar, list the `.py` files, parse each once. */
const BARE_PARSE = String.raw`
const fs = require("fs");
const path = require("path");
const [runtime, tsModule, python, root] = process.argv.slice(2);
const { Parser, Language } = require(tsModule);
(async () => {
  await Parser.init({ locateFile: () => runtime });
  const parser = new Parser();
  parser.setLanguage(await Language.load(python));
  const files = fs.readdirSync(root, { recursive: true }).filter((f) => f.endsWith(".py"));
  for (const f of files) parser.parse(fs.readFileSync(path.join(root, f), "utf8")).delete();
  console.log(JSON.stringify({ parsed: files.length }));
})();
`;

/** Preloaded into both processes: their own CPU time (all threads) on stderr at exit. */
const CPU_REPORT = String.raw`process.on("exit", () => { const c = process.cpuUsage(); process.stderr.write("\nELP_CPU_S " + (c.user + c.system) / 1e6 + "\n"); });`;

interface Timed {
  seconds: number;
  cpuS: number;
  stdout: string;
}

/** Wall and CPU seconds of `node args…`, checked: a process that failed measured nothing. */
function timedNode(cpuReport: string, args: string[], what: string): Timed {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--require', cpuReport, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0)
    throw new Error(`${what} exited ${r.status}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const cpu = /ELP_CPU_S ([\d.e-]+)/.exec(r.stderr);
  if (!cpu) throw new Error(`${what} did not report its CPU time`);
  return { seconds, cpuS: Number(cpu[1]), stdout: r.stdout };
}

async function bundleCli(dir: string): Promise<string> {
  const outfile = path.join(dir, 'cli.js');
  await build({
    absWorkingDir: ROOT,
    entryPoints: ['src/cli.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'cpu-features', '*.node'],
    logLevel: 'warning',
  });
  // pythonParser.ts looks for the two .wasm files beside the bundle first, as in dist/.
  await copyFile(RUNTIME_WASM, path.join(dir, 'web-tree-sitter.wasm'));
  await copyFile(PYTHON_WASM, path.join(dir, 'tree-sitter-python.wasm'));
  return outfile;
}

export function detectionSection(files: number, pairs: number): BenchSection {
  const name = `detection: efficientllm detect, whole process, ${files}-file workspace, vs a whole-process bare web-tree-sitter parse of its .py files`;
  return {
    name: 'detection',
    async run(): Promise<Row[]> {
      const dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-bench-detect-'));
      try {
        const work = path.join(dir, 'workspace');
        const corpus = await generateCorpus(work, files);
        const cli = await bundleCli(path.join(dir, 'bin'));
        const baselineScript = path.join(dir, 'bare-parse.js');
        await writeFile(baselineScript, BARE_PARSE);
        const cpuReport = path.join(dir, 'cpu-report.js');
        await writeFile(cpuReport, CPU_REPORT);
        const tsModule = require.resolve('web-tree-sitter');
        let sites = 0;
        const runs = await alternate(
          pairs,
          () => {
            const r = timedNode(cpuReport, [cli, 'detect', '--json', work], 'efficientllm detect');
            sites = (JSON.parse(r.stdout) as { sites: unknown[] }).sites.length;
            return r;
          },
          () => timedNode(cpuReport, [baselineScript, RUNTIME_WASM, tsModule, PYTHON_WASM, work], 'the bare parse'),
        );
        // A detector that found nothing was not doing the work; the corpus holds hundreds of sites.
        if (sites < corpus.modelFiles)
          return [notMeasured(name, 's', `only ${sites} sites in ${corpus.modelFiles} model files`)];
        const of = (xs: Timed[], k: 'seconds' | 'cpuS'): number => median(xs.map((x) => x[k]));
        return [
          pairedRow(
            name,
            's',
            runs.ours.map((r) => r.seconds),
            runs.baseline.map((r) => r.seconds),
            { on: 'ratio', op: '>=', limit: 4 },
          ),
          row(`${name}, CPU time (info)`, 's', of(runs.ours, 'cpuS'), of(runs.baseline, 'cpuS')),
        ];
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
