// LocalTarget: runs the harness on this machine, detached, in the run-folder layout of DESIGN.md
// (`<cache>/runs/<runId>/` with config.json, events.jsonl, stderr.log, pid, exit). By default the runs
// of a sweep share one harness process, since importing torch and initialising CUDA cost seconds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { applyEvent, newRunState, type RunState } from '../core/assemble';
import { EventFileReader } from './eventReader';
import { findHarnessRoot, HARNESS_MODULE } from './harnessFiles';
import { TargetError, type PlannedRun, type RunEnding, type Target, type TargetHooks } from './target';

export interface LocalTargetOptions {
  /** The Python interpreter with torch; DESIGN: configurable per target. */
  python: string;
  /** Holds runs/<runId>/; defaults to ~/.cache/efficientllm. */
  cacheDir?: string;
  /** One harness process per config instead of one for the whole sweep. */
  isolate?: boolean;
  pollMs?: number;
  /** Grace between SIGTERM and SIGKILL on cancel. */
  killGraceMs?: number;
}

const STDERR_TAIL_BYTES = 4000;

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EFFICIENTLLM_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'efficientllm');
}

async function tail(path: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.length > STDERR_TAIL_BYTES ? text.slice(-STDERR_TAIL_BYTES) : text;
  } catch {
    return '';
  }
}

interface Tracked {
  run: PlannedRun;
  dir: string;
  reader: EventFileReader;
  state: RunState;
  ended: boolean;
}

export class LocalTarget implements Target {
  readonly kind = 'local' as const;
  readonly name = 'local';
  private readonly cacheDir: string;

  constructor(private readonly options: LocalTargetOptions) {
    this.cacheDir = options.cacheDir ?? defaultCacheDir();
  }

  async prepare(): Promise<void> {
    const { python } = this.options;
    // find_spec looks torch up without importing it, so this check costs milliseconds.
    const probe = spawnSync(
      python,
      ['-c', 'import importlib.util,sys; sys.exit(0 if importlib.util.find_spec("torch") else 3)'],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    if (probe.error) {
      throw new TargetError(
        `Python interpreter "${python}" could not start (${probe.error.message}); pass --python PATH or set EFFICIENTLLM_PYTHON`,
      );
    }
    if (probe.status === 3) {
      throw new TargetError(
        `Python interpreter "${python}" has no torch; install PyTorch for it (Debian: apt-get install python3-torch libopenblas0-pthread, then --python /usr/bin/python3), or pass --python with one that has it`,
      );
    }
    if (probe.status !== 0) throw new TargetError(`Python interpreter "${python}" failed: ${probe.stderr.trim()}`);
    findHarnessRoot();
  }

  async execute(runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void> {
    const groups = this.options.isolate ? runs.map((r) => [r]) : [runs];
    for (const group of groups) {
      if (group.length === 0) continue;
      await this.executeGroup(group, hooks, signal);
    }
  }

  private async executeGroup(group: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void> {
    const tracked: Tracked[] = [];
    for (const run of group) {
      const dir = join(this.cacheDir, 'runs', run.id);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'config.json'), JSON.stringify(run.config, null, 2) + '\n');
      tracked.push({
        run,
        dir,
        reader: new EventFileReader(join(dir, 'events.jsonl')),
        state: newRunState(),
        ended: false,
      });
    }
    if (signal.aborted) {
      for (const t of tracked)
        await this.end(t, hooks, { status: 'cancelled', message: 'cancelled before it started' });
      return;
    }

    // Output before the harness switches stderr to each run's own file lands in the first run's log.
    const firstDir = tracked[0].dir;
    const stderrFile = await open(join(firstDir, 'stderr.log'), 'a');
    const stdoutFile = await open(join(firstDir, 'stdout.log'), 'a');
    const harnessRoot = findHarnessRoot();
    let child: ChildProcess;
    try {
      child = spawn(this.options.python, ['-m', HARNESS_MODULE, '--run-dir', ...tracked.map((t) => t.dir)], {
        cwd: harnessRoot,
        env: { ...process.env, PYTHONPATH: harnessRoot, PYTHONUNBUFFERED: '1' },
        detached: true, // its own process group, so cancel can kill it and everything it started
        stdio: ['ignore', stdoutFile.fd, stderrFile.fd],
      });
    } finally {
      await stderrFile.close();
      await stdoutFile.close();
    }
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError: Error | null }>(
      (resolve) => {
        child.once('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
        child.once('exit', (code, sig) => resolve({ code, signal: sig, spawnError: null }));
      },
    );
    if (child.pid !== undefined) {
      for (const t of tracked) await writeFile(join(t.dir, 'pid'), `${child.pid}\n`);
    }

    let cancelled = false;
    const cancel = (): void => {
      cancelled = true;
      this.killGroup(child);
    };
    signal.addEventListener('abort', cancel, { once: true });

    let exit: Awaited<typeof exited> | null = null;
    void exited.then((e) => (exit = e));
    const pollMs = this.options.pollMs ?? 200;
    try {
      while (tracked.some((t) => !t.ended)) {
        const processGone = exit !== null;
        await this.poll(tracked, hooks);
        if (processGone) break;
        await Promise.race([exited, new Promise((r) => setTimeout(r, pollMs))]);
      }
    } finally {
      signal.removeEventListener('abort', cancel);
    }

    // The process is gone: every run without its exit file ended abnormally.
    const e = exit ?? (await exited);
    const how = e.spawnError
      ? `could not start: ${e.spawnError.message}`
      : e.signal
        ? `was killed by ${e.signal}`
        : `exited with code ${e.code}`;
    for (const t of tracked) {
      if (t.ended) continue;
      const began = t.state.hello !== null;
      const message = cancelled
        ? began
          ? 'cancelled while running'
          : 'cancelled before it started'
        : began
          ? `the harness process ${how} during this run, without a result`
          : `the harness process ${how} before this run started`;
      await this.end(t, hooks, { status: cancelled ? 'cancelled' : 'failed', message }, firstDir);
    }
  }

  private async poll(tracked: Tracked[], hooks: TargetHooks): Promise<void> {
    for (const t of tracked) {
      if (t.ended) continue;
      const batch = await t.reader.readNew();
      for (const ev of batch.events) applyEvent(t.state, ev);
      t.state.problems.push(...batch.problems);
      if (batch.events.length > 0) hooks.onUpdate(t.run.id, t.state);
      // The exit file is written after the run's last event, so one more read catches everything.
      if (existsSync(join(t.dir, 'exit'))) {
        const last = await t.reader.readNew();
        for (const ev of last.events) applyEvent(t.state, ev);
        t.state.problems.push(...last.problems);
        await this.end(t, hooks, null);
      }
    }
  }

  private async end(t: Tracked, hooks: TargetHooks, ending: RunEnding | null, processLogDir?: string): Promise<void> {
    t.ended = true;
    // A run that never got its own stderr.log shares the process's log in the first run's folder.
    let stderrTail = await tail(join(t.dir, 'stderr.log'));
    if (stderrTail === '' && processLogDir) stderrTail = await tail(join(processLogDir, 'stderr.log'));
    await hooks.onRunEnd({ id: t.run.id, state: t.state, ending, stderrTail });
  }

  private killGroup(child: ChildProcess): void {
    if (child.pid === undefined || child.exitCode !== null) return;
    const pid = child.pid;
    const signalGroup = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-pid, sig);
      } catch {
        // already gone
      }
    };
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), this.options.killGraceMs ?? 3000);
    timer.unref();
    child.once('exit', () => clearTimeout(timer));
  }
}
