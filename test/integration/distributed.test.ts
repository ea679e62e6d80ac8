/**
 * Data-parallel runs (issue 15) through the CLI, with the real harness and PyTorch on CPU (gloo):
 * `--nproc 1,2` on the local target gives a 2-process run with worldSize 2, two perRank entries whose
 * tokens/s sum to the run's, and a scaling efficiency against the 1-process run; `--nproc 2` through
 * `ssh:ALIAS` (a real sshd on loopback) and `slurm:local` (a real one-node Slurm) completes, stored
 * once, with no rank left running. The harness starts the ranks itself, so the targets need nothing
 * new. Needs `npm run build`; the SSH and Slurm parts need root (test/infra/start.sh). Several minutes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { RunRecord } from '../../src/core/record';
import { readInfraEnv } from '../infra/env';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');
const INFRA = join(ROOT, 'test', 'infra');
const PY = process.env.EFFICIENTLLM_PYTHON ?? '/usr/bin/python3';
const isRoot = process.getuid?.() === 0;
const NO_PY = existsSync(PY) ? false : `needs ${PY} with torch`;
const NO_ROOT = isRoot ? NO_PY : 'needs root to start sshd and Slurm on loopback (test/infra/start.sh)';
/** Quick enough for the remote targets; the local case runs the command as it is. */
const SMALL = ['--preset', 'tiny', '--stage', 'pretrain', '--steps', '3', '--warmup', '1', '--seq-len', '64'];

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv, ids?: { uid: number; gid: number }): Promise<CliRun> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env, ...(ids ?? {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

const storeRecords = (ws: string): RunRecord[] => {
  const dir = join(ws, '.efficientllm', 'runs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').pop()?.trim()[0] !== 'Z';
  } catch {
    return false;
  }
};

/** The checks every 2-process record passes, against figures the test derives itself. */
function assertTwoRanks(run: RunRecord, batch: number, seqLen: number): void {
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  assert.equal(run.env.worldSize, 2);
  assert.deepEqual(
    run.perRank?.map((r) => r.rank),
    [0, 1],
  );
  const tps = run.metrics.tokensPerS;
  assert.ok(tps !== null && tps > 0);
  const sum = (run.perRank ?? []).reduce((a, r) => a + r.tokensPerS, 0);
  assert.ok(Math.abs(tps - sum) / sum <= 0.05, `global ${tps} tokens/s vs Σ ranks ${sum}`);
  // Global tokens/s is both ranks' batch over one step: 2 × batch × seqLen ÷ latency.
  const latency = run.metrics.latencyS;
  assert.ok(latency !== null);
  assert.ok(Math.abs(tps - (2 * batch * seqLen) / latency) / tps < 1e-9);
  assert.ok(run.metrics.samplesPerS !== null && Math.abs(run.metrics.samplesPerS - (2 * batch) / latency) < 1e-9);
  for (const r of run.perRank ?? []) assert.ok(r.peakMemoryBytes !== null && r.peakMemoryBytes > 0);
}

describe('data-parallel runs on the local target', { skip: NO_PY, timeout: 600_000 }, () => {
  it('profile --preset tiny --stage pretrain --nproc 1,2 --target local --json', async () => {
    const ws = mkdtempSync('/tmp/elp-it-dist-local-');
    try {
      const args = ['profile', '--preset', 'tiny', '--stage', 'pretrain', '--nproc', '1,2', '--target', 'local'];
      const r = await cli([...args, '--json'], ws, { ...process.env, EFFICIENTLLM_PYTHON: PY });
      assert.equal(r.code, 0, r.stderr);
      const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
      assert.deepEqual(
        runs.map((x) => x.config.label),
        ['tiny gqa-2 fp32 pretrain', 'tiny gqa-2 fp32 pretrain 2 procs'],
      );
      const [one, two] = runs as [RunRecord, RunRecord];
      assert.equal(one.status, 'completed');
      assert.equal(one.env.worldSize, undefined);
      assert.equal(one.perRank, undefined);
      assert.equal(one.metrics.scalingEfficiency, null);
      assertTwoRanks(two, 1, 128);
      const expected = (two.metrics.tokensPerS ?? 0) / (2 * (one.metrics.tokensPerS ?? 1));
      assert.ok(Math.abs((two.metrics.scalingEfficiency ?? -1) - expected) < 1e-12);
      assert.match(two.measurement?.peak ?? '', /world size 2/);
      // Stored once each, the stored 2-process record with its efficiency.
      const stored = storeRecords(ws);
      assert.equal(stored.length, 2);
      assert.equal(stored.find((x) => x.id === two.id)?.metrics.scalingEfficiency, two.metrics.scalingEfficiency);
      console.log(
        `1 process ${one.metrics.tokensPerS?.toFixed(1)} tokens/s; 2 processes ${two.metrics.tokensPerS?.toFixed(1)} ` +
          `(ranks ${two.perRank?.map((x) => x.tokensPerS.toFixed(1)).join(' + ')}); efficiency ${two.metrics.scalingEfficiency?.toFixed(3)}`,
      );
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});

/** Polls `check` every 200 ms until it gives a value (or fails after `seconds`). */
async function until<T>(what: string, seconds: number, check: () => T | null): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = check();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a rank killed mid-run, through the CLI', { skip: NO_PY, timeout: 600_000 }, () => {
  it('fails the run with that rank named and its stderr tail, keeps the samples, leaves no process', async () => {
    const ws = mkdtempSync('/tmp/elp-it-dist-kill-');
    const cache = join(ws, 'cache');
    try {
      const args = ['profile', '--preset', 'tiny', '--stage', 'pretrain', '--nproc', '2', '--seq-len', '32'];
      args.push('--steps', '100000', '--warmup', '0', '--sample-ms', '20', '--target', 'local', '--json');
      const running = cli(args, ws, { ...process.env, EFFICIENTLLM_PYTHON: PY, EFFICIENTLLM_CACHE: cache });
      let ended = '';
      void running.then((x) => (ended = `the CLI ended early (${x.code}): ${x.stderr}`));
      const runDir = await until('the measured window of the 2-process run', 300, () => {
        if (ended) throw new Error(ended);
        const runs = existsSync(join(cache, 'runs')) ? readdirSync(join(cache, 'runs')) : [];
        const dir = runs.length === 1 ? join(cache, 'runs', runs[0]!) : null;
        if (!dir || !existsSync(join(dir, 'ranks.json')) || !existsSync(join(dir, 'events.jsonl'))) return null;
        return readFileSync(join(dir, 'events.jsonl'), 'utf8').includes('"phase":"measure","step":3') ? dir : null;
      });
      const ranks = JSON.parse(readFileSync(join(runDir, 'ranks.json'), 'utf8')) as Record<string, number>;
      const harnessPid = Number(readFileSync(join(runDir, 'pid'), 'utf8').trim());
      process.kill(ranks['1']!, 'SIGKILL');
      const r = await running;
      assert.equal(r.code, 1, r.stderr);
      const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
      const run = runs[0]!;
      assert.equal(run.status, 'failed');
      assert.equal(run.error?.kind, 'crash');
      assert.match(run.error?.message ?? '', /rank 1 of 2 was killed by signal 9 \(SIGKILL\)/);
      assert.match(run.error?.stderrTail ?? '', /rank 1's stderr/);
      assert.ok(run.samples.length > 0, 'the samples measured before the kill are kept');
      assert.equal(run.env.worldSize, 2);
      assert.deepEqual(
        storeRecords(ws).map((x) => [x.id, x.status]),
        [[run.id, 'failed']],
      );
      const left = [harnessPid, ...Object.values(ranks)].filter(alive);
      assert.deepEqual(left, [], 'no process left behind');
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe('data-parallel runs through SSH and Slurm', { skip: NO_ROOT, timeout: 900_000 }, () => {
  const USER = 'elpdist';
  let base = '';
  let work = '';

  before(
    () => {
      base = mkdtempSync('/tmp/elp-it-dist-'); // directly under /tmp: the test user must traverse it
      execFileSync('bash', [join(INFRA, 'start.sh')], {
        env: { ...process.env, BASE: base, WITH_SLURM: '1', TEST_USER: USER },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 600_000,
      });
      work = mkdtempSync('/tmp/elp-it-dist-w-');
      chmodSync(work, 0o755);
    },
    { timeout: 620_000 },
  );

  after(() => {
    if (base !== '') {
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
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  /** The ranks of a remote run folder are gone (the run's own processes, by the PIDs it wrote). */
  const assertNoRankLeft = (runDir: string): void => {
    const pids = Object.values(JSON.parse(readFileSync(join(runDir, 'ranks.json'), 'utf8')) as Record<string, number>);
    assert.equal(pids.length, 2);
    assert.deepEqual(pids.filter(alive), [], 'no rank left running');
    assert.ok(existsSync(join(runDir, 'rank1.stderr.log')), 'each rank has its stderr file in the run folder');
  };

  it('--nproc 2 through ssh:ALIAS completes, stored once', async () => {
    const env = readInfraEnv(base);
    const ws = mkdtempSync(join(work, 'ssh-'));
    const home = join(ws, 'home');
    mkdirSync(home);
    const sshConfig = join(ws, 'ssh_config');
    writeFileSync(
      sshConfig,
      `Host dist\n  HostName 127.0.0.1\n  Port ${env.TEST_SSH_PORT}\n  User ${env.TEST_SSH_USER}\n  IdentityFile ${env.TEST_SSH_KEY}\n  IdentitiesOnly yes\n`,
    );
    const cliEnv: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete cliEnv.SSH_AUTH_SOCK;
    const r = await cli(
      [
        'profile',
        ...SMALL,
        '--nproc',
        '2',
        '--target',
        'ssh:dist',
        '--ssh-config',
        sshConfig,
        '--known-hosts',
        env.TEST_SSH_KNOWN_HOSTS,
        '--python',
        PY,
        '--json',
      ],
      ws,
      cliEnv,
    );
    assert.equal(r.code, 0, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.equal(runs.length, 1);
    assertTwoRanks(runs[0]!, 1, 64);
    assert.deepEqual(
      storeRecords(ws).map((x) => [x.id, x.status]),
      [[runs[0]!.id, 'completed']],
    );
    const remoteHome = execFileSync('sh', ['-c', `getent passwd ${env.TEST_SSH_USER} | cut -d: -f6`], {
      encoding: 'utf8',
    }).trim();
    assertNoRankLeft(join(remoteHome, '.cache', 'efficientllm', 'runs', runs[0]!.id));
  });

  it('--nproc 2 through slurm:local completes, stored once', async () => {
    const slurmConf = readInfraEnv(base).SLURM_CONF;
    const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
    const ws = mkdtempSync(join(work, 'slurm-'));
    const home = join(ws, 'home');
    mkdirSync(home);
    for (const d of [ws, home]) chownSync(d, uid, gid);
    const r = await cli(
      ['profile', ...SMALL, '--nproc', '2', '--target', 'slurm:local', '--cpus-per-task', '2', '--json'],
      ws,
      {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        SLURM_CONF: slurmConf,
        EFFICIENTLLM_PYTHON: PY,
        LANG: 'C.UTF-8',
      },
      { uid, gid },
    );
    assert.equal(r.code, 0, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.equal(runs.length, 1);
    assertTwoRanks(runs[0]!, 1, 64);
    assert.deepEqual(
      storeRecords(ws).map((x) => [x.id, x.status]),
      [[runs[0]!.id, 'completed']],
    );
    assertNoRankLeft(join(home, '.cache', 'efficientllm', 'runs', runs[0]!.id));
  });
});
