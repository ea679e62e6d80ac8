// Detached runs on a RemoteHost, in the Remote layout of DESIGN.md:
//   ~/.cache/efficientllm/harness/<sha256>/   the harness, uploaded once per content hash
//   ~/.cache/efficientllm/runs/<runId>/       config.json, events.jsonl, stderr.log, pid, exit
// A run is started with `setsid nohup … </dev/null &`, so a dropped connection loses nothing; its
// events are read by byte offset (the RunFollower of ../follow.ts, which every target shares), so a
// reader can reconnect and resume; each run is reported to onRunEnd exactly once, however often the
// link drops.
//
// Parts meant for reuse by other remote targets (Slurm): withReconnect (backoff 1, 2, 4 … 30 s, give
// up after a total), loadHarnessBundle/ensureHarness, checkCacheWritable, checkPython,
// remotePaths/remoteRunDir.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { ProfileConfig } from '../../core/config';
import { followProcess, type HarnessProcess, type RunFollower } from '../follow';
import { findHarnessRoot, HARNESS_MODULE } from '../harnessFiles';
import { backoffDelayMs } from '../ssh/pool';
import { isRetryableLinkError } from '../ssh/errors';
import { pythonError, TargetError } from '../target';
import type { ExecResult, RemoteHost } from './host';

/** Relative to the remote home folder. */
export const REMOTE_CACHE_REL = '.cache/efficientllm';
/** Below this much free space in the cache folder a run is not started. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;

export interface RemotePaths {
  /** ~/.cache/efficientllm, absolute. */
  root: string;
  runs: string;
  harness: string;
}

export async function remotePaths(host: RemoteHost): Promise<RemotePaths> {
  const root = posix.join(await host.home(), REMOTE_CACHE_REL);
  return { root, runs: posix.join(root, 'runs'), harness: posix.join(root, 'harness') };
}

/** The run folder of a run id: `~/.cache/efficientllm/runs/<id>` (ids are plain file names). */
export function remoteRunDir(paths: RemotePaths, id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)) throw new Error(`invalid run id ${JSON.stringify(id)}`);
  return posix.join(paths.runs, id);
}

function firstLine(text: string): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-3)
    .join(' / ');
}

// ---------------------------------------------------------------------------------------------
// Harness upload

export interface HarnessBundle {
  /** sha256 over each file's relative path and bytes (length-prefixed), in sorted path order. */
  hash: string;
  files: { rel: string; data: Buffer }[];
  bytes: number;
}

/** The harness package's .py files beside this code (dist/harness or src/harness). */
export function loadHarnessBundle(root: string = findHarnessRoot()): HarnessBundle {
  const files: { rel: string; data: Buffer }[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '__pycache__' || entry.name.startsWith('.')) continue;
      const r = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(join(dir, entry.name), r);
      else if (entry.isFile() && entry.name.endsWith('.py'))
        files.push({ rel: r, data: readFileSync(join(dir, entry.name)) });
    }
  };
  walk(join(root, HARNESS_MODULE), HARNESS_MODULE);
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const h = createHash('sha256');
  for (const f of files) {
    const name = Buffer.from(f.rel, 'utf8');
    const len = Buffer.alloc(16);
    len.writeBigUInt64BE(BigInt(name.length), 0);
    len.writeBigUInt64BE(BigInt(f.data.length), 8);
    h.update(len).update(name).update(f.data);
  }
  return { hash: h.digest('hex'), files, bytes: files.reduce((n, f) => n + f.data.length, 0) };
}

const INSTALL_HARNESS = `tmp=$1; final=$2
if [ -e "$final/.complete" ]; then rm -rf "$tmp"; exit 0; fi
rm -rf "$final" && mv "$tmp" "$final"`;

/**
 * Makes sure `<harness>/<hash>/` exists on the host: skipped when its marker file is there,
 * otherwise uploaded to a temporary folder and renamed into place (a crash leaves no half folder).
 */
export async function ensureHarness(
  host: RemoteHost,
  paths: RemotePaths,
  bundle: HarnessBundle,
): Promise<{ dir: string; uploaded: boolean }> {
  const dir = posix.join(paths.harness, bundle.hash);
  const marker = posix.join(dir, '.complete');
  if ((await host.readFrom(marker, 0)).length > 0) return { dir, uploaded: false };
  const tmp = posix.join(paths.harness, `.tmp-${bundle.hash.slice(0, 12)}-${randomBytes(4).toString('hex')}`);
  try {
    await Promise.all(bundle.files.map((f) => host.writeFileAtomic(posix.join(tmp, f.rel), f.data, 0o644)));
    await host.writeFileAtomic(posix.join(tmp, '.complete'), `${bundle.hash}\n`, 0o644);
  } catch (e) {
    throw asTargetError(e, host, `cannot upload the harness to ${paths.harness}`);
  }
  const r = await host.script(INSTALL_HARNESS, [tmp, dir]);
  if (r.code !== 0)
    throw new TargetError(
      `cannot install the harness in ${dir} on ${host.name}: ${firstLine(r.stderr) || `exit ${r.code}`}`,
    );
  return { dir, uploaded: true };
}

function asTargetError(e: unknown, host: RemoteHost, doing: string): Error {
  if (isRetryableLinkError(e)) return e as Error;
  if (e instanceof TargetError) return e;
  return new TargetError(`${doing} on ${host.name}: ${(e as Error).message}`);
}

// ---------------------------------------------------------------------------------------------
// Checks before anything runs

const CHECK_CACHE = `root=$1; min=$2
for d in "$root" "$root/runs" "$root/harness"; do
  if ! mkdir -p "$d" 2>/dev/null; then echo "cannot create $d" >&2; exit 10; fi
  probe="$d/.write-test.$$"
  if ! ( : > "$probe" ) 2>/dev/null; then echo "$d is not writable" >&2; exit 11; fi
  rm -f "$probe"
done
avail=$(df -Pk "$root" 2>/dev/null | awk 'NR==2 {print $4}')
echo "avail_kb=\${avail:-unknown}"
if [ -n "$avail" ] && [ "$avail" -lt "$min" ] 2>/dev/null; then echo "only \${avail} KiB free in $root" >&2; exit 12; fi
exit 0`;

/** The cache folder exists, is writable and has room; else a TargetError naming host and folder. */
export async function checkCacheWritable(host: RemoteHost, paths: RemotePaths): Promise<void> {
  const r = await host.script(CHECK_CACHE, [paths.root, String(Math.floor(MIN_FREE_BYTES / 1024))]);
  if (r.code === 0) return;
  const why = firstLine(r.stderr) || `exit ${r.code}`;
  if (r.code === 12)
    throw new TargetError(
      `the cache folder ${paths.root} on ${host.name} is full (${why}); free some space there (old runs live in ${paths.runs})`,
    );
  throw new TargetError(
    `the cache folder ${paths.root} on ${host.name} is not writable (${why}); fix its permissions (e.g. ssh ${host.name} chmod -R u+w ${paths.root}) or free the disk`,
  );
}

/** `~/…` in a --python path means the remote home. */
export const EXPAND_PY = `case $py in "~/"*) py="$HOME/\${py#"~/"}";; esac`;

const CHECK_PYTHON = `py=$1
${EXPAND_PY}
if ! command -v "$py" >/dev/null 2>&1; then exit 127; fi
exec "$py" -c 'import importlib.util,sys; sys.exit(0 if importlib.util.find_spec("torch") else 3)'`;

/** The interpreter exists and has torch (found without importing it: milliseconds). */
export async function checkPython(host: RemoteHost, python: string): Promise<void> {
  const r = await host.script(CHECK_PYTHON, [python], { timeoutMs: 60_000 });
  if (r.code === 0) return;
  const problem = r.code === 127 ? 'not-found' : r.code === 3 ? 'no-torch' : 'broken';
  const detail = problem === 'broken' ? `exit ${r.code}: ${firstLine(r.stderr)}` : firstLine(r.stderr);
  throw pythonError({ path: python, problem, host: host.name, detail });
}

const GPU_COUNT = `if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L 2>/dev/null | grep -c '^GPU '; else ls /dev 2>/dev/null | grep -c '^nvidia[0-9][0-9]*$'; fi; exit 0`;

/** GPUs on the host from `nvidia-smi -L` (or /dev/nvidiaN); 0 on a machine without NVIDIA GPUs. */
export async function gpuCount(host: RemoteHost): Promise<number> {
  const r = await host.script(GPU_COUNT, []);
  const n = Number.parseInt(r.stdout.trim().split('\n').pop() ?? '0', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

// ---------------------------------------------------------------------------------------------
// Launch, liveness, cancel

const LAUNCH = `harness=$1; py=$2; cvd=$3; shift 3
first=$1
${EXPAND_PY}
cd "$harness" 2>/dev/null || { echo "the harness folder $harness is missing" >&2; exit 3; }
export PYTHONPATH="$harness" PYTHONUNBUFFERED=1
if [ -n "$cvd" ]; then export CUDA_VISIBLE_DEVICES="$cvd"; fi
setsid sh -c 'for d in "$@"; do shift; [ "$d" = -- ] && break; printf "%s\\n" "$$" > "$d/pid.tmp" && mv -f "$d/pid.tmp" "$d/pid"; done; exec "$@"' \\
  elp-launch "$@" -- nohup "$py" -m ${HARNESS_MODULE} --run-dir "$@" </dev/null >>"$first/stdout.log" 2>>"$first/stderr.log" &
i=0
while [ ! -s "$first/pid" ]; do
  i=$((i+1)); if [ $i -gt 200 ]; then echo "the harness process did not start" >&2; exit 5; fi
  sleep 0.05 2>/dev/null || sleep 1
done
cat "$first/pid"`;

export interface LaunchOptions {
  harnessDir: string;
  python: string;
  runDirs: string[];
  /** CUDA_VISIBLE_DEVICES for the process; undefined leaves it as the host has it. */
  cudaVisibleDevices?: string;
}

/** Writes each run's config.json (atomically; creates the run folder). */
export async function writeRunConfigs(host: RemoteHost, runs: { dir: string; config: ProfileConfig }[]): Promise<void> {
  try {
    await Promise.all(
      runs.map((r) => host.writeFileAtomic(posix.join(r.dir, 'config.json'), JSON.stringify(r.config, null, 2) + '\n')),
    );
  } catch (e) {
    throw asTargetError(e, host, 'cannot write the run configs');
  }
}

/** The process group id written to the first run folder's pid file, or null when it never started. */
export async function launchedPid(host: RemoteHost, firstRunDir: string): Promise<number | null> {
  const text = (await host.readFrom(posix.join(firstRunDir, 'pid'), 0)).toString('utf8').trim();
  return /^[0-9]+$/.test(text) ? Number(text) : null;
}

/** Starts one harness process for `runDirs` (in order), detached in its own session; returns its pid (= process group id). */
export async function launchDetached(host: RemoteHost, options: LaunchOptions): Promise<number> {
  const r = await host.script(LAUNCH, [
    options.harnessDir,
    options.python,
    options.cudaVisibleDevices ?? '',
    ...options.runDirs,
  ]);
  const pid = Number.parseInt(r.stdout.trim(), 10);
  if (r.code !== 0 || !Number.isInteger(pid) || pid <= 1) {
    throw new TargetError(`cannot start the harness on ${host.name}: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  }
  return pid;
}

/** True while any process of the group runs. */
export async function isGroupAlive(host: RemoteHost, pid: number): Promise<boolean> {
  const r = await host.script('kill -0 -"$1" 2>/dev/null || kill -0 "$1" 2>/dev/null', [String(pid)]);
  return r.code === 0;
}

const KILL_GROUP = `pid=$1; grace=$2
kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || exit 0
i=0
while kill -0 -"$pid" 2>/dev/null; do
  i=$((i+1)); if [ $i -gt "$grace" ]; then kill -KILL -"$pid" 2>/dev/null; break; fi
  sleep 0.1 2>/dev/null || sleep 1
done
exit 0`;

/** SIGTERM to the whole process group, SIGKILL after `graceMs`. */
export async function killGroup(host: RemoteHost, pid: number, graceMs: number): Promise<ExecResult> {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`refusing to signal process group ${pid}`);
  return host.script(KILL_GROUP, [String(pid), String(Math.max(1, Math.round(graceMs / 100)))]);
}

// ---------------------------------------------------------------------------------------------
// Reconnecting

export interface LinkPolicy {
  /** Give up after the link has been down this long (ms); default 10 minutes. */
  giveUpMs: number;
  /** First delay (ms); doubles up to 30 s. Default 1000. */
  baseDelayMs?: number;
  /** Told about each failed attempt and the wait before the next. */
  onRetry?: (message: string) => void;
}

export const DEFAULT_LINK_POLICY: LinkPolicy = { giveUpMs: 10 * 60_000 };

/** Thrown when the link stayed down past LinkPolicy.giveUpMs. */
export class LinkLostError extends TargetError {}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `op`, and while it fails with a retryable link error (dropped, refused, timed out) waits
 * 1, 2, 4 … 30 s and tries again (the host reconnects on the next call), until giveUpMs of downtime.
 */
export async function withReconnect<T>(
  host: RemoteHost,
  op: () => Promise<T>,
  policy: LinkPolicy = DEFAULT_LINK_POLICY,
): Promise<T> {
  let attempt = 0;
  let downSince = 0;
  for (;;) {
    try {
      return await op();
    } catch (e) {
      if (!isRetryableLinkError(e)) throw e;
      if (downSince === 0) downSince = Date.now();
      const down = Date.now() - downSince;
      if (down >= policy.giveUpMs) {
        throw new LinkLostError(
          `lost the connection to ${host.name} and could not reconnect for ${Math.round(down / 1000)} s (${(e as Error).message}); ` +
            `the runs keep going on ${host.name}: pick them up later with "efficientllm runs --reattach"`,
        );
      }
      const wait = Math.min(backoffDelayMs(attempt++, policy.baseDelayMs ?? 1000), Math.max(0, policy.giveUpMs - down));
      policy.onRetry?.(`${(e as Error).message}; reconnecting to ${host.name} in ${Math.round(wait / 100) / 10} s`);
      await sleep(wait);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Following runs

/** A detached harness process group on a host, as the run follower watches it. */
export function detachedProcess(host: RemoteHost, pid: number, killGraceMs: number): HarnessProcess {
  return {
    alive: () => isGroupAlive(host, pid),
    kill: async () => {
      await killGroup(host, pid, killGraceMs);
    },
    howGone: () => `(pid ${pid}) on ${host.name} vanished`,
  };
}

export interface FollowOptions {
  host: RemoteHost;
  set: RunFollower;
  /** The process group of the harness. */
  pid: number;
  signal: AbortSignal;
  pollMs?: number;
  /** How often to check the process is still there; default 2 s. */
  aliveEveryMs?: number;
  killGraceMs?: number;
  policy?: LinkPolicy;
  /** Set by the caller to stop following without ending runs (another group lost its link). */
  stopped?: () => boolean;
}

/** Follows one detached harness process until each of its runs has ended (or cancel, or give-up). */
export function followProcessGroup(o: FollowOptions): Promise<void> {
  const policy = o.policy ?? DEFAULT_LINK_POLICY;
  return followProcess({
    follower: o.set,
    process: detachedProcess(o.host, o.pid, o.killGraceMs ?? 3000),
    signal: o.signal,
    pollMs: o.pollMs ?? 500,
    aliveEveryMs: o.aliveEveryMs ?? 2000,
    retry: (op) => withReconnect(o.host, op, policy),
    stopped: o.stopped,
  });
}
