import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  fingerprintSha256,
  formatKnownHostsLine,
  HostKeyFormatError,
  type HostKeyVerdict,
  keyTypeOfBlob,
  knownHostsLookupName,
  KnownHostsReadError,
  type KnownHostsSource,
  readKnownHostsFiles,
  verifyHostKey,
} from '../../src/run/ssh/knownHosts';

const SSH_KEYGEN = ['/usr/bin/ssh-keygen', '/bin/ssh-keygen'].find((p) => existsSync(p));

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
/** A fresh ed25519 public-key blob built with node:crypto (no ssh-keygen needed). */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x!;
  return Buffer.concat([sshString(Buffer.from('ssh-ed25519')), sshString(Buffer.from(x, 'base64url'))]);
}
/** A fresh ecdsa-sha2-nistp256 blob. */
function ecdsaBlob(): Buffer {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  return Buffer.concat([
    sshString(Buffer.from('ecdsa-sha2-nistp256')),
    sshString(Buffer.from('nistp256')),
    sshString(point),
  ]);
}
const b64 = (b: Buffer): string => b.toString('base64');
const src = (text: string, path = 'known_hosts'): KnownHostsSource => ({ path, text });
function hashedName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}
function kind(v: HostKeyVerdict): string {
  return v.kind;
}

const K = ed25519Blob();
const K2 = ed25519Blob();
const E = ecdsaBlob();

describe('key blobs and fingerprints', () => {
  it('keyTypeOfBlob reads the embedded type', () => {
    assert.equal(keyTypeOfBlob(K), 'ssh-ed25519');
    assert.equal(keyTypeOfBlob(E), 'ecdsa-sha2-nistp256');
    assert.equal(keyTypeOfBlob(Buffer.from([0, 0, 0])), undefined);
    assert.equal(keyTypeOfBlob(Buffer.from([0, 0, 1, 0, 65])), undefined);
  });
  it('fingerprintSha256 has no padding', () => {
    const fp = fingerprintSha256(K);
    assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
  });
  it('lookup names follow OpenSSH', () => {
    assert.equal(knownHostsLookupName('Example.COM', 22), 'example.com');
    assert.equal(knownHostsLookupName('example.com', 2222), '[example.com]:2222');
    assert.equal(knownHostsLookupName('::1', 2222), '[::1]:2222');
  });
});

describe('verifyHostKey', () => {
  const line = (hosts: string, blob: Buffer = K, marker = ''): string =>
    `${marker ? marker + ' ' : ''}${hosts} ${keyTypeOfBlob(blob)} ${b64(blob)} comment`;

  it('plain entry on port 22', () => {
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(line('example.com'))]);
    assert.equal(v.kind, 'match');
    if (v.kind === 'match') assert.deepEqual(v.matchedAt, { path: 'known_hosts', line: 1 });
  });
  it('[host]:port entries only match that port, plain entries only port 22', () => {
    const text = line('[example.com]:2222');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 2222, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 2223, blob: K }, [src(text)])), 'unknown');
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 2222, blob: K }, [src(line('example.com'))])),
      'unknown',
    );
    // [host]:22 is never written by ssh and does not match port 22
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(line('[example.com]:22'))])),
      'unknown',
    );
  });
  it('comma-separated host lists, case-insensitive', () => {
    const text = line('a.example,B.Example,10.0.0.1,[10.0.0.1]:2200');
    for (const [h, p] of [
      ['a.example', 22],
      ['b.example', 22],
      ['B.EXAMPLE', 22],
      ['10.0.0.1', 22],
      ['10.0.0.1', 2200],
    ] as const) {
      assert.equal(kind(verifyHostKey({ host: h, port: p, blob: K }, [src(text)])), 'match', `${h}:${p}`);
    }
    assert.equal(kind(verifyHostKey({ host: 'c.example', port: 22, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'a.exampl', port: 22, blob: K }, [src(text)])), 'unknown');
  });
  it('wildcards * and ?', () => {
    const text = line('*.example.com,host?,[gw*]:2222');
    assert.equal(kind(verifyHostKey({ host: 'foo.example.com', port: 22, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'a.b.example.com', port: 22, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'foo.example.com', port: 2222, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'host1', port: 22, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'host12', port: 22, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'gw7', port: 2222, blob: K }, [src(text)])), 'match');
  });
  it('a negated pattern excludes the whole line', () => {
    const text = line('*.example.com,!bad.example.com');
    assert.equal(kind(verifyHostKey({ host: 'good.example.com', port: 22, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'bad.example.com', port: 22, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'BAD.example.com', port: 22, blob: K }, [src(text)])), 'unknown');
    // negation only ever excludes: "!x" alone matches nothing
    assert.equal(kind(verifyHostKey({ host: 'other', port: 22, blob: K }, [src(line('!bad'))])), 'unknown');
    // a later positive line for the same host still counts
    assert.equal(
      kind(verifyHostKey({ host: 'bad.example.com', port: 22, blob: K }, [src(`${text}\n${line('bad.example.com')}`)])),
      'match',
    );
    // negated entry with a different key does not make it "changed"
    assert.equal(kind(verifyHostKey({ host: 'bad.example.com', port: 22, blob: K2 }, [src(text)])), 'unknown');
  });
  it('hashed entries (computed here)', () => {
    const text = [
      `${hashedName('example.com')} ssh-ed25519 ${b64(K)}`,
      `${hashedName('[example.com]:2222')} ssh-ed25519 ${b64(K)}`,
    ].join('\n');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'Example.com', port: 22, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 2222, blob: K }, [src(text)])), 'match');
    assert.equal(kind(verifyHostKey({ host: 'example.com', port: 2223, blob: K }, [src(text)])), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'example.org', port: 22, blob: K }, [src(text)])), 'unknown');
    const changed = verifyHostKey({ host: 'example.com', port: 22, blob: K2 }, [src(text)]);
    assert.equal(changed.kind, 'changed');
  });
  it('malformed hashed entries are skipped with a warning', () => {
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [
      src(`|1|abc ssh-ed25519 ${b64(K)}\n|2|${'A'.repeat(28)}|${'A'.repeat(28)} ssh-ed25519 ${b64(K)}`),
    ]);
    assert.equal(v.kind, 'unknown');
    assert.equal(v.warnings.length, 2);
  });
  it('changed: same type, different key, with expected fingerprints', () => {
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K2 }, [src(line('example.com'))]);
    assert.equal(v.kind, 'changed');
    if (v.kind === 'changed') {
      assert.deepEqual(v.expectedFingerprints, [fingerprintSha256(K)]);
      assert.equal(v.fingerprint, fingerprintSha256(K2));
      assert.deepEqual(v.expectedAt, [{ path: 'known_hosts', line: 1 }]);
    }
  });
  it('other key types only → unknown (with the types listed)', () => {
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(line('example.com', E))]);
    assert.equal(v.kind, 'unknown');
    if (v.kind === 'unknown') assert.deepEqual(v.otherKeyTypes, ['ecdsa-sha2-nistp256']);
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 22, blob: E }, [src(line('example.com', K))])),
      'unknown',
    );
  });
  it('a match anywhere beats a changed entry elsewhere', () => {
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [
      src(line('example.com', K2), 'a'),
      src(line('example.com', K), 'b'),
    ]);
    assert.equal(v.kind, 'match');
    if (v.kind === 'match') assert.equal(v.matchedAt.path, 'b');
  });
  it('@revoked refuses, even when the key is also trusted, across files', () => {
    const user = src(line('example.com'), 'user');
    const project = src(line('*', K, '@revoked'), 'project');
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [user, project]);
    assert.equal(v.kind, 'revoked');
    if (v.kind === 'revoked') assert.deepEqual(v.revokedAt, { path: 'project', line: 1 });
    // a revoked line for another key does nothing
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [user, src(line('*', K2, '@revoked'))])),
      'match',
    );
    // revoked for another host does not apply
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [user, src(line('other.com', K, '@revoked'))])),
      'match',
    );
    // revoked with no other entry
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(line('example.com', K, '@revoked'))])),
      'revoked',
    );
  });
  it('@cert-authority lines never match a plain key', () => {
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [
      src(line('*.com,example.com', K, '@cert-authority')),
    ]);
    assert.equal(v.kind, 'unknown');
    if (v.kind === 'unknown') assert.equal(v.certAuthorityLinesIgnored, 1);
    // nor do they make a different plain key "changed"
    assert.equal(
      kind(
        verifyHostKey({ host: 'example.com', port: 22, blob: K2 }, [src(line('example.com', K, '@cert-authority'))]),
      ),
      'unknown',
    );
  });
  it('comments, blank lines, CRLF, tabs and leading whitespace', () => {
    const text = `# a comment\n\n   \n\t# indented comment\r\n  example.com\tssh-ed25519   ${b64(K)}  trailing comment words\r\n`;
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(text)]);
    assert.equal(v.kind, 'match');
    if (v.kind === 'match') assert.equal(v.matchedAt.line, 5);
    assert.equal(
      kind(verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(`#example.com ssh-ed25519 ${b64(K)}`)])),
      'unknown',
    );
  });
  it('malformed lines are skipped with warnings', () => {
    const text = [
      'example.com ssh-ed25519', // too few fields
      'example.com ssh-ed25519 !!!notbase64!!!',
      `example.com ssh-rsa ${b64(K)}`, // type does not match the blob
      `@bogus example.com ssh-ed25519 ${b64(K)}`,
      'example.com 2048 35 1234567', // SSH-1 style
    ].join('\n');
    const v = verifyHostKey({ host: 'example.com', port: 22, blob: K }, [src(text)]);
    assert.equal(v.kind, 'unknown');
    assert.equal(v.warnings.length, 5);
  });
  it('HostKeyAlias is looked up verbatim', () => {
    const text = line('myalias');
    assert.equal(
      kind(verifyHostKey({ host: '10.1.1.1', port: 2222, hostKeyAlias: 'myalias', blob: K }, [src(text)])),
      'match',
    );
    assert.equal(kind(verifyHostKey({ host: '10.1.1.1', port: 2222, blob: K }, [src(text)])), 'unknown');
  });
  it('rejects a malformed presented key or a mismatching declared type', () => {
    assert.throws(() => verifyHostKey({ host: 'h', port: 22, blob: Buffer.from('junk') }, []), HostKeyFormatError);
    assert.throws(() => verifyHostKey({ host: 'h', port: 22, keyType: 'ssh-rsa', blob: K }, []), HostKeyFormatError);
    assert.throws(() => verifyHostKey({ host: 'h', port: 70000, blob: K }, []), HostKeyFormatError);
    assert.equal(kind(verifyHostKey({ host: 'h', port: 22, keyType: 'ssh-ed25519', blob: K }, [])), 'unknown');
  });
  it('no sources → unknown', () => {
    assert.equal(kind(verifyHostKey({ host: 'h', port: 22, blob: K }, [])), 'unknown');
  });
});

describe('formatKnownHostsLine', () => {
  it('writes host or [host]:port', () => {
    assert.equal(formatKnownHostsLine('Example.com', 22, 'ssh-ed25519', K), `example.com ssh-ed25519 ${b64(K)}`);
    assert.equal(formatKnownHostsLine('10.0.0.1', 2222, 'ssh-ed25519', K), `[10.0.0.1]:2222 ssh-ed25519 ${b64(K)}`);
  });
  it('round-trips through verifyHostKey', () => {
    for (const port of [22, 2222]) {
      const text = formatKnownHostsLine('gpu-box', port, 'ecdsa-sha2-nistp256', E);
      assert.equal(kind(verifyHostKey({ host: 'gpu-box', port, blob: E }, [src(text)])), 'match');
    }
  });
  it('refuses hosts that would be patterns or break the line, and bad keys', () => {
    for (const h of ['', 'a b', 'a,b', '*.x', 'h?', '!h', '[h]:22', 'a\nb', '|1|x']) {
      assert.throws(() => formatKnownHostsLine(h, 22, 'ssh-ed25519', K), HostKeyFormatError, JSON.stringify(h));
    }
    assert.throws(() => formatKnownHostsLine('h', 0, 'ssh-ed25519', K), HostKeyFormatError);
    assert.throws(() => formatKnownHostsLine('h', 22, 'ssh-rsa', K), HostKeyFormatError);
    assert.throws(() => formatKnownHostsLine('h', 22, 'ssh-ed25519', Buffer.from('x')), HostKeyFormatError);
  });
});

describe('readKnownHostsFiles', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elp-kh-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads files; a missing file is empty', () => {
    writeFileSync(join(dir, 'a'), 'x ssh-ed25519 AAAA\n');
    const r = readKnownHostsFiles([join(dir, 'a'), join(dir, 'missing')]);
    assert.deepEqual(r, [
      { path: join(dir, 'a'), text: 'x ssh-ed25519 AAAA\n' },
      { path: join(dir, 'missing'), text: '' },
    ]);
  });
  it('missingOk: false makes a missing file an error', () => {
    assert.throws(() => readKnownHostsFiles([join(dir, 'missing')], { missingOk: false }), KnownHostsReadError);
  });
  it('an unreadable file is a typed error (fail closed)', () => {
    mkdirSync(join(dir, 'adir'));
    assert.throws(
      () => readKnownHostsFiles([join(dir, 'adir')]),
      (e: unknown) => e instanceof KnownHostsReadError && e.code === 'EISDIR' && e.path === join(dir, 'adir'),
    );
    const eacces = Object.assign(new Error('permission denied'), { code: 'EACCES' });
    assert.throws(
      () =>
        readKnownHostsFiles(['/x'], {
          readFile: () => {
            throw eacces;
          },
        }),
      (e: unknown) => e instanceof KnownHostsReadError && e.code === 'EACCES',
    );
  });
});

describe('against the real ssh-keygen', { skip: SSH_KEYGEN === undefined ? 'ssh-keygen not installed' : false }, () => {
  let dir = '';
  let pubBlob = Buffer.alloc(0);
  const keygen = (...args: string[]): string =>
    execFileSync(SSH_KEYGEN!, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elp-kh-keygen-'));
    keygen('-q', '-t', 'ed25519', '-N', '', '-C', 'hostkey', '-f', join(dir, 'hostkey'));
    pubBlob = Buffer.from(readFileSync(join(dir, 'hostkey.pub'), 'utf8').split(' ')[1]!, 'base64');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fingerprintSha256 equals ssh-keygen -lf', () => {
    const out = keygen('-lf', join(dir, 'hostkey.pub'));
    assert.equal(fingerprintSha256(pubBlob), out.split(' ')[1]);
    const out2 = keygen('-E', 'sha256', '-lf', join(dir, 'hostkey.pub'));
    assert.equal(fingerprintSha256(pubBlob), out2.split(' ')[1]);
  });
  it('entries hashed by ssh-keygen -H match (port 22 and [host]:port), others do not', () => {
    const file = join(dir, 'known_hosts_hashed');
    const t = keyTypeOfBlob(pubBlob)!;
    writeFileSync(
      file,
      [
        formatKnownHostsLine('build.example.org', 22, t, pubBlob),
        formatKnownHostsLine('127.0.0.1', 2222, t, pubBlob),
        `alpha,beta ${t} ${b64(K2)}`,
      ].join('\n') + '\n',
    );
    keygen('-H', '-f', file);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('build.example.org') && !text.includes('127.0.0.1') && !text.includes('alpha'), 'hashed');
    assert.equal(text.split('\n').filter((l) => l.startsWith('|1|')).length, 4); // alpha,beta → two lines
    const s = [src(text, file)];
    assert.equal(kind(verifyHostKey({ host: 'build.example.org', port: 22, blob: pubBlob }, s)), 'match');
    assert.equal(kind(verifyHostKey({ host: 'BUILD.example.org', port: 22, blob: pubBlob }, s)), 'match');
    assert.equal(kind(verifyHostKey({ host: '127.0.0.1', port: 2222, blob: pubBlob }, s)), 'match');
    assert.equal(kind(verifyHostKey({ host: '127.0.0.1', port: 22, blob: pubBlob }, s)), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'build.example.org', port: 2222, blob: pubBlob }, s)), 'unknown');
    assert.equal(kind(verifyHostKey({ host: 'beta', port: 22, blob: K2 }, s)), 'match');
    assert.equal(kind(verifyHostKey({ host: 'alpha', port: 22, blob: pubBlob }, s)), 'changed');
    // ssh-keygen -F agrees that the names are present
    for (const name of ['build.example.org', '[127.0.0.1]:2222', 'alpha']) {
      assert.equal(spawnSync(SSH_KEYGEN!, ['-F', name, '-f', file]).status, 0, name);
    }
    assert.notEqual(spawnSync(SSH_KEYGEN!, ['-F', '127.0.0.1', '-f', file]).status, 0);
  });
});
