// $BASE/env.json, which start.sh writes for each infra instance, typed for the tests and scripts
// that start one (README.md lists the values; env.sh holds the same for a shell).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface InfraEnv {
  TEST_INFRA_BASE: string;
  /** Always 127.0.0.1. */
  TEST_SSH_HOST: string;
  TEST_SSH_PORT: string;
  TEST_SSH_USER: string;
  /** The client's private key. */
  TEST_SSH_KEY: string;
  /** A known_hosts file that trusts this instance's host key. */
  TEST_SSH_KNOWN_HOSTS: string;
  TEST_SSH_HOST_KEY_PUB: string;
  /** The slurm.conf of a WITH_SLURM=1 instance; '' without Slurm. */
  SLURM_CONF: string;
}

/** The env of the instance started under `base` (after start.sh has returned). */
export function readInfraEnv(base: string): InfraEnv {
  return JSON.parse(readFileSync(join(base, 'env.json'), 'utf8')) as InfraEnv;
}
