// `efficientllm preflight --target ssh:ALIAS|local [--python P] [--json]`: can this target run the
// harness? Reachable (and how its host key was trusted), Python and torch versions, CUDA, GPUs (name,
// memory, driver), NVML, free disk in the cache folder — each missing piece with its fix.
// Also home of the SSH flags shared with `profile` (sshCliOptions). The probe itself is src/run/preflight.ts.
import { parseArgs } from 'node:util';
import { probeLocal, probeSsh, type PreflightReport } from '../run/preflight';
import type { SshHostOptions } from '../run/remote/sshHost';
import type { SshError } from '../run/ssh/errors';
import { ttyPassphrase } from '../run/ssh/ttyPrompt';
import { parseSshTargetSpec } from '../run/sshTarget';
import { UsageError, type CliIo, type Subcommand } from './io';

/** The SSH flags of `profile` and `preflight`. */
export const SSH_CLI_OPTIONS = {
  'ssh-config': { type: 'string' },
  'known-hosts': { type: 'string' },
  'accept-new-host-key': { type: 'boolean', default: false },
} as const;

export interface SshFlagValues {
  'ssh-config'?: string;
  'known-hosts'?: string;
  'accept-new-host-key'?: boolean;
}

/**
 * Connection options from the CLI flags: --ssh-config, --known-hosts (only that file plus the trust
 * file), --accept-new-host-key (an unknown key is accepted, shown, and saved to the trust file; a
 * changed key is still refused). Passphrases are asked on the terminal without echo, never taken
 * from argv or the environment.
 */
export function sshCliOptions(values: SshFlagValues, io: CliIo, resolvePath: (p: string) => string): SshHostOptions {
  const accept = values['accept-new-host-key'] === true;
  return {
    ...(values['ssh-config'] !== undefined ? { sshConfigFile: resolvePath(values['ssh-config']) } : {}),
    ...(values['known-hosts'] !== undefined ? { knownHostsFile: resolvePath(values['known-hosts']) } : {}),
    env: io.env,
    acceptNewHostKey: async (key) => {
      if (!accept) return false;
      io.err(
        `efficientllm: accepting the new host key of ${key.alias} (${key.lookupName}): ${key.keyType} ${key.fingerprint}; saved to ${key.trustFile}\n`,
      );
      return true;
    },
    passphrase: ttyPassphrase,
    log: (line) => io.err(`efficientllm: ${line}\n`),
  };
}

const OPTIONS = {
  target: { type: 'string', default: 'local' },
  python: { type: 'string' },
  json: { type: 'boolean', default: false },
  ...SSH_CLI_OPTIONS,
} as const;

function fixFor(e: SshError): string {
  switch (e.kind) {
    case 'host-key-unknown':
      return "verify the fingerprint with the host's administrator, then run again with --accept-new-host-key";
    case 'host-key-changed':
    case 'host-key-revoked':
      return "do not connect until the host's administrator confirms the new key; then remove the old known_hosts entry";
    case 'known-hosts-unreadable':
      return 'make the known_hosts file readable, or pass --known-hosts FILE';
    case 'auth':
      return 'add your key to the agent (ssh-add) or set IdentityFile for the host in the ssh config';
    case 'config':
      return 'fix the ssh config (or pass --ssh-config FILE)';
    default:
      return 'check that the host is up and reachable (ssh ALIAS true), and the HostName/Port in the ssh config';
  }
}

function render(r: PreflightReport): string {
  const lines: string[] = [];
  const ok = (b: boolean): string => (b ? 'ok ' : '-- ');
  lines.push(`preflight ${r.target}${r.hostname ? ` (${r.hostname})` : ''}`);
  lines.push(
    `${ok(r.reachable)} reachable${r.hostKeys.map((k) => `; host key of ${k.alias} ${k.keyType} ${k.fingerprint} ${k.verdict === 'accepted' ? 'accepted now' : `trusted${k.at ? ` (${k.at.path}:${k.at.line})` : ''}`}`).join('')}`,
  );
  if (r.reachable) {
    lines.push(
      `${ok(r.python.version !== null)} python ${r.python.version ?? 'missing'}${r.python.path ? ` (${r.python.path})` : ` (${r.python.requested})`}`,
    );
    lines.push(`${ok(r.torch !== null)} torch ${r.torch ?? 'missing'}`);
    lines.push(
      `${ok(r.cuda.available)} CUDA ${r.cuda.available ? `available (build ${r.cuda.build ?? '?'})` : 'not available'}`,
    );
    lines.push(
      `${ok(r.gpus.length > 0)} GPUs: ${r.gpus.length === 0 ? 'none' : r.gpus.map((g) => `${g.name}${g.memoryBytes ? ` ${Math.round(g.memoryBytes / 2 ** 30)} GiB` : ''}${g.driver ? ` driver ${g.driver}` : ''}`).join('; ')}`,
    );
    lines.push(
      `${ok(r.nvml.available)} NVML ${r.nvml.available ? `available${r.nvml.detail ? ` (${r.nvml.detail})` : ''}` : 'not available'}`,
    );
    lines.push(
      `${ok(r.cache.writable)} cache ${r.cache.path ?? '?'}: ${r.cache.writable ? 'writable' : 'NOT writable'}${r.cache.freeBytes !== null ? `, ${(r.cache.freeBytes / 2 ** 30).toFixed(1)} GiB free` : ''}`,
    );
  }
  for (const p of r.problems) lines.push(`\n! ${p.what}\n  fix: ${p.fix}`);
  lines.push(`\n${r.ready ? 'ready to profile' : 'not ready: fix the items marked !'}`);
  return lines.join('\n') + '\n';
}

export const preflightCommand: Subcommand = async (argv, io) => {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false });
  const spec = values.target;
  let report: PreflightReport;
  if (spec === 'local') {
    const python = values.python ?? io.env.EFFICIENTLLM_PYTHON ?? 'python3';
    report = await probeLocal(python, io.env);
  } else if (spec.startsWith('ssh:')) {
    let aliases: string[];
    try {
      aliases = parseSshTargetSpec(spec);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (aliases.length !== 1)
      throw new UsageError(`preflight checks one host at a time; run it for each of ${aliases.join(', ')}`);
    const python = values.python ?? 'python3';
    report = await probeSsh(
      aliases[0]!,
      python,
      sshCliOptions(values, io, (p) => (p.startsWith('/') ? p : `${io.cwd}/${p}`)),
      fixFor,
    );
  } else if (spec.startsWith('slurm:')) {
    throw new UsageError(
      'preflight for slurm: targets checks the login node: use --target ssh:LOGIN_ALIAS (the compute nodes are checked by the job itself)',
    );
  } else {
    throw new UsageError(`--target "${spec}" is not a target; use local or ssh:ALIAS`);
  }
  io.out(values.json ? JSON.stringify(report, null, 2) + '\n' : render(report));
  return report.ready ? 0 : 1;
};
