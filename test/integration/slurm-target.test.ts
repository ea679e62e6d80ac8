/**
 * `efficientllm profile --target slurm:local` against a real one-node Slurm (slurmctld + slurmd +
 * munge on loopback, test/infra/start.sh WITH_SLURM=1; installs slurm-wlm and munge with apt when
 * missing). The CLI runs as the unprivileged user elptest (uid/gid of the spawned process), so the
 * array jobs run as elptest too; only the infrastructure runs as root. Checks: a sweep of 3 configs is
 * ONE array job giving 3 completed records with metrics; SIGINT → scancel → cancelled records and the
 * job gone from squeue; a job past its time limit → a failed record naming TIMEOUT with Slurm's
 * "DUE TO TIME LIMIT" line in the stderr tail. Slurm's time limit is at least one minute and slurmctld
 * checks it every 30 s, so that job (a stand-in interpreter that sleeps, using no CPU) is started
 * first and runs alongside the others; the file takes about 1.5–2 minutes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunRecord } from '../../src/core/record';
import { outcomes, runCli, startInfra, stopInfra, tinyParams, type CliRun } from '../infra/control';
import { readInfraEnv } from '../infra/env';

const PYTHON = process.env.EFFICIENTLLM_PYTHON ?? '/usr/bin/python3';
const USER = 'elptest';
const isRoot = process.getuid?.() === 0;
const SKIP = isRoot ? false : 'needs root to start munge and Slurm on loopback (test/infra/start.sh WITH_SLURM=1)';

describe('Slurm target against a real slurmctld', { skip: SKIP, timeout: 600_000 }, () => {
  let base = '';
  let ws = '';
  let slurmConf = '';
  let uid = 0;
  let gid = 0;
  const children = new Set<number>();
  let timeoutRun: Promise<CliRun> | null = null;

  const slurm = (cmd: string, args: string[]): string =>
    execFileSync(cmd, args, { env: { ...process.env, SLURM_CONF: slurmConf }, encoding: 'utf8', timeout: 30_000 });

  /** The CLI as elptest, in its own workspace folder (store, HOME and so the default shared cache). */
  function cli(
    name: string,
    args: string[],
    whileRunning?: (pid: number, dir: string) => Promise<void>,
  ): Promise<CliRun> {
    const dir = join(ws, name);
    mkdirSync(join(dir, 'home'), { recursive: true });
    for (const d of [dir, join(dir, 'home')]) chownSync(d, uid, gid);
    let pid = 0;
    const run = runCli(
      ['profile', '--target', 'slurm:local', ...args],
      {
        cwd: dir,
        uid,
        gid,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: join(dir, 'home'),
          SLURM_CONF: slurmConf,
          EFFICIENTLLM_PYTHON: PYTHON,
          LANG: 'C.UTF-8',
        },
      },
      async (p) => {
        children.add((pid = p));
        await whileRunning?.(p, dir);
      },
    );
    return run.finally(() => children.delete(pid));
  }

  const sharedOf = (dir: string): string => join(dir, 'home', '.cache', 'efficientllm');

  before(
    () => {
      base = mkdtempSync('/tmp/elp-it-slurm-'); // directly under /tmp: elptest must traverse it
      startInfra(base, { WITH_SLURM: '1' });
      slurmConf = readInfraEnv(base).SLURM_CONF;
      uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
      gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
      // Let the sleeping time-limit job share a core with the others (the node may have only 1–2 CPUs).
      slurm('scontrol', ['update', 'PartitionName=debug', 'OverSubscribe=FORCE:4']);
      ws = mkdtempSync('/tmp/elp-it-slurm-ws-');
      chmodSync(ws, 0o755);
      // Stands in for Python: says hello on stderr, then sleeps past the one-minute limit.
      const fake = join(ws, 'sleepy-python');
      writeFileSync(fake, '#!/bin/sh\necho "sleepy-python: pretending to profile, args: $*" >&2\nexec sleep 600\n');
      chmodSync(fake, 0o755);
      timeoutRun = cli('timeout', [
        '--preset',
        'tiny',
        '--attention',
        'mha',
        '--stage',
        'inference',
        '--time-limit',
        '1',
        '--python',
        fake,
        '--json',
      ]);
    },
    { timeout: 620_000 },
  );

  after(() => {
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (base !== '') {
      try {
        if (slurmConf)
          execFileSync('scancel', ['-u', USER], {
            env: { ...process.env, SLURM_CONF: slurmConf },
            stdio: 'ignore',
            timeout: 30_000,
          });
      } catch {
        // nothing to cancel
      }
      stopInfra(base);
    }
    if (ws !== '') rmSync(ws, { recursive: true, force: true });
  });

  it('a sweep of 3 configs is one array job and gives 3 completed records with metrics', async () => {
    const r = await cli('sweep', [
      '--preset',
      'tiny',
      '--attention',
      'mha,gqa,mqa',
      '--stage',
      'inference',
      '--steps',
      '2',
      '--warmup',
      '1',
      '--partition',
      'debug',
      '--time-limit',
      '10',
      '--max-concurrent',
      '2',
      '--sbatch-extra=--comment=elp-it',
      '--sbatch-extra',
      'nice=0',
      '--json',
    ]);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout.slice(0, 2000)}`);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.deepEqual(outcomes(runs), ['mha completed', 'gqa completed', 'mqa completed']);
    for (const run of runs) {
      // The spec the CLI built, job options included, kept so "Run again" reruns on exactly this target.
      assert.deepEqual(run.target, {
        kind: 'slurm',
        name: 'local',
        spec: {
          kind: 'slurm',
          alias: 'local',
          python: PYTHON,
          job: { partition: 'debug', timeLimit: '10', maxConcurrent: 2, extra: ['--comment=elp-it', 'nice=0'] },
        },
      });
      assert.equal(run.error, null);
      assert.equal(run.metrics.params, tinyParams(run.config.attention.kvHeads), `${run.config.label}: parameters`);
      for (const k of ['latencyS', 'tokensPerS', 'ttftS', 'peakMemoryBytes'] as const)
        assert.ok((run.metrics[k] ?? 0) > 0, `${run.config.label}: ${k}`);
      assert.ok(run.env.torch !== null);
    }
    // One sbatch: every run folder names the same array job, tasks 0..2 in order.
    const shared = sharedOf(join(ws, 'sweep'));
    const ids = runs.map(
      (x) =>
        readFileSync(join(shared, 'runs', x.id, 'slurm-job'), 'utf8')
          .trim()
          .split(' ')[1],
    );
    const arrayJob = ids[0].split('_')[0];
    assert.deepEqual(ids, [`${arrayJob}_0`, `${arrayJob}_1`, `${arrayJob}_2`]);
    assert.deepEqual(readdirSync(join(shared, 'slurm')), [runs[0].id], 'one job folder');
    const script = readFileSync(join(shared, 'slurm', runs[0].id, 'job.sh'), 'utf8');
    for (const line of [
      '#SBATCH --partition=debug',
      '#SBATCH --time=10',
      '#SBATCH --comment=elp-it',
      '#SBATCH --nice=0',
    ])
      assert.ok(script.includes(line), line);
    // Slurm ran it as elptest with our options.
    const job = slurm('scontrol', ['show', 'job', '-o', arrayJob]);
    assert.match(job, new RegExp(`UserId=${USER}\\(`));
    assert.match(job, /TimeLimit=00:10:00/);
    assert.match(job, /Comment=elp-it/);
    assert.match(r.stderr, new RegExp(`slurm job ${arrayJob}_0 \\(tiny mha fp32 inference\\): `));
    const stored = readdirSync(join(ws, 'sweep', '.efficientllm', 'runs')).filter((f) => f.endsWith('.json'));
    assert.deepEqual(stored.sort(), runs.map((x) => `${x.id}.json`).sort(), 'each run stored once');
  });

  it('SIGINT while running → scancel → cancelled records, job gone from squeue', async () => {
    let jobId = '';
    const r = await cli(
      'cancel',
      [
        '--preset',
        'tiny',
        '--attention',
        'mha,gqa',
        '--stage',
        'pretrain',
        '--steps',
        '100000',
        '--max-concurrent',
        '1',
        '--json',
      ],
      async (pid, dir) => {
        // Wait until task 0's harness is in its measured window (task 1 waits on the %1 limit).
        const runs = join(sharedOf(dir), 'runs');
        const end = Date.now() + 120_000;
        for (;;) {
          for (const id of existsSync(runs) ? readdirSync(runs) : []) {
            const events = join(runs, id, 'events.jsonl');
            if (existsSync(events) && /"phase": ?"measure"/.test(readFileSync(events, 'utf8'))) {
              jobId = readFileSync(join(runs, id, 'slurm-job'), 'utf8')
                .trim()
                .split(' ')[1]
                .split('_')[0];
            }
          }
          if (jobId !== '') break;
          if (Date.now() > end) throw new Error('no run reached its measured window');
          await new Promise((w) => setTimeout(w, 200));
        }
        process.kill(pid, 'SIGINT');
      },
    );
    assert.notEqual(jobId, '', r.stderr);
    assert.equal(r.code, 1, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.deepEqual(
      runs.map((x) => x.status),
      ['cancelled', 'cancelled'],
    );
    assert.match(
      runs[0].error!.message,
      new RegExp(`cancelled \\(scancel ${jobId}\\); Slurm state CANCELLED.*while running`),
    );
    assert.match(runs[1].error!.message, /before it started/);
    assert.equal(
      slurm('squeue', ['-h', '-o', '%i'])
        .split('\n')
        .filter((l) => l.startsWith(`${jobId}_`)).length,
      0,
      'job gone from squeue',
    );
    assert.match(slurm('scontrol', ['show', 'job', '-o', jobId]), /JobState=CANCELLED/);
  });

  it('--target slurm:ALIAS reaches the login node over SSH (elptest, SLURM_CONF from sshd SetEnv)', async () => {
    const env = readInfraEnv(base);
    const dir = join(ws, 'over-ssh');
    mkdirSync(join(dir, 'shared'), { recursive: true });
    chownSync(join(dir, 'shared'), uid, gid);
    writeFileSync(
      join(dir, 'ssh_config'),
      `Host slurm-login\n  HostName ${env.TEST_SSH_HOST}\n  Port ${env.TEST_SSH_PORT}\n  User ${USER}\n  IdentityFile ${env.TEST_SSH_KEY}\n  IdentitiesOnly yes\n`,
    );
    // Run as root here (the client key is root's); the login-node side is elptest. No SLURM_CONF in
    // this process: the remote commands get it from sshd's SetEnv, as on a real login node.
    const { code, stdout, stderr } = await runCli(
      [
        'profile',
        '--target',
        'slurm:slurm-login',
        '--ssh-config',
        join(dir, 'ssh_config'),
        '--known-hosts',
        env.TEST_SSH_KNOWN_HOSTS,
        '--shared-dir',
        join(dir, 'shared'),
        '--python',
        PYTHON,
        '--preset',
        'tiny',
        '--attention',
        'mha,mqa',
        '--stage',
        'inference',
        '--steps',
        '2',
        '--warmup',
        '1',
        '--json',
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' },
      },
    );
    assert.equal(code, 0, stderr);
    const { runs } = JSON.parse(stdout) as { runs: RunRecord[] };
    assert.deepEqual(
      runs.map((x) => [x.status, x.target.kind, x.target.name]),
      [
        ['completed', 'slurm', 'slurm-login'],
        ['completed', 'slurm', 'slurm-login'],
      ],
    );
    assert.equal(runs[1].metrics.params, tinyParams(1));
    const [jobA, jobB] = runs.map(
      (x) =>
        readFileSync(join(dir, 'shared', 'runs', x.id, 'slurm-job'), 'utf8')
          .trim()
          .split(' ')[1],
    );
    assert.equal(jobA.split('_')[0], jobB.split('_')[0], 'one array job');
    assert.match(slurm('scontrol', ['show', 'job', '-o', jobA.split('_')[0]]), new RegExp(`UserId=${USER}\\(`));
  });

  it("a job past its time limit → failed record naming TIMEOUT with Slurm's message", async () => {
    assert.ok(timeoutRun);
    const r = await timeoutRun;
    assert.equal(r.code, 1, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.equal(runs.length, 1);
    const [run] = runs;
    assert.equal(run.status, 'failed');
    assert.match(
      run.error!.message,
      /_0 ended TIMEOUT \(killed at its time limit.*reason TimeLimit\) before the run started, without a result/,
    );
    assert.match(run.error!.stderrTail, /sleepy-python: pretending to profile/);
    assert.match(run.error!.stderrTail, /CANCELLED AT .* DUE TO TIME LIMIT/);
    assert.match(r.stderr, /: TIMEOUT/);
    assert.ok(r.wallS >= 60, `a one-minute limit took ${r.wallS.toFixed(0)} s`);
  });
});
