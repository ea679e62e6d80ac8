/**
 * Host-key verification against a real OpenSSH server on loopback (test/infra/start.sh), through
 * ssh2's `hostVerifier` wired to knownHosts.ts. Needs root (the infra creates a user and starts
 * sshd; it installs openssh-server with apt if missing). Skipped with a message otherwise.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from 'ssh2';

import { createHostVerifier } from '../../src/run/ssh/hostVerifier';
import { fingerprintSha256, type HostKeyVerdict, readKnownHostsFiles } from '../../src/run/ssh/knownHosts';
import { buildRemoteCommand } from '../../src/run/ssh/quote';
import { startInfra, stopInfra } from '../infra/control';
import { type InfraEnv, readInfraEnv } from '../infra/env';
import { HOSTILE_ARGS } from '../infra/hostileArgs';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const SKIP = isRoot ? false : 'needs root to start the loopback sshd (test/infra/start.sh)';

type Verdict = HostKeyVerdict | { readonly kind: 'error'; readonly error: Error };

interface Attempt {
  verdict: Verdict | undefined;
  stdout?: string;
  exitCode?: number | null;
  error?: Error;
}

describe('ssh host-key verification against a real sshd', { skip: SKIP, timeout: 660_000 }, () => {
  let base = '';
  let work = '';
  let env: InfraEnv;
  let port = 0;
  let hostKeyBlob = Buffer.alloc(0);

  before(
    () => {
      base = mkdtempSync('/tmp/elp-it-ssh-'); // directly under /tmp: the test user must traverse it
      work = mkdtempSync(join(tmpdir(), 'elp-it-work-'));
      startInfra(base);
      env = readInfraEnv(base);
      port = Number(env.TEST_SSH_PORT);
      hostKeyBlob = Buffer.from(readFileSync(env.TEST_SSH_HOST_KEY_PUB, 'utf8').trim().split(/\s+/)[1]!, 'base64');
    },
    { timeout: 620_000 },
  );

  after(() => {
    if (base !== '') {
      stopInfra(base);
    }
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  /** Connect with ssh2, verify the host key against `knownHostsFiles`, run `command` if allowed. */
  function attempt(knownHostsFiles: readonly string[], command = 'echo ok'): Promise<Attempt> {
    const sources = readKnownHostsFiles(knownHostsFiles, { missingOk: false });
    const result: Attempt = { verdict: undefined };
    return new Promise<Attempt>((done) => {
      const conn = new Client();
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        conn.end();
        done(result);
      };
      conn
        .on('ready', () => {
          conn.exec(command, (err, stream) => {
            if (err) {
              result.error = err;
              finish();
              return;
            }
            const chunks: Buffer[] = [];
            stream.on('data', (d: Buffer) => chunks.push(d));
            stream.stderr.on('data', () => undefined);
            stream.on('exit', (code: number | null) => {
              result.exitCode = code;
            });
            stream.on('close', () => {
              result.stdout = Buffer.concat(chunks).toString('utf8');
              finish();
            });
          });
        })
        .on('error', (err: Error) => {
          result.error = err;
          finish();
        })
        .on('close', finish)
        .connect({
          host: env.TEST_SSH_HOST,
          port,
          username: env.TEST_SSH_USER,
          privateKey: readFileSync(env.TEST_SSH_KEY),
          readyTimeout: 10_000,
          hostVerifier: createHostVerifier({
            host: env.TEST_SSH_HOST,
            port,
            sources,
            onVerdict: (v) => {
              result.verdict = v;
            },
          }),
        });
    });
  }

  const keygen = (...args: string[]): string =>
    execFileSync('ssh-keygen', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('fingerprintSha256 equals ssh-keygen -lf of the host key', () => {
    const fp = keygen('-lf', env.TEST_SSH_HOST_KEY_PUB).split(' ')[1];
    assert.equal(fingerprintSha256(hostKeyBlob), fp);
  });

  it('connects and runs `echo ok` with a plain known_hosts entry', async () => {
    assert.match(readFileSync(env.TEST_SSH_KNOWN_HOSTS, 'utf8'), /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 /);
    const r = await attempt([env.TEST_SSH_KNOWN_HOSTS]);
    assert.equal(r.verdict?.kind, 'match');
    assert.equal(r.error, undefined);
    assert.equal(r.stdout, 'ok\n');
    assert.equal(r.exitCode, 0);
    if (r.verdict?.kind === 'match')
      assert.equal(r.verdict.fingerprint, keygen('-lf', env.TEST_SSH_HOST_KEY_PUB).split(' ')[1]);
  });

  it('connects with an entry hashed by ssh-keygen -H', async () => {
    const file = join(work, 'known_hosts_hashed');
    copyFileSync(env.TEST_SSH_KNOWN_HOSTS, file);
    keygen('-H', '-f', file);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    assert.ok(!text.includes('127.0.0.1'));
    const r = await attempt([file]);
    assert.equal(r.verdict?.kind, 'match');
    assert.equal(r.stdout, 'ok\n');
  });

  it('refuses an unknown host (no entry, or an entry for another port)', async () => {
    const file = join(work, 'known_hosts_other');
    const line = readFileSync(env.TEST_SSH_KNOWN_HOSTS, 'utf8').replace(`]:${port} `, `]:${port === 2 ? 3 : 2} `);
    writeFileSync(file, `# nothing for this port\n${line}127.0.0.1 ${line.split(' ').slice(1).join(' ')}`);
    const r = await attempt([file]);
    assert.equal(r.verdict?.kind, 'unknown');
    assert.ok(r.error, 'connection must fail');
    assert.equal(r.stdout, undefined);
    const empty = join(work, 'known_hosts_empty');
    writeFileSync(empty, '');
    const r2 = await attempt([empty]);
    assert.equal(r2.verdict?.kind, 'unknown');
    assert.equal(r2.stdout, undefined);
  });

  it('refuses a changed key (another ed25519 key for the same [host]:port)', async () => {
    keygen('-q', '-t', 'ed25519', '-N', '', '-C', 'impostor', '-f', join(work, 'other'));
    const other = readFileSync(join(work, 'other.pub'), 'utf8').trim().split(/\s+/);
    const file = join(work, 'known_hosts_changed');
    writeFileSync(file, `[127.0.0.1]:${port} ${other[0]} ${other[1]}\n`);
    const r = await attempt([file]);
    assert.equal(r.verdict?.kind, 'changed');
    if (r.verdict?.kind === 'changed') {
      assert.deepEqual(r.verdict.expectedFingerprints, [keygen('-lf', join(work, 'other.pub')).split(' ')[1]]);
      assert.equal(r.verdict.fingerprint, fingerprintSha256(hostKeyBlob));
    }
    assert.ok(r.error);
    assert.equal(r.stdout, undefined);
  });

  it('refuses a @revoked key even when it is also listed as trusted', async () => {
    const trusted = readFileSync(env.TEST_SSH_KNOWN_HOSTS, 'utf8').trim();
    const file = join(work, 'known_hosts_revoked');
    writeFileSync(file, `${trusted}\n@revoked ${trusted}\n`);
    const r = await attempt([env.TEST_SSH_KNOWN_HOSTS, file]);
    assert.equal(r.verdict?.kind, 'revoked');
    assert.ok(r.error);
    assert.equal(r.stdout, undefined);
  });

  it('hostile arguments survive the remote login shell', async () => {
    const r = await attempt([env.TEST_SSH_KNOWN_HOSTS], buildRemoteCommand(['printf', '%s\\0', ...HOSTILE_ARGS]));
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.stdout?.split('\0').slice(0, -1), HOSTILE_ARGS);
    assert.equal(existsSync('/tmp/should-not-exist-elp'), false);
  });
});
