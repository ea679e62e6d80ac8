// SshTarget: runs the harness on one or more SSH hosts (`--target ssh:a` or `ssh:a,b`), detached, in the
// Remote layout of DESIGN.md (remote/remoteRuns.ts). A host with N GPUs runs up to N harness processes
// at once, one per GPU (CUDA_VISIBLE_DEVICES); a host without GPUs runs one. By default the configs that
// land on one GPU share a process (torch import and CUDA start-up once); `isolate` gives each its own.
import { posix } from 'node:path';
import type { RunRecord } from '../core/record';
import type { TargetSpec } from '../core/targetSpec';
import { newRunState } from '../core/assemble';
import type { RemoteHost } from './remote/host';
import {
  checkCacheWritable,
  checkPython,
  DEFAULT_LINK_POLICY,
  ensureHarness,
  followProcessGroup,
  gpuCount,
  launchDetached,
  launchedPid,
  loadHarnessBundle,
  remotePaths,
  remoteRunDir,
  withReconnect,
  writeRunConfigs,
  type HarnessBundle,
  type LinkPolicy,
  type RemotePaths,
} from './remote/remoteRuns';
import { SshHost, type SshHostOptions } from './remote/sshHost';
import { RunFollower } from './follow';
import { SshError } from './ssh/errors';
import { TargetError, type PlannedRun, type Target, type TargetHooks } from './target';

export interface SshTargetOptions {
  /** Aliases from the ssh config, in order. */
  hosts: string[];
  /** The interpreter with torch on the hosts (ssh config has no place for it). */
  python: string;
  isolate?: boolean;
  /** How to connect: config and known_hosts files, trust file, prompts. */
  connect?: SshHostOptions;
  /** For tests: build the RemoteHost of an alias yourself. */
  hostFactory?: (alias: string) => RemoteHost;
  pollMs?: number;
  killGraceMs?: number;
  /** Give up on a host whose link stays down this long (ms); default 10 min. */
  reconnectGiveUpMs?: number;
  /** Limit processes per host (default: its GPU count, at least 1). */
  maxProcessesPerHost?: number;
  log?: (line: string) => void;
  /** The spec it was built from (createTarget), kept in its RunRecords for "Run again". */
  spec?: TargetSpec;
}

interface HostState {
  alias: string;
  host: RemoteHost;
  paths: RemotePaths;
  harnessDir: string;
  gpus: number;
}

interface Slot {
  hostState: HostState;
  /** GPU index for CUDA_VISIBLE_DEVICES, or null on a CPU-only host. */
  gpu: number | null;
}

/** `ssh:a,b` → ['a','b']. */
export function parseSshTargetSpec(spec: string): string[] {
  const body = spec.startsWith('ssh:') ? spec.slice(4) : spec;
  const hosts = body
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (hosts.length === 0) throw new TargetError(`--target ${spec}: name at least one SSH host alias, e.g. ssh:gpubox`);
  for (const h of hosts) {
    if (/\s/.test(h) || h.startsWith('-')) throw new TargetError(`--target ${spec}: "${h}" is not a host alias`);
  }
  if (new Set(hosts).size !== hosts.length) throw new TargetError(`--target ${spec}: a host is listed twice`);
  return hosts;
}

/** Turns an SSH-layer error into the one-line TargetError the CLI prints. */
export function explainConnectError(e: unknown, alias: string): Error {
  if (e instanceof TargetError) return e;
  if (e instanceof SshError)
    return new TargetError(e.host === alias ? e.message : `${alias}: via ${e.host}: ${e.message}`);
  return e instanceof Error ? e : new Error(String(e));
}

export class SshTarget implements Target {
  readonly kind = 'ssh' as const;
  readonly name: string;
  private readonly hostStates: HostState[] = [];
  private readonly hosts = new Map<string, RemoteHost>();
  private bundle: HarnessBundle | null = null;
  private readonly policy: LinkPolicy;

  readonly spec: TargetSpec | undefined;

  constructor(private readonly options: SshTargetOptions) {
    this.spec = options.spec;
    if (options.hosts.length === 0) throw new TargetError('an SSH target needs at least one host');
    this.name = options.hosts.join(',');
    this.policy = {
      ...DEFAULT_LINK_POLICY,
      giveUpMs: options.reconnectGiveUpMs ?? DEFAULT_LINK_POLICY.giveUpMs,
      onRetry: (m) => options.log?.(m),
    };
  }

  /** The RemoteHost of an alias (one connection per host, reused by everything). */
  hostFor(alias: string): RemoteHost {
    let h = this.hosts.get(alias);
    if (!h) {
      h = this.options.hostFactory ? this.options.hostFactory(alias) : new SshHost(alias, this.options.connect ?? {});
      this.hosts.set(alias, h);
    }
    return h;
  }

  /** Connects to every host (host keys checked), checks Python, torch, the cache folder, uploads the harness. */
  async prepare(): Promise<void> {
    this.bundle ??= loadHarnessBundle();
    const bundle = this.bundle;
    this.hostStates.length = 0;
    const states = await Promise.all(
      this.options.hosts.map(async (alias): Promise<HostState> => {
        const host = this.hostFor(alias);
        try {
          if (host instanceof SshHost) await host.connect();
          const paths = await remotePaths(host);
          await checkCacheWritable(host, paths);
          await checkPython(host, this.options.python);
          const { dir, uploaded } = await ensureHarness(host, paths, bundle);
          if (uploaded)
            this.options.log?.(
              `${alias}: harness ${bundle.hash.slice(0, 12)} uploaded (${bundle.files.length} files, ${bundle.bytes} bytes)`,
            );
          const gpus = await gpuCount(host);
          return { alias, host, paths, harnessDir: dir, gpus };
        } catch (e) {
          throw explainConnectError(e, alias);
        }
      }),
    ).catch(async (e: unknown) => {
      await this.close();
      throw e;
    });
    this.hostStates.push(...states);
  }

  private slots(): Slot[] {
    const slots: Slot[] = [];
    for (const hs of this.hostStates) {
      const n = Math.max(1, Math.min(hs.gpus || 1, this.options.maxProcessesPerHost ?? Number.POSITIVE_INFINITY));
      for (let i = 0; i < n; i++) slots.push({ hostState: hs, gpu: hs.gpus > 0 ? i : null });
    }
    return slots;
  }

  async execute(runs: PlannedRun[], hooks: TargetHooks, signal: AbortSignal): Promise<void> {
    if (this.hostStates.length === 0) await this.prepare();
    try {
      const slots = this.slots();
      // Units of work: one process each. Shared: the configs spread round-robin over the slots.
      const units: PlannedRun[][] = this.options.isolate
        ? runs.map((r) => [r])
        : slots.map((_, i) => runs.filter((_r, j) => j % slots.length === i)).filter((u) => u.length > 0);
      const queue = [...units];
      let failure: unknown = null;
      const stopped = (): boolean => failure !== null;
      const worker = async (slot: Slot): Promise<void> => {
        for (let unit = queue.shift(); unit && !stopped(); unit = queue.shift()) {
          try {
            await this.runUnit(slot, unit, hooks, signal, stopped);
          } catch (e) {
            failure ??= e;
          }
        }
      };
      await Promise.all(slots.map(worker));
      if (failure !== null) throw failure;
    } finally {
      await this.close();
    }
  }

  private async runUnit(
    slot: Slot,
    unit: PlannedRun[],
    hooks: TargetHooks,
    signal: AbortSignal,
    stopped: () => boolean,
  ): Promise<void> {
    const { host, paths, harnessDir } = slot.hostState;
    const remoteRuns = unit.map((r) => ({ id: r.id, dir: remoteRunDir(paths, r.id) }));
    const set = new RunFollower(host, remoteRuns, hooks);
    if (signal.aborted) {
      await set.endRemaining(() => ({ status: 'cancelled', message: 'cancelled before it started' }));
      return;
    }
    await withReconnect(
      host,
      () =>
        writeRunConfigs(
          host,
          unit.map((r, i) => ({ dir: remoteRuns[i]!.dir, config: r.config })),
        ),
      this.policy,
    );
    const first = remoteRuns[0]!.dir;
    // A launch whose answer was lost with the link may still have started: look for its pid file first.
    const pid = await withReconnect(
      host,
      async () =>
        (await launchedPid(host, first)) ??
        launchDetached(host, {
          harnessDir,
          python: this.options.python,
          runDirs: remoteRuns.map((r) => r.dir),
          ...(slot.gpu !== null ? { cudaVisibleDevices: String(slot.gpu) } : {}),
        }),
      this.policy,
    );
    this.options.log?.(
      `${slot.hostState.alias}: harness pid ${pid}${slot.gpu !== null ? ` on GPU ${slot.gpu}` : ''} for ${unit.map((r) => r.id).join(', ')}`,
    );
    await followProcessGroup({
      host,
      set,
      pid,
      signal,
      pollMs: this.options.pollMs ?? 500,
      killGraceMs: this.options.killGraceMs ?? 3000,
      policy: this.policy,
      stopped,
    });
  }

  /** Closes every connection (safe to call more than once). */
  async close(): Promise<void> {
    const hosts = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.all(hosts.map((h) => h.close().catch(() => undefined)));
  }
}

export interface ReattachOptions {
  python?: string;
  connect?: SshHostOptions;
  hostFactory?: (alias: string) => RemoteHost;
  pollMs?: number;
  reconnectGiveUpMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const FIND_RUNS = `for d in "$@"; do if [ -d "$d" ]; then if [ -s "$d/pid" ]; then printf '%s %s\\n' "$d" "$(cat "$d/pid")"; else printf '%s -\\n' "$d"; fi; fi; done; exit 0`;

/**
 * Resumes following stored runs that are still `queued` or `running` on an SSH target (after the CLI
 * or the editor was closed): finds each run folder (`~/.cache/efficientllm/runs/<id>`) on the target's
 * hosts, groups runs by the harness process that runs them, and reads their events from the start.
 * Each run is reported to hooks.onRunEnd exactly once: completed, failed (process vanished, folder
 * missing, never started) or cancelled.
 */
export async function reattach(
  records: readonly RunRecord[],
  hooks: TargetHooks,
  options: ReattachOptions = {},
): Promise<void> {
  const pending = records.filter((r) => r.target.kind === 'ssh' && (r.status === 'running' || r.status === 'queued'));
  const byTarget = new Map<string, RunRecord[]>();
  for (const r of pending) byTarget.set(r.target.name, [...(byTarget.get(r.target.name) ?? []), r]);
  const signal = options.signal ?? new AbortController().signal;
  const policy: LinkPolicy = {
    ...DEFAULT_LINK_POLICY,
    giveUpMs: options.reconnectGiveUpMs ?? DEFAULT_LINK_POLICY.giveUpMs,
    onRetry: (m) => options.log?.(m),
  };
  const hosts: RemoteHost[] = [];
  try {
    await Promise.all(
      [...byTarget].map(async ([name, recs]) => {
        const aliases = parseSshTargetSpec(name);
        const left = new Map(recs.map((r) => [r.id, r]));
        const groups: Promise<void>[] = [];
        for (const alias of aliases) {
          if (left.size === 0) break;
          const host = options.hostFactory ? options.hostFactory(alias) : new SshHost(alias, options.connect ?? {});
          hosts.push(host);
          const paths = await withReconnect(host, () => remotePaths(host), policy).catch((e: unknown) => {
            throw explainConnectError(e, alias);
          });
          const dirs = [...left.keys()].map((id) => remoteRunDir(paths, id));
          const found = await withReconnect(host, () => host.script(FIND_RUNS, dirs), policy);
          const byPid = new Map<string, { id: string; dir: string }[]>();
          for (const line of found.stdout.split('\n')) {
            const m = /^(.*) (\d+|-)$/.exec(line);
            if (!m) continue;
            const dir = m[1]!;
            const id = posix.basename(dir);
            if (!left.has(id)) continue;
            left.delete(id);
            byPid.set(m[2]!, [...(byPid.get(m[2]!) ?? []), { id, dir }]);
          }
          for (const [pidText, runs] of byPid) {
            // Runs of one process, in the order the process takes them (ids sort by creation).
            runs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
            const set = new RunFollower(host, runs, hooks);
            if (pidText === '-') {
              // Folder written but never launched (the sweep stopped first); a finished exit file still counts.
              groups.push(
                (async () => {
                  await withReconnect(host, () => set.poll(), policy);
                  await set.endRemaining(() => ({
                    status: 'failed',
                    message: `the run was never started on ${alias} (its sweep was interrupted before it ran)`,
                  }));
                })(),
              );
            } else {
              groups.push(
                followProcessGroup({ host, set, pid: Number(pidText), signal, pollMs: options.pollMs ?? 500, policy }),
              );
            }
          }
        }
        await Promise.all(groups);
        for (const r of left.values()) {
          await hooks.onRunEnd({
            id: r.id,
            state: newRunState(),
            ending: {
              status: 'failed',
              message: `its run folder ~/.cache/efficientllm/runs/${r.id} was not found on ${aliases.join(' or ')}`,
            },
            stderrTail: '',
          });
        }
      }),
    );
  } finally {
    await Promise.all(hosts.map((h) => h.close().catch(() => undefined)));
  }
}
