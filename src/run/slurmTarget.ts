// SlurmTarget: a sweep is ONE `sbatch --parsable --array=0-(n-1)[%K]` job submitted from a login node
// (any RemoteHost: this machine through LocalHost, or an SSH host). Array task i runs the harness on
// run folder i under the shared cache (`<shared>/runs/<runId>/`, DESIGN.md "Remote layout"), which
// the login node reads by byte offset. Slurm's own view of each task (sacct, else squeue and
// `scontrol show job`) is shown while it waits and decides how a task without a result ended.
import { posix } from 'node:path';
import type { TargetSpec } from '../core/targetSpec';
import { RunFollower, STDERR_TAIL_BYTES } from './follow';
import type { RemoteHost } from './remote/host';
import {
  checkCacheWritable,
  ensureHarness,
  loadHarnessBundle,
  type HarnessBundle,
  type RemotePaths,
} from './remote/remoteRuns';
import { parsePollOutput, POLL_SCRIPT, SACCT_FORMAT, SACCT_FORMAT_NO_REASON } from './slurm/poll';
import { arraySpec, batchScript, sbatchOptionLines, SlurmOptionError, type SlurmJobOptions } from './slurm/sbatch';
import { parseSbatchParsable, type SlurmPhase, type SlurmTaskStatus } from './slurm/state';
import { TargetError, type PlannedRun, type RunEnding, type Target, type TargetHooks } from './target';

export interface SlurmStatusEvent {
  runId: string;
  label: string;
  /** "123_4". */
  jobId: string;
  /** Slurm's state as printed ("PENDING", "CANCELLED by 1001"), or "SUBMITTED" right after sbatch. */
  state: string;
  phase: SlurmPhase;
  reason: string | null;
  /** One line for people: "slurm job 123_4 (mha): PENDING (Priority)". */
  message: string;
}

export interface SlurmTargetOptions {
  /** The login node. */
  host: RemoteHost;
  /** Interpreter with torch on the compute nodes. */
  python: string;
  /** Shared folder holding harness/, runs/ and slurm/; default `~/.cache/efficientllm` on the login node. */
  sharedDir?: string;
  job?: SlurmJobOptions;
  pollMs?: number;
  /**
   * How long a task may be over in Slurm's eyes before its exit file must be visible (shared
   * filesystems cache attributes); after that it ends with Slurm's state. Default 5 s.
   */
  settleMs?: number;
  /** After scancel, how long to wait for Slurm to report each task as ended. Default 30 s. */
  cancelWaitMs?: number;
  /** Close the host when execute() ends or prepare() fails (the CLI's own connection). */
  ownsHost?: boolean;
  /** Polls failing this long (login node unreachable) end the open runs as failed. Default 10 min. */
  lostAfterMs?: number;
  /** Slurm state changes, for the CLI and the extension to show. */
  onStatus?: (event: SlurmStatusEvent) => void;
  /** The harness to upload (tests); default the one beside this code. */
  harness?: HarnessBundle;
  /** The spec it was built from (createTarget), kept in its RunRecords for "Run again". */
  spec?: TargetSpec;
}

const SAFE_PATH = /^\/[A-Za-z0-9._+@~/-]*$/;

interface Task {
  index: number;
  run: PlannedRun;
  dir: string;
  /** Slurm's --output of this array task. */
  taskLog: string;
  slurm: SlurmTaskStatus | null;
  shown: string;
  /** When Slurm first reported the task as over (or stopped knowing it) without an exit file. */
  overSince: number | null;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A job option refused by sbatch.ts, as the TargetError callers phrase (field "job.partition", …). */
export function targetErrorOf(e: SlurmOptionError): TargetError {
  return new TargetError(
    e.message,
    e.field === null ? {} : { field: e.field === 'python' ? 'python' : `job.${e.field}` },
  );
}

export class SlurmTarget implements Target {
  readonly kind = 'slurm' as const;
  readonly name: string;
  private readonly host: RemoteHost;
  private readonly jobOptions: SlurmJobOptions;
  private sacctFormat: string | null = SACCT_FORMAT;

  readonly spec: TargetSpec | undefined;

  constructor(private readonly options: SlurmTargetOptions) {
    this.spec = options.spec;
    this.host = options.host;
    this.name = options.host.name;
    this.jobOptions = options.job ?? {};
    try {
      sbatchOptionLines(this.jobOptions); // reject bad options before anything runs
      if (this.jobOptions.maxConcurrent !== undefined) arraySpec(1, this.jobOptions.maxConcurrent);
    } catch (e) {
      if (e instanceof SlurmOptionError) throw targetErrorOf(e);
      throw e;
    }
    if (options.sharedDir !== undefined && !SAFE_PATH.test(options.sharedDir)) {
      throw new TargetError(
        `--shared-dir: "${options.sharedDir}" must be an absolute path of letters, digits and ._+@~/- only`,
        { field: 'sharedDir' },
      );
    }
  }

  /** Checks Slurm's client, the shared folder (writable, room) and uploads the harness once per hash. */
  async prepare(): Promise<void> {
    try {
      await this.prepareHost();
    } catch (e) {
      if (this.options.ownsHost) await this.close();
      throw e;
    }
  }

  /** Closes the login node connection (safe to call more than once). */
  async close(): Promise<void> {
    await this.host.close().catch(() => undefined);
  }

  private async prepareHost(): Promise<void> {
    let r;
    try {
      r = await this.host.exec(['sbatch', '--version'], { timeoutMs: 60_000 });
    } catch (e) {
      throw new TargetError(`cannot reach the Slurm login node ${this.name}: ${(e as Error).message}`);
    }
    if (r.code !== 0) {
      throw new TargetError(
        `Slurm is not usable on ${this.name}: "sbatch --version" failed (${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? `exit ${r.code}`}); check that Slurm's client commands are on PATH and SLURM_CONF points at the cluster's slurm.conf`,
      );
    }
    const shared = await this.sharedDir();
    const paths: RemotePaths = {
      root: shared,
      runs: posix.join(shared, 'runs'),
      harness: posix.join(shared, 'harness'),
    };
    try {
      await checkCacheWritable(this.host, paths);
      this.harnessRoot = (await ensureHarness(this.host, paths, this.options.harness ?? loadHarnessBundle())).dir;
    } catch (e) {
      if (e instanceof TargetError) throw e;
      throw new TargetError(`cannot prepare the shared folder ${shared} on ${this.name}: ${(e as Error).message}`);
    }
  }

  private harnessRoot: string | null = null;

  private async sharedDir(): Promise<string> {
    const dir = this.options.sharedDir ?? posix.join(await this.host.home(), '.cache', 'efficientllm');
    if (!SAFE_PATH.test(dir))
      throw new TargetError(
        `the shared folder "${dir}" holds characters sbatch cannot take in a path; pass --shared-dir with letters, digits and ._+@~/- only`,
      );
    return dir;
  }

  async execute(runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void> {
    try {
      await this.executeJob(runs, hooks, signal);
    } finally {
      if (this.options.ownsHost) await this.close();
    }
  }

  private async executeJob(runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void> {
    if (runs.length === 0) return;
    const shared = await this.sharedDir();
    const jobDir = posix.join(shared, 'slurm', runs[0].id);
    const tasks: Task[] = runs.map((run, index) => ({
      index,
      run,
      dir: posix.join(shared, 'runs', run.id),
      taskLog: posix.join(jobDir, `task-${index}.log`),
      slurm: null,
      shown: '',
      overSince: null,
    }));
    // Reading and ending are the follower's, as for every target; the tail adds Slurm's own task log.
    const byId = new Map(tasks.map((t) => [t.run.id, t]));
    const follower = new RunFollower(
      this.host,
      tasks.map((t) => ({ id: t.run.id, dir: t.dir })),
      hooks,
      { processLogDir: null, tail: (r) => this.tail(byId.get(r.id)!) },
    );
    const endAll = (ending: RunEnding, tail = ''): Promise<void> => follower.endRemaining(() => ending, tail);

    // 1. harness, run folders, batch script.
    try {
      if (this.harnessRoot === null) await this.prepareHost();
      const harnessRoot = this.harnessRoot ?? '';
      const script = batchScript({
        options: this.jobOptions,
        runDirs: tasks.map((t) => t.dir),
        harnessRoot,
        python: this.options.python,
      });
      await Promise.all([
        ...tasks.map((t) =>
          this.host.writeFileAtomic(posix.join(t.dir, 'config.json'), JSON.stringify(t.run.config, null, 2) + '\n'),
        ),
        this.host.writeFileAtomic(posix.join(jobDir, 'job.sh'), script, 0o755),
        this.host.writeFileAtomic(
          posix.join(jobDir, 'runs.json'),
          JSON.stringify({ jobDir, runs: tasks.map((t) => ({ task: t.index, id: t.run.id, dir: t.dir })) }, null, 2) +
            '\n',
        ),
      ]);
    } catch (e) {
      await endAll({
        status: 'failed',
        message: `could not prepare the Slurm job on ${this.name}: ${(e as Error).message}`,
      });
      return;
    }
    if (signal.aborted) {
      await endAll({ status: 'cancelled', message: 'cancelled before the Slurm job was submitted' });
      return;
    }

    // 2. one array job.
    const sbatchArgv = [
      'sbatch',
      '--parsable',
      `--array=${arraySpec(tasks.length, this.jobOptions.maxConcurrent)}`,
      `--chdir=${jobDir}`,
      `--output=${jobDir}/task-%a.log`,
      posix.join(jobDir, 'job.sh'),
    ];
    const submitted = await this.host
      .exec(sbatchArgv, { timeoutMs: 120_000 })
      .catch((e: Error) => ({ code: null, signal: null, stdout: '', stderr: e.message }));
    const parsed = submitted.code === 0 ? parseSbatchParsable(submitted.stdout) : null;
    if (!parsed) {
      const why = (submitted.stderr || submitted.stdout).trim();
      await endAll(
        {
          status: 'failed',
          message: `sbatch refused the job on ${this.name}: ${why.split('\n').slice(-1)[0] || `exit ${submitted.code}`}`,
        },
        why,
      );
      return;
    }
    const jobId = parsed.jobId;
    await this.host
      .writeFileAtomic(posix.join(jobDir, 'job-id'), `${jobId}${parsed.cluster ? `;${parsed.cluster}` : ''}\n`)
      .catch(() => undefined);
    for (const t of tasks) this.show(t, jobId, { state: 'SUBMITTED', phase: 'pending', reason: null });

    // 3. watch it.
    let cancelRequested = false;
    let cancelledAt = 0;
    const wake = new AbortController();
    const onAbort = (): void => wake.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const pollMs = this.options.pollMs ?? 1000;
    const settleMs = this.options.settleMs ?? 5000;
    const cancelWaitMs = this.options.cancelWaitMs ?? 30_000;
    const lostAfterMs = this.options.lostAfterMs ?? 600_000;
    let failingSince: number | null = null;
    try {
      while (follower.pending.length > 0) {
        if (signal.aborted && !cancelRequested) {
          cancelRequested = true;
          cancelledAt = Date.now();
          const r = await this.host
            .exec(['scancel', jobId], { timeoutMs: 60_000 })
            .catch((e: Error) => ({ code: null, stderr: e.message }));
          if (r.code !== 0) {
            await endAll({
              status: 'cancelled',
              message: `scancel ${jobId} failed (${r.stderr.trim()}); the Slurm job may still be running`,
            });
            return;
          }
        }
        const answered = await this.pollOnce(tasks, jobId, follower, {
          cancelRequested,
          cancelledAt,
          settleMs,
          cancelWaitMs,
        });
        if (answered) failingSince = null;
        else if ((failingSince ??= Date.now()) + lostAfterMs < Date.now()) {
          await endAll({
            status: cancelRequested ? 'cancelled' : 'failed',
            message: `lost contact with the login node ${this.name} for ${Math.round(lostAfterMs / 1000)} s; Slurm job ${jobId} may still be running (its run folders are under ${posix.join(shared, 'runs')})`,
          });
          return;
        }
        if (follower.pending.length === 0) break;
        await sleep(pollMs, cancelRequested ? undefined : wake.signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async pollOnce(
    tasks: Task[],
    jobId: string,
    follower: RunFollower,
    c: { cancelRequested: boolean; cancelledAt: number; settleMs: number; cancelWaitMs: number },
  ): Promise<boolean> {
    const open = tasks.filter((t) => !follower.isEnded(t.run.id));
    // A read lost with the link is retried on the next poll; the follower applies nothing twice.
    const readRest = (id: string): Promise<void> => follower.read(id).catch(() => undefined);
    const args = [jobId, this.sacctFormat ?? '', ...open.flatMap((t) => [String(t.index), t.dir])];
    const r = await this.host.script(POLL_SCRIPT, args, { timeoutMs: 120_000 }).catch(() => null);
    if (!r || r.code !== 0) return false; // a lost poll is retried next round; nothing is decided on it
    const poll = parsePollOutput(r.stdout, jobId);
    if (poll.sacctUnavailable) this.sacctFormat = null;
    else if (poll.sacctNoReason && this.sacctFormat === SACCT_FORMAT) this.sacctFormat = SACCT_FORMAT_NO_REASON;

    const now = Date.now();
    for (const t of open) {
      const info = poll.runs.get(t.index);
      if (!info) continue;
      const id = t.run.id;
      // Events first, so a result that is there is never missed by an ending decided below.
      if (info.eventsBytes > follower.bytesRead(id)) await readRest(id);
      const status = poll.tasks.get(t.index) ?? null;
      if (status) {
        t.slurm = status;
        this.show(t, jobId, { state: status.raw, phase: status.state.phase, reason: status.reason });
      }
      // The harness writes exit after the run's last event: the run ended normally (result or error).
      if (info.exitExists) {
        await readRest(id);
        await follower.end(id, null);
        continue;
      }
      // Unknown to Slurm counts as over only when the controller answered (not when it was unreachable).
      const over = status ? status.state.terminal : poll.controllerAnswered;
      if (c.cancelRequested) {
        if (over || now - c.cancelledAt > c.cancelWaitMs) {
          await readRest(id);
          const what = status ? `Slurm state ${status.raw}` : 'Slurm no longer lists it';
          await follower.end(id, {
            status: 'cancelled',
            message: `cancelled (scancel ${jobId}); ${what}${follower.began(id) ? ', while running' : ', before it started'}`,
          });
        }
        continue;
      }
      if (!over) {
        t.overSince = null;
        continue;
      }
      t.overSince ??= now;
      if (now - t.overSince < c.settleMs) continue;
      await readRest(id);
      await follower.end(id, this.ending(t, jobId, status, follower.began(id)));
    }
    return true;
  }

  private ending(t: Task, jobId: string, status: SlurmTaskStatus | null, began: boolean): RunEnding {
    const id = `${jobId}_${t.index}`;
    if (!status) {
      return {
        status: 'failed',
        message: `Slurm job ${id} is no longer known to Slurm (past MinJobAge, no accounting) and its run folder has no exit file`,
      };
    }
    const s = status.state;
    const exit = status.exitCode && status.exitCode !== '0:0' ? `, exit ${status.exitCode}` : '';
    const reason = status.reason ? `, reason ${status.reason}` : '';
    if (s.phase === 'completed') {
      return {
        status: 'failed',
        message: `Slurm job ${id} is COMPLETED but the harness left no exit file in ${t.dir}`,
      };
    }
    return {
      status: s.phase === 'cancelled' ? 'cancelled' : 'failed',
      message: `Slurm job ${id} ended ${status.raw} (${s.describe}${exit}${reason}) ${began ? 'during the run' : 'before the run started'}, without a result`,
    };
  }

  /** The run's stderr.log tail, then Slurm's own log of the task (time-limit and cancel notices land there). */
  private async tail(t: Task): Promise<string> {
    const r = await this.host
      .script(
        `for f in "$@"; do [ -s "$f" ] || continue; printf '%s\\n' "==> $f <=="; tail -c ${STDERR_TAIL_BYTES} -- "$f"; done`,
        [posix.join(t.dir, 'stderr.log'), t.taskLog],
        { timeoutMs: 60_000 },
      )
      .catch(() => null);
    return r && r.code === 0 ? r.stdout : '';
  }

  private show(t: Task, jobId: string, s: { state: string; phase: SlurmPhase; reason: string | null }): void {
    const text = s.phase === 'pending' && s.reason ? `${s.state} (${s.reason})` : s.state;
    if (text === t.shown) return;
    t.shown = text;
    const id = `${jobId}_${t.index}`;
    this.options.onStatus?.({
      runId: t.run.id,
      label: t.run.config.label,
      jobId: id,
      state: s.state,
      phase: s.phase,
      reason: s.reason,
      message: `slurm job ${id} (${t.run.config.label}): ${text}`,
    });
  }
}
