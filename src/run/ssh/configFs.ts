/**
 * Node file-system side of ssh_config handling: the `SshConfigReader` used to follow Include,
 * a small glob(3) (`*`, `?`, `[…]` per path segment; a leading dot is only matched explicitly;
 * results sorted), and helpers to load ~/.ssh/config (or `--ssh-config FILE`).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';

import {
  parseSshConfig,
  type ParsedSshConfig,
  type ResolveContext,
  SshConfigError,
  type SshConfigReader,
} from './sshConfig';

function errCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}

function hasMagic(segment: string): boolean {
  return /[*?[]/.test(segment);
}

/** fnmatch(3) for one path segment without FNM_PATHNAME subtleties (segments hold no '/'). */
export function segmentMatches(name: string, pattern: string): boolean {
  if (name.startsWith('.') && !pattern.startsWith('.')) return false;
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      const cls = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
      re += `[${negate ? '^' : ''}${cls}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|\\\]]/g, (m) => `\\${m}`);
  }
  re += '$';
  return new RegExp(re, 's').test(name);
}

/** Expand an absolute glob pattern against the file system; sorted; [] when nothing matches. */
export function globSync(pattern: string): string[] {
  if (!hasMagic(pattern)) {
    try {
      statSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const absolute = pattern.startsWith('/');
  const segments = pattern.split('/').filter((s, i) => s !== '' || i === 0);
  let bases: string[] = [absolute ? '/' : '.'];
  const start = absolute ? 1 : 0;
  for (let i = start; i < segments.length; i++) {
    const seg = segments[i]!;
    const next: string[] = [];
    for (const base of bases) {
      if (!hasMagic(seg)) {
        const p = join(base, seg);
        try {
          statSync(p);
          next.push(p);
        } catch {
          /* not there */
        }
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const n of names) if (segmentMatches(n, seg)) next.push(join(base, n));
    }
    bases = next;
    if (bases.length === 0) break;
  }
  return bases.sort();
}

export const nodeSshConfigReader: SshConfigReader = {
  readFile(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      if (errCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  },
  glob: globSync,
};

/** Resolve context for this process: local user, home, host name, uid, environment. */
export function localResolveContext(): ResolveContext {
  const info = userInfo();
  return {
    localUser: info.username,
    homeDir: homedir(),
    localHostName: hostname(),
    uid: info.uid,
    env: process.env,
  };
}

/**
 * Load and parse an ssh client config. Without `path`, ~/.ssh/config; a missing file is an
 * empty config (as for ssh). Unreadable files throw (callers fail closed).
 */
export function loadSshConfig(path?: string, homeDir: string = homedir()): ParsedSshConfig {
  const file = path ?? join(homeDir, '.ssh', 'config');
  const text = nodeSshConfigReader.readFile(file);
  if (text === undefined && path !== undefined) {
    // ssh -F with a missing file is an error.
    throw new SshConfigError(`ssh config file ${path} does not exist`);
  }
  return parseSshConfig(text ?? '', { fileName: file, homeDir, reader: nodeSshConfigReader });
}
