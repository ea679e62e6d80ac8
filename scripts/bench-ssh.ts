// Benchmark, SSH section (issue 4): 8 tiny configs on one loopback SSH host through our SshTarget,
// against the same 8 run with the OpenSSH client as one `ssh host python3 …` per config, in the same
// run. Reports handshakes, bytes uploaded, wall time and the overhead per config beyond the time the
// harness spent measuring. Needs root (it starts its own sshd with test/infra/start.sh).
//   node --import tsx scripts/bench-ssh.ts [--json]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyticFor } from '../src/core/analytic';
import type { RunRecord } from '../src/core/record';
import { expandSweep } from '../src/core/sweep';
import { parseEventLine } from '../src/core/protocol';
import { loadHarnessBundle } from '../src/run/remote/remoteRuns';
import { SshHost } from '../src/run/remote/sshHost';
import { profile } from '../src/run/profile';
import { SshTarget } from '../src/run/sshTarget';
import type { BenchSection, Row } from './bench';
import { readInfraEnv } from '../test/infra/env';

const ROOT = resolve(__dirname, '..');
const PYTHON = '/usr/bin/python3';

export interface SshBenchRow {
  metric: string;
  unit: string;
  ours: number;
  openssh: number;
}

const measuredSeconds = (iterationS: number[]): number => iterationS.reduce((a, b) => a + b, 0);

export async function benchSsh(): Promise<SshBenchRow[]> {
  const base = mkdtempSync('/tmp/elp-bench-ssh-');
  execFileSync('bash', [join(ROOT, 'test/infra/start.sh')], {
    env: { ...process.env, BASE: base, TEST_USER: 'elpbench' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const env = readInfraEnv(base);
    const sshConfig = join(base, 'bench_ssh_config');
    writeFileSync(
      sshConfig,
      [
        'Host bench',
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
    const sweep = expandSweep(
      { model: { preset: 'tiny' }, stage: 'inference', workload: { seqLen: 32, newTokens: 4, steps: 2, warmup: 1 } },
      { attention: ['mha', 'gqa', 'mqa', 'mla'], precision: ['fp32', 'bf16'] },
    );
    if (!sweep.ok) throw new Error(JSON.stringify(sweep.problems));
    const configs = sweep.configs;
    const n = configs.length;

    // Ours: one connection, the harness uploaded once, the 8 configs in one detached harness process.
    let host: SshHost | null = null;
    const connect = {
      sshConfigFile: sshConfig,
      knownHostsFile: env.TEST_SSH_KNOWN_HOSTS,
      env: { ...process.env, SSH_AUTH_SOCK: '' },
    };
    const target = new SshTarget({
      hosts: ['bench'],
      python: PYTHON,
      connect,
      hostFactory: (alias) => (host = new SshHost(alias, connect)),
    });
    // Start from an empty remote cache, so the harness upload is measured as a first sweep pays it.
    const clear = spawnSync('ssh', ['-F', sshConfig, 'bench', 'rm -rf ~/.cache/efficientllm'], { encoding: 'utf8' });
    if (clear.status !== 0) throw new Error(`could not clear the remote cache: ${clear.stderr}`);
    let ids = 0;
    const t0 = process.hrtime.bigint();
    const records: RunRecord[] = await profile({
      configs,
      target,
      store: { save: async () => undefined },
      analytic: analyticFor,
      newId: () => `bench-${Date.now()}-${ids++}`,
    });
    const oursWall = Number(process.hrtime.bigint() - t0) / 1e9;
    await target.close();
    const failed = records.filter((r) => r.status !== 'completed');
    if (failed.length > 0) throw new Error(`our target: ${failed.map((r) => r.error?.message).join('; ')}`);
    const oursMeasured = records.reduce((s, r) => s + (r.metrics.latencyS ?? 0) * r.config.workload.steps, 0);
    const stats = (host as SshHost | null)?.stats;
    if (!stats) throw new Error('no SSH host was used');

    // OpenSSH: the harness copied once as a tarball, then one `ssh host python3 …` per config.
    const bundle = loadHarnessBundle();
    const tarball = execFileSync('tar', [
      '-cz',
      '-C',
      join(ROOT, 'dist', 'harness'),
      '--exclude=__pycache__',
      'efficientllm_harness',
    ]);
    const ssh = (command: string, input: Buffer | string): { stdout: string } => {
      const r = spawnSync('ssh', ['-F', sshConfig, 'bench', command], {
        input,
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
      });
      if (r.status !== 0) throw new Error(`ssh ${command}: exit ${r.status}: ${r.stderr}`);
      return { stdout: r.stdout };
    };
    const t1 = process.hrtime.bigint();
    ssh('rm -rf ~/bench-harness && mkdir -p ~/bench-harness && tar -xz -C ~/bench-harness', tarball);
    let baselineBytes = tarball.length;
    let baselineMeasured = 0;
    for (const cfg of configs) {
      const text = JSON.stringify(cfg);
      baselineBytes += Buffer.byteLength(text);
      const { stdout } = ssh(
        `cat > ~/bench-config.json && cd ~/bench-harness && ${PYTHON} -m efficientllm_harness --config ~/bench-config.json`,
        text,
      );
      for (const [i, line] of stdout.split('\n').entries()) {
        const parsed = line.trim() ? parseEventLine(line, i + 1) : null;
        if (parsed?.ok && parsed.event.type === 'result')
          baselineMeasured += measuredSeconds(parsed.event.counters.iterationS);
      }
    }
    const baselineWall = Number(process.hrtime.bigint() - t1) / 1e9;
    return [
      { metric: 'SSH handshakes', unit: '', ours: stats.connections, openssh: 1 + n },
      { metric: 'bytes uploaded', unit: 'B', ours: stats.bytesUploaded, openssh: baselineBytes },
      { metric: `wall time, ${n} configs`, unit: 's', ours: oursWall, openssh: baselineWall },
      {
        metric: 'overhead per config beyond measured time',
        unit: 's',
        ours: (oursWall - oursMeasured) / n,
        openssh: (baselineWall - baselineMeasured) / n,
      },
      {
        metric: 'harness files (uploaded once per hash)',
        unit: '',
        ours: bundle.files.length,
        openssh: bundle.files.length,
      },
    ];
  } finally {
    execFileSync('bash', [join(ROOT, 'test/infra/stop.sh')], { env: { ...process.env, BASE: base }, stdio: 'ignore' });
  }
}

/** The SSH rows of `npm run bench`: the baseline is the OpenSSH client, measured in the same run. */
export const section: BenchSection = {
  name: 'SSH',
  async run(): Promise<Row[]> {
    if (process.getuid?.() !== 0) {
      return [
        {
          section: 'SSH',
          metric: '(skipped)',
          measured: 'needs root to start its own sshd',
          budget: '',
          baseline: '',
          ratio: '',
          pass: null,
        },
      ];
    }
    const fmt = (v: number, unit: string): string =>
      unit === 's' ? `${v.toFixed(2)} s` : unit === 'B' ? `${(v / 1024).toFixed(1)} KiB` : String(v);
    return (await benchSsh()).map((r) => ({
      section: 'SSH',
      metric: r.metric,
      measured: fmt(r.ours, r.unit),
      budget: '',
      baseline: `OpenSSH ${fmt(r.openssh, r.unit)}`,
      ratio: r.ours > 0 ? `OpenSSH ÷ ours ${(r.openssh / r.ours).toFixed(2)}×` : '',
      pass: null,
      values: { ours: r.ours, openssh: r.openssh },
    }));
  },
};

export function renderSshBench(rows: readonly SshBenchRow[]): string {
  const fmt = (v: number, unit: string): string =>
    unit === 's' ? `${v.toFixed(2)} s` : unit === 'B' ? `${(v / 1024).toFixed(1)} KiB` : String(v);
  const lines = [['SSH: ours vs OpenSSH per config', 'ours', 'OpenSSH', 'OpenSSH ÷ ours']];
  for (const r of rows)
    lines.push([
      r.metric,
      fmt(r.ours, r.unit),
      fmt(r.openssh, r.unit),
      r.ours > 0 ? `${(r.openssh / r.ours).toFixed(2)}×` : '—',
    ]);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines
    .map(
      (l, j) =>
        l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') +
        (j === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : ''),
    )
    .join('\n');
}

if (require.main === module) {
  benchSsh().then(
    (rows) => console.log(process.argv.includes('--json') ? JSON.stringify(rows, null, 2) : renderSshBench(rows)),
    (e: unknown) => {
      console.error(`bench-ssh failed: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    },
  );
}
