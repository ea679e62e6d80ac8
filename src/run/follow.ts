// The one run follower of every target (local, SSH, Slurm). A run is a folder on some RemoteHost (this
// machine through LocalHost, an SSH host, a Slurm cluster's shared filesystem seen from its login
// node) holding events.jsonl, stderr.log and, once the harness is done with it, exit. The follower
// reads each run's new bytes by offset, decodes them into events, applies them, keeps the protocol
// problems, and ends each run exactly once with its stderr tail. The targets keep only what differs:
// how a harness process is started, watched and killed (followProcess below, for local and SSH), or
// how a Slurm job is submitted and what the scheduler says about it (slurmTarget.ts).
import { posix } from 'node:path';
import { applyEvent, newRunState, type RunState } from '../core/assemble';
import { EventLineDecoder } from './eventReader';
import type { RemoteHost } from './remote/host';
import type { RunEnding, TargetHooks } from './target';

export const STDERR_TAIL_BYTES = 4000;

export interface FollowedRun {
  id: string;
  /** The run folder on the host (absolute). */
  dir: string;
}

interface Tracked extends FollowedRun {
  decoder: EventLineDecoder;
  state: RunState;
  ended: boolean;
}

export interface RunFollowerOptions {
  /** The folder whose stderr.log holds output from before the harness split it per run; default the first run's. */
  processLogDir?: string | null;
  /** The run's log text stored with its record; default its stderr.log, else the process's. */
  tail?: (run: FollowedRun) => Promise<string>;
}

/** The last `bytes` of a file on the host ('' when missing). */
export async function hostTail(host: RemoteHost, path: string, bytes = STDERR_TAIL_BYTES): Promise<string> {
  const r = await host.script('[ -f "$1" ] && tail -c "$2" "$1"; exit 0', [path, String(bytes)]);
  return r.stdout;
}

function lastChars(text: string, n = STDERR_TAIL_BYTES): string {
  return text.length > n ? text.slice(-n) : text;
}

/**
 * The runs of one harness process (or one Slurm array) on a host. Safe to call again after a call
 * threw (link lost): nothing is applied twice or skipped, and no run is reported twice.
 */
export class RunFollower {
  private readonly runs: Tracked[];
  private readonly processLogDir: string | null;

  constructor(
    private readonly host: RemoteHost,
    runs: readonly FollowedRun[],
    private readonly hooks: TargetHooks,
    private readonly options: RunFollowerOptions = {},
  ) {
    this.runs = runs.map((r) => ({
      id: r.id,
      dir: r.dir,
      decoder: new EventLineDecoder(),
      state: newRunState(),
      ended: false,
    }));
    this.processLogDir = options.processLogDir === undefined ? (runs[0]?.dir ?? null) : options.processLogDir;
  }

  get pending(): FollowedRun[] {
    return this.runs.filter((r) => !r.ended).map(({ id, dir }) => ({ id, dir }));
  }

  isEnded(id: string): boolean {
    return this.find(id)?.ended ?? false;
  }

  /** Whether the run's events include `hello` (the harness began it). */
  began(id: string): boolean {
    return this.find(id)?.state.hello != null;
  }

  /** Bytes of the run's events.jsonl read so far (complete lines and a pending partial one). */
  bytesRead(id: string): number {
    const t = this.find(id);
    return t ? t.decoder.offset + t.decoder.pendingLength : 0;
  }

  /** Reads what is new in the run's events.jsonl and applies it. */
  async read(id: string): Promise<void> {
    const t = this.find(id);
    if (t) await this.readEvents(t);
  }

  /** Reads what is new for every pending run; ends those whose exit file exists. */
  async poll(): Promise<void> {
    await Promise.all(
      this.runs
        .filter((t) => !t.ended)
        .map(async (t) => {
          await this.readEvents(t);
          const exit = await this.host.readFrom(posix.join(t.dir, 'exit'), 0);
          if (exit.length === 0 || t.ended) return;
          // The exit file is written after the run's last event: one more read catches everything.
          await this.readEvents(t);
          await this.endTracked(t, null, '');
        }),
    );
  }

  /** Ends the run once: `ending` null when its events say how (result or error). `extraTail` follows the log tail. */
  async end(id: string, ending: RunEnding | null, extraTail = ''): Promise<void> {
    const t = this.find(id);
    if (t) await this.endTracked(t, ending, extraTail);
  }

  /** Ends every pending run with `ending(run, began)`: the process is gone, cancelled or never started. */
  async endRemaining(ending: (run: FollowedRun, began: boolean) => RunEnding, extraTail = ''): Promise<void> {
    for (const t of this.runs) {
      if (!t.ended) await this.endTracked(t, ending(t, t.state.hello !== null), extraTail);
    }
  }

  private find(id: string): Tracked | undefined {
    return this.runs.find((r) => r.id === id);
  }

  private async readEvents(t: Tracked): Promise<void> {
    const chunk = await this.host.readFrom(
      posix.join(t.dir, 'events.jsonl'),
      t.decoder.offset + t.decoder.pendingLength,
    );
    if (chunk.length === 0 || t.ended) return;
    const batch = t.decoder.push(chunk);
    for (const ev of batch.events) applyEvent(t.state, ev);
    t.state.problems.push(...batch.problems);
    if (batch.events.length > 0) this.hooks.onUpdate(t.id, t.state);
  }

  private async endTracked(t: Tracked, ending: RunEnding | null, extraTail: string): Promise<void> {
    if (t.ended) return;
    t.ended = true; // before any await: a second caller never reports it again
    let stderrTail = '';
    try {
      stderrTail = await (this.options.tail ?? ((run) => this.defaultTail(run)))(t);
    } catch {
      // the tail is a courtesy; the run's outcome does not wait for a dead link
    }
    if (extraTail) stderrTail = `${stderrTail}${stderrTail ? '\n' : ''}${extraTail}`;
    stderrTail = lastChars(stderrTail);
    await this.hooks.onRunEnd({ id: t.id, state: t.state, ending, stderrTail });
  }

  private async defaultTail(run: FollowedRun): Promise<string> {
    const own = await hostTail(this.host, posix.join(run.dir, 'stderr.log'));
    if (own.trim() !== '' || !this.processLogDir || this.processLogDir === run.dir) return own;
    // A run that never got its own stderr.log shares the process's log in the first run's folder.
    return hostTail(this.host, posix.join(this.processLogDir, 'stderr.log'));
  }
}

/** One harness process running the runs of a RunFollower, as its target starts and watches it. */
export interface HarnessProcess {
  /** True while it (or anything it started) runs. */
  alive(): Promise<boolean>;
  /** Ends it and what it started (SIGTERM, then SIGKILL after a grace). */
  kill(): Promise<void>;
  /** How it ended, for runs it left without an exit file: "was killed by SIGKILL", "(pid 12) on gpu1 vanished". */
  howGone(): string;
  /** Settles when it exits, where the target can tell at once (a child process); wakes the loop early. */
  readonly exited?: Promise<unknown>;
}

export interface FollowProcessOptions {
  follower: RunFollower;
  process: HarnessProcess;
  signal: AbortSignal;
  pollMs: number;
  /** How often to ask whether the process is still there. */
  aliveEveryMs: number;
  /** Wraps each call that crosses the link (reconnect and retry for SSH); default: call it. */
  retry?: <T>(op: () => Promise<T>) => Promise<T>;
  /** Set by the caller to stop following without ending runs (another process lost its link). */
  stopped?: () => boolean;
}

function pause(ms: number, signal: AbortSignal, early?: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
    void early?.then(done);
  });
}

/** Follows one harness process until each of its runs has ended (or cancel, or give-up). */
export async function followProcess(o: FollowProcessOptions): Promise<void> {
  const { follower, process: harness, signal } = o;
  const retry = o.retry ?? (<T>(op: () => Promise<T>) => op());
  let cancelled = false;
  let lastAliveCheck = 0;
  let gone = false;
  while (follower.pending.length > 0 && !o.stopped?.()) {
    if (signal.aborted && !cancelled) {
      cancelled = true;
      await retry(() => harness.kill());
    }
    if (cancelled || Date.now() - lastAliveCheck >= o.aliveEveryMs) {
      // Liveness first, then read: a process seen gone has written all it ever will.
      gone = !(await retry(() => harness.alive()));
      lastAliveCheck = Date.now();
    }
    await retry(() => follower.poll());
    if (gone) break;
    await pause(o.pollMs, signal, harness.exited);
  }
  if (o.stopped?.() && !gone) return;
  await follower.endRemaining((_run, began) =>
    cancelled
      ? { status: 'cancelled', message: began ? 'cancelled while running' : 'cancelled before it started' }
      : {
          status: 'failed',
          message: began
            ? `the harness process ${harness.howGone()} during this run, without a result`
            : `the harness process ${harness.howGone()} before this run started`,
        },
  );
}
