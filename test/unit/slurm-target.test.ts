// SlurmTarget's logic against fake sbatch/squeue/scontrol/sacct/scancel commands (shell scripts on
// PATH, run through LocalHost exactly as the real ones are): how each Slurm ending becomes a record,
// exactly once, with the stderr tail; cancel → scancel; a refused submission. The real Slurm is in
// test/integration/slurm-target.test.ts.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ProfileConfig } from '../../src/core/config';
import { LocalHost } from '../../src/run/remote/localHost';
import type { HarnessBundle } from '../../src/run/remote/remoteRuns';
import { SlurmTarget, type SlurmStatusEvent } from '../../src/run/slurmTarget';
import type { PlannedRun, RunOutcome } from '../../src/run/target';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FAKES: Record<string, string> = {
  sbatch: `if [ "$1" = --version ]; then echo "slurm 22.05.8"; exit 0; fi
printf '%s\\n' "$@" > "$FAKE/sbatch.args"
cat "$FAKE/sbatch.out"
exit "$(cat "$FAKE/sbatch.rc" 2>/dev/null || echo 0)"`,
  squeue: `cat "$FAKE/squeue.txt" 2>/dev/null; exit 0`,
  scontrol: `if [ -f "$FAKE/scontrol.txt" ]; then cat "$FAKE/scontrol.txt"; else echo "slurm_load_jobs error: Invalid job id specified"; exit 1; fi`,
  sacct: `echo x >> "$FAKE/sacct.calls"; echo "Slurm accounting storage is disabled"; exit 1`,
  scancel: `printf '%s\\n' "$@" >> "$FAKE/scancel.args"; [ -f "$FAKE/after-scancel.txt" ] && cp "$FAKE/after-scancel.txt" "$FAKE/scontrol.txt"; exit 0`,
};

function fakeSlurm(): { fake: string; shared: string; host: LocalHost } {
  const fake = mkdtempSync(join(tmpdir(), 'elp-fake-slurm-'));
  dirs.push(fake);
  mkdirSync(join(fake, 'bin'));
  for (const [name, body] of Object.entries(FAKES)) {
    writeFileSync(join(fake, 'bin', name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(fake, 'bin', name), 0o755);
  }
  writeFileSync(join(fake, 'sbatch.out'), '50\n');
  const host = new LocalHost({
    env: { ...process.env, FAKE: fake, PATH: `${join(fake, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}` },
  });
  return { fake, shared: join(fake, 'shared'), host };
}

// A one-file stand-in for the harness: these tests never run it, and uploading 18 files costs seconds.
const HARNESS: HarnessBundle = {
  hash: 'f'.repeat(64),
  files: [{ rel: 'efficientllm_harness/__init__.py', data: Buffer.from('') }],
  bytes: 0,
};

const CONFIG = { label: 'tiny mha fp32 inference' } as unknown as ProfileConfig;
const planned = (ids: string[]): PlannedRun[] =>
  ids.map((id) => ({ id, createdAt: '2026-01-01T00:00:00Z', config: CONFIG }));

function scontrolLine(task: number, state: string, reason = 'None', exit = '0:0'): string {
  return `JobId=${60 + task} ArrayJobId=50 ArrayTaskId=${task} JobName=efficientllm UserId=u(1) GroupId=u(1) JobState=${state} Reason=${reason} Dependency=(null) ExitCode=${exit} RunTime=00:00:03 Partition=debug`;
}

async function runTarget(
  target: SlurmTarget,
  runs: PlannedRun[],
  signal?: AbortSignal,
): Promise<Map<string, RunOutcome[]>> {
  const ends = new Map<string, RunOutcome[]>();
  await target.execute(
    runs,
    {
      onUpdate: () => undefined,
      onRunEnd: async (o) => {
        ends.set(o.id, [...(ends.get(o.id) ?? []), o]);
      },
    },
    signal ?? new AbortController().signal,
  );
  return ends;
}

describe('SlurmTarget with fake Slurm commands', () => {
  it('maps every way a task ends to one record, with Slurm state and stderr tail', async () => {
    const { fake, shared, host } = fakeSlurm();
    const ids = ['r0', 'r1', 'r2', 'r3', 'r4'];
    // r0: the harness ended it (error event + exit file); the others are over in Slurm without exit.
    mkdirSync(join(shared, 'runs', 'r0'), { recursive: true });
    writeFileSync(
      join(shared, 'runs', 'r0', 'events.jsonl'),
      JSON.stringify({ type: 'progress', phase: 'measure', step: 1, total: 3 }) +
        '\n' +
        JSON.stringify({ type: 'error', kind: 'oom', message: 'CUDA out of memory' }) +
        '\n',
    );
    writeFileSync(join(shared, 'runs', 'r0', 'exit'), '1\n');
    mkdirSync(join(shared, 'runs', 'r1'), { recursive: true });
    writeFileSync(join(shared, 'runs', 'r1', 'stderr.log'), 'efficientllm: Slurm job 50_1 on node1\nharness says hi\n');
    mkdirSync(join(shared, 'slurm', 'r0'), { recursive: true });
    writeFileSync(
      join(shared, 'slurm', 'r0', 'task-1.log'),
      'slurmstepd-node1: error: *** JOB 61 ON node1 CANCELLED AT 2026-11-26T07:21:29 DUE TO TIME LIMIT ***\n',
    );
    writeFileSync(
      join(fake, 'scontrol.txt'),
      [
        scontrolLine(0, 'RUNNING'),
        scontrolLine(1, 'TIMEOUT', 'TimeLimit', '0:15'),
        scontrolLine(2, 'OUT_OF_MEMORY', 'None', '0:125'),
        scontrolLine(3, 'CANCELLED', 'None', '0:15'),
        scontrolLine(4, 'COMPLETED'),
      ].join('\n') + '\n',
    );
    const statuses: SlurmStatusEvent[] = [];
    const target = new SlurmTarget({
      harness: HARNESS,
      host,
      python: '/usr/bin/python3',
      sharedDir: shared,
      pollMs: 50,
      settleMs: 300,
      job: { partition: 'gpu', gres: 'gpu:1', timeLimit: '30', maxConcurrent: 2, extra: ['--qos=high'] },
      onStatus: (e) => statuses.push(e),
    });
    await target.prepare();
    const ends = await runTarget(target, planned(ids));

    for (const id of ids) assert.equal(ends.get(id)?.length, 1, `${id} reported exactly once`);
    const r0 = ends.get('r0')![0];
    assert.equal(r0.ending, null, 'ended by its own events');
    assert.equal(r0.state.error?.message, 'CUDA out of memory');
    const r1 = ends.get('r1')![0];
    assert.equal(r1.ending?.status, 'failed');
    assert.match(r1.ending!.message, /50_1 ended TIMEOUT \(killed at its time limit, exit 0:15, reason TimeLimit\)/);
    assert.match(r1.stderrTail, /harness says hi/);
    assert.match(r1.stderrTail, /DUE TO TIME LIMIT/);
    assert.match(ends.get('r2')![0].ending!.message, /OUT_OF_MEMORY/);
    assert.equal(ends.get('r2')![0].ending!.status, 'failed');
    assert.equal(ends.get('r3')![0].ending!.status, 'cancelled');
    assert.match(ends.get('r3')![0].ending!.message, /CANCELLED/);
    assert.equal(ends.get('r4')![0].ending!.status, 'failed');
    assert.match(ends.get('r4')![0].ending!.message, /COMPLETED but the harness left no exit file/);

    const args = readFileSync(join(fake, 'sbatch.args'), 'utf8').trim().split('\n');
    assert.deepEqual(args.slice(0, 2), ['--parsable', '--array=0-4%2']);
    assert.ok(args.includes(`--output=${join(shared, 'slurm', 'r0')}/task-%a.log`));
    const script = readFileSync(join(shared, 'slurm', 'r0', 'job.sh'), 'utf8');
    for (const line of ['#SBATCH --partition=gpu', '#SBATCH --gres=gpu:1', '#SBATCH --time=30', '#SBATCH --qos=high'])
      assert.ok(script.includes(line), line);
    assert.ok(existsSync(join(shared, 'runs', 'r3', 'config.json')));
    assert.equal(readFileSync(join(shared, 'slurm', 'r0', 'job-id'), 'utf8'), '50\n');
    assert.equal(
      readFileSync(join(fake, 'sacct.calls'), 'utf8').trim().split('\n').length,
      1,
      'sacct asked once, then known to be off',
    );
    assert.ok(statuses.some((s) => s.jobId === '50_1' && s.state === 'TIMEOUT' && s.message.includes('TIMEOUT')));
  });

  it('shows a pending reason, and cancel → scancel JOB → cancelled records', async () => {
    const { fake, shared, host } = fakeSlurm();
    writeFileSync(join(fake, 'sbatch.out'), '50;cluster2\n');
    writeFileSync(
      join(fake, 'scontrol.txt'),
      [scontrolLine(0, 'RUNNING'), scontrolLine(1, 'PENDING', 'Priority')].join('\n') + '\n',
    );
    writeFileSync(
      join(fake, 'after-scancel.txt'),
      [scontrolLine(0, 'CANCELLED', 'None', '0:15'), scontrolLine(1, 'CANCELLED', 'Priority')].join('\n') + '\n',
    );
    const controller = new AbortController();
    const statuses: SlurmStatusEvent[] = [];
    const target = new SlurmTarget({
      harness: HARNESS,
      host,
      python: 'python3',
      sharedDir: shared,
      pollMs: 50,
      settleMs: 5000,
      onStatus: (e) => {
        statuses.push(e);
        if (e.state === 'PENDING') controller.abort();
      },
    });
    const ends = await runTarget(target, planned(['c0', 'c1']), controller.signal);
    assert.deepEqual(readFileSync(join(fake, 'scancel.args'), 'utf8'), '50\n');
    for (const id of ['c0', 'c1']) {
      assert.equal(ends.get(id)?.length, 1);
      assert.equal(ends.get(id)![0].ending?.status, 'cancelled');
      assert.match(ends.get(id)![0].ending!.message, /scancel 50.*CANCELLED/);
    }
    assert.ok(statuses.some((s) => s.message === 'slurm job 50_1 (tiny mha fp32 inference): PENDING (Priority)'));
    assert.equal(readFileSync(join(shared, 'slurm', 'c0', 'job-id'), 'utf8'), '50;cluster2\n');
  });

  it("a refused submission fails every run with sbatch's reason", async () => {
    const { fake, shared, host } = fakeSlurm();
    writeFileSync(join(fake, 'sbatch.out'), 'sbatch: error: invalid partition specified: nope\n');
    writeFileSync(join(fake, 'sbatch.rc'), '1\n');
    const ends = await runTarget(
      new SlurmTarget({ harness: HARNESS, host, python: 'python3', sharedDir: shared, pollMs: 50 }),
      planned(['x0', 'x1']),
    );
    for (const id of ['x0', 'x1']) {
      assert.equal(ends.get(id)![0].ending?.status, 'failed');
      assert.match(
        ends.get(id)![0].ending!.message,
        /sbatch refused the job on local: sbatch: error: invalid partition specified: nope/,
      );
    }
  });

  it('a job Slurm no longer knows, without an exit file, fails after the settle time', async () => {
    const { shared, host } = fakeSlurm();
    const ends = await runTarget(
      new SlurmTarget({ harness: HARNESS, host, python: 'python3', sharedDir: shared, pollMs: 50, settleMs: 200 }),
      planned(['g0']),
    );
    assert.equal(ends.get('g0')![0].ending?.status, 'failed');
    assert.match(ends.get('g0')![0].ending!.message, /no longer known to Slurm/);
  });

  it('refuses bad options before anything runs', () => {
    const host = new LocalHost();
    assert.throws(() => new SlurmTarget({ host, python: 'p', job: { partition: 'gpu\n#SBATCH --uid=0' } }), /one line/);
    assert.throws(() => new SlurmTarget({ host, python: 'p', job: { account: 'a b' } }), /not a plain value/);
    assert.throws(() => new SlurmTarget({ host, python: 'p', job: { maxConcurrent: 0 } }), /max-concurrent/);
    assert.throws(() => new SlurmTarget({ host, python: 'p', sharedDir: 'relative/dir' }), /shared-dir/);
    assert.throws(() => new SlurmTarget({ host, python: 'p', sharedDir: '/tmp/with space' }), /shared-dir/);
  });

  it('prepare() says what is missing when sbatch is not there', async () => {
    const host = new LocalHost({ env: { ...process.env, PATH: '/nonexistent' } });
    await assert.rejects(
      new SlurmTarget({ host, python: 'p' }).prepare(),
      /Slurm is not usable on local: "sbatch --version" failed/,
    );
  });
});
