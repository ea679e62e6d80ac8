/**
 * OpenSSH client configuration (ssh_config(5)): parse and resolve a host alias.
 *
 * Pure: files named by `Include` are read through an injected `SshConfigReader`
 * (see configFs.ts for the Node implementation). Nothing is ever executed: `Match exec` is
 * skipped with a warning, and `ProxyCommand` is only reported, never run.
 *
 * Semantics follow OpenSSH 9.x readconf.c / ssh.c:
 * - keywords are case-insensitive; `Keyword value`, `Keyword=value`, `Keyword = value`;
 *   arguments split like argv_split (double/single quotes, `\"` `\'` `\\` `\ ` escapes),
 *   an unquoted `#` starting an argument ends the line;
 * - lines before the first Host/Match apply to every host; `Host` patterns (`*`, `?`, `!neg`)
 *   are matched case-sensitively against the alias as given; a negated match disables the block;
 * - the FIRST obtained value of each option wins (IdentityFile accumulates, duplicates dropped);
 * - `Include`: relative paths are resolved against ~/.ssh, `~` is expanded, globs are sorted,
 *   a pattern matching nothing (or a vanished file) is ignored, recursion is limited to 16 levels;
 *   an Include inside an inactive Host/Match block contributes nothing, and a Host/Match inside
 *   an included file does not change the including file's state;
 * - `Match` supports `all`, `host`, `originalhost`, `user`, `localuser` (comma pattern lists,
 *   `!` negation of criteria and patterns). `exec` is NEVER run: the block is treated as not
 *   matching and a warning is recorded. `canonical`, `final`, `localnetwork`, `tagged` and unknown
 *   criteria are likewise treated as not matching, with a warning;
 * - the resolved HostName is `%h`-expanded and lower-cased, as ssh does before connecting.
 */
import { createHash } from 'node:crypto';
import { matchPatternList, wildcardMatch } from './patterns';

export class SshConfigError extends Error {
  readonly file: string | undefined;
  readonly line: number | undefined;
  constructor(message: string, at?: ConfigLocation) {
    super(at === undefined ? message : `${at.file} line ${at.line}: ${message}`);
    this.name = 'SshConfigError';
    this.file = at?.file;
    this.line = at?.line;
  }
}

export interface ConfigLocation {
  readonly file: string;
  readonly line: number;
}

/** File access used to follow `Include`. */
export interface SshConfigReader {
  /** Text of the file, or `undefined` if it does not exist. Throw for any other failure. */
  readFile(path: string): string | undefined;
  /** Existing paths matching a glob pattern (`*`, `?`, `[…]`), sorted; `[]` when none match. */
  glob(pattern: string): readonly string[];
}

export type ConfigNode =
  | {
      readonly kind: 'option';
      readonly keyword: string;
      readonly args: readonly string[];
      readonly rest: string;
      readonly at: ConfigLocation;
    }
  | { readonly kind: 'host'; readonly patterns: readonly string[]; readonly at: ConfigLocation }
  | { readonly kind: 'match'; readonly criteria: readonly string[]; readonly at: ConfigLocation }
  | { readonly kind: 'include'; readonly files: readonly IncludedFile[]; readonly at: ConfigLocation };

export interface IncludedFile {
  readonly path: string;
  readonly nodes: readonly ConfigNode[];
}

export interface ParsedSshConfig {
  readonly file: string;
  readonly nodes: readonly ConfigNode[];
  /** Notes from parsing (an Include that matched nothing, an Include without a reader …). */
  readonly warnings: readonly string[];
}

export interface ParseOptions {
  /** Name of the file the text came from (messages, and where Include paths are reported). */
  readonly fileName?: string;
  /** Local home directory: `~` and relative Include paths (`~/.ssh/…`). */
  readonly homeDir: string;
  /** Reader used for `Include`. Without one, Include lines are skipped with a warning. */
  readonly reader?: SshConfigReader;
}

/** OpenSSH's READCONF_MAX_DEPTH. */
export const MAX_INCLUDE_DEPTH = 16;

// ---------------------------------------------------------------------------------------------
// Lexing

/** OpenSSH argv_split(s, terminate_on_comment = 1). Throws on an unterminated quote. */
export function splitConfigArgs(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let quote: string | null = null;
    let arg = '';
    for (; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next === "'" || next === '"' || next === '\\' || (quote === null && next === ' ')) {
          i++;
          arg += next;
        } else {
          arg += ch;
        }
      } else if (quote === null && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === null && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== null && ch === quote) {
        quote = null;
      } else {
        arg += ch;
      }
    }
    if (quote !== null) throw new SshConfigError('unterminated quoted argument');
    out.push(arg);
  }
  return out;
}

/** Split one config line into keyword (lower-cased) and the rest, like readconf's strdelim. */
function splitKeyword(line: string): { keyword: string; rest: string } | undefined {
  const m = /^[ \t\r\n]*([^ \t\r\n="]*)/.exec(line)!;
  const keyword = m[1]!;
  if (keyword === '' || keyword.startsWith('#')) return undefined;
  let rest = line.slice(m[0].length);
  // Skip whitespace, at most one '=', whitespace.
  rest = rest.replace(/^[ \t\r\n]*(=[ \t\r\n]*)?/, '');
  return { keyword: keyword.toLowerCase(), rest };
}

// ---------------------------------------------------------------------------------------------
// Parsing (with Include)

export function parseSshConfig(text: string, options: ParseOptions): ParsedSshConfig {
  const file = options.fileName ?? '<config>';
  const warnings: string[] = [];
  const nodes = parseText(text, file, options, 0, warnings);
  return { file, nodes, warnings };
}

function parseText(text: string, file: string, options: ParseOptions, depth: number, warnings: string[]): ConfigNode[] {
  if (depth > MAX_INCLUDE_DEPTH) {
    throw new SshConfigError(`too many recursive configuration includes (more than ${MAX_INCLUDE_DEPTH}) at ${file}`);
  }
  const nodes: ConfigNode[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const at: ConfigLocation = { file, line: n + 1 };
    const line = lines[n]!.replace(/[ \t\r\n\f]+$/, '');
    const kw = splitKeyword(line);
    if (kw === undefined) continue;
    let args: string[];
    try {
      args = splitConfigArgs(kw.rest);
    } catch (e) {
      throw new SshConfigError(e instanceof Error ? e.message : String(e), at);
    }
    if (args.length === 0) throw new SshConfigError(`no argument after keyword "${kw.keyword}"`, at);
    switch (kw.keyword) {
      case 'host':
        nodes.push({ kind: 'host', patterns: args, at });
        break;
      case 'match':
        nodes.push({ kind: 'match', criteria: args, at });
        break;
      case 'include':
        nodes.push({ kind: 'include', files: parseInclude(args, at, options, depth, warnings), at });
        break;
      default:
        nodes.push({ kind: 'option', keyword: kw.keyword, args, rest: kw.rest, at });
    }
  }
  return nodes;
}

function parseInclude(
  args: readonly string[],
  at: ConfigLocation,
  options: ParseOptions,
  depth: number,
  warnings: string[],
): IncludedFile[] {
  const reader = options.reader;
  if (reader === undefined) {
    warnings.push(`${at.file} line ${at.line}: Include not followed (no file reader given)`);
    return [];
  }
  const files: IncludedFile[] = [];
  for (const arg of args) {
    let pattern: string;
    if (arg.startsWith('~')) pattern = expandTilde(arg, options.homeDir);
    else if (arg.startsWith('/')) pattern = arg;
    else pattern = `${trimSlash(options.homeDir)}/.ssh/${arg}`;
    const paths = [...reader.glob(pattern)].sort();
    if (paths.length === 0) {
      warnings.push(`${at.file} line ${at.line}: Include ${arg} matched no files`);
      continue;
    }
    for (const path of paths) {
      let text: string | undefined;
      try {
        text = reader.readFile(path);
      } catch (e) {
        throw new SshConfigError(
          `cannot read included file ${path}: ${e instanceof Error ? e.message : String(e)}`,
          at,
        );
      }
      if (text === undefined) continue; // vanished between glob and open: ENOENT is ignored
      files.push({ path, nodes: parseText(text, path, options, depth + 1, warnings) });
    }
  }
  return files;
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** `~` and `~/…` → home. `~user/…` needs `lookupHome`; otherwise an error. */
export function expandTilde(path: string, homeDir: string, lookupHome?: (user: string) => string | undefined): string {
  if (!path.startsWith('~')) return path;
  const slash = path.indexOf('/');
  const userPart = slash === -1 ? path.slice(1) : path.slice(1, slash);
  const tail = slash === -1 ? '' : path.slice(slash + 1);
  let home: string | undefined = homeDir;
  if (userPart !== '') {
    home = lookupHome?.(userPart);
    if (home === undefined) throw new SshConfigError(`cannot expand ~${userPart}: unknown user`);
  }
  const base = trimSlash(home);
  if (tail === '') return base;
  return base === '/' ? `/${tail}` : `${base}/${tail}`;
}

// ---------------------------------------------------------------------------------------------
// ProxyJump

export interface ProxyJumpHop {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

function parsePort(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** hpdelim: split `host[:port]` / `host/port` / `[v6]:port`; host brackets removed. */
function splitHostPort(
  s: string,
): { host: string; portText: string | undefined; delim: string | undefined } | undefined {
  let end: number;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1) return undefined;
    end = close + 1;
  } else {
    const m = /[:/]/.exec(s);
    end = m === null ? s.length : m.index;
  }
  const hostRaw = s.slice(0, end);
  if (end < s.length && s[end] !== ':' && s[end] !== '/') return undefined;
  const host = hostRaw.startsWith('[') && hostRaw.endsWith(']') ? hostRaw.slice(1, -1) : hostRaw;
  if (host === '') return undefined;
  return end < s.length
    ? { host, portText: s.slice(end + 1), delim: s[end] }
    : { host, portText: undefined, delim: undefined };
}

function validHostToken(h: string): boolean {
  return h !== '' && !/[\s@,'"`$;\\]/.test(h) && !h.startsWith('-');
}

/** Parse one ProxyJump entry: `[user@]host[:port]` or `ssh://[user@]host[:port][/]`. */
export function parseJumpHop(spec: string): ProxyJumpHop {
  const bad = (why: string): never => {
    throw new SshConfigError(`invalid ProxyJump host ${JSON.stringify(spec)}: ${why}`);
  };
  if (spec.startsWith('ssh://')) {
    let tmp = spec.slice('ssh://'.length);
    let user: string | undefined;
    const at = tmp.indexOf('@');
    if (at !== -1) {
      let u = tmp.slice(0, at);
      const semi = u.indexOf(';');
      if (semi !== -1) u = u.slice(0, semi); // connection parameters are ignored, as ssh does
      if (u === '') bad('empty user name');
      try {
        user = decodeURIComponent(u);
      } catch {
        bad('bad %-encoding in user name');
      }
      tmp = tmp.slice(at + 1);
    }
    const hp = splitHostPort(tmp) ?? bad('missing host');
    if (!validHostToken(hp.host)) bad('invalid host name');
    let port: number | undefined;
    let rest = hp.portText;
    if (rest !== undefined && rest !== '' && hp.delim === ':') {
      const slash = rest.indexOf('/');
      const p = slash === -1 ? rest : rest.slice(0, slash);
      port = parsePort(p) ?? bad('invalid port');
      rest = slash === -1 ? undefined : rest.slice(slash + 1);
    }
    if (rest !== undefined && rest !== '') bad('a path is not allowed');
    return hop(user, hp.host, port);
  }
  let tmp = spec;
  let user: string | undefined;
  const at = tmp.lastIndexOf('@');
  if (at !== -1) {
    user = tmp.slice(0, at);
    if (user === '') bad('empty user name');
    tmp = tmp.slice(at + 1);
  }
  const hp = splitHostPort(tmp) ?? bad('missing host');
  if (!validHostToken(hp.host)) bad('invalid host name');
  let port: number | undefined;
  if (hp.portText !== undefined && hp.portText !== '') port = parsePort(hp.portText) ?? bad('invalid port');
  return hop(user, hp.host, port);
}

function hop(user: string | undefined, host: string, port: number | undefined): ProxyJumpHop {
  return { ...(user !== undefined ? { user } : {}), host, ...(port !== undefined ? { port } : {}) };
}

/** Parse a ProxyJump value: comma-separated hops in connection order; `none` → []. */
export function parseProxyJump(value: string): ProxyJumpHop[] {
  const v = value.trim();
  if (v.toLowerCase() === 'none') return [];
  if (v === '') throw new SshConfigError('empty ProxyJump');
  return v.split(',').map((s) => parseJumpHop(s));
}

export function formatJumpHop(h: ProxyJumpHop): string {
  const host = h.host.includes(':') ? `[${h.host}]` : h.host;
  return `${h.user !== undefined ? `${h.user}@` : ''}${host}${h.port !== undefined ? `:${h.port}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Resolution

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

export type IdentityAgent =
  | { readonly kind: 'default' } // use $SSH_AUTH_SOCK (unset, or `SSH_AUTH_SOCK`)
  | { readonly kind: 'none' }
  | { readonly kind: 'socket'; readonly path: string };

export interface ResolvedSshHost {
  /** The alias as asked for. */
  readonly alias: string;
  /** Host to connect to: HostName (with %h expanded) or the alias, lower-cased. */
  readonly hostName: string;
  readonly user: string;
  readonly port: number;
  /** Expanded paths; OpenSSH's default list when none is configured (see identityFilesDefault). */
  readonly identityFiles: readonly string[];
  readonly identityFilesDefault: boolean;
  readonly identitiesOnly: boolean;
  readonly identityAgent: IdentityAgent;
  /** Jump hosts in connection order (first hop first); [] for a direct connection. */
  readonly proxyJump: readonly ProxyJumpHop[];
  /** A ProxyCommand that would apply (never executed here; the caller should refuse it). */
  readonly proxyCommand: string | null;
  /** Seconds; 0 = off. */
  readonly serverAliveInterval: number;
  readonly serverAliveCountMax: number;
  /** Seconds; null = none (system TCP timeout). */
  readonly connectTimeout: number | null;
  readonly strictHostKeyChecking: StrictHostKeyChecking;
  readonly hostKeyAlias: string | null;
  /** Expanded; defaults to ~/.ssh/known_hosts and ~/.ssh/known_hosts2. */
  readonly userKnownHostsFiles: readonly string[];
  readonly warnings: readonly string[];
}

export interface ResolveContext {
  /** Local user name: default User, %u, Match localuser. */
  readonly localUser: string;
  /** Local home: `~`, %d. */
  readonly homeDir: string;
  /** %l (full) and %L (up to the first dot). Default 'localhost'. */
  readonly localHostName?: string;
  /** %i. Default -1 (then %i is an error). */
  readonly uid?: number;
  /** ${VAR} expansion and IdentityAgent $VAR. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `~user/` expansion. */
  readonly lookupHome?: (user: string) => string | undefined;
}

/** Values given on the command line: they take precedence over the config (set first). */
export interface ResolveOverrides {
  readonly user?: string;
  readonly port?: number;
  /** Hops (or [] meaning `none`) that replace any ProxyJump/ProxyCommand from the config. */
  readonly proxyJump?: readonly ProxyJumpHop[];
}

interface State {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly?: boolean;
  identityAgent?: string;
  proxyJumpRaw?: string; // 'none' or the raw list
  proxyJump?: ProxyJumpHop[];
  proxyCommand?: string; // 'none' allowed
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number | null;
  strictHostKeyChecking?: StrictHostKeyChecking;
  hostKeyAlias?: string;
  userKnownHostsFiles?: string[];
}

const DEFAULT_IDENTITY_FILES = [
  'id_rsa',
  'id_ecdsa',
  'id_ecdsa_sk',
  'id_ed25519',
  'id_ed25519_sk',
  'id_xmss',
  'id_dsa',
];
const MAX_IDENTITY_FILES = 100;

/** OpenSSH convtime: `90`, `1m30s`, `2h` … → seconds. */
export function parseTimeSpec(s: string): number | undefined {
  if (!/^([0-9]+[smhdwSMHDW]?)+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/([0-9]+)([smhdwSMHDW]?)/g)) {
    const mult: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
    total += Number(m[1]) * mult[m[2]!.toLowerCase()]!;
  }
  return Number.isSafeInteger(total) && total <= 0x7fffffff ? total : undefined;
}

function parseYesNo(v: string): boolean | undefined {
  const l = v.toLowerCase();
  if (l === 'yes' || l === 'true') return true;
  if (l === 'no' || l === 'false') return false;
  return undefined;
}

function parseStrict(v: string): StrictHostKeyChecking | undefined {
  switch (v.toLowerCase()) {
    case 'yes':
    case 'true':
      return 'yes';
    case 'no':
    case 'false':
    case 'off':
      return 'no';
    case 'ask':
      return 'ask';
    case 'accept-new':
      return 'accept-new';
    default:
      return undefined;
  }
}

/** Resolve `alias` against a parsed config, as `ssh alias` would (without connecting). */
export function resolveSshHost(
  config: ParsedSshConfig,
  alias: string,
  ctx: ResolveContext,
  overrides: ResolveOverrides = {},
): ResolvedSshHost {
  if (alias === '' || /[\s]/.test(alias) || alias.startsWith('-')) {
    throw new SshConfigError(`invalid host alias ${JSON.stringify(alias)}`);
  }
  const warnings: string[] = [...config.warnings];
  const st: State = { identityFiles: [] };
  if (overrides.user !== undefined) st.user = overrides.user;
  if (overrides.port !== undefined) {
    if (!Number.isInteger(overrides.port) || overrides.port < 1 || overrides.port > 65535) {
      throw new SshConfigError(`invalid port ${overrides.port}`);
    }
    st.port = overrides.port;
  }
  if (overrides.proxyJump !== undefined) {
    st.proxyJump = [...overrides.proxyJump];
    st.proxyJumpRaw = overrides.proxyJump.length === 0 ? 'none' : overrides.proxyJump.map(formatJumpHop).join(',');
  }

  let active = true;
  const walk = (nodes: readonly ConfigNode[], neverMatch: boolean): void => {
    for (const node of nodes) {
      switch (node.kind) {
        case 'host':
          active = neverMatch ? false : hostLineMatches(node.patterns, alias);
          break;
        case 'match':
          active = neverMatch ? false : evalMatch(node.criteria, node.at, alias, st, ctx, warnings);
          break;
        case 'include': {
          const outer = active;
          for (const f of node.files) {
            walk(f.nodes, neverMatch || !outer);
            active = outer; // Match/Host in an included file do not change our state
          }
          break;
        }
        case 'option':
          if (active) applyOption(st, node, warnings);
          break;
      }
    }
  };
  walk(config.nodes, false);

  // --- finish, like ssh.c after reading the config
  const port = st.port ?? 22;
  const user = st.user ?? ctx.localUser;
  let hostName = alias;
  if (st.hostName !== undefined) hostName = expandHostName(st.hostName, alias);
  hostName = hostName.toLowerCase();

  const proxyJump = st.proxyJump ?? [];
  const proxyCommand =
    proxyJump.length === 0 && st.proxyCommand !== undefined && st.proxyCommand.toLowerCase() !== 'none'
      ? st.proxyCommand
      : null;

  const tokens: TokenValues = {
    alias,
    hostName,
    port,
    user,
    jump: st.proxyJumpRaw !== undefined && st.proxyJumpRaw !== 'none' ? st.proxyJumpRaw : '',
    hostKeyAlias: st.hostKeyAlias,
  };
  const expandPath = (p: string): string => expandTokens(expandTilde(p, ctx.homeDir, ctx.lookupHome), tokens, ctx);

  const identityFilesDefault = st.identityFiles.length === 0;
  const identityFiles = identityFilesDefault
    ? DEFAULT_IDENTITY_FILES.map((f) => expandTilde(`~/.ssh/${f}`, ctx.homeDir))
    : st.identityFiles.map(expandPath);

  let identityAgent: IdentityAgent = { kind: 'default' };
  if (st.identityAgent !== undefined) {
    const v = st.identityAgent;
    if (v.toLowerCase() === 'none') identityAgent = { kind: 'none' };
    else if (v === 'SSH_AUTH_SOCK') identityAgent = { kind: 'default' };
    else if (v.startsWith('$') && !v.startsWith('${')) {
      const name = v.slice(1);
      const val = ctx.env?.[name];
      if (val === undefined || val === '')
        throw new SshConfigError(`IdentityAgent: environment variable ${name} is not set`);
      identityAgent = { kind: 'socket', path: val };
    } else identityAgent = { kind: 'socket', path: expandPath(v) };
  }

  const knownHosts = st.userKnownHostsFiles ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];
  const userKnownHostsFiles = knownHosts.map(expandPath);

  return {
    alias,
    hostName,
    user,
    port,
    identityFiles,
    identityFilesDefault,
    identitiesOnly: st.identitiesOnly ?? false,
    identityAgent,
    proxyJump,
    proxyCommand,
    serverAliveInterval: st.serverAliveInterval ?? 0,
    serverAliveCountMax: st.serverAliveCountMax ?? 3,
    connectTimeout: st.connectTimeout ?? null,
    strictHostKeyChecking: st.strictHostKeyChecking ?? 'ask',
    hostKeyAlias: st.hostKeyAlias ?? null,
    userKnownHostsFiles,
    warnings,
  };
}

/**
 * Resolve the whole chain needed to reach `alias`: jump hosts first, the target last.
 * Like ssh, for `ProxyJump a,b` the last hop `b` is reached with `-J a` (its own ProxyJump from
 * the config is then ignored), while a single hop uses its own ProxyJump from the config.
 */
export function resolveConnectionChain(
  config: ParsedSshConfig,
  alias: string,
  ctx: ResolveContext,
  maxHops = 10,
): ResolvedSshHost[] {
  const go = (name: string, overrides: ResolveOverrides, depth: number, seen: readonly string[]): ResolvedSshHost[] => {
    if (depth > maxHops)
      throw new SshConfigError(`ProxyJump chain longer than ${maxHops} hops (loop?): ${[...seen, name].join(' -> ')}`);
    const r = resolveSshHost(config, name, ctx, overrides);
    if (r.proxyJump.length === 0) return [r];
    const last = r.proxyJump[r.proxyJump.length - 1]!;
    const before = r.proxyJump.slice(0, -1);
    const hopOverrides: ResolveOverrides = {
      ...(last.user !== undefined ? { user: last.user } : {}),
      ...(last.port !== undefined ? { port: last.port } : {}),
      ...(before.length > 0 ? { proxyJump: before } : {}),
    };
    return [...go(last.host, hopOverrides, depth + 1, [...seen, name]), r];
  };
  return go(alias, {}, 0, []);
}

function hostLineMatches(patterns: readonly string[], alias: string): boolean {
  let active = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pat = negated ? raw.slice(1) : raw;
    if (wildcardMatch(alias, pat)) {
      if (negated) return false;
      active = true;
    }
  }
  return active;
}

function expandHostName(value: string, alias: string): string {
  return value.replace(/%(.)?/g, (m, c: string | undefined) => {
    if (c === '%') return '%';
    if (c === 'h') return alias;
    throw new SshConfigError(`HostName: unsupported token ${m}`);
  });
}

function evalMatch(
  criteria: readonly string[],
  at: ConfigLocation,
  alias: string,
  st: State,
  ctx: ResolveContext,
  warnings: string[],
): boolean {
  const where = `${at.file} line ${at.line}`;
  const host = st.hostName !== undefined ? expandHostName(st.hostName, alias) : alias;
  const ruser = st.user ?? ctx.localUser;
  let result = true;
  let attributes = 0;
  for (let i = 0; i < criteria.length; i++) {
    const raw = criteria[i]!;
    const negate = raw.startsWith('!');
    const attr = (negate ? raw.slice(1) : raw).toLowerCase();
    if (attr === 'all') {
      if (attributes > 1 || i + 1 < criteria.length) {
        warnings.push(`${where}: 'all' cannot be combined with other Match attributes; block skipped`);
        return false;
      }
      return result && !negate;
    }
    attributes++;
    if (attr === 'canonical' || attr === 'final') {
      warnings.push(`${where}: Match ${attr} is not supported (no canonicalisation / final pass); block skipped`);
      return false;
    }
    const arg = criteria[i + 1];
    if (arg === undefined) {
      warnings.push(`${where}: missing Match criteria for ${attr}; block skipped`);
      return false;
    }
    i++;
    let r: boolean;
    switch (attr) {
      case 'host':
        r = matchPatternList(host, arg, true) === 1;
        break;
      case 'originalhost':
        r = matchPatternList(alias, arg, true) === 1;
        break;
      case 'user':
        r = matchPatternList(ruser, arg, false) === 1;
        break;
      case 'localuser':
        r = matchPatternList(ctx.localUser, arg, false) === 1;
        break;
      case 'exec':
        warnings.push(`${where}: Match exec is never executed; block skipped`);
        return false;
      default:
        warnings.push(`${where}: Match ${attr} is not supported; block skipped`);
        return false;
    }
    if (r === negate) result = false;
  }
  return result;
}

function applyOption(st: State, node: Extract<ConfigNode, { kind: 'option' }>, warnings: string[]): void {
  const { keyword, args, at } = node;
  const arg = args[0]!;
  const fail = (why: string): never => {
    throw new SshConfigError(why, at);
  };
  const single = (): void => {
    if (args.length > 1) warnings.push(`${at.file} line ${at.line}: ${keyword}: extra arguments ignored`);
  };
  switch (keyword) {
    case 'hostname':
      single();
      if (st.hostName === undefined) st.hostName = arg;
      break;
    case 'user':
      single();
      if (st.user === undefined) st.user = arg;
      break;
    case 'port': {
      single();
      const p = parsePort(arg) ?? fail(`bad port "${arg}"`);
      if (st.port === undefined) st.port = p;
      break;
    }
    case 'identityfile':
      single();
      if (!st.identityFiles.includes(arg)) {
        if (st.identityFiles.length >= MAX_IDENTITY_FILES) fail('too many identity files specified');
        st.identityFiles.push(arg);
      }
      break;
    case 'identitiesonly': {
      const v = parseYesNo(arg) ?? fail(`bad IdentitiesOnly value "${arg}"`);
      if (st.identitiesOnly === undefined) st.identitiesOnly = v;
      break;
    }
    case 'identityagent':
      single();
      if (st.identityAgent === undefined) st.identityAgent = arg;
      break;
    case 'proxyjump': {
      single();
      let hops: ProxyJumpHop[];
      try {
        hops = parseProxyJump(arg);
      } catch (e) {
        return fail(e instanceof Error ? e.message : String(e));
      }
      if (st.proxyJump === undefined && st.proxyCommand === undefined) {
        st.proxyJump = hops;
        st.proxyJumpRaw = arg.trim().toLowerCase() === 'none' ? 'none' : arg.trim();
      }
      break;
    }
    case 'proxycommand':
      // The raw rest of the line (ssh runs it through a shell; we never do). An earlier ProxyJump
      // with hops wins. An earlier `ProxyJump none` does not block it: so OpenSSH resolves it since
      // the 10.3p1 fixes (Debian 12: 9.2p1-2+deb12u10); older clients such as 9.2p1-2+deb12u6 let
      // `ProxyJump none` win. We follow the current one; a ProxyCommand is refused anyway.
      if ((st.proxyJump === undefined || st.proxyJump.length === 0) && st.proxyCommand === undefined)
        st.proxyCommand = node.rest;
      break;
    case 'serveraliveinterval': {
      const v = parseTimeSpec(arg) ?? fail(`invalid time value "${arg}"`);
      if (st.serverAliveInterval === undefined) st.serverAliveInterval = v;
      break;
    }
    case 'serveralivecountmax': {
      const v = /^[0-9]+$/.test(arg) ? Number(arg) : fail(`invalid number "${arg}"`);
      if (st.serverAliveCountMax === undefined) st.serverAliveCountMax = v;
      break;
    }
    case 'connecttimeout': {
      const v = arg.toLowerCase() === 'none' ? null : (parseTimeSpec(arg) ?? fail(`invalid time value "${arg}"`));
      if (st.connectTimeout === undefined) st.connectTimeout = v === 0 ? null : v;
      break;
    }
    case 'stricthostkeychecking': {
      const v = parseStrict(arg) ?? fail(`unsupported StrictHostKeyChecking value "${arg}"`);
      if (st.strictHostKeyChecking === undefined) st.strictHostKeyChecking = v;
      break;
    }
    case 'hostkeyalias':
      single();
      if (st.hostKeyAlias === undefined) st.hostKeyAlias = arg;
      break;
    case 'userknownhostsfile':
      if (st.userKnownHostsFiles === undefined) st.userKnownHostsFiles = [...args];
      break;
    default:
      // Every other keyword is accepted and ignored here (ssh itself validates them).
      break;
  }
}

interface TokenValues {
  readonly alias: string;
  readonly hostName: string;
  readonly port: number;
  readonly user: string;
  readonly jump: string;
  readonly hostKeyAlias: string | undefined;
}

/** `${VAR}` then `%x` expansion (default_client_percent_dollar_expand). */
function expandTokens(value: string, t: TokenValues, ctx: ResolveContext): string {
  const withEnv = value.replace(/\$\{([^}]*)\}/g, (_m, name: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SshConfigError(`invalid environment variable \${${name}}`);
    const v = ctx.env?.[name];
    if (v === undefined) throw new SshConfigError(`environment variable \${${name}} has no value`);
    return v;
  });
  const local = ctx.localHostName ?? 'localhost';
  return withEnv.replace(/%(.)?/g, (m, c: string | undefined) => {
    switch (c) {
      case '%':
        return '%';
      case 'd':
        return ctx.homeDir;
      case 'h':
        return t.hostName;
      case 'p':
        return String(t.port);
      case 'r':
        return t.user;
      case 'u':
        return ctx.localUser;
      case 'n':
        return t.alias;
      case 'k':
        return t.hostKeyAlias ?? t.alias;
      case 'j':
        return t.jump;
      case 'l':
        return local;
      case 'L':
        return local.split('.')[0]!;
      case 'i':
        if (ctx.uid === undefined) throw new SshConfigError('%i used but the local uid is not known');
        return String(ctx.uid);
      case 'C':
        return createHash('sha1').update(`${local}${t.hostName}${t.port}${t.user}${t.jump}`).digest('hex');
      default:
        throw new SshConfigError(`unknown token ${m}`);
    }
  });
}
