import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { buildRemoteCommand, shQuote, ShellQuoteError } from '../../src/run/ssh/quote';
import { HOSTILE_ARGS } from '../infra/hostileArgs';

describe('shQuote', () => {
  it('always single-quotes', () => {
    assert.equal(shQuote('abc'), "'abc'");
    assert.equal(shQuote(''), "''");
    assert.equal(shQuote('a b'), "'a b'");
    assert.equal(shQuote('$(x)'), "'$(x)'");
  });
  it("writes ' as '\\''", () => {
    assert.equal(shQuote("it's"), "'it'\\''s'");
    assert.equal(shQuote("'"), "''\\'''");
  });
  it('rejects NUL bytes', () => {
    assert.throws(() => shQuote('a\0b'), ShellQuoteError);
  });
});

describe('buildRemoteCommand', () => {
  it('quotes every argument including the program', () => {
    assert.equal(buildRemoteCommand(['echo', 'a b']), "'echo' 'a b'");
  });
  it('rejects an empty argv or program', () => {
    assert.throws(() => buildRemoteCommand([]), ShellQuoteError);
    assert.throws(() => buildRemoteCommand(['']), ShellQuoteError);
  });
  it('adds env assignments and cd', () => {
    assert.equal(
      buildRemoteCommand(['prog'], { env: { A: "x'y" }, cwd: '/tmp/a b' }),
      "cd -- '/tmp/a b' && A='x'\\''y' 'prog'",
    );
  });
  it('rejects bad env names', () => {
    assert.throws(() => buildRemoteCommand(['p'], { env: { 'A;rm': 'x' } }), ShellQuoteError);
    assert.throws(() => buildRemoteCommand(['p'], { env: { '1A': 'x' } }), ShellQuoteError);
    assert.throws(() => buildRemoteCommand(['p'], { env: { 'A B': 'x' } }), ShellQuoteError);
  });
});

describe('argv survives a real POSIX shell', () => {
  let dir = '';
  let helper = '';
  const shells = [
    ...new Set(
      ['/bin/sh', '/bin/dash', '/bin/bash', '/usr/bin/zsh', '/bin/busybox']
        .filter((s) => existsSync(s))
        .map((s) => realpathSync(s)),
    ),
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elp-quote-'));
    helper = join(dir, 'argv.js');
    writeFileSync(
      helper,
      'process.stdout.write(JSON.stringify({argv: process.argv.slice(2), cwd: process.cwd(), env: process.env.ELP_TEST_VALUE}));\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (shell: string, cmd: string): { argv: string[]; cwd: string; env?: string } => {
    const args = shell === '/bin/busybox' ? ['sh', '-c', cmd] : ['-c', cmd];
    const out = execFileSync(shell, args, { encoding: 'utf8', cwd: dir });
    return JSON.parse(out) as { argv: string[]; cwd: string; env?: string };
  };

  for (const shell of shells) {
    it(`all hostile arguments at once via ${shell} -c`, () => {
      const cmd = buildRemoteCommand([process.execPath, helper, ...HOSTILE_ARGS]);
      assert.deepEqual(run(shell, cmd).argv, HOSTILE_ARGS);
      assert.equal(existsSync('/tmp/should-not-exist-elp'), false);
    });
    it(`each hostile argument in its own command (printf builtin) via ${shell} -c`, () => {
      // One command line per argument, joined by newlines: `'printf' '%s\0' ARG`.
      const script = HOSTILE_ARGS.map((a) => buildRemoteCommand(['printf', '%s\\0', a])).join('\n');
      const args = shell === '/bin/busybox' ? ['sh', '-c', script] : ['-c', script];
      const out = execFileSync(shell, args, { encoding: 'utf8', cwd: dir });
      assert.deepEqual(out.split('\0').slice(0, -1), HOSTILE_ARGS);
    });
    it(`env and cwd via ${shell} -c`, () => {
      const sub = join(dir, "we'ird $(dir) `x`");
      execFileSync('mkdir', ['-p', '--', sub]);
      for (const v of ["it's $(id) `id`", 'line\nbreak', '']) {
        const r = run(
          shell,
          buildRemoteCommand([process.execPath, helper, '-x'], { cwd: sub, env: { ELP_TEST_VALUE: v } }),
        );
        assert.deepEqual(r, { argv: ['-x'], cwd: sub, env: v });
      }
    });
  }
});
