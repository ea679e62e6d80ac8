// Bench section "SSH" (needs root: it starts its own loopback sshd with test/infra/start.sh and stops it
// by PID with stop.sh). 8 tiny configs on one host, two ways, alternated sweep by sweep (A B A B):
//   ours      SshTarget: one connection, the harness uploaded per content hash, one detached harness
//             process for the 8 run folders, events polled
//   baseline  the OpenSSH client: the harness copied as one gzip tarball, then one
//             `ssh host python3 -m efficientllm_harness --config …` per config
// Each sweep starts from an empty remote cache, so each pays the upload a first sweep pays.
//
// Overhead per config = (sweep wall time − the harness's measured time) ÷ configs. The harness's
// measured time is the lifetime of our sweep's one harness process, read on the host outside the code
// under test: the run folders' file times, from the first `pid` (written just before python starts)
// to the last `exit`. Both sides are measured against that same work, the baseline against the
// ours-sweep next to it: ours then pays only for reaching the host (connecting, uploading, starting,
// polling, reading back), the baseline also for everything one `ssh host python3 …` per config repeats
// (a handshake, python and torch started again). The baseline's own python processes' lifetimes
// (`date` around each) are reported in sshProfile, beside a timeline of our sweep's remote calls.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyticFor } from '../src/core/analytic';
import type { ProfileConfig } from '../src/core/config';
import { parseEventLine } from '../src/core/protocol';
import { expandSweep } from '../src/core/sweep';
import { profile } from '../src/run/profile';
import type { ExecOptions, ExecResult, RemoteHost } from '../src/run/remote/host';
import { loadHarnessBundle } from '../src/run/remote/remoteRuns';
import { SshHost, type SshHostOptions } from '../src/run/remote/sshHost';
import { SshTarget } from '../src/run/sshTarget';
import { readInfraEnv } from '../test/infra/env';
import { alternate, median, notMeasured, pairedRow, row, type BenchSection, type Row } from './bench-rows';

const ROOT = resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';
const ALIAS = 'bench';

/** One remote call as the profile sees it: which method, when it started and ended (s since sweep start). */
interface Call {
  method: string;
  start: number;
  end: number;
}

/** A RemoteHost that times every call of the one it wraps: the profile of where a sweep's time goes. */
class TimedHost implements RemoteHost {
  readonly calls: Call[] = [];
  constructor(
    readonly inner: SshHost,
    private readonly t0: bigint,
  ) {}
  get name(): string {
    return this.inner.name;
  }
  private async timed<T>(method: string, f: () => Promise<T>): Promise<T> {
    const start = Number(process.hrtime.bigint() - this.t0) / 1e9;
    try {
      return await f();
    } finally {
      this.calls.push({ method, start, end: Number(process.hrtime.bigint() - this.t0) / 1e9 });
    }
  }
  exec(argv: string[], o?: ExecOptions): Promise<ExecResult> {
    return this.timed('exec', () => this.inner.exec(argv, o));
  }
  script(body: string, args: string[], o?: ExecOptions): Promise<ExecResult> {
    return this.timed(`script:${body.split('\n')[0].slice(0, 40)}`, () => this.inner.script(body, args, o));
  }
  readFrom(path: string, offset: number): Promise<Buffer> {
    return this.timed('readFrom', () => this.inner.readFrom(path, offset));
  }
  writeFileAtomic(path: string, data: string | Buffer, mode?: number): Promise<void> {
    return this.timed('writeFileAtomic', () => this.inner.writeFileAtomic(path, data, mode));
  }
  home(): Promise<string> {
    return this.timed('home', () => this.inner.home());
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Sweep {
  wallS: number;
  harnessS: number;
  bytes: number;
  connections: number;
}

interface OursSweep extends Sweep {
  /** Seconds from the sweep's start to the harness process's start and end (host file times). */
  harnessStart: number;
  harnessEnd: number;
  calls: Call[];
}

/** A loopback sshd of our own and an ssh config naming it; `stop` ends it by its PID file. */
function startSshd(): { sshConfig: string; connect: SshHostOptions; stop: () => void } {
  const base = mkdtempSync('/tmp/elp-bench-ssh-');
  execFileSync('bash', [join(ROOT, 'test/infra/start.sh')], {
    env: { ...process.env, BASE: base, TEST_USER: 'elpbench' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stop = (): void => {
    execFileSync('bash', [join(ROOT, 'test/infra/stop.sh')], { env: { ...process.env, BASE: base }, stdio: 'ignore' });
  };
  try {
    const env = readInfraEnv(base);
    const sshConfig = join(base, 'bench_ssh_config');
    writeFileSync(
      sshConfig,
      [
        `Host ${ALIAS}`,
        `  HostName ${env.TEST_SSH_HOST}`,
        `  Port ${env.TEST_SSH_PORT}`,
        `  User ${env.TEST_SSH_USER}`,
        `  IdentityFile ${env.TEST_SSH_KEY}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${env.TEST_SSH_KNOWN_HOSTS}`,
        '  StrictHostKeyChecking yes',
        '  BatchMode yes',
        '',
      ].join('\n'),
    );
    const connect = {
      sshConfigFile: sshConfig,
      knownHostsFile: env.TEST_SSH_KNOWN_HOSTS,
      env: { ...process.env, SSH_AUTH_SOCK: '' },
    };
    return { sshConfig, connect, stop };
  } catch (e) {
    stop();
    throw e;
  }
}

/** `ssh bench COMMAND` with the OpenSSH client, checked. */
function ssh(sshConfig: string, command: string, input: Buffer | string = ''): { stdout: string; stderr: string } {
  const r = spawnSync('ssh', ['-F', sshConfig, ALIAS, command], { input, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`ssh ${ALIAS} ${command.slice(0, 60)}: exit ${r.status}: ${r.stderr.trim()}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const elapsed = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

async function oursSweep(sshConfig: string, connect: SshHostOptions, configs: ProfileConfig[]): Promise<OursSweep> {
  ssh(sshConfig, 'rm -rf ~/.cache/efficientllm'); // a first sweep: the upload is measured
  let timed: TimedHost | null = null;
  let ids = 0;
  const t0 = process.hrtime.bigint();
  const startEpoch = Date.now() / 1000;
  const target = new SshTarget({
    hosts: [ALIAS],
    python: PYTHON,
    connect,
    hostFactory: (alias) => (timed = new TimedHost(new SshHost(alias, connect), t0)),
  });
  const records = await profile({
    configs,
    target,
    store: { save: async () => undefined },
    analytic: analyticFor,
    newId: () => `bench-${process.pid}-${ids++}`,
  });
  const wallS = elapsed(t0);
  await target.close();
  const failed = records.filter((r) => r.status !== 'completed');
  if (failed.length > 0) throw new Error(`our SSH target: ${failed.map((r) => r.error?.message).join('; ')}`);
  const host = timed as TimedHost | null;
  if (!host) throw new Error('our SSH target used no host');
  // Host file times (epoch seconds, ns precision): pid files are written just before python starts.
  const times = ssh(sshConfig, 'cd ~/.cache/efficientllm/runs && stat -c "%n %.9Y" */pid */exit').stdout;
  const mtimes = (suffix: string): number[] =>
    times
      .split('\n')
      .filter((l) => l.split(' ')[0]?.endsWith(suffix))
      .map((l) => Number(l.split(' ')[1]));
  const pids = mtimes('/pid');
  const exits = mtimes('/exit');
  if (exits.length !== configs.length || pids.length === 0) throw new Error(`run folders on the host: ${times}`);
  const harnessStart = Math.min(...pids) - startEpoch;
  const harnessEnd = Math.max(...exits) - startEpoch;
  return {
    wallS,
    harnessS: harnessEnd - harnessStart,
    bytes: host.inner.stats.bytesUploaded,
    connections: host.inner.stats.connections,
    harnessStart,
    harnessEnd,
    calls: host.calls,
  };
}

/** The harness's files as one gzip tarball, exactly the files our upload sends. */
function harnessTarball(): Buffer {
  const bundle = loadHarnessBundle();
  const root = join(ROOT, 'src', 'harness');
  return execFileSync('tar', ['-cz', '-C', root, ...bundle.files.map((f) => f.rel)], { maxBuffer: 64 * 2 ** 20 });
}

function opensshSweep(sshConfig: string, configs: ProfileConfig[], tarball: Buffer): Sweep {
  ssh(sshConfig, 'rm -rf ~/.cache/efficientllm ~/bench-harness');
  const t0 = process.hrtime.bigint();
  ssh(sshConfig, 'mkdir -p ~/bench-harness && tar -xz -C ~/bench-harness', tarball);
  let bytes = tarball.length;
  let harnessS = 0;
  for (const cfg of configs) {
    const text = JSON.stringify(cfg);
    bytes += Buffer.byteLength(text);
    const { stdout, stderr } = ssh(
      sshConfig,
      `cat > ~/bench-config.json && cd ~/bench-harness && s=$(date +%s%N) && ${PYTHON} -m efficientllm_harness --config ~/bench-config.json; rc=$?; echo "ELP_TIMES $s $(date +%s%N)" >&2; exit $rc`,
      text,
    );
    const results = stdout.split('\n').filter((l, i) => {
      const parsed = l.trim() ? parseEventLine(l, i + 1) : null;
      return parsed?.ok === true && parsed.event.type === 'result';
    });
    if (results.length !== 1) throw new Error(`the OpenSSH baseline run gave no result: ${stderr.slice(-300)}`);
    const m = /ELP_TIMES (\d+) (\d+)/.exec(stderr);
    if (!m) throw new Error('the OpenSSH baseline run gave no process times');
    harnessS += (Number(m[2]) - Number(m[1])) / 1e9;
  }
  return { wallS: elapsed(t0), harnessS, bytes, connections: 1 + 1 + configs.length };
}

/** Consecutive calls of one method merged: "0.00-1.29 s home x1" (seconds since the sweep started). */
export function timeline(calls: readonly Call[]): string[] {
  const spans: { method: string; count: number; start: number; end: number }[] = [];
  for (const c of [...calls].sort((a, b) => a.start - b.start)) {
    const last = spans[spans.length - 1];
    if (last?.method === c.method) {
      last.count++;
      last.end = Math.max(last.end, c.end);
    } else spans.push({ method: c.method, count: 1, start: c.start, end: c.end });
  }
  return spans.map((x) => `${x.start.toFixed(2)}-${x.end.toFixed(2)} s ${x.method} x${x.count}`);
}

/** Where our sweep's time went: before the harness started, while it ran, after it ended (s). */
export function sshProfile(s: OursSweep): Record<string, number | string[]> {
  const before = s.calls.filter((c) => c.end <= s.harnessStart);
  const after = s.calls.filter((c) => c.start >= s.harnessEnd);
  const count: Record<string, number> = {};
  for (const c of s.calls) count[c.method] = (count[c.method] ?? 0) + 1;
  return {
    wallS: s.wallS,
    beforeHarnessS: s.harnessStart,
    harnessS: s.harnessS,
    afterHarnessS: s.wallS - s.harnessEnd,
    callsBeforeHarness: before.length,
    callsWhileRunning: s.calls.length - before.length - after.length,
    callsAfterHarness: after.length,
    // Time in this process around the remote calls: before the first (setting up) and after the last
    // (assembling the records).
    localBeforeFirstCallS: Math.min(...s.calls.map((c) => c.start)),
    localAfterLastCallS: s.wallS - Math.max(...s.calls.map((c) => c.end)),
    ...Object.fromEntries(Object.entries(count).map(([k, v]) => [`calls ${k}`, v])),
    timelineBeforeHarness: timeline(before),
    timelineAfterHarness: timeline(after),
  };
}

export function sshSection(pairs: number): BenchSection {
  const overheadName =
    'SSH overhead per config beyond the harness processes\u2019 lifetime on the host, 8 tiny configs, loopback sshd';
  const vsName = 'SSH overhead per config, ours vs one `ssh host python3 …` per config (OpenSSH client)';
  const bytesName =
    'SSH bytes uploaded by a first sweep (harness + 8 configs) vs the harness as one gzip tarball + configs';
  let profiled: Record<string, number | number[] | string[]> | null = null;
  return {
    name: 'SSH',
    details: () => profiled,
    async run(): Promise<Row[]> {
      if (process.getuid?.() !== 0) {
        const why = 'needs root to start its own loopback sshd (test/infra/start.sh)';
        return [
          notMeasured(overheadName, 's', why, { on: 'value', op: '<=', limit: 0.2 }),
          notMeasured(vsName, 's', why, { on: 'ratio', op: '>=', limit: 5 }),
          notMeasured(bytesName, 'B', why, { on: 'ratio', op: '>=', limit: 1 }),
        ];
      }
      const sweep = expandSweep(
        { model: { preset: 'tiny' }, stage: 'inference', workload: { seqLen: 16, newTokens: 2, steps: 1, warmup: 0 } },
        { attention: ['mha', 'gqa', 'mqa', 'mla'], precision: ['fp32', 'bf16'] },
      );
      if (!sweep.ok) throw new Error(JSON.stringify(sweep.problems));
      const configs = sweep.configs;
      const n = configs.length;
      const tarball = harnessTarball();
      const sshd = startSshd();
      try {
        const runs = await alternate(
          pairs,
          () => oursSweep(sshd.sshConfig, sshd.connect, configs),
          () => opensshSweep(sshd.sshConfig, configs, tarball),
        );
        // Both against the harness time of the ours-sweep of the same pair (see the top of this file).
        const oursPerConfig = runs.ours.map((s) => (s.wallS - s.harnessS) / n);
        const baselinePerConfig = runs.baseline.map((b, i) => (b.wallS - runs.ours[i].harnessS) / n);
        const ours = median(oursPerConfig);
        const baseline = median(baselinePerConfig);
        profiled = {
          ...sshProfile(runs.ours[runs.ours.length - 1]),
          baselineWallS: runs.baseline.map((b) => b.wallS),
          baselinePythonProcessesS: runs.baseline.map((b) => b.harnessS),
          oursWallS: runs.ours.map((o) => o.wallS),
          oursHarnessS: runs.ours.map((o) => o.harnessS),
        };
        return [
          row(overheadName, 's', ours, baseline, { on: 'value', op: '<=', limit: 0.2 }),
          pairedRow(vsName, 's', oursPerConfig, baselinePerConfig, { on: 'ratio', op: '>=', limit: 5 }),
          row(bytesName, 'B', runs.ours[0].bytes, runs.baseline[0].bytes, { on: 'ratio', op: '>=', limit: 1 }),
          row(
            'SSH connections per sweep (info)',
            'connections',
            runs.ours[0].connections,
            runs.baseline[0].connections,
          ),
        ];
      } finally {
        sshd.stop();
      }
    },
  };
}
