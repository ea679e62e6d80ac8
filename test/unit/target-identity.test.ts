// One target identity (issue 11): a record keeps the spec its target was built from, older records
// without one still read, a broken spec is named; start errors carry what is at fault, not only text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTargetSpec, type TargetSpec } from '../../src/core/targetSpec';
import { parseStoredRecord } from '../../src/run/store';
import { pythonError, recordTargetOf } from '../../src/run/target';
import { createTarget } from '../../src/run/targets';
import { makeRunRecord } from './helpers';

const SLURM: TargetSpec = {
  kind: 'slurm',
  alias: 'login',
  python: '/opt/py/bin/python',
  job: { partition: 'gpu', gres: 'gpu:1', maxConcurrent: 2, extra: ['--qos=high'] },
  sharedDir: '/scratch/elp',
};

test('createTarget keeps the spec and every record of the target stores it', () => {
  const target = createTarget(SLURM, { env: {} });
  assert.deepEqual(recordTargetOf(target), { kind: 'slurm', name: 'login', spec: SLURM });
  const local = createTarget({ kind: 'local', python: 'python3' }, { env: { EFFICIENTLLM_CACHE: '/tmp/x' } });
  // The environment's cache folder is not frozen into the spec: a rerun uses the rerunning machine's.
  assert.deepEqual(recordTargetOf(local).spec, { kind: 'local', python: 'python3' });
});

test('a stored target.spec is read back; records without one still read; a broken one is named', () => {
  const record = makeRunRecord('20250101-120000-ab12');
  const withSpec = { ...record, target: { kind: 'slurm', name: 'login', spec: SLURM } };
  const read = parseStoredRecord(JSON.stringify(withSpec), null);
  assert.ok(read.ok);
  assert.deepEqual(read.ok && read.record.target.spec, SLURM);
  const old = parseStoredRecord(JSON.stringify({ ...record, target: { kind: 'ssh', name: 'a,b' } }), null);
  assert.ok(old.ok && old.record.target.spec === undefined);
  const broken = { ...record, target: { kind: 'ssh', name: 'a', spec: { kind: 'ssh', hosts: [], python: 'p' } } };
  const bad = parseStoredRecord(JSON.stringify(broken), null);
  assert.ok(!bad.ok);
  assert.match(bad.ok ? '' : bad.message, /"target\.spec"/);
  assert.equal(isTargetSpec({ ...SLURM, job: { partition: 3 } }), false);
  assert.equal(isTargetSpec({ kind: 'moon', python: 'p' }), false);
});

test('start errors carry the interpreter problem and the field, beside the command line text', () => {
  const e = pythonError({ path: '/nope/python', problem: 'no-torch', host: 'gpubox', detail: '' });
  assert.deepEqual(e.python, { path: '/nope/python', problem: 'no-torch', host: 'gpubox', detail: '' });
  assert.equal(e.field, 'python');
  assert.match(e.message, /^Python interpreter "\/nope\/python" on gpubox has no torch;.*--python/);
  assert.throws(
    () => createTarget({ ...SLURM, job: { partition: 'gpu;rm' } }, { env: {} }),
    (err: Error & { field?: string }) => err.field === 'job.partition' && /--partition/.test(err.message),
  );
  assert.throws(
    () => createTarget({ ...SLURM, sharedDir: 'relative/dir' }, { env: {} }),
    (err: Error & { field?: string }) => err.field === 'sharedDir',
  );
});
