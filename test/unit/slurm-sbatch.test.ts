// Slurm job options: every value is plain (no newline, no shell or #SBATCH syntax gets through), and
// the batch script runs the harness on the run folder of its array task, whatever the path holds.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { slurmJobOptions, givenSlurmFlags } from '../../src/run/slurm/fromFlags';
import { arraySpec, batchScript, sbatchOptionLines, validateExtraLine } from '../../src/run/slurm/sbatch';

const tmp = mkdtempSync(join(tmpdir(), 'elp-sbatch-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('sbatch options', () => {
  it('writes plain values as #SBATCH options in a fixed order', () => {
    assert.deepEqual(
      sbatchOptionLines({
        partition: 'gpu',
        account: 'proj-1',
        gres: 'gpu:h100:2',
        timeLimit: '1:30:00',
        cpusPerTask: 8,
        mem: '64G',
        extra: ['--qos=high', '#SBATCH --constraint=h100', '-C h200', '--exclusive'],
      }),
      [
        '--job-name=efficientllm',
        '--partition=gpu',
        '--account=proj-1',
        '--gres=gpu:h100:2',
        '--time=1:30:00',
        '--cpus-per-task=8',
        '--mem=64G',
        '--qos=high',
        '--constraint=h100',
        '-C h200',
        '--exclusive',
      ],
    );
    for (const t of ['30', '5:00', '1-0', '1-12:00', '2-00:00:00', 'UNLIMITED'])
      assert.ok(sbatchOptionLines({ timeLimit: t }).includes(`--time=${t}`), t);
    for (const g of ['gpu:1', 'gpu', 'gpu:a100:4,nvme:1'])
      assert.ok(sbatchOptionLines({ gres: g }).includes(`--gres=${g}`), g);
  });

  it('rejects newlines, shell syntax, spaces and options the target owns', () => {
    const bad: [Parameters<typeof sbatchOptionLines>[0], RegExp][] = [
      [{ partition: 'gpu\n#SBATCH --uid=0' }, /one line/],
      [{ partition: 'gpu\r' }, /one line/],
      [{ account: 'a b' }, /not a plain value/],
      [{ account: '$(reboot)' }, /not a plain value/],
      [{ gres: 'gpu:1;rm -rf /' }, /not a plain value/],
      [{ gres: 'gpu:1 --uid=0' }, /not a plain value/],
      [{ timeLimit: 'forever' }, /not a plain value/],
      [{ timeLimit: '0:05 x' }, /not a plain value/],
      [{ mem: '16 G' }, /not a plain value/],
      [{ cpusPerTask: 0 }, /cpus-per-task/],
      [{ cpusPerTask: 1.5 }, /cpus-per-task/],
      [{ extra: ['--qos=high\n--uid=0'] }, /without newlines/],
      [{ extra: ['--comment=`id`'] }, /not a plain value/],
      [{ extra: ['--comment=$HOME'] }, /not a plain value/],
      [{ extra: ['--comment="two words"'] }, /not a plain value/],
      [{ extra: ['echo hi'] }, /not an sbatch option/],
      [{ extra: ['x'] }, /not an sbatch option/],
      [{ extra: ['--array=0-99'] }, /set by the Slurm target itself/],
      [{ extra: ['-o /tmp/x'] }, /set by the Slurm target itself/],
      [{ extra: ['--output=/tmp/x'] }, /set by the Slurm target itself/],
      [{ extra: ['--wrap=id'] }, /set by the Slurm target itself/],
      [{ extra: ['--uid=0'] }, /set by the Slurm target itself/],
    ];
    for (const [options, why] of bad) assert.throws(() => sbatchOptionLines(options), why, JSON.stringify(options));
    assert.equal(validateExtraLine('  #SBATCH   --nodelist=gh200-01  '), '--nodelist=gh200-01');
    assert.equal(validateExtraLine('qos=high'), '--qos=high');
    assert.equal(validateExtraLine('exclusive'), '--exclusive');
    assert.throws(() => validateExtraLine('array=1-3'), /set by the Slurm target itself/);
  });

  it('array spec: 0-(n-1) with an optional %K', () => {
    assert.equal(arraySpec(1), '0');
    assert.equal(arraySpec(3), '0-2');
    assert.equal(arraySpec(8, 2), '0-7%2');
    assert.throws(() => arraySpec(0), /at least one run/);
    assert.throws(() => arraySpec(3, 0), /max-concurrent/);
  });

  it('CLI flags → job options', () => {
    assert.deepEqual(
      slurmJobOptions({
        partition: 'gpu',
        'max-concurrent': '4',
        'cpus-per-task': '2',
        'sbatch-extra': ['--qos=high'],
      }),
      { partition: 'gpu', maxConcurrent: 4, cpusPerTask: 2, extra: ['--qos=high'] },
    );
    assert.throws(
      () => slurmJobOptions({ 'max-concurrent': 'lots' }),
      /--max-concurrent: "lots" is not a whole number/,
    );
    assert.deepEqual(givenSlurmFlags({ gres: 'gpu:1', 'time-limit': '5' }), ['--gres', '--time-limit']);
  });
});

describe('batch script', () => {
  it('task i runs the harness on run folder i, whatever characters the paths hold', () => {
    const odd = join(tmp, 'it\'s a "run" $HOME `x`');
    const dirs = [join(tmp, 'run0'), odd];
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const harness = join(tmp, 'harness dir');
    const fakePython = join(tmp, 'fake python');
    writeFileSync(fakePython, '#!/bin/sh\nprintf "%s\\n" "$PWD" "$PYTHONPATH" "$@" > argv.txt\n');
    chmodSync(fakePython, 0o755);
    const script = batchScript({
      options: { partition: 'debug', timeLimit: '5' },
      runDirs: dirs,
      harnessRoot: harness,
      python: fakePython,
    });
    assert.match(
      script,
      /^#!\/bin\/sh\n#SBATCH --job-name=efficientllm\n#SBATCH --partition=debug\n#SBATCH --time=5\n/,
    );
    const file = join(tmp, 'job.sh');
    writeFileSync(file, script);
    execFileSync('sh', ['-n', file]);
    for (const [i, dir] of dirs.entries()) {
      execFileSync('sh', [file], {
        env: {
          PATH: '/usr/bin:/bin',
          SLURM_ARRAY_TASK_ID: String(i),
          SLURM_ARRAY_JOB_ID: '77',
          SLURM_JOB_ID: String(80 + i),
        },
      });
      const argv = readFileSync(join(dir, 'argv.txt'), 'utf8').split('\n');
      assert.deepEqual(argv.slice(0, 6), [dir, harness, '-m', 'efficientllm_harness', '--run-dir', dir]);
      assert.equal(readFileSync(join(dir, 'slurm-job'), 'utf8'), `${80 + i} 77_${i}\n`);
      assert.match(readFileSync(join(dir, 'stderr.log'), 'utf8'), new RegExp(`efficientllm: Slurm job 77_${i} on `));
    }
    assert.throws(
      () => execFileSync('sh', [file], { env: { PATH: '/usr/bin:/bin', SLURM_ARRAY_TASK_ID: '2' }, stdio: 'pipe' }),
      /no run folder for array task '2'/,
    );
    assert.throws(
      () => batchScript({ options: {}, runDirs: ['relative'], harnessRoot: harness, python: 'p' }),
      /absolute/,
    );
    assert.throws(
      () => batchScript({ options: {}, runDirs: [dirs[0]], harnessRoot: harness, python: 'py\nthon' }),
      /one-line/,
    );
  });
});
