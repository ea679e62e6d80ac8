/**
 * Opening an SSH connection the way `ssh ALIAS` would, with ssh2:
 * - the alias is resolved through the user's ssh config (sshConfig.ts: Include followed, nothing
 *   executed); a ProxyJump chain is walked hop by hop, each later hop tunnelled through the one
 *   before with `forwardOut`, and EVERY hop's host key verified under its own name/port/HostKeyAlias;
 * - host keys are checked against the user's known_hosts files (or only `--known-hosts FILE`) plus
 *   the project's own trust file. Unknown → refused unless `acceptNewHostKey` says yes, then the key
 *   is appended to the trust file (never to ~/.ssh/known_hosts) and the hop is reconnected and must
 *   present that same key. Changed or revoked → refused, no override. Unreadable file → refused;
 * - the connect timeout is our own deadline, paused while a person answers a prompt (host key,
 *   passphrase), so it never runs out under them;
 * - auth: the agent (IdentityAgent / SSH_AUTH_SOCK) then each IdentityFile; an encrypted key asks the
 *   `passphrase` callback (TTY prompt in the CLI, SecretStorage in the extension), never argv or env;
 * - keepalive from ServerAliveInterval (default 15 s) × ServerAliveCountMax, so a dead link is noticed.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import {
  Client,
  utils,
  type AnyAuthMethod,
  type AuthenticationType,
  type ConnectConfig,
  type NextAuthHandler,
  type ParsedKey,
} from 'ssh2';
import { localResolveContext, loadSshConfig } from './configFs';
import { SshError } from './errors';
import { createHostVerifier } from './hostVerifier';
import {
  formatKnownHostsLine,
  KnownHostsReadError,
  keyTypeOfBlob,
  knownHostsLookupName,
  readKnownHostsFiles,
  type HostKeyVerdict,
  type KnownHostsLocation,
  type KnownHostsSource,
} from './knownHosts';
import { resolveConnectionChain, SshConfigError, type ResolvedSshHost } from './sshConfig';

/** A host key seen for the first time, shown to the person who decides. */
export interface UnknownHostKey {
  /** The alias or jump-host name from the config. */
  readonly alias: string;
  readonly host: string;
  readonly port: number;
  /** The name the key is stored under: `host`, `[host]:port` or the HostKeyAlias. */
  readonly lookupName: string;
  readonly keyType: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
  /** Where an accepted key is written. */
  readonly trustFile: string;
}

/** How each hop's key was trusted (preflight shows it). */
export interface HostKeyReport {
  readonly alias: string;
  readonly host: string;
  readonly port: number;
  readonly keyType: string;
  readonly fingerprint: string;
  readonly verdict: 'match' | 'accepted';
  readonly at: KnownHostsLocation | null;
}

export interface SshConnectOptions {
  /** `--ssh-config FILE`; default ~/.ssh/config. */
  readonly sshConfigFile?: string;
  /** `--known-hosts FILE`: only this file (plus the trust file) is consulted, not the config's UserKnownHostsFile. */
  readonly knownHostsFile?: string;
  /** The project's own trust file; default defaultTrustFile(). */
  readonly trustFile?: string;
  readonly homeDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Asked about an unknown host key; true appends it to the trust file. Absent → refused. */
  readonly acceptNewHostKey?: (key: UnknownHostKey) => Promise<boolean>;
  /** Asked for an encrypted key's passphrase; null skips the key. Absent → encrypted keys are skipped. */
  readonly passphrase?: (keyFile: string, attempt: number) => Promise<string | null>;
  /** Handshake + auth deadline (ms, not counting prompts); ConnectTimeout from the config wins. Default 20 s. */
  readonly connectTimeoutMs?: number;
  /** Overrides ServerAliveInterval (ms); default ServerAliveInterval, or 15 s when the config has none. */
  readonly keepaliveIntervalMs?: number;
  /** Progress and warnings for a log. */
  readonly log?: (line: string) => void;
}

/** A live connection (the last hop), with the hops it goes through. */
export interface SshConnection {
  readonly client: Client;
  readonly chain: readonly ResolvedSshHost[];
  readonly hostKeys: readonly HostKeyReport[];
  /** Resolves (with why) as soon as one hop of the chain or another is closed. */
  readonly closed: Promise<string>;
  readonly isClosed: () => boolean;
  close(): void;
}

export const DEFAULT_KEEPALIVE_S = 15;
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;

/** `~/.config/efficientllm/known_hosts` (XDG_CONFIG_HOME respected); EFFICIENTLLM_TRUST_FILE overrides. */
export function defaultTrustFile(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.EFFICIENTLLM_TRUST_FILE) return env.EFFICIENTLLM_TRUST_FILE;
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'efficientllm', 'known_hosts');
}

/** Resolves the alias to its hop chain (jump hosts first); throws SshError('config') with the reason. */
export function resolveChain(alias: string, options: SshConnectOptions): ResolvedSshHost[] {
  const home = options.homeDir ?? homedir();
  try {
    const config = loadSshConfig(options.sshConfigFile, home);
    const ctx = { ...localResolveContext(), homeDir: home, env: options.env ?? process.env };
    const chain = resolveConnectionChain(config, alias, ctx);
    for (const hop of chain) {
      if (hop.proxyCommand !== null) {
        throw new SshError(
          'config',
          hop.alias,
          `${hop.alias}: ProxyCommand is not supported (commands from ssh config are never run); use ProxyJump instead`,
        );
      }
    }
    return chain;
  } catch (e) {
    if (e instanceof SshError) throw e;
    if (e instanceof SshConfigError) throw new SshError('config', alias, `ssh config: ${e.message}`);
    throw new SshError(
      'config',
      alias,
      `cannot read the ssh config ${options.sshConfigFile ?? join(home, '.ssh', 'config')}: ${(e as Error).message}`,
    );
  }
}

/** A connect deadline that can be paused while a person answers a prompt. */
class Deadline {
  private remaining: number;
  private armedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private onExpire: (() => void) | null = null;
  private paused = 0;

  constructor(ms: number) {
    this.remaining = ms;
  }

  arm(onExpire: () => void): void {
    this.onExpire = onExpire;
    if (this.paused === 0) this.start();
  }

  disarm(): void {
    this.stop();
    this.onExpire = null;
  }

  /** Runs `fn` (a prompt) with the clock stopped. */
  async pauseDuring<T>(fn: () => Promise<T>): Promise<T> {
    if (this.paused++ === 0) this.stop();
    try {
      return await fn();
    } finally {
      if (--this.paused === 0 && this.onExpire) this.start();
    }
  }

  private start(): void {
    this.armedAt = Date.now();
    const cb = this.onExpire;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        cb?.();
      },
      Math.max(0, this.remaining),
    );
  }

  private stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
      this.remaining -= Date.now() - this.armedAt;
    }
  }
}

type Verdict = HostKeyVerdict | { readonly kind: 'error'; readonly error: Error };

function where(loc: KnownHostsLocation): string {
  return `${loc.path}:${loc.line}`;
}

function knownHostsPaths(
  hop: ResolvedSshHost,
  options: SshConnectOptions,
  trustFile: string,
): { paths: string[]; required: string[] } {
  if (options.knownHostsFile !== undefined)
    return { paths: [options.knownHostsFile, trustFile], required: [options.knownHostsFile] };
  return { paths: [...hop.userKnownHostsFiles, trustFile], required: [] };
}

function readSources(hop: ResolvedSshHost, options: SshConnectOptions, trustFile: string): KnownHostsSource[] {
  const { paths, required } = knownHostsPaths(hop, options, trustFile);
  try {
    for (const r of required) {
      if (!existsSync(r))
        throw new KnownHostsReadError(r, 'ENOENT', 'the file given with --known-hosts does not exist');
    }
    return readKnownHostsFiles(paths, { missingOk: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new SshError(
      'known-hosts-unreadable',
      hop.alias,
      `${msg}; refusing to connect to ${hop.alias} without checking its host key`,
    );
  }
}

/** Appends an accepted key to the trust file (0600, folder 0700), starting a new line if needed. */
export function appendTrustedKey(trustFile: string, line: string): void {
  mkdirSync(dirname(trustFile), { recursive: true, mode: 0o700 });
  let prefix = '';
  if (existsSync(trustFile)) {
    const text = readFileSync(trustFile, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
  }
  appendFileSync(trustFile, `${prefix}${line}\n`, { mode: 0o600 });
  try {
    chmodSync(trustFile, 0o600);
  } catch {
    // not ours to fix; the content is written
  }
}

function describe(hop: ResolvedSshHost): string {
  return hop.alias === hop.hostName && hop.port === 22
    ? hop.alias
    : `${hop.alias} (${hop.user}@${hop.hostName}:${hop.port})`;
}

/** Builds the refusal for a verdict that is not a match. */
function refusal(hop: ResolvedSshHost, v: Verdict, lookupName: string, trustFile: string): SshError {
  const name = describe(hop);
  switch (v.kind) {
    case 'error':
      return new SshError(
        'known-hosts-unreadable',
        hop.alias,
        `cannot check the host key of ${name}: ${v.error.message}`,
      );
    case 'changed':
      return new SshError(
        'host-key-changed',
        hop.alias,
        `HOST KEY CHANGED for ${name} (${lookupName}): it now presents ${v.keyType} ${v.fingerprint}, ` +
          `but ${v.expectedAt.map(where).join(', ')} holds ${v.expectedFingerprints.join(', ')}. ` +
          `Someone may be intercepting the connection, or the host was reinstalled. Refused; there is no override: ` +
          `if the change is legitimate, remove the old entry (ssh-keygen -R '${lookupName}' -f FILE) after checking the new fingerprint with the host's administrator`,
      );
    case 'revoked':
      return new SshError(
        'host-key-revoked',
        hop.alias,
        `the host key of ${name} (${v.keyType} ${v.fingerprint}) is marked @revoked at ${where(v.revokedAt)}; refused`,
      );
    case 'unknown':
      return new SshError(
        'host-key-unknown',
        hop.alias,
        `the host key of ${name} is not known: ${v.keyType} key fingerprint ${v.fingerprint}` +
          (v.otherKeyTypes.length > 0 ? ` (known keys of other types: ${v.otherKeyTypes.join(', ')})` : '') +
          `. Check it with the host's administrator; ` +
          `if it is right, accept it (CLI: run again with --accept-new-host-key); it is saved to ${trustFile}, never to ~/.ssh/known_hosts`,
      );
    case 'match':
      return new SshError('host-key-unknown', hop.alias, 'unexpected');
  }
}

function mapClientError(hop: ResolvedSshHost, e: Error & { level?: string; code?: string }): SshError {
  const name = describe(hop);
  if (e.level === 'client-authentication') {
    return new SshError(
      'auth',
      hop.alias,
      `authentication to ${name} failed: no key was accepted (tried the agent and ${hop.identityFilesDefault ? 'the default identity files' : hop.identityFiles.join(', ')}); check IdentityFile / ssh-add`,
    );
  }
  if (e.level === 'client-timeout') return new SshError('timeout', hop.alias, `${name}: ${e.message}`);
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return new SshError('network', hop.alias, `${name}: cannot resolve host name ${hop.hostName} (${e.code})`);
  if (e.code === 'ECONNREFUSED')
    return new SshError('network', hop.alias, `${name}: connection refused (is sshd running on port ${hop.port}?)`);
  return new SshError('network', hop.alias, `${name}: ${e.message}`);
}

/** The auth methods in OpenSSH's order, built lazily so a passphrase is only asked when it is needed. */
function authHandler(
  hop: ResolvedSshHost,
  options: SshConnectOptions,
  deadline: Deadline,
): (left: AuthenticationType[], partial: boolean, next: NextAuthHandler) => void {
  const env = options.env ?? process.env;
  const steps: (() => Promise<AnyAuthMethod | null>)[] = [];
  const agent =
    hop.identityAgent.kind === 'socket'
      ? hop.identityAgent.path
      : hop.identityAgent.kind === 'default'
        ? env.SSH_AUTH_SOCK
        : undefined;
  if (agent && !hop.identitiesOnly) steps.push(async () => ({ type: 'agent', username: hop.user, agent }));
  for (const file of hop.identityFiles) {
    steps.push(async () => {
      let data: Buffer;
      try {
        data = readFileSync(file);
      } catch (e) {
        if (!hop.identityFilesDefault)
          options.log?.(
            `${hop.alias}: identity file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); skipped`,
          );
        return null;
      }
      const plain = utils.parseKey(data);
      if (!(plain instanceof Error)) return { type: 'publickey', username: hop.user, key: data };
      if (!/passphrase/i.test(plain.message)) {
        options.log?.(`${hop.alias}: identity file ${file} is not a usable private key (${plain.message}); skipped`);
        return null;
      }
      const ask = options.passphrase;
      if (!ask) {
        options.log?.(
          `${hop.alias}: identity file ${file} is encrypted and no passphrase prompt is available; skipped`,
        );
        return null;
      }
      for (let attempt = 1; attempt <= 3; attempt++) {
        // The clock stops while the person answers and while the key is decrypted (the bcrypt KDF
        // takes most of a second in JS): the deadline is about a silent network, not local work.
        const key = await deadline.pauseDuring(async () => {
          const pass = await ask(file, attempt);
          if (pass === null) return null;
          // Decrypt once and hand ssh2 the parsed key, so it does not run the KDF again.
          const parsed = utils.parseKey(data, pass);
          const k = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
          return k && !(k instanceof Error) ? k : undefined;
        });
        if (key === null) return null;
        if (key !== undefined) return { type: 'publickey', username: hop.user, key };
        options.log?.(`${hop.alias}: wrong passphrase for ${file}`);
      }
      return null;
    });
  }
  let i = 0;
  return (_left, _partial, next) => {
    const tryNext = (): void => {
      const step = steps[i++];
      if (!step) {
        // ssh2 takes `false` for "no more methods"; its type only lists method names.
        (next as (m: AnyAuthMethod | AuthenticationType | false) => void)(false);
        return;
      }
      step().then(
        (m) => (m ? next(m) : tryNext()),
        () => tryNext(),
      );
    };
    tryNext();
  };
}

interface HopResult {
  client: Client;
  report: HostKeyReport;
}

function openForward(via: Client, hop: ResolvedSshHost): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.forwardOut('127.0.0.1', 0, hop.hostName, hop.port, (err, stream) => {
      if (err)
        reject(
          new SshError(
            'network',
            hop.alias,
            `the jump host could not open a tunnel to ${hop.hostName}:${hop.port} (${err.message})`,
          ),
        );
      else resolve(stream);
    });
  });
}

async function connectHop(
  hop: ResolvedSshHost,
  via: Client | null,
  options: SshConnectOptions,
  trustFile: string,
  deadline: Deadline,
): Promise<HopResult> {
  const lookupName = hop.hostKeyAlias ?? knownHostsLookupName(hop.hostName, hop.port);
  let sources = readSources(hop, options, trustFile);
  let accepted: { blob: Buffer } | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    let verdict: Verdict | undefined;
    let presented: Buffer | undefined;
    const verifier = createHostVerifier({
      host: hop.hostName,
      port: hop.port,
      ...(hop.hostKeyAlias !== null ? { hostKeyAlias: hop.hostKeyAlias } : {}),
      sources,
      onVerdict: (v) => {
        verdict = v;
      },
    });
    const sock = via ? await openForward(via, hop) : undefined;
    const client = new Client();
    const outcome = await new Promise<{ ok: true } | { ok: false; error: SshError }>((resolve) => {
      let done = false;
      const finish = (r: { ok: true } | { ok: false; error: SshError }): void => {
        if (done) return;
        done = true;
        deadline.disarm();
        resolve(r);
      };
      deadline.arm(() => {
        client.destroy();
        finish({
          ok: false,
          error: new SshError('timeout', hop.alias, `${describe(hop)}: no SSH handshake within the connect timeout`),
        });
      });
      client.on('ready', () => finish({ ok: true }));
      client.on('error', (e: Error & { level?: string; code?: string }) => {
        if (verdict !== undefined && verdict.kind !== 'match')
          finish({ ok: false, error: refusal(hop, verdict, lookupName, trustFile) });
        else finish({ ok: false, error: mapClientError(hop, e) });
      });
      client.on('close', () => {
        if (verdict !== undefined && verdict.kind !== 'match')
          finish({ ok: false, error: refusal(hop, verdict, lookupName, trustFile) });
        else
          finish({
            ok: false,
            error: new SshError('network', hop.alias, `${describe(hop)}: the connection closed during the handshake`),
          });
      });
      const keepaliveMs =
        options.keepaliveIntervalMs ??
        (hop.serverAliveInterval > 0 ? hop.serverAliveInterval : DEFAULT_KEEPALIVE_S) * 1000;
      const config: ConnectConfig = {
        host: hop.hostName,
        port: hop.port,
        username: hop.user,
        readyTimeout: 0, // our Deadline instead: it pauses while a person answers a prompt
        keepaliveInterval: keepaliveMs,
        keepaliveCountMax: Math.max(1, hop.serverAliveCountMax),
        hostVerifier: (key: Buffer): boolean => {
          presented = key;
          return verifier(key);
        },
        authHandler: authHandler(hop, options, deadline),
        ...(sock ? { sock } : {}),
      };
      try {
        client.connect(config);
      } catch (e) {
        finish({ ok: false, error: new SshError('config', hop.alias, `${describe(hop)}: ${(e as Error).message}`) });
      }
    });
    if (outcome.ok) {
      const v = verdict;
      const keyType = (presented && keyTypeOfBlob(presented)) ?? 'unknown';
      const fingerprint = v && v.kind !== 'error' ? v.fingerprint : '';
      return {
        client,
        report: {
          alias: hop.alias,
          host: hop.hostName,
          port: hop.port,
          keyType,
          fingerprint,
          verdict: accepted ? 'accepted' : 'match',
          at: v && v.kind === 'match' ? v.matchedAt : null,
        },
      };
    }
    client.destroy();
    const v = verdict as Verdict | undefined;
    if (attempt === 0 && v?.kind === 'unknown' && presented && options.acceptNewHostKey) {
      const info: UnknownHostKey = {
        alias: hop.alias,
        host: hop.hostName,
        port: hop.port,
        lookupName,
        keyType: v.keyType,
        fingerprint: v.fingerprint,
        trustFile,
      };
      // No connection is open and no timer runs while the person decides.
      const yes = await deadline.pauseDuring(() => options.acceptNewHostKey!(info));
      if (!yes) throw outcome.error;
      const line =
        hop.hostKeyAlias !== null
          ? `${hop.hostKeyAlias} ${v.keyType} ${presented.toString('base64')}`
          : formatKnownHostsLine(hop.hostName, hop.port, v.keyType, presented);
      try {
        appendTrustedKey(trustFile, line);
      } catch (e) {
        throw new SshError(
          'known-hosts-unreadable',
          hop.alias,
          `cannot save the accepted host key to ${trustFile}: ${(e as Error).message}`,
        );
      }
      options.log?.(`${hop.alias}: accepted ${v.keyType} ${v.fingerprint}, saved to ${trustFile}`);
      accepted = { blob: presented };
      sources = readSources(hop, options, trustFile); // the reconnect must see exactly that key
      continue;
    }
    throw outcome.error;
  }
  throw new SshError('host-key-unknown', hop.alias, `${describe(hop)}: the host key could not be confirmed`);
}

/** Connects through the whole chain; every hop verified and authenticated. */
export async function connectSsh(alias: string, options: SshConnectOptions = {}): Promise<SshConnection> {
  const chain = resolveChain(alias, options);
  const trustFile = options.trustFile ?? defaultTrustFile(options.env ?? process.env, options.homeDir ?? homedir());
  const clients: Client[] = [];
  const reports: HostKeyReport[] = [];
  try {
    for (const hop of chain) {
      const timeoutMs =
        hop.connectTimeout !== null
          ? hop.connectTimeout * 1000
          : (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      const { client, report } = await connectHop(
        hop,
        clients[clients.length - 1] ?? null,
        options,
        trustFile,
        new Deadline(timeoutMs),
      );
      clients.push(client);
      reports.push(report);
      // Until the whole chain is up, a hop that dies just ends the attempt.
      client.on('error', () => undefined);
    }
  } catch (e) {
    for (const c of clients.reverse()) c.destroy();
    throw e;
  }
  let closedFlag = false;
  let resolveClosed: (why: string) => void = () => undefined;
  const closed = new Promise<string>((r) => (resolveClosed = r));
  clients.forEach((c, i) => {
    const hop = chain[i]!;
    let lastError = '';
    c.on('error', (e: Error) => {
      lastError = e.message;
    });
    c.on('close', () => {
      if (closedFlag) return;
      closedFlag = true;
      resolveClosed(`the connection to ${hop.alias} closed${lastError ? ` (${lastError})` : ''}`);
      for (const other of clients) if (other !== c) other.destroy();
    });
  });
  return {
    client: clients[clients.length - 1]!,
    chain,
    hostKeys: reports,
    closed,
    isClosed: () => closedFlag,
    close: () => {
      for (const c of [...clients].reverse()) c.end();
      // end() waits for the server; make sure nothing keeps the process alive for long.
      setTimeout(() => {
        for (const c of clients) c.destroy();
      }, 2000).unref();
    },
  };
}
