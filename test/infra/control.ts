// Starting and stopping the loopback infrastructure (start.sh / stop.sh, README.md) and running the
// built CLI against it: what the integration suites of the local, SSH and Slurm targets share.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunRecord } from '../../src/core/record';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
const INFRA = join(ROOT, 'test', 'infra');

/** Runs start.sh (`extra`: WITH_SLURM=1, TEST_USER=…) for the instance under `base`. */
export function startInfra(base: string, extra: NodeJS.ProcessEnv = {}): void {
  execFileSync('bash', [join(INFRA, 'start.sh')], {
    env: { ...process.env, BASE: base, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  });
}

/** Stops the instance under `base` and removes its folder, whatever stop.sh says. */
export function stopInfra(base: string): void {
  try {
    execFileSync('bash', [join(INFRA, 'stop.sh')], {
      env: { ...process.env, BASE: base },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall clock around the process: ground truth for the timings it reports. */
  wallS: number;
}

/**
 * Runs dist/cli.js with `args`; `whileRunning` gets its pid (to kill or interrupt it), and what it
 * throws is appended to stderr so the test's own assertion shows it.
 */
export function runCli(
  args: string[],
  options: SpawnOptions,
  whileRunning?: (pid: number) => Promise<void>,
): Promise<CliRun> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  if (whileRunning && child.pid !== undefined)
    void whileRunning(child.pid).catch((e: Error) => (stderr += `\n[test] ${e.message}`));
  return new Promise((done) =>
    child.on('close', (code, signal) =>
      done({ code, signal, stdout, stderr, wallS: Number(process.hrtime.bigint() - started) / 1e9 }),
    ),
  );
}

/** "mha completed", one per run in order: the shape of a sweep's outcome in one comparable line. */
export function outcomes(runs: readonly RunRecord[]): string[] {
  return runs.map((r) => `${r.config.attention.kind} ${r.status}`);
}

/** Parameters of the tiny LLaMA-style preset from its shape, written here independently of the harness. */
export function tinyParams(kvHeads: number): number {
  const [layers, hidden, heads, headDim, ffn, vocab] = [2, 256, 8, 32, 688, 1024];
  const attention = hidden * heads * headDim + 2 * hidden * kvHeads * headDim + heads * headDim * hidden;
  const mlp = 3 * hidden * ffn;
  const norms = 2 * hidden;
  return vocab * hidden /* embedding */ + layers * (attention + mlp + norms) + hidden /* final norm */ + hidden * vocab;
}
