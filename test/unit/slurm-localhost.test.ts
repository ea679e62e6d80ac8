// LocalHost, the RemoteHost the Slurm target uses for a login node that is this machine (and tests):
// argv arrives unchanged through `sh -c`, atomic writes, reads by byte offset, and runAs a user.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LocalHost } from '../../src/run/remote/localHost';
import { HOSTILE_ARGS } from '../infra/hostileArgs';

const tmp = mkdtempSync(join(tmpdir(), 'elp-localhost-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;
const hasUser = (u: string): boolean => spawnSync('id', ['-u', u]).status === 0;
const RUN_AS = 'elptest';

describe('LocalHost', () => {
  it('passes every argument through the shell unchanged', async () => {
    const host = new LocalHost();
    const r = await host.exec(['/usr/bin/printf', '%s\\0', ...HOSTILE_ARGS]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), [...HOSTILE_ARGS]);
    const s = await host.script('printf "%s|" "$#" "$@"', ['a b', "c'd", '$(id)']);
    assert.equal(s.stdout, "3|a b|c'd|$(id)|");
    const code = await host.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([code.code, code.stdout, code.stderr], [7, 'out\n', 'err\n']);
  });

  it('writes atomically (creating folders, with a mode) and reads from a byte offset', async () => {
    const host = new LocalHost();
    const file = join(tmp, 'deep er', 'f.txt');
    await host.writeFileAtomic(file, 'héllo\nworld\n', 0o640);
    assert.equal(readFileSync(file, 'utf8'), 'héllo\nworld\n');
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.equal((await host.readFrom(file, 0)).toString(), 'héllo\nworld\n');
    assert.equal((await host.readFrom(file, 7)).toString(), 'world\n');
    assert.equal((await host.readFrom(file, 100)).length, 0);
    assert.equal((await host.readFrom(join(tmp, 'missing'), 0)).length, 0);
    assert.ok((await host.home()).startsWith('/'));
  });

  it('times out a command and kills it', async () => {
    const started = Date.now();
    const r = await new LocalHost().exec(['sh', '-c', 'sleep 30; echo never'], { timeoutMs: 200 });
    assert.ok(Date.now() - started < 10_000, 'the whole process group was killed');
    assert.equal(r.code, null);
  });

  it(
    'runs as another user with runAs',
    { skip: isRoot && hasUser(RUN_AS) ? false : `needs root and user ${RUN_AS} (test/infra/start.sh creates it)` },
    async () => {
      const dir = mkdtempSync('/tmp/elp-runas-');
      chmodSync(dir, 0o777);
      try {
        const host = new LocalHost({ runAs: RUN_AS });
        assert.equal((await host.exec(['id', '-un'])).stdout.trim(), RUN_AS);
        assert.match(await host.home(), new RegExp(`/${RUN_AS}$`));
        const file = join(dir, 'sub', 'x.txt');
        await host.writeFileAtomic(file, 'abcdef');
        assert.equal(statSync(file).uid, Number(spawnSync('id', ['-u', RUN_AS], { encoding: 'utf8' }).stdout.trim()));
        assert.equal((await host.readFrom(file, 2)).toString(), 'cdef');
        assert.equal((await host.readFrom(join(dir, 'nope'), 0)).length, 0);
        await assert.rejects(host.writeFileAtomic('/root/elp-should-not-exist/x', 'x'), /cannot write/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuses a runAs that is not a user name', () => {
    assert.throws(() => new LocalHost({ runAs: 'root; id' }), /not a user name/);
  });
});
