// The memory a target's runs get, for the fit check (src/core/fit.ts), found without starting the
// harness: this machine's GPU (nvidia-smi, when torch can use CUDA) or its RAM; a Slurm job's GPU
// from the catalogue when --gres names its type; an SSH host's is not known before its runs start.
import { execFile } from 'node:child_process';
import { totalmem } from 'node:os';
import type { DeviceMemory } from '../core/fit';
import { findGpuByUserName } from '../core/gpus';
import type { TargetSpec } from './targets';

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 60_000, encoding: 'utf8' }, (error, stdout) => resolve(error ? null : stdout));
  });
}

/** GPUs nvidia-smi lists: name and total memory (it reports MiB). Empty without nvidia-smi or GPUs. */
async function nvidiaGpus(env: NodeJS.ProcessEnv): Promise<{ name: string; bytes: number }[]> {
  const out = await run('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'], env);
  if (out === null) return [];
  return out
    .split('\n')
    .map((line) => line.split(',').map((x) => x.trim()))
    .filter((f) => f.length === 2 && /^\d+$/.test(f[1]))
    .map(([name, mib]) => ({ name, bytes: Number(mib) * 2 ** 20 }));
}

/**
 * This machine: with GPUs that `python`'s torch can use, the largest GPU's memory (runs land on one
 * GPU; refusing only what exceeds the largest never refuses a config that one of them could hold);
 * otherwise the harness runs on the CPU and the RAM counts. The torch question is asked only where
 * nvidia-smi lists GPUs, so a CPU machine starts no process here. Null when torch cannot be asked.
 */
export async function localDeviceMemory(python: string, env: NodeJS.ProcessEnv): Promise<DeviceMemory | null> {
  const gpus = await nvidiaGpus(env);
  if (gpus.length > 0) {
    const cuda = await run(python, ['-c', 'import torch; print(torch.cuda.is_available())'], env);
    if (cuda === null) return null;
    if (cuda.trim() === 'True') {
      const largest = gpus.reduce((a, b) => (b.bytes > a.bytes ? b : a));
      return { name: `local GPU ${largest.name}`, bytes: largest.bytes };
    }
  }
  return { name: 'local CPU', bytes: totalmem() };
}

/** `--gres gpu:h100:2` or `gpu:h100` → the catalogue's H100; null for `gpu:2` or no GPU type. */
export function gresGpuMemory(gres: string | undefined, targetName: string): DeviceMemory | null {
  const m = /^gpu:([A-Za-z][\w.-]*)(?::\d+)?$/.exec(gres?.trim() ?? '');
  const gpu = m ? findGpuByUserName(m[1]) : null;
  if (!gpu || gpu.memoryBytes === null) return null;
  return { name: `${targetName} GPU ${gpu.name} (catalogue)`, bytes: gpu.memoryBytes };
}

/** The device memory of a target spec's runs, or null when it is not known before they start. */
export async function targetDeviceMemory(spec: TargetSpec, env: NodeJS.ProcessEnv): Promise<DeviceMemory | null> {
  switch (spec.kind) {
    case 'local':
      return localDeviceMemory(spec.python, env);
    case 'slurm':
      return gresGpuMemory(spec.job?.gres, `slurm:${spec.alias}`);
    case 'ssh':
      return null;
  }
}
