// One place that turns a target description into a Target, shared by the CLI (`--target local |
// ssh:A,B | slurm:ALIAS`) and the extension (the `efficientllm.targets` setting). Each caller keeps
// only what differs: where the description comes from and how prompts reach the person.
import { LocalHost } from './remote/localHost';
import { SshHost, type SshHostOptions } from './remote/sshHost';
import { LocalTarget } from './local';
import { SlurmTarget, targetErrorOf, type SlurmStatusEvent } from './slurmTarget';
import { parseSshTargetSpec, SshTarget } from './sshTarget';
import { TargetError, type Target } from './target';
import { SlurmOptionError } from './slurm/sbatch';
import type { TargetSpec } from '../core/targetSpec';

/** Where and how runs execute (core/targetSpec.ts, since a RunRecord keeps it for "Run again"). */
export type { TargetSpec };

export interface TargetDeps {
  env: NodeJS.ProcessEnv;
  /** How SSH connections are made (config files, host-key and passphrase prompts, log). */
  ssh?: SshHostOptions;
  onSlurmStatus?: (event: SlurmStatusEvent) => void;
}

/** The `--target` text of a spec: local, ssh:A,B or slurm:ALIAS (also the RunRecord target name's source). */
export function targetSpecText(spec: TargetSpec): string {
  switch (spec.kind) {
    case 'local':
      return 'local';
    case 'ssh':
      return `ssh:${spec.hosts.join(',')}`;
    case 'slurm':
      return `slurm:${spec.alias}`;
  }
}

/**
 * Parses `local`, `ssh:A[,B…]` or `slurm:ALIAS` into a spec with `python` and `isolate`; Slurm job
 * options are added by the caller. Throws TargetError naming the text and the accepted forms.
 */
export function parseTargetText(text: string, python: string, isolate = false): TargetSpec {
  if (text === 'local') return { kind: 'local', python, isolate };
  if (text.startsWith('ssh:')) return { kind: 'ssh', hosts: parseSshTargetSpec(text), python, isolate };
  if (text.startsWith('slurm:')) {
    const alias = text.slice('slurm:'.length).trim();
    if (alias === '')
      throw new TargetError(
        '--target slurm:ALIAS needs the SSH alias of the login node (or slurm:local for this machine)',
      );
    return { kind: 'slurm', alias, python };
  }
  throw new TargetError(`--target "${text}" is not a target; use local, ssh:ALIAS or slurm:ALIAS`);
}

/** Builds the Target; bad options (Slurm job fields, host aliases) are a TargetError with the reason. */
export function createTarget(spec: TargetSpec, deps: TargetDeps): Target {
  switch (spec.kind) {
    case 'local':
      return new LocalTarget({
        python: spec.python,
        isolate: spec.isolate ?? false,
        cacheDir: spec.cacheDir ?? deps.env.EFFICIENTLLM_CACHE,
        spec,
      });
    case 'ssh':
      return new SshTarget({
        hosts: spec.hosts,
        python: spec.python,
        isolate: spec.isolate ?? false,
        connect: deps.ssh ?? {},
        log: deps.ssh?.log,
        spec,
      });
    case 'slurm': {
      // `slurm:local` is a login node that is this machine; any other alias is the login node over SSH.
      const host =
        spec.alias === 'local'
          ? new LocalHost({ name: 'local', env: deps.env })
          : new SshHost(spec.alias, deps.ssh ?? {});
      try {
        return new SlurmTarget({
          host,
          python: spec.python,
          sharedDir: spec.sharedDir ?? deps.env.EFFICIENTLLM_SLURM_SHARED_DIR,
          job: spec.job ?? {},
          onStatus: deps.onSlurmStatus,
          ownsHost: true,
          spec,
        });
      } catch (e) {
        if (e instanceof SlurmOptionError) throw targetErrorOf(e);
        throw e;
      }
    }
  }
}

/** Closes what a target holds open (SSH connections); a no-op for the others. */
export async function closeTarget(target: Target): Promise<void> {
  if (target instanceof SshTarget) await target.close();
}
