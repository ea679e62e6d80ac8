// LocalTarget: runs the harness on this machine, a host like any other (a LocalHost on the RemoteHost
// seam), in the run-folder layout of DESIGN.md (`<cache>/runs/<runId>/` with config.json,
// events.jsonl, stderr.log, pid, exit), followed by the same RunFollower as SSH and Slurm runs. Only
// the process differs: a child of this one, whose exit code says how it ended. By default the runs of
// a sweep share one harness process, since importing torch and initialising CUDA cost seconds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { followProcess, RunFollower, type HarnessProcess } from './follow';
import { findHarnessRoot, HARNESS_MODULE } from './harnessFiles';
import { LocalHost } from './remote/localHost';
import { remoteRunDir, writeRunConfigs, type RemotePaths } from './remote/remoteRuns';
import type { TargetSpec } from '../core/targetSpec';
import {
  pythonError,
  type PlannedRun,
  type PythonProblem,
  type Target,
  type TargetError,
  type TargetHooks,
} from './target';

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
  /** The spec it was built from (createTarget), kept in its RunRecords for "Run again". */
  spec?: TargetSpec;
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EFFICIENTLLM_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'efficientllm');
}

/** The Remote layout of DESIGN.md under a local cache folder (no harness upload: it runs from beside this code). */
function localPaths(root: string): RemotePaths {
  return { root, runs: join(root, 'runs'), harness: join(root, 'harness') };
}

export class LocalTarget implements Target {
  readonly kind = 'local' as const;
  readonly name = 'local';
  /** This machine, on the same RemoteHost seam as an SSH host: run folders are written and read through it. */
  private readonly host = new LocalHost({ name: 'local' });
  private readonly paths: RemotePaths;

  readonly spec: TargetSpec | undefined;

  constructor(private readonly options: LocalTargetOptions) {
    this.spec = options.spec;
    this.paths = localPaths(options.cacheDir ?? defaultCacheDir());
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
    const problem = (kind: PythonProblem['problem'], detail: string): TargetError =>
      pythonError({ path: python, problem: kind, host: null, detail });
    if (probe.error) throw problem('not-found', probe.error.message);
    if (probe.status === 3) throw problem('no-torch', '');
    if (probe.status !== 0) throw problem('broken', probe.stderr.trim());
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
    const host = this.host;
    const runs = group.map((run) => ({ id: run.id, dir: remoteRunDir(this.paths, run.id) }));
    const follower = new RunFollower(host, runs, hooks);
    await writeRunConfigs(
      host,
      group.map((run, i) => ({ dir: runs[i]!.dir, config: run.config })),
    );
    if (signal.aborted) {
      await follower.endRemaining(() => ({ status: 'cancelled', message: 'cancelled before it started' }));
      return;
    }
    const harness = await this.spawnHarness(runs.map((r) => r.dir));
    await followProcess({
      follower,
      process: harness,
      signal,
      pollMs: this.options.pollMs ?? 200,
      aliveEveryMs: 0, // the child's exit event answers at once, no round trip
    });
  }

  /**
   * Starts the harness on `dirs` as a child of this process in its own process group (so cancel
   * kills it and everything it started), with its output in the first run folder. A child, not a
   * detached `setsid` launch as on a remote host: its exit code or signal says how it ended.
   */
  private async spawnHarness(dirs: string[]): Promise<HarnessProcess> {
    // Output before the harness switches stderr to each run's own file lands in the first run's log.
    const stderrFile = await open(join(dirs[0]!, 'stderr.log'), 'a');
    const stdoutFile = await open(join(dirs[0]!, 'stdout.log'), 'a');
    const harnessRoot = findHarnessRoot();
    let child: ChildProcess;
    try {
      child = spawn(this.options.python, ['-m', HARNESS_MODULE, '--run-dir', ...dirs], {
        cwd: harnessRoot,
        env: { ...process.env, PYTHONPATH: harnessRoot, PYTHONUNBUFFERED: '1' },
        detached: true,
        stdio: ['ignore', stdoutFile.fd, stderrFile.fd],
      });
    } finally {
      await stderrFile.close();
      await stdoutFile.close();
    }
    let how: string | null = null;
    const exited = new Promise<void>((resolve) => {
      child.once('error', (e) => {
        how ??= `could not start: ${e.message}`;
        resolve();
      });
      child.once('exit', (code, sig) => {
        how ??= sig ? `was killed by ${sig}` : `exited with code ${code}`;
        resolve();
      });
    });
    if (child.pid !== undefined) {
      for (const dir of dirs) await this.host.writeFileAtomic(join(dir, 'pid'), `${child.pid}\n`);
    }
    return {
      alive: () => Promise.resolve(how === null),
      kill: () => {
        this.killGroup(child);
        return Promise.resolve();
      },
      howGone: () => how ?? 'ended',
      exited,
    };
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
