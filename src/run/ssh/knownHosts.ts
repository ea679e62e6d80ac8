/**
 * Host-key verification against OpenSSH `known_hosts` text (security-critical, pure apart from
 * `readKnownHostsFiles`).
 *
 * Semantics follow OpenSSH (hostfile.c / match.c / sshconnect.c):
 * - the lookup name is `host` for port 22 and `[host]:port` otherwise, lower-cased;
 *   with a HostKeyAlias the alias is used verbatim (no port, case kept for hashed entries), as ssh does;
 * - a host field is a comma-separated pattern list (`*`, `?`, `!negation`, case-insensitive);
 *   a negated match excludes the whole line; `|1|salt|hash` is a hashed single name
 *   (HMAC-SHA1 keyed by the salt over the lookup name);
 * - `@revoked` lines whose key equals the presented key → `revoked` (wins over everything);
 * - `@cert-authority` lines are for host certificates; a plain host key never matches them
 *   (they are counted in `certAuthorityLinesIgnored`);
 * - an entry with the SAME key type and the same blob → `match`; same type, different blob →
 *   `changed`; only entries of OTHER key types → `unknown` (with `otherKeyTypes` listed);
 * - malformed lines are skipped (and reported in `warnings`), as ssh skips them.
 * Several sources (the user's file and the project's own trust file) are consulted together: a
 * match in any of them is a match, unless the key is revoked in any of them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { matchPatternList } from './patterns';

export { matchPatternList, wildcardMatch } from './patterns';

export interface KnownHostsSource {
  /** A name for messages (usually the file path). */
  readonly path: string;
  readonly text: string;
}

export interface PresentedHostKey {
  /** Host name or address we connected to (the resolved HostName, not the alias). */
  readonly host: string;
  readonly port: number;
  /** If set (ssh_config HostKeyAlias), looked up verbatim instead of host/port. */
  readonly hostKeyAlias?: string;
  /** Key type, e.g. `ssh-ed25519`; if given it must equal the type inside the blob. */
  readonly keyType?: string;
  /** The raw public-key blob (what ssh2's `hostVerifier` receives). */
  readonly blob: Uint8Array;
}

export interface KnownHostsLocation {
  readonly path: string;
  readonly line: number;
}

export type HostKeyVerdict =
  | {
      readonly kind: 'match';
      readonly keyType: string;
      readonly fingerprint: string;
      readonly matchedAt: KnownHostsLocation;
      readonly warnings: readonly string[];
    }
  | {
      readonly kind: 'unknown';
      readonly keyType: string;
      readonly fingerprint: string;
      /** Key types known for this host, none of them the presented type. */
      readonly otherKeyTypes: readonly string[];
      readonly certAuthorityLinesIgnored: number;
      readonly warnings: readonly string[];
    }
  | {
      readonly kind: 'changed';
      readonly keyType: string;
      readonly fingerprint: string;
      /** Fingerprints (SHA256:…) of the known keys of this type for this host. */
      readonly expectedFingerprints: readonly string[];
      readonly expectedAt: readonly KnownHostsLocation[];
      readonly warnings: readonly string[];
    }
  | {
      readonly kind: 'revoked';
      readonly keyType: string;
      readonly fingerprint: string;
      readonly revokedAt: KnownHostsLocation;
      readonly warnings: readonly string[];
    };

/** A known_hosts file that exists but cannot be read: the caller must fail closed. */
export class KnownHostsReadError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, code: string | undefined, message: string) {
    super(`cannot read known_hosts file ${path}: ${message}`);
    this.name = 'KnownHostsReadError';
    this.path = path;
    this.code = code;
  }
}

/** A presented key or a key given to `formatKnownHostsLine` that is not a well-formed SSH blob. */
export class HostKeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyFormatError';
  }
}

/** `SHA256:<base64 without padding>` of the blob, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(blob: Uint8Array): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/**
 * The key type stored inside an SSH public-key blob (its first length-prefixed string), or
 * `undefined` if the blob is not well formed.
 */
export function keyTypeOfBlob(blob: Uint8Array): string | undefined {
  if (blob.length < 4) return undefined;
  const len = ((blob[0]! << 24) | (blob[1]! << 16) | (blob[2]! << 8) | blob[3]!) >>> 0;
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = Buffer.from(blob.subarray(4, 4 + len)).toString('latin1');
  return /^[A-Za-z0-9@._+-]+$/.test(type) ? type : undefined;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise (lower-cased). */
export function knownHostsLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 || port === 0 ? h : `[${h}]:${port}`;
}

type Marker = 'none' | 'revoked' | 'cert-authority';

interface Entry {
  readonly marker: Marker;
  readonly keyType: string;
  readonly blob: Buffer;
  readonly at: KnownHostsLocation;
}

function hashedHostMatches(field: string, name: string): boolean | undefined {
  // |1|<base64 salt>|<base64 hmac-sha1>
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return undefined;
  const salt = decodeBase64Strict(parts[2]!);
  const hash = decodeBase64Strict(parts[3]!);
  if (salt === undefined || hash === undefined || salt.length !== 20 || hash.length !== 20) return undefined;
  const mac = createHmac('sha1', salt).update(name, 'utf8').digest();
  return timingSafeEqual(mac, hash);
}

function decodeBase64Strict(s: string): Buffer | undefined {
  if (s.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(s)) return undefined;
  const buf = Buffer.from(s, 'base64');
  // Reject strings that do not round-trip (garbage / wrong padding).
  if (buf.toString('base64').replace(/=+$/, '') !== s.replace(/=+$/, '')) return undefined;
  return buf;
}

/**
 * The entries of one known_hosts text that apply to `name` (lookup name, see
 * `knownHostsLookupName`). Lines that do not parse are reported via `warn` and skipped.
 */
function entriesFor(source: KnownHostsSource, name: string, warn: (w: string) => void): Entry[] {
  const out: Entry[] = [];
  const lines = source.text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at: KnownHostsLocation = { path: source.path, line: i + 1 };
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/[ \t]+/);
    let marker: Marker = 'none';
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        warn(`${at.path}:${at.line}: unknown marker ${m}, line skipped`);
        continue;
      }
    }
    if (fields.length < 3) {
      warn(`${at.path}:${at.line}: malformed line, skipped`);
      continue;
    }
    const [hostField, keyType, b64] = fields as [string, string, string];
    let hostMatches: boolean;
    if (hostField.startsWith('|')) {
      const r = hashedHostMatches(hostField, name);
      if (r === undefined) {
        warn(`${at.path}:${at.line}: malformed hashed host, line skipped`);
        continue;
      }
      hostMatches = r;
    } else {
      hostMatches = matchPatternList(name, hostField, true) === 1;
    }
    if (!hostMatches) continue;
    const blob = decodeBase64Strict(b64);
    const blobType = blob === undefined ? undefined : keyTypeOfBlob(blob);
    if (blob === undefined || blobType === undefined) {
      warn(`${at.path}:${at.line}: key is not valid base64 SSH key data, line skipped`);
      continue;
    }
    if (blobType !== keyType) {
      warn(`${at.path}:${at.line}: key type ${keyType} does not match key data (${blobType}), line skipped`);
      continue;
    }
    out.push({ marker, keyType, blob, at });
  }
  return out;
}

/** Decide whether a presented host key is trusted, given the known_hosts sources. */
export function verifyHostKey(key: PresentedHostKey, sources: readonly KnownHostsSource[]): HostKeyVerdict {
  const blob = Buffer.from(key.blob);
  const blobType = keyTypeOfBlob(blob);
  if (blobType === undefined) throw new HostKeyFormatError('presented host key is not a well-formed SSH key blob');
  if (key.keyType !== undefined && key.keyType !== blobType) {
    throw new HostKeyFormatError(`presented key type ${key.keyType} does not match the key data (${blobType})`);
  }
  if (!Number.isInteger(key.port) || key.port < 0 || key.port > 65535) {
    throw new HostKeyFormatError(`invalid port ${key.port}`);
  }
  const name = key.hostKeyAlias !== undefined ? key.hostKeyAlias : knownHostsLookupName(key.host, key.port);
  const fingerprint = fingerprintSha256(blob);
  const warnings: string[] = [];
  const entries = sources.flatMap((s) => entriesFor(s, name, (w) => warnings.push(w)));

  const revoked = entries.find((e) => e.marker === 'revoked' && e.blob.equals(blob));
  if (revoked !== undefined)
    return { kind: 'revoked', keyType: blobType, fingerprint, revokedAt: revoked.at, warnings };

  const plain = entries.filter((e) => e.marker === 'none');
  const matched = plain.find((e) => e.keyType === blobType && e.blob.equals(blob));
  if (matched !== undefined) return { kind: 'match', keyType: blobType, fingerprint, matchedAt: matched.at, warnings };

  const sameType = plain.filter((e) => e.keyType === blobType);
  if (sameType.length > 0) {
    const expectedFingerprints = [...new Set(sameType.map((e) => fingerprintSha256(e.blob)))];
    return {
      kind: 'changed',
      keyType: blobType,
      fingerprint,
      expectedFingerprints,
      expectedAt: sameType.map((e) => e.at),
      warnings,
    };
  }
  return {
    kind: 'unknown',
    keyType: blobType,
    fingerprint,
    otherKeyTypes: [...new Set(plain.map((e) => e.keyType))],
    certAuthorityLinesIgnored: entries.filter((e) => e.marker === 'cert-authority').length,
    warnings,
  };
}

/**
 * One line for the project's OWN trust file (never write it to ~/.ssh/known_hosts):
 * `host keytype base64` on port 22, `[host]:port keytype base64` otherwise.
 */
export function formatKnownHostsLine(host: string, port: number, keyType: string, blob: Uint8Array): string {
  if (host === '' || /[\s,#|!*?@[\]]/.test(host) || host.startsWith('[')) {
    throw new HostKeyFormatError(`host ${JSON.stringify(host)} cannot be written to a known_hosts line`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new HostKeyFormatError(`invalid port ${port}`);
  const blobType = keyTypeOfBlob(blob);
  if (blobType === undefined) throw new HostKeyFormatError('key is not a well-formed SSH key blob');
  if (blobType !== keyType)
    throw new HostKeyFormatError(`key type ${keyType} does not match the key data (${blobType})`);
  return `${knownHostsLookupName(host, port)} ${keyType} ${Buffer.from(blob).toString('base64')}`;
}

export interface ReadKnownHostsOptions {
  /** A missing file reads as empty (OpenSSH's behaviour). Default true. */
  readonly missingOk?: boolean;
  /** Injected reader (tests); defaults to fs.readFileSync(path, 'utf8'). */
  readonly readFile?: (path: string) => string;
}

/** Read known_hosts files; any file that exists but cannot be read throws KnownHostsReadError. */
export function readKnownHostsFiles(paths: readonly string[], options: ReadKnownHostsOptions = {}): KnownHostsSource[] {
  const read = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  const missingOk = options.missingOk ?? true;
  const out: KnownHostsSource[] = [];
  for (const path of paths) {
    try {
      out.push({ path, text: read(path) });
    } catch (e) {
      const code = errorCode(e);
      if (code === 'ENOENT' && missingOk) {
        out.push({ path, text: '' });
        continue;
      }
      throw new KnownHostsReadError(path, code, e instanceof Error ? e.message : String(e));
    }
  }
  return out;
}

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}
