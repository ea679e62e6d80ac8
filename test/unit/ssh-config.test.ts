import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { globSync, nodeSshConfigReader, segmentMatches } from '../../src/run/ssh/configFs';
import {
  parseJumpHop,
  parseProxyJump,
  parseSshConfig,
  parseTimeSpec,
  type ProxyJumpHop,
  resolveConnectionChain,
  resolveSshHost,
  type ResolveContext,
  type ResolvedSshHost,
  splitConfigArgs,
  SshConfigError,
  type SshConfigReader,
} from '../../src/run/ssh/sshConfig';

const HOME = '/home/alice';
const CTX: ResolveContext = {
  localUser: 'alice',
  homeDir: HOME,
  localHostName: 'laptop.lan',
  uid: 1000,
  env: { XDG_RUNTIME_DIR: '/run/user/1000', AGENT: '/tmp/agent.sock' },
};

/** An in-memory file system for Include. */
function memReader(files: Record<string, string>): SshConfigReader & { reads: string[] } {
  const reads: string[] = [];
  const globRe = (p: string): RegExp =>
    new RegExp(
      '^' +
        p
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]') +
        '$',
    );
  return {
    reads,
    readFile(path: string): string | undefined {
      reads.push(path);
      const t = files[path];
      if (t === 'EACCES') throw Object.assign(new Error('permission denied'), { code: 'EACCES' });
      return t;
    },
    glob(pattern: string): string[] {
      const re = globRe(pattern);
      return Object.keys(files)
        .filter((f) => re.test(f))
        .sort();
    },
  };
}

function resolve(
  text: string,
  alias: string,
  files: Record<string, string> = {},
  ctx: ResolveContext = CTX,
): ResolvedSshHost {
  return resolveSshHost(
    parseSshConfig(text, { fileName: `${HOME}/.ssh/config`, homeDir: HOME, reader: memReader(files) }),
    alias,
    ctx,
  );
}

describe('splitConfigArgs (argv_split)', () => {
  const cases: Array<[string, string[]]> = [
    ['a b  c', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ["'a b' c", ['a b', 'c']],
    ['a"b c"d', ['ab cd']],
    ['"it\'s"', ["it's"]],
    ['a\\ b', ['a b']],
    ['a\\"b', ['a"b']],
    ['a\\\\b', ['a\\b']],
    ['a\\xb', ['a\\xb']],
    ['a # comment', ['a']],
    ['a#b', ['a#b']],
    ['"#not comment" x', ['#not comment', 'x']],
    ['""', ['']],
    ['\ta\t', ['a']],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.deepEqual(splitConfigArgs(input), want));
  }
  it('unterminated quote throws', () => {
    assert.throws(() => splitConfigArgs('"abc'), SshConfigError);
    assert.throws(() => parseSshConfig('Host "abc', { homeDir: HOME }), /line 1/);
  });
});

describe('parseSshConfig: lines and keywords', () => {
  it('Key Value, Key=Value, Key = Value, case-insensitive keywords', () => {
    const r = resolve('HOSTNAME=h1.example\nuser = bob\n  PoRt   2222\n', 'x');
    assert.equal(r.hostName, 'h1.example');
    assert.equal(r.user, 'bob');
    assert.equal(r.port, 2222);
  });
  it('comments, blank lines, CRLF, trailing whitespace', () => {
    const r = resolve(
      '# top\r\n\r\n   # indented\r\nHost x # trailing comment\r\n\tUser carol  \r\n\tPort 2200 # why\r\n',
      'x',
    );
    assert.equal(r.user, 'carol');
    assert.equal(r.port, 2200);
  });
  it('quoted values', () => {
    const r = resolve('Host x\n  IdentityFile "~/My Keys/id ed"\n  User "dave"\n', 'x');
    assert.deepEqual(r.identityFiles, [`${HOME}/My Keys/id ed`]);
    assert.equal(r.user, 'dave');
  });
  it('a keyword without an argument is an error', () => {
    assert.throws(() => parseSshConfig('Host x\n  User\n', { homeDir: HOME }), /line 2: no argument/);
  });
  it('bad values in an active block are errors, in an inactive block ignored', () => {
    assert.throws(() => resolve('Host x\n Port 0\n', 'x'), SshConfigError);
    assert.throws(() => resolve('Host x\n Port abc\n', 'x'), /bad port/);
    assert.equal(resolve('Host x\n Port abc\n', 'y').port, 22);
    assert.throws(() => resolve('StrictHostKeyChecking maybe\n', 'x'), SshConfigError);
  });
  it('unknown keywords are ignored', () => {
    assert.equal(resolve('ForwardAgent yes\nSomeFutureOption 1\nUser u\n', 'x').user, 'u');
  });
});

describe('Host blocks', () => {
  const cfg = [
    'User global-first',
    'Host web-* !web-secret db?',
    '  HostName %h.internal',
    '  Port 2201',
    'Host web-1',
    '  Port 2202',
    '  User web1',
    'Host "*.example.com" plain',
    '  User example',
    'Host !neg-only',
    '  Port 9',
    'Host *',
    '  Port 2299',
    '  User fallback',
  ].join('\n');
  it('first obtained value wins, global lines first', () => {
    const r = resolve(cfg, 'web-1');
    assert.equal(r.hostName, 'web-1.internal');
    assert.equal(r.port, 2201);
    assert.equal(r.user, 'global-first');
  });
  it('negation excludes even when another pattern matches', () => {
    const r = resolve(cfg, 'web-secret');
    assert.equal(r.hostName, 'web-secret');
    assert.equal(r.port, 2299);
  });
  it('? matches exactly one character', () => {
    assert.equal(resolve(cfg, 'db1').port, 2201);
    assert.equal(resolve(cfg, 'db12').port, 2299);
    assert.equal(resolve(cfg, 'db').port, 2299);
  });
  it('a Host line with only a negated pattern matches nothing', () => {
    assert.equal(resolve(cfg, 'anything').port, 2299);
  });
  it('quoted patterns and several patterns', () => {
    assert.equal(resolve(cfg.replace('User global-first\n', ''), 'a.example.com').user, 'example');
    assert.equal(resolve(cfg.replace('User global-first\n', ''), 'plain').user, 'example');
  });
  it('Host matching is case-sensitive; the resolved HostName is lower-cased', () => {
    const text = 'Host Gpu\n  HostName GPU.Example.COM\n';
    assert.equal(resolve(text, 'Gpu').hostName, 'gpu.example.com');
    assert.equal(resolve(text, 'gpu').hostName, 'gpu');
    assert.equal(resolve(text, 'GPU').hostName, 'gpu');
  });
  it('HostName supports %h and %%, other tokens are errors', () => {
    assert.equal(resolve('Host *\n HostName %h.lan\n', 'box').hostName, 'box.lan');
    assert.equal(resolve('Host *\n HostName a%%b\n', 'box').hostName, 'a%b');
    assert.throws(() => resolve('Host *\n HostName %p.lan\n', 'box'), SshConfigError);
  });
  it('defaults', () => {
    const r = resolve('', 'h');
    assert.equal(r.hostName, 'h');
    assert.equal(r.user, 'alice');
    assert.equal(r.port, 22);
    assert.equal(r.identityFilesDefault, true);
    assert.deepEqual(r.identityFiles.slice(0, 4), [
      `${HOME}/.ssh/id_rsa`,
      `${HOME}/.ssh/id_ecdsa`,
      `${HOME}/.ssh/id_ecdsa_sk`,
      `${HOME}/.ssh/id_ed25519`,
    ]);
    assert.deepEqual(r.proxyJump, []);
    assert.equal(r.proxyCommand, null);
    assert.equal(r.serverAliveInterval, 0);
    assert.equal(r.serverAliveCountMax, 3);
    assert.equal(r.connectTimeout, null);
    assert.equal(r.strictHostKeyChecking, 'ask');
    assert.deepEqual(r.identityAgent, { kind: 'default' });
    assert.deepEqual(r.userKnownHostsFiles, [`${HOME}/.ssh/known_hosts`, `${HOME}/.ssh/known_hosts2`]);
    assert.equal(r.hostKeyAlias, null);
    assert.equal(r.identitiesOnly, false);
  });
  it('rejects aliases that would be options or contain whitespace', () => {
    assert.throws(() => resolve('', '-oProxyCommand=x'), SshConfigError);
    assert.throws(() => resolve('', 'a b'), SshConfigError);
    assert.throws(() => resolve('', ''), SshConfigError);
  });
});

describe('IdentityFile, IdentityAgent and tokens', () => {
  it('accumulates in order, drops duplicates, expands ~ and tokens', () => {
    const r = resolve(
      [
        'Host gpu',
        '  HostName GPU1.lan',
        '  User bob',
        '  Port 2222',
        '  IdentityFile ~/.ssh/id_%h_%r_%p',
        '  IdentityFile %d/k/%u-%n-%l-%L-%i-%%',
        'Host *',
        '  IdentityFile ~/.ssh/id_%h_%r_%p',
        '  IdentityFile /abs/${XDG_RUNTIME_DIR}/key',
      ].join('\n'),
      'gpu',
    );
    assert.deepEqual(r.identityFiles, [
      `${HOME}/.ssh/id_gpu1.lan_bob_2222`,
      `${HOME}/k/alice-gpu-laptop.lan-laptop-1000-%`,
      '/abs//run/user/1000/key',
    ]);
    assert.equal(r.identityFilesDefault, false);
  });
  it('%k is the HostKeyAlias or the alias, %C a sha1 hex', () => {
    const r = resolve('Host g\n HostKeyAlias gk\n IdentityFile /k/%k\n IdentityFile /c/%C\n', 'g');
    assert.equal(r.identityFiles[0], '/k/gk');
    assert.match(r.identityFiles[1]!, /^\/c\/[0-9a-f]{40}$/);
    assert.equal(resolve('IdentityFile /k/%k\n', 'g').identityFiles[0], '/k/g');
  });
  it('~user needs a lookup; unknown tokens and unset env vars are errors', () => {
    assert.throws(() => resolve('IdentityFile ~bob/.ssh/k\n', 'x'), /~bob/);
    const ctx: ResolveContext = { ...CTX, lookupHome: (u) => (u === 'bob' ? '/home/bob' : undefined) };
    assert.deepEqual(resolve('IdentityFile ~bob/.ssh/k\n', 'x', {}, ctx).identityFiles, ['/home/bob/.ssh/k']);
    assert.throws(() => resolve('IdentityFile /k/%Z\n', 'x'), /unknown token/);
    assert.throws(() => resolve('IdentityFile /k/${NOPE}\n', 'x'), /NOPE/);
  });
  it('IdentityAgent: none, SSH_AUTH_SOCK, $VAR, path with tokens', () => {
    assert.deepEqual(resolve('IdentityAgent none\n', 'x').identityAgent, { kind: 'none' });
    assert.deepEqual(resolve('IdentityAgent SSH_AUTH_SOCK\n', 'x').identityAgent, { kind: 'default' });
    assert.deepEqual(resolve('IdentityAgent $AGENT\n', 'x').identityAgent, { kind: 'socket', path: '/tmp/agent.sock' });
    assert.deepEqual(resolve('IdentityAgent ~/.agent-%r.sock\nUser u\n', 'x').identityAgent, {
      kind: 'socket',
      path: `${HOME}/.agent-u.sock`,
    });
    assert.deepEqual(resolve('IdentityAgent ${XDG_RUNTIME_DIR}/a\n', 'x').identityAgent, {
      kind: 'socket',
      path: '/run/user/1000/a',
    });
    assert.throws(() => resolve('IdentityAgent $NOPE\n', 'x'), SshConfigError);
  });
  it('UserKnownHostsFile list with tokens', () => {
    assert.deepEqual(resolve('UserKnownHostsFile ~/kh1 /etc/kh-%h\n', 'box').userKnownHostsFiles, [
      `${HOME}/kh1`,
      '/etc/kh-box',
    ]);
  });
});

describe('other options', () => {
  it('time values', () => {
    assert.equal(parseTimeSpec('90'), 90);
    assert.equal(parseTimeSpec('1m30s'), 90);
    assert.equal(parseTimeSpec('2H'), 7200);
    assert.equal(parseTimeSpec('1w1d'), 691200);
    assert.equal(parseTimeSpec('10x'), undefined);
    assert.equal(parseTimeSpec(''), undefined);
  });
  it('ServerAlive*, ConnectTimeout, StrictHostKeyChecking, IdentitiesOnly, HostKeyAlias', () => {
    const r = resolve(
      'ServerAliveInterval 1m\nServerAliveCountMax 5\nConnectTimeout 15s\nStrictHostKeyChecking accept-new\nIdentitiesOnly yes\nHostKeyAlias k1\n',
      'x',
    );
    assert.equal(r.serverAliveInterval, 60);
    assert.equal(r.serverAliveCountMax, 5);
    assert.equal(r.connectTimeout, 15);
    assert.equal(r.strictHostKeyChecking, 'accept-new');
    assert.equal(r.identitiesOnly, true);
    assert.equal(r.hostKeyAlias, 'k1');
    for (const [v, want] of [
      ['yes', 'yes'],
      ['true', 'yes'],
      ['no', 'no'],
      ['off', 'no'],
      ['false', 'no'],
      ['ASK', 'ask'],
    ] as const) {
      assert.equal(resolve(`StrictHostKeyChecking ${v}\n`, 'x').strictHostKeyChecking, want);
    }
    assert.equal(resolve('ConnectTimeout none\nConnectTimeout 5\n', 'x').connectTimeout, null);
    assert.throws(() => resolve('ServerAliveInterval soon\n', 'x'), SshConfigError);
  });
});

describe('ProxyJump', () => {
  const hop = (user: string | undefined, host: string, port: number | undefined): ProxyJumpHop => ({
    ...(user ? { user } : {}),
    host,
    ...(port ? { port } : {}),
  });
  const ok: Array<[string, ProxyJumpHop]> = [
    ['bastion', hop(undefined, 'bastion', undefined)],
    ['bob@bastion', hop('bob', 'bastion', undefined)],
    ['bob@bastion:2222', hop('bob', 'bastion', 2222)],
    ['bastion:2222', hop(undefined, 'bastion', 2222)],
    ['bastion/2222', hop(undefined, 'bastion', 2222)],
    ['a@b@bastion', hop('a@b', 'bastion', undefined)],
    ['[::1]:2222', hop(undefined, '::1', 2222)],
    ['bob@[fe80::1]', hop('bob', 'fe80::1', undefined)],
    ['ssh://bastion', hop(undefined, 'bastion', undefined)],
    ['ssh://bob@bastion:2222', hop('bob', 'bastion', 2222)],
    ['ssh://bob@bastion:2222/', hop('bob', 'bastion', 2222)],
    ['ssh://u%40x;fingerprint=SHA256:abc@h:99', hop('u@x', 'h', 99)],
    ['ssh://[::1]:22', hop(undefined, '::1', 22)],
  ];
  for (const [spec, want] of ok) it(`parses ${spec}`, () => assert.deepEqual(parseJumpHop(spec), want));
  const bad = [
    '',
    '@host',
    'host:0',
    'host:65536',
    'host:x',
    'ssh://',
    'ssh://@h',
    'ssh://h:22/path',
    'ssh://h:port',
    '[::1',
    'user@',
    '-oProxyCommand=x',
    'a b',
  ];
  for (const spec of bad)
    it(`rejects ${JSON.stringify(spec)}`, () => assert.throws(() => parseJumpHop(spec), SshConfigError));

  it('lists in connection order; none', () => {
    assert.deepEqual(parseProxyJump('a,bob@b:23,ssh://c@d:24'), [
      hop(undefined, 'a', undefined),
      hop('bob', 'b', 23),
      hop('c', 'd', 24),
    ]);
    assert.deepEqual(parseProxyJump('none'), []);
    assert.deepEqual(parseProxyJump('NONE'), []);
    assert.throws(() => parseProxyJump('a,,b'), SshConfigError);
  });
  it('resolution: first wins, none blocks later ProxyJump, ProxyCommand interplay', () => {
    assert.deepEqual(resolve('Host x\n ProxyJump none\nHost *\n ProxyJump gw\n', 'x').proxyJump, []);
    assert.deepEqual(resolve('Host x\n ProxyJump none\nHost *\n ProxyJump gw\n', 'y').proxyJump, [
      hop(undefined, 'gw', undefined),
    ]);
    const pj = resolve('Host x\n ProxyJump gw\n ProxyCommand nc %h %p\n', 'x');
    assert.deepEqual(pj.proxyJump, [hop(undefined, 'gw', undefined)]);
    assert.equal(pj.proxyCommand, null);
    const pc = resolve('Host x\n ProxyCommand ssh -W %h:%p "gw"\n ProxyJump gw\n', 'x');
    assert.deepEqual(pc.proxyJump, []);
    assert.equal(pc.proxyCommand, 'ssh -W %h:%p "gw"');
    assert.equal(resolve('Host x\n ProxyJump none\n ProxyCommand nc %h %p\n', 'x').proxyCommand, 'nc %h %p');
    assert.equal(resolve('ProxyCommand none\nProxyJump gw\n', 'x').proxyCommand, null);
    assert.deepEqual(resolve('ProxyCommand none\nProxyJump gw\n', 'x').proxyJump, []);
    assert.throws(() => resolve('ProxyJump gw:99999\n', 'x'), SshConfigError);
  });
  it('resolveConnectionChain follows hops like ssh -J', () => {
    const text = [
      'Host target',
      '  HostName 10.0.0.5',
      '  ProxyJump j1,carol@j2:2022',
      'Host j1',
      '  HostName j1.example.com',
      '  User jumpuser',
      '  ProxyJump outer',
      'Host j2',
      '  HostName j2.example.com',
      '  ProxyJump ignored-because-of-J',
      'Host outer',
      '  HostName outer.example.com',
      '  Port 443',
    ].join('\n');
    const chain = resolveConnectionChain(parseSshConfig(text, { homeDir: HOME }), 'target', CTX);
    assert.deepEqual(
      chain.map((h) => `${h.user}@${h.hostName}:${h.port}`),
      ['alice@outer.example.com:443', 'jumpuser@j1.example.com:22', 'carol@j2.example.com:2022', 'alice@10.0.0.5:22'],
    );
  });
  it('resolveConnectionChain detects loops', () => {
    const text = 'Host a\n ProxyJump b\nHost b\n ProxyJump a\n';
    assert.throws(() => resolveConnectionChain(parseSshConfig(text, { homeDir: HOME }), 'a', CTX), /loop/);
  });
});

describe('Include', () => {
  it('relative paths resolve against ~/.ssh, globs are sorted, content applies in place', () => {
    const files = {
      [`${HOME}/.ssh/conf.d/20-b.conf`]: 'Host b\n  User from-b\n',
      [`${HOME}/.ssh/conf.d/10-a.conf`]: 'Host a b\n  User from-a\n  Port 1010\n',
      [`${HOME}/.ssh/conf.d/README`]: 'Host b\n  User from-readme\n',
    };
    const text = 'Include conf.d/*.conf\nHost *\n  User star\n';
    assert.equal(resolve(text, 'b', files).user, 'from-a');
    assert.equal(resolve(text, 'b', files).port, 1010);
    assert.equal(resolve(text, 'c', files).user, 'star');
  });
  it('~ and absolute paths, several arguments', () => {
    const files = { [`${HOME}/x.conf`]: 'User tilde\n', '/etc/elp/y.conf': 'Port 2345\n' };
    const r = resolve('Include ~/x.conf /etc/elp/y.conf\n', 'h', files);
    assert.equal(r.user, 'tilde');
    assert.equal(r.port, 2345);
  });
  it('a missing file is ignored (with a warning)', () => {
    const r = resolve('Include nothere.conf\nUser u\n', 'h');
    assert.equal(r.user, 'u');
    assert.match(r.warnings.join('\n'), /matched no files/);
  });
  it('an unreadable included file is an error', () => {
    assert.throws(
      () => resolve('Include bad.conf\n', 'h', { [`${HOME}/.ssh/bad.conf`]: 'EACCES' }),
      /cannot read included file/,
    );
  });
  it('an Include inside an inactive block contributes nothing', () => {
    const files = { [`${HOME}/.ssh/inc`]: 'User from-inc\nHost *\n  Port 1111\n' };
    const r = resolve('Host other\n  Include inc\nHost *\n  User star\n', 'h', files);
    assert.equal(r.user, 'star');
    assert.equal(r.port, 22);
  });
  it('an Include inside an active block: leading lines apply; its Host lines do not leak out', () => {
    const files = { [`${HOME}/.ssh/inc`]: 'User from-inc\nHost nomatch\n  IdentityFile /inc/nomatch\n' };
    const r = resolve('Host h\n  Include inc\n  Port 3333\n', 'h', files);
    assert.equal(r.user, 'from-inc');
    assert.equal(r.port, 3333); // state after the include is the including block's (active)
    assert.equal(r.identityFilesDefault, true);
  });
  it('recursion is limited', () => {
    const files = { [`${HOME}/.ssh/loop`]: 'Include loop\n' };
    assert.throws(() => resolve('Include loop\n', 'h', files), /too many recursive/);
  });
  it('without a reader, Include is skipped with a warning', () => {
    const p = parseSshConfig('Include x\n', { homeDir: HOME });
    assert.match(p.warnings.join(), /not followed/);
  });
});

describe('Match', () => {
  it('exec is never executed: block skipped with a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elp-match-'));
    try {
      const marker = join(dir, 'pwned');
      const r = resolve(`Match exec "touch ${marker}"\n  User exec-user\nMatch all\n  User all-user\n`, 'h');
      assert.equal(existsSync(marker), false);
      assert.equal(r.user, 'all-user');
      assert.match(r.warnings.join('\n'), /Match exec is never executed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('host (against HostName so far), originalhost, user, localuser, negation, lists', () => {
    const text = [
      'Host gpu',
      '  HostName node1.cluster.lan',
      'Match host *.cluster.lan',
      '  Port 2001',
      'Match originalhost gpu',
      '  User orig',
      'Match !host *.cluster.lan',
      '  Port 2002',
      'Match user orig localuser alice',
      '  IdentityFile /k/orig-alice',
      'Match host "a,b,!c*"',
      '  ServerAliveInterval 7',
    ].join('\n');
    const g = resolve(text, 'gpu');
    assert.equal(g.port, 2001);
    assert.equal(g.user, 'orig');
    assert.deepEqual(g.identityFiles, ['/k/orig-alice']);
    const o = resolve(text, 'other');
    assert.equal(o.port, 2002);
    assert.equal(o.user, 'alice');
    assert.equal(resolve(text, 'a').serverAliveInterval, 7);
    assert.equal(resolve(text, 'cb').serverAliveInterval, 0);
  });
  it('canonical, final, localnetwork and unknown criteria are skipped with warnings', () => {
    for (const c of ['canonical', 'final', 'localnetwork 10.0.0.0/8', 'tagged x', 'bogus x']) {
      const r = resolve(`Match ${c}\n  User m\n`, 'h');
      assert.equal(r.user, 'alice', c);
      assert.ok(r.warnings.length > 0, c);
    }
  });
  it('all cannot be combined', () => {
    const r = resolve('Match all host x\n  User m\n', 'x');
    assert.equal(r.user, 'alice');
  });
});

describe('Node glob for Include', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'elp-glob-'));
    mkdirSync(join(dir, 'conf.d'));
    for (const f of ['b.conf', 'a.conf', '.hidden.conf', 'c.txt']) writeFileSync(join(dir, 'conf.d', f), `# ${f}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  it('matches like glob(3): sorted, no dot files, [] when nothing', () => {
    assert.deepEqual(globSync(join(dir, 'conf.d', '*.conf')), [
      join(dir, 'conf.d', 'a.conf'),
      join(dir, 'conf.d', 'b.conf'),
    ]);
    assert.deepEqual(globSync(join(dir, 'conf.d', '[ab].conf')), [
      join(dir, 'conf.d', 'a.conf'),
      join(dir, 'conf.d', 'b.conf'),
    ]);
    assert.deepEqual(globSync(join(dir, '*', 'c.txt')), [join(dir, 'conf.d', 'c.txt')]);
    assert.deepEqual(globSync(join(dir, 'nope', '*')), []);
    assert.deepEqual(globSync(join(dir, 'conf.d', 'a.conf')), [join(dir, 'conf.d', 'a.conf')]);
    assert.deepEqual(globSync(join(dir, 'conf.d', 'zzz')), []);
    assert.equal(segmentMatches('.x', '*'), false);
    assert.equal(segmentMatches('.x', '.*'), true);
    assert.equal(segmentMatches('a+b(c)', 'a+b(c)'), true);
    assert.equal(segmentMatches('x', '[!a]'), true);
  });
  it('nodeSshConfigReader: missing → undefined', () => {
    assert.equal(nodeSshConfigReader.readFile(join(dir, 'missing')), undefined);
    assert.throws(() => nodeSshConfigReader.readFile(join(dir, 'conf.d')));
  });
});

// ---------------------------------------------------------------------------------------------
// Compare with the real OpenSSH client (`ssh -G`), which resolves without connecting.

const SSH = ['/usr/bin/ssh'].find((p) => existsSync(p));

describe(
  'agrees with ssh -G',
  { skip: SSH === undefined ? 'OpenSSH client (/usr/bin/ssh) not installed' : false },
  () => {
    let dir = '';
    const local = userInfo();
    const ctx: ResolveContext = {
      localUser: local.username,
      homeDir: '/nonexistent-home',
      localHostName: 'h',
      uid: local.uid,
      env: {},
    };

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'elp-sshG-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function sshG(cfgPath: string, alias: string): Map<string, string> {
      const r = spawnSync(SSH!, ['-G', '-F', cfgPath, alias], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      assert.equal(r.status, 0, r.stderr);
      const m = new Map<string, string>();
      for (const line of r.stdout.split('\n')) {
        const sp = line.indexOf(' ');
        if (sp > 0 && !m.has(line.slice(0, sp))) m.set(line.slice(0, sp), line.slice(sp + 1));
      }
      return m;
    }

    // How this client resolves `ProxyJump none` before a ProxyCommand changed with the 10.3p1 fixes
    // (Debian 12 backported them in 9.2p1-2+deb12u10); the resolver follows the current behaviour.
    function proxyJumpNoneYieldsToProxyCommand(): boolean {
      const probe = join(dir, 'probe-proxyjump-none.conf');
      writeFileSync(probe, 'Host a\n  ProxyJump none\n  ProxyCommand nc %h %p\n');
      return sshG(probe, 'a').get('proxycommand') === 'nc %h %p';
    }

    function compare(
      name: string,
      text: string,
      aliases: readonly string[],
      files: Record<string, string> = {},
      needsCurrentProxyJumpNone = false,
    ): void {
      it(name, (t) => {
        if (needsCurrentProxyJumpNone && !proxyJumpNoneYieldsToProxyCommand()) {
          const version = spawnSync(SSH!, ['-V'], { encoding: 'utf8' }).stderr.trim();
          t.skip(
            `${version} predates OpenSSH 10.3p1's ProxyJump none handling (Debian: apt-get install openssh-client)`,
          );
          return;
        }
        const cfgPath = join(dir, `${name.replace(/\W+/g, '_')}.conf`);
        writeFileSync(cfgPath, text);
        for (const [rel, content] of Object.entries(files)) writeFileSync(join(dir, rel), content);
        const parsed = parseSshConfig(text.replaceAll('@DIR@', dir), {
          fileName: cfgPath,
          homeDir: ctx.homeDir,
          reader: nodeSshConfigReader,
        });
        writeFileSync(cfgPath, text.replaceAll('@DIR@', dir));
        for (const alias of aliases) {
          const g = sshG(cfgPath, alias);
          const ours = resolveSshHost(parsed, alias, ctx);
          const why = `${name} / ${alias}`;
          assert.equal(ours.hostName, g.get('hostname'), `hostname ${why}`);
          assert.equal(ours.user, g.get('user'), `user ${why}`);
          assert.equal(String(ours.port), g.get('port'), `port ${why}`);
          const pj = g.get('proxyjump');
          assert.deepEqual(ours.proxyJump, pj === undefined ? [] : parseProxyJump(pj), `proxyjump ${why}`);
          assert.equal(ours.proxyCommand, g.get('proxycommand') ?? null, `proxycommand ${why}`);
          assert.equal(String(ours.serverAliveInterval), g.get('serveraliveinterval'), `serveraliveinterval ${why}`);
          assert.equal(String(ours.serverAliveCountMax), g.get('serveralivecountmax'), `serveralivecountmax ${why}`);
          assert.equal(
            ours.connectTimeout === null ? 'none' : String(ours.connectTimeout),
            g.get('connecttimeout'),
            `connecttimeout ${why}`,
          );
          const shk = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[ours.strictHostKeyChecking];
          assert.equal(shk, g.get('stricthostkeychecking'), `stricthostkeychecking ${why}`);
          assert.equal(ours.hostKeyAlias ?? undefined, g.get('hostkeyalias'), `hostkeyalias ${why}`);
        }
      });
    }

    compare(
      'basic blocks and first-wins',
      [
        'Host web-* !web-secret db?',
        '  HostName %h.internal',
        '  Port 2201',
        'Host web-1',
        '  Port 2202',
        '  User web1',
        'Host *',
        '  Port 2299',
        '  User=fallback',
        '  ServerAliveInterval 1m30s',
        '  ServerAliveCountMax 5',
      ].join('\n'),
      ['web-1', 'web-secret', 'db1', 'db12', 'other', 'WEB-1'],
    );
    compare(
      'quoting and equals',
      [
        'Host "quoted host" x',
        '  User = "joe smith"',
        '  HostName="Mixed.Case.Example"',
        '  ConnectTimeout=1m',
        '  StrictHostKeyChecking accept-new',
        'Host y # comment',
        '  Port 2022 # trailing',
        '  StrictHostKeyChecking no',
        '  HostKeyAlias ykey',
      ].join('\n'),
      ['x', 'y', 'quoted'],
    );
    compare(
      'proxyjump none, then proxycommand',
      ['Host a', '  ProxyJump none', '  ProxyCommand nc %h %p'].join('\n'),
      ['a'],
      {},
      true,
    );
    compare(
      'proxyjump and proxycommand',
      [
        'Host b',
        '  ProxyJump bob@j1:2222,ssh://carol@j2:23',
        '  ProxyCommand ignored',
        'Host c',
        '  ProxyCommand none',
        '  ProxyJump z',
        'Host d',
        '  ProxyJump none',
        'Host *',
        '  ProxyJump w',
      ].join('\n'),
      ['b', 'c', 'd', 'e'],
    );
    compare(
      'match blocks',
      [
        'Host gpu',
        '  HostName node1.cluster.lan',
        'Match host *.cluster.lan',
        '  Port 2001',
        'Match originalhost gpu',
        '  User orig',
        'Match !host *.cluster.lan',
        '  Port 2002',
        `Match localuser ${local.username} user orig`,
        '  ServerAliveInterval 9',
        'Match host "a,b,!c*"',
        '  ConnectTimeout 7',
      ].join('\n'),
      ['gpu', 'other', 'a', 'cb'],
    );
    compare(
      'includes (absolute, glob, inside blocks)',
      [
        'Include @DIR@/inc-*.part',
        'Host h1',
        '  Include @DIR@/inner.part',
        '  Port 1001',
        'Host other',
        '  Include @DIR@/never.part',
        'Host *',
        '  User star',
      ].join('\n'),
      ['h1', 'h2', 'h3'],
      {
        'inc-2.part': 'Host h2\n  User two-b\n  Port 2002\n',
        'inc-1.part': 'Host h2 h3\n  User two-a\n',
        'inner.part': 'User inner\nHost nomatch\n  Port 9\n',
        'never.part': 'Port 7777\nHost *\n  User never\n',
      },
    );
  },
);
