// The `efficientllm.targets` setting (src/vscode/targetSettings.ts): validation names the field;
// specs for the shared target factory (src/run/targets.ts) that the CLI uses too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LocalTarget } from '../../src/run/local';
import { SlurmTarget } from '../../src/run/slurmTarget';
import { SshTarget } from '../../src/run/sshTarget';
import { TargetError } from '../../src/run/target';
import { createTarget, parseTargetText, targetSpecText } from '../../src/run/targets';
import { targetSpecOf, validateTargetSettings } from '../../src/vscode/targetSettings';
import { sshAliases } from '../../src/vscode/targetAliases';

test('valid targets of each kind pass and become specs', () => {
  const { targets, errors } = validateTargetSettings([
    { name: 'gpubox', kind: 'ssh', hosts: ['gpubox', 'gpubox2'], python: '/opt/conda/bin/python' },
    {
      name: 'cluster',
      kind: 'slurm',
      host: 'login1',
      partition: 'gpu',
      account: 'ml',
      gres: 'gpu:h100:1',
      timeLimit: '1:00:00',
      sharedDir: '/scratch/me/efficientllm',
    },
    { name: 'venv', kind: 'local', python: '/home/me/.venv/bin/python', isolate: true },
  ]);
  assert.deepEqual(errors, []);
  assert.equal(targets.length, 3);
  assert.deepEqual(targetSpecOf(targets[0], 'python3', false), {
    kind: 'ssh',
    hosts: ['gpubox', 'gpubox2'],
    python: '/opt/conda/bin/python',
    isolate: false,
  });
  assert.deepEqual(targetSpecOf(targets[1], 'python3', false), {
    kind: 'slurm',
    alias: 'login1',
    python: 'python3',
    job: { partition: 'gpu', account: 'ml', gres: 'gpu:h100:1', timeLimit: '1:00:00' },
    sharedDir: '/scratch/me/efficientllm',
  });
  assert.deepEqual(targetSpecOf(targets[2], 'python3', false), {
    kind: 'local',
    python: '/home/me/.venv/bin/python',
    isolate: true,
  });
});

test('every problem names its field, and the good entries are kept', () => {
  const { targets, errors } = validateTargetSettings([
    { name: 'ok', kind: 'ssh', hosts: ['a'] },
    { name: 'bad kind', kind: 'kubernetes' },
    { name: 'b', kind: 'ssh', hosts: [] },
    { name: 'c', kind: 'slurm', host: 'login', timeLimit: 'one hour', partition: 'gpu; rm -rf /' },
    { name: 'd', kind: 'ssh', hosts: ['d'], password: 'hunter2' },
    { name: 'local', kind: 'local' },
    { name: 'ok', kind: 'local' },
    { name: 'e', kind: 'local', python: 'python3 -X dev' },
    { name: 'f', kind: 'ssh', hosts: ['f'], partition: 'gpu' },
  ]);
  assert.deepEqual(
    targets.map((t) => t.name),
    ['ok'],
  );
  const fields = errors.map((e) => e.field);
  assert.deepEqual(fields, [
    'efficientllm.targets[1].kind',
    'efficientllm.targets[2].hosts',
    'efficientllm.targets[3].partition',
    'efficientllm.targets[3].timeLimit',
    'efficientllm.targets[4].password',
    'efficientllm.targets[5].name',
    'efficientllm.targets[6].name',
    'efficientllm.targets[7].python',
    'efficientllm.targets[8].partition',
  ]);
  assert.match(errors[0].message, /"kubernetes" is not allowed; use "local", "ssh" or "slurm"/);
  assert.match(errors[4].message, /secrets are never kept in settings/);
  assert.match(errors[5].message, /built-in target/);
  assert.match(errors[8].message, /is not a field of a ssh target/);
  assert.deepEqual(
    validateTargetSettings({ name: 'x' }).errors.map((e) => e.field),
    ['efficientllm.targets'],
  );
  assert.deepEqual(validateTargetSettings(undefined), { targets: [], errors: [] });
});

test('the shared factory builds each kind of target (no connection is made)', () => {
  const env = { HOME: '/tmp' };
  assert.ok(createTarget({ kind: 'local', python: 'python3' }, { env }) instanceof LocalTarget);
  const ssh = createTarget({ kind: 'ssh', hosts: ['a', 'b'], python: 'python3' }, { env });
  assert.ok(ssh instanceof SshTarget);
  assert.equal(ssh.name, 'a,b');
  const slurm = createTarget({ kind: 'slurm', alias: 'local', python: 'python3', job: { partition: 'gpu' } }, { env });
  assert.ok(slurm instanceof SlurmTarget);
  assert.throws(
    () => createTarget({ kind: 'slurm', alias: 'local', python: 'python3', sharedDir: 'relative/dir' }, { env }),
    TargetError,
  );
});

test("target text round-trips between the CLI's --target and specs", () => {
  assert.deepEqual(parseTargetText('ssh:a,b', 'py'), { kind: 'ssh', hosts: ['a', 'b'], python: 'py', isolate: false });
  assert.equal(targetSpecText(parseTargetText('slurm:login', 'py')), 'slurm:login');
  assert.equal(targetSpecText(parseTargetText('local', 'py')), 'local');
  assert.throws(() => parseTargetText('k8s:x', 'py'), /is not a target; use local, ssh:ALIAS or slurm:ALIAS/);
  assert.throws(() => parseTargetText('slurm:', 'py'), /needs the SSH alias/);
});

test('Add target… offers the plain Host aliases of the ssh config, Includes followed', () => {
  const at = { file: 'config', line: 1 };
  const aliases = sshAliases([
    { kind: 'host', patterns: ['gpubox', '*.internal', '!bastion'], at },
    { kind: 'option', keyword: 'hostname', args: ['10.0.0.2'], rest: '10.0.0.2', at },
    {
      kind: 'include',
      files: [{ path: 'config.d/lab', nodes: [{ kind: 'host', patterns: ['lab-h100', 'lab-h200'], at }] }],
      at,
    },
  ]);
  assert.deepEqual(aliases, ['gpubox', 'lab-h100', 'lab-h200']);
});
