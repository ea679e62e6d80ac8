/**
 * The SSH target end to end against real OpenSSH servers on loopback (test/infra/start.sh), as the
 * unprivileged users the infra creates, with the real harness and PyTorch on CPU:
 * profile through the CLI, host-key refusal/acceptance, a changed key, ProxyJump through a second
 * sshd, the connection cut mid-run, sshd stopped and restarted mid-run, harness crashes, malformed
 * event lines, an unwritable cache folder, cancel, and reattach. Needs root (useradd, sshd) and
 * `npm run build` (dist/cli.js). Skipped with a message otherwise.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
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
import { ensureHarness, loadHarnessBundle, remotePaths } from '../../src/run/remote/remoteRuns';
import { SshHost } from '../../src/run/remote/sshHost';
import { reattach, SshTarget } from '../../src/run/sshTarget';
import type { RunOutcome } from '../../src/run/target';
import { expandSweep } from '../../src/core/sweep';
import { CLI, outcomes, runCli, startInfra, stopInfra, type CliRun } from '../infra/control';
import { type InfraEnv, readInfraEnv } from '../infra/env';
import { HOSTILE_ARGS } from '../infra/hostileArgs';

const PY = '/usr/bin/python3';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const SKIP = !isRoot
  ? 'needs root to start the loopback sshd (test/infra/start.sh)'
  : !existsSync(PY)
    ? `needs ${PY} with torch`
    : false;
// Unprivileged accounts of this suite alone (the infra's default elptest is shared with other suites
// that may run at the same time): the target's user and the jump host's user.
const USER1 = 'elpssh1';
const USER2 = 'elpssh2';

/** Small and fast, or long enough to interrupt. */
const QUICK = [
  '--preset',
  'tiny',
  '--stage',
  'inference',
  '--steps',
  '2',
  '--warmup',
  '1',
  '--seq-len',
  '32',
  '--new-tokens',
  '4',
];
const LONG = [
  '--preset',
  'tiny',
  '--attention',
  'mha',
  '--stage',
  'inference',
  '--steps',
  '15',
  '--warmup',
  '1',
  '--seq-len',
  '256',
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | null, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let v: T | null;
    try {
      v = probe();
    } catch {
      v = null;
    }
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('SSH target against real sshd servers', { skip: SKIP, timeout: 300_000 }, () => {
  let base1 = '';
  let base2 = '';
  let work = '';
  let home = '';
  let env1: InfraEnv;
  let env2: InfraEnv;
  let sshConfig = '';
  let knownHosts = '';
  let remoteHome = '';

  before(
    () => {
      assert.ok(existsSync(CLI), `${CLI} is missing: run "npm run build" first`);
      base1 = mkdtempSync('/tmp/elp-it-sshT-'); // directly under /tmp: the test users must traverse it
      base2 = mkdtempSync('/tmp/elp-it-sshJ-');
      work = mkdtempSync('/tmp/elp-it-sshW-');
      startInfra(base1, { TEST_USER: USER1 });
      startInfra(base2, { TEST_USER: USER2 });
      env1 = readInfraEnv(base1);
      env2 = readInfraEnv(base2);
      home = join(work, 'home');
      mkdirSync(join(home, '.ssh'), { recursive: true });
      writeFileSync(join(home, '.ssh', 'known_hosts'), '# the user own file: must stay untouched\n');
      const block = (host: string, env: InfraEnv, extra = ''): string =>
        `Host ${host}\n  HostName 127.0.0.1\n  Port ${env.TEST_SSH_PORT}\n  User ${env.TEST_SSH_USER}\n  IdentityFile ${env.TEST_SSH_KEY}\n  IdentitiesOnly yes\n${extra}`;
      sshConfig = join(work, 'ssh_config');
      writeFileSync(
        sshConfig,
        [
          block('target', env1),
          block('jump', env2),
          block('behind', env1, '  ProxyJump jump\n'),
          block('other', env2),
        ].join('\n'),
      );
      knownHosts = join(work, 'known_hosts');
      writeFileSync(
        knownHosts,
        readFileSync(env1.TEST_SSH_KNOWN_HOSTS, 'utf8') + readFileSync(env2.TEST_SSH_KNOWN_HOSTS, 'utf8'),
      );
      remoteHome = execFileSync('sh', ['-c', `getent passwd ${env1.TEST_SSH_USER} | cut -d: -f6`], {
        encoding: 'utf8',
      }).trim();
      // Interpreters that misbehave, for the crash tests (elptest must read and run them).
      const bin = join(base1, 'bin');
      mkdirSync(bin, { mode: 0o755 });
      chmodSync(bin, 0o755);
      writeFileSync(
        join(bin, 'python-malformed'),
        `#!/bin/sh\nif [ "$1" = -m ]; then seen=0; for a in "$@"; do\n  if [ $seen = 1 ]; then printf 'this is not json\\n{"type":"progress","phase":\\n' >> "$a/events.jsonl"; fi\n  [ "$a" = --run-dir ] && seen=1\ndone; fi\nexec ${PY} "$@"\n`,
        { mode: 0o755 },
      );
      writeFileSync(
        join(bin, 'python-dies'),
        `#!/bin/sh\nif [ "$1" = -m ]; then echo "elp-fake-python: about to die" >&2; ( sleep 1; kill -9 $$ ) </dev/null >/dev/null 2>&1 & fi\nexec ${PY} "$@"\n`,
        { mode: 0o755 },
      );
    },
    { timeout: 620_000 },
  );

  after(() => {
    for (const base of [base1, base2]) if (base !== '') stopInfra(base);
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  /** A fresh workspace folder with its own store. */
  const workspace = (): string => mkdtempSync(join(work, 'ws-'));

  function cliEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
    delete env.XDG_CONFIG_HOME;
    delete env.EFFICIENTLLM_TRUST_FILE;
    return env;
  }

  const cli = (args: string[], cwd: string, whileRunning?: (pid: number) => Promise<void>): Promise<CliRun> =>
    runCli(args, { cwd, env: cliEnv() }, whileRunning);

  const sshFlags = (alias: string, kh = knownHosts): string[] => [
    '--target',
    `ssh:${alias}`,
    '--ssh-config',
    sshConfig,
    '--known-hosts',
    kh,
  ];
  const trustFile = (): string => join(home, '.config', 'efficientllm', 'known_hosts');
  const storeRecords = (ws: string): RunRecord[] => {
    const dir = join(ws, '.efficientllm', 'runs');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunRecord);
  };
  const remoteRunDir = (id: string): string => join(remoteHome, '.cache', 'efficientllm', 'runs', id);

  /** Waits until the store holds a run whose remote events show `hello`; returns its id. */
  const runningId = (ws: string): Promise<string> =>
    until('a remote run that said hello', () => {
      for (const r of storeRecords(ws)) {
        if (readFileSync(join(remoteRunDir(r.id), 'events.jsonl'), 'utf8').includes('"hello"')) return r.id;
      }
      return null;
    });

  /** Kills (by pid) the server side of every connection to the sshd of `base`; the listener stays. */
  const cutConnections = (base: string): number[] => {
    const listener = readFileSync(join(base, 'sshd', 'sshd.pid'), 'utf8').trim();
    const monitors = spawnSync('pgrep', ['-P', listener], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((s) => /^\d+$/.test(s));
    const children = monitors.flatMap((m) =>
      spawnSync('pgrep', ['-P', m], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((s) => /^\d+$/.test(s)),
    );
    for (const pid of [...children, ...monitors]) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return [...monitors, ...children].map(Number);
  };

  const connectOptions = () => ({
    sshConfigFile: sshConfig,
    knownHostsFile: knownHosts,
    trustFile: join(work, 'api-trust'),
    env: cliEnv(),
  });

  it('SshHost: quoting, byte-offset reads, atomic writes, at most 8 channels, harness uploaded once per hash', async () => {
    const host = new SshHost('target', connectOptions());
    try {
      const echo = await host.exec(['printf', '%s\\0', ...HOSTILE_ARGS]);
      assert.equal(echo.code, 0);
      assert.deepEqual(echo.stdout.split('\0').slice(0, -1), HOSTILE_ARGS);
      const home = await host.home();
      assert.equal(home, remoteHome);
      const file = `${home}/elp-it/${'dir with space'}/f.txt`;
      await host.writeFileAtomic(file, 'line one\nline two\n');
      await host.writeFileAtomic(file, 'line one\nline two\nline three\n'); // replaces atomically
      assert.equal((await host.readFrom(file, 9)).toString(), 'line two\nline three\n');
      assert.equal((await host.readFrom(file, 1000)).length, 0);
      assert.equal((await host.readFrom(`${home}/elp-it/missing`, 0)).length, 0);
      const many = await Promise.all(
        Array.from({ length: 24 }, (_, i) => host.exec(['sh', '-c', 'sleep 0.2; echo "$1"', 'sh', String(i)])),
      );
      assert.deepEqual(
        many.map((r) => r.stdout.trim()),
        Array.from({ length: 24 }, (_, i) => String(i)),
      );
      assert.ok(host.stats.peakChannels <= 8, `peak ${host.stats.peakChannels} channels`);
      assert.equal(host.stats.connections, 1, 'one connection, reused');
      const paths = await remotePaths(host);
      const bundle = loadHarnessBundle();
      const first = await ensureHarness(host, paths, bundle);
      const again = await ensureHarness(host, paths, bundle);
      assert.equal(again.uploaded, false, 'a second upload of the same hash is skipped');
      assert.equal(first.dir, again.dir);
      assert.ok(existsSync(join(first.dir, 'efficientllm_harness', '__main__.py')));
      assert.deepEqual(
        readdirSync(paths.harness).filter((d) => d.startsWith('.tmp-')),
        [],
        'no temp folders left',
      );
      await host.exec(['rm', '-rf', `${home}/elp-it`]);
    } finally {
      await host.close();
    }
  });

  it('prompts (host key, passphrase) stop the connect timeout; an encrypted key takes its passphrase from the callback only', async () => {
    const key = join(work, 'id_encrypted');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'correct horse', '-C', 'elp-encrypted', '-f', key]);
    const authorized = join(base1, 'sshd', 'authorized_keys', env1.TEST_SSH_USER);
    const before = readFileSync(authorized, 'utf8');
    writeFileSync(authorized, before + readFileSync(`${key}.pub`, 'utf8'));
    const config = join(work, 'ssh_config_encrypted');
    writeFileSync(
      config,
      `Host enc\n  HostName 127.0.0.1\n  Port ${env1.TEST_SSH_PORT}\n  User ${env1.TEST_SSH_USER}\n  IdentityFile ${key}\n  IdentitiesOnly yes\n`,
    );
    const empty = join(work, 'known_hosts_empty_api');
    writeFileSync(empty, '');
    const asked: string[] = [];
    const slowPerson = <T>(answer: T): Promise<T> => new Promise((r) => setTimeout(() => r(answer), 1000));
    const host = new SshHost('enc', {
      sshConfigFile: config,
      knownHostsFile: empty,
      trustFile: join(work, 'trust-enc'),
      env: cliEnv(),
      connectTimeoutMs: 800, // shorter than each answer below: the clock must stop while asking
      acceptNewHostKey: (k) => {
        asked.push(`hostkey ${k.fingerprint}`);
        return slowPerson(true);
      },
      passphrase: (file, attempt) => {
        asked.push(`passphrase ${file} ${attempt}`);
        return slowPerson(attempt === 1 ? 'wrong' : 'correct horse');
      },
    });
    try {
      const r = await host.exec(['echo', 'unlocked']);
      assert.equal(r.stdout, 'unlocked\n');
      assert.deepEqual(
        asked.map((a) => a.split(' ')[0]),
        ['hostkey', 'passphrase', 'passphrase'],
      );
      assert.equal(asked[2], `passphrase ${key} 2`);
      assert.equal(host.hostKeys[0]!.verdict, 'accepted');
    } finally {
      await host.close();
      writeFileSync(authorized, before);
    }
  });

  it('profile --target ssh:ALIAS with the key in --known-hosts: 2 configs complete', async () => {
    const ws = workspace();
    const r = await cli(
      ['profile', ...sshFlags('target'), '--python', PY, '--attention', 'mha,gqa', ...QUICK, '--json'],
      ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.deepEqual(outcomes(runs), ['mha completed', 'gqa completed']);
    for (const run of runs) {
      // The spec the CLI built, kept so "Run again" reruns on exactly this target.
      assert.deepEqual(run.target, {
        kind: 'ssh',
        name: 'target',
        spec: { kind: 'ssh', hosts: ['target'], python: PY, isolate: false },
      });
      assert.ok(run.metrics.latencyS !== null && run.metrics.latencyS > 0);
      assert.ok(run.env.torch, 'hello came through: torch version known');
      const dir = remoteRunDir(run.id);
      assert.equal(readFileSync(join(dir, 'exit'), 'utf8').trim(), '0');
      assert.ok(readFileSync(join(dir, 'config.json'), 'utf8').includes(run.config.attention.kind));
    }
    // Both configs ran in one harness process (the default): one pid for both run folders.
    assert.equal(
      readFileSync(join(remoteRunDir(runs[0]!.id), 'pid'), 'utf8'),
      readFileSync(join(remoteRunDir(runs[1]!.id), 'pid'), 'utf8'),
    );
    assert.equal(existsSync(trustFile()), false, 'nothing accepted, nothing written');
  });

  it('an unknown host key is refused, and accepted with --accept-new-host-key into the trust file only', async () => {
    const ws = workspace();
    const empty = join(work, 'known_hosts_empty');
    writeFileSync(empty, '');
    const userKnownHosts = readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8');
    const fp = execFileSync('ssh-keygen', ['-lf', env1.TEST_SSH_HOST_KEY_PUB], { encoding: 'utf8' }).split(' ')[1]!;
    const refused = await cli(['profile', ...sshFlags('target', empty), '--python', PY, ...QUICK], ws);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /host key of target .* is not known/);
    assert.ok(refused.stderr.includes(fp), `fingerprint ${fp} shown: ${refused.stderr}`);
    assert.match(refused.stderr, /--accept-new-host-key/);
    assert.equal(existsSync(join(ws, '.efficientllm')), false, 'nothing stored');
    // Accept: a bad --python makes the run stop right after the connection, so this costs no torch import.
    const accepted = await cli(
      ['profile', ...sshFlags('target', empty), '--accept-new-host-key', '--python', '/nonexistent/python', ...QUICK],
      ws,
    );
    assert.equal(accepted.code, 2);
    assert.ok(
      accepted.stderr.includes(
        `accepting the new host key of target ([127.0.0.1]:${env1.TEST_SSH_PORT}): ssh-ed25519 ${fp}`,
      ),
      accepted.stderr,
    );
    // The bad python path is the next, clear, error: the host key is no longer the problem.
    assert.match(accepted.stderr, /Python interpreter "\/nonexistent\/python" was not found on target; pass --python/);
    const trusted = readFileSync(trustFile(), 'utf8');
    assert.equal(
      trusted,
      `[127.0.0.1]:${env1.TEST_SSH_PORT} ${readFileSync(env1.TEST_SSH_HOST_KEY_PUB, 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
    );
    assert.equal(
      readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8'),
      userKnownHosts,
      '~/.ssh/known_hosts untouched',
    );
    // Without the flag the key is now trusted through the trust file.
    const later = await cli(['profile', ...sshFlags('target', empty), '--python', '/nonexistent/python', ...QUICK], ws);
    assert.equal(later.code, 2);
    assert.doesNotMatch(later.stderr, /host key/);
    assert.match(later.stderr, /was not found on target/);
    rmSync(trustFile());
  });

  it('a changed host key is refused, even with --accept-new-host-key, naming file:line and both fingerprints', async () => {
    const ws = workspace();
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'impostor', '-f', join(work, 'impostor')]);
    const other = readFileSync(join(work, 'impostor.pub'), 'utf8').trim().split(/\s+/);
    const changed = join(work, 'known_hosts_changed');
    writeFileSync(changed, `# old entry below\n[127.0.0.1]:${env1.TEST_SSH_PORT} ${other[0]} ${other[1]}\n`);
    const oldFp = execFileSync('ssh-keygen', ['-lf', join(work, 'impostor.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const newFp = execFileSync('ssh-keygen', ['-lf', env1.TEST_SSH_HOST_KEY_PUB], { encoding: 'utf8' }).split(' ')[1]!;
    const r = await cli(
      ['profile', ...sshFlags('target', changed), '--accept-new-host-key', '--python', PY, ...QUICK],
      ws,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /HOST KEY CHANGED for target/);
    assert.ok(r.stderr.includes(`${changed}:2`), r.stderr);
    assert.ok(r.stderr.includes(oldFp) && r.stderr.includes(newFp), r.stderr);
    assert.match(r.stderr, /no override/);
    assert.equal(existsSync(trustFile()), false);
  });

  it('an unreadable known_hosts file fails closed', async () => {
    const ws = workspace();
    const r = await cli(
      ['profile', ...sshFlags('target', join(work, 'no-such-known-hosts')), '--python', PY, ...QUICK],
      ws,
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read known_hosts file .*no-such-known-hosts.*refusing to connect/);
  });

  it('ProxyJump through a second sshd: each hop verified under its own name; preflight reports both', async () => {
    const ws = workspace();
    // Only the target's key known: the jump host is refused under its own name.
    const onlyTarget = join(work, 'known_hosts_target_only');
    writeFileSync(onlyTarget, readFileSync(env1.TEST_SSH_KNOWN_HOSTS, 'utf8'));
    const refused = await cli(
      ['preflight', ...sshFlags('behind', onlyTarget), '--python', '/nonexistent', '--json'],
      ws,
    );
    assert.equal(refused.code, 1);
    const rr = JSON.parse(refused.stdout) as { reachable: boolean; problems: { what: string }[] };
    assert.equal(rr.reachable, false);
    assert.match(
      rr.problems[0]!.what,
      new RegExp(`host key of jump \\(${USER2}@127\\.0\\.0\\.1:${env2.TEST_SSH_PORT}\\) is not known`),
    );
    const ok = await cli(['preflight', ...sshFlags('behind'), '--python', '/nonexistent', '--json'], ws);
    const report = JSON.parse(ok.stdout) as {
      reachable: boolean;
      hostKeys: { alias: string; port: number; verdict: string }[];
      problems: { what: string; fix: string }[];
      cache: { writable: boolean };
    };
    assert.equal(report.reachable, true, ok.stdout + ok.stderr);
    assert.deepEqual(
      report.hostKeys.map((k) => [k.alias, k.port, k.verdict]),
      [
        ['jump', Number(env2.TEST_SSH_PORT), 'match'],
        ['behind', Number(env1.TEST_SSH_PORT), 'match'],
      ],
    );
    assert.equal(report.cache.writable, true);
    assert.ok(
      report.problems.some((p) => /Python "\/nonexistent" not found/.test(p.what) && /--python/.test(p.fix)),
      ok.stdout,
    );
    assert.equal(ok.code, 1, 'not ready without a Python');
  });

  it('a profile through the jump host completes; malformed event lines are reported, not fatal', async () => {
    const ws = workspace();
    const r = await cli(
      [
        'profile',
        ...sshFlags('behind'),
        '--python',
        join(base1, 'bin', 'python-malformed'),
        '--attention',
        'gqa',
        ...QUICK,
        '--json',
      ],
      ws,
    );
    assert.equal(r.code, 0, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'completed');
    assert.ok(runs[0]!.protocolProblems.length >= 2, JSON.stringify(runs[0]!.protocolProblems));
    assert.match(runs[0]!.protocolProblems[0]!, /^line 1: .*this is not json/);
    assert.match(runs[0]!.protocolProblems[1]!, /^line 2: /);
  });

  it('the connection cut mid-run: the detached run completes and is stored exactly once', async () => {
    const ws = workspace();
    let cut: number[] = [];
    const r = await cli(['profile', ...sshFlags('target'), '--python', PY, ...LONG], ws, async () => {
      await runningId(ws);
      cut = cutConnections(base1);
    });
    assert.ok(cut.length >= 2, `the server side of the connection was killed: ${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reconnected to target/);
    const records = storeRecords(ws);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.status, 'completed');
    assert.ok(records[0]!.metrics.latencyS !== null);
    // The CLI prints one line per stored record: exactly one for this run.
    assert.equal(r.stderr.split('\n').filter((l) => l.startsWith(`completed ${records[0]!.id}`)).length, 1, r.stderr);
  });

  it('sshd stopped and restarted mid-run: the reader reconnects with backoff and resumes at its offset', async () => {
    const ends: RunOutcome[] = [];
    const logs: string[] = [];
    const target = new SshTarget({
      hosts: ['target'],
      python: PY,
      connect: connectOptions(),
      pollMs: 200,
      log: (l) => logs.push(l),
    });
    await target.prepare();
    const id = `it-restart-${Date.now()}`;
    const expanded = expandSweep(
      { model: { preset: 'tiny' }, workload: { steps: 15, warmup: 1, seqLen: 256 } },
      { stage: ['inference'], attention: ['mha'] },
    );
    assert.ok(expanded.ok);
    const running = target.execute(
      [{ id, createdAt: new Date().toISOString(), config: expanded.configs[0]! }],
      {
        onUpdate: () => undefined,
        onRunEnd: async (o) => {
          ends.push(o);
        },
      },
      new AbortController().signal,
    );
    await until('hello', () =>
      readFileSync(join(remoteRunDir(id), 'events.jsonl'), 'utf8').includes('"hello"') ? true : null,
    );
    // Stop the listener and every session, wait, start the same sshd (same keys, same port) again.
    const listener = Number(readFileSync(join(base1, 'sshd', 'sshd.pid'), 'utf8').trim());
    cutConnections(base1);
    process.kill(listener, 'SIGTERM');
    await until('sshd gone', () => (spawnSync('kill', ['-0', String(listener)]).status !== 0 ? true : null), 10_000);
    await sleep(2500);
    execFileSync('/usr/sbin/sshd', ['-f', join(base1, 'sshd', 'sshd_config'), '-E', join(base1, 'log', 'sshd.log')]);
    await running;
    assert.equal(ends.length, 1, 'reported exactly once');
    assert.equal(ends[0]!.ending, null);
    assert.ok(ends[0]!.state.result !== null, `the result was read after the restart: ${ends[0]!.stderrTail}`);
    assert.ok(ends[0]!.state.hello !== null);
    assert.equal(ends[0]!.state.problems.length, 0, 'no line read twice or cut in half');
    assert.ok(
      logs.some((l) => /connection refused/.test(l) && /reconnecting to target in/.test(l)),
      logs.join('\n'),
    );
  });

  it('a Python that dies mid-run: the run fails with the stderr tail', async () => {
    const ws = workspace();
    const r = await cli(
      [
        'profile',
        ...sshFlags('target'),
        '--python',
        join(base1, 'bin', 'python-dies'),
        '--attention',
        'mha',
        ...QUICK,
        '--json',
      ],
      ws,
    );
    assert.equal(r.code, 1, r.stderr);
    const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
    assert.equal(runs[0]!.status, 'failed');
    assert.match(runs[0]!.error!.message, /vanished/);
    assert.match(runs[0]!.error!.stderrTail, /elp-fake-python: about to die/);
  });

  it('an unwritable cache folder is a clear error naming the host and the folder', async () => {
    const ws = workspace();
    const home2 = execFileSync('sh', ['-c', `getent passwd ${USER2} | cut -d: -f6`], { encoding: 'utf8' }).trim();
    const cache = join(home2, '.cache', 'efficientllm');
    execFileSync('sh', [
      '-c',
      'mkdir -p "$1/runs" && chown -R "$2" "$1/.." && chmod -R a-w "$1"',
      'sh',
      cache,
      `${USER2}:`,
    ]);
    try {
      const r = await cli(['profile', ...sshFlags('other'), '--python', PY, ...QUICK], ws);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`the cache folder ${cache} on other is not writable`), r.stderr);
      assert.match(r.stderr, /chmod -R u\+w/);
    } finally {
      execFileSync('chmod', ['-R', 'u+w', cache]);
    }
  });

  it('cancel (SIGINT) kills the remote process group and stores the run as cancelled', async () => {
    const ws = workspace();
    let pid = 0;
    const r = await cli(['profile', ...sshFlags('target'), '--python', PY, ...LONG], ws, async (cliPid) => {
      const id = await runningId(ws);
      pid = Number(readFileSync(join(remoteRunDir(id), 'pid'), 'utf8').trim());
      process.kill(cliPid, 'SIGINT');
    });
    assert.equal(r.code, 1, r.stderr);
    const records = storeRecords(ws);
    assert.equal(records[0]!.status, 'cancelled');
    assert.ok(pid > 1);
    assert.notEqual(spawnSync('kill', ['-0', '--', `-${pid}`]).status, 0, 'the remote process group is gone');
  });

  it('reattach picks up a run whose CLI died, and reports it once', async () => {
    const ws = workspace();
    await cli(['profile', ...sshFlags('target'), '--python', PY, ...LONG], ws, async (cliPid) => {
      await runningId(ws);
      process.kill(cliPid, 'SIGKILL');
    });
    const records = storeRecords(ws);
    assert.equal(records.length, 1);
    assert.equal(records[0]!.status, 'queued', 'the dead CLI left it unfinished');
    const ends: RunOutcome[] = [];
    const missing = { ...records[0]!, id: 'it-never-existed-0000' };
    await reattach(
      [records[0]!, missing],
      { onUpdate: () => undefined, onRunEnd: async (o) => void ends.push(o) },
      { connect: connectOptions(), pollMs: 200 },
    );
    assert.equal(ends.length, 2);
    const done = ends.find((o) => o.id === records[0]!.id)!;
    assert.equal(done.ending, null);
    assert.ok(done.state.result !== null, 'the result of the detached run');
    const gone = ends.find((o) => o.id === missing.id)!;
    assert.equal(gone.ending?.status, 'failed');
    assert.match(gone.ending!.message, /not found on target/);
  });
});
