// `efficientllm preflight --target ssh:ALIAS|local [--python P] [--json]`: can this target run the
// harness? Reachable (and how its host key was trusted), Python and torch versions, CUDA, GPUs (name,
// memory, driver), NVML, free disk in the cache folder — each missing piece with its fix.
// Also home of the SSH flags shared with `profile` (sshCliOptions).
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from '../run/local';
import type { ExecResult } from '../run/remote/host';
import { EXPAND_PY, MIN_FREE_BYTES, REMOTE_CACHE_REL } from '../run/remote/remoteRuns';
import { SshHost, type SshHostOptions } from '../run/remote/sshHost';
import type { HostKeyReport } from '../run/ssh/connect';
import { SshError } from '../run/ssh/errors';
import { ttyPassphrase } from '../run/ssh/ttyPrompt';
import { parseSshTargetSpec } from '../run/sshTarget';
import { TargetError } from '../run/target';
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
      io.err(`efficientllm: accepting the new host key of ${key.alias} (${key.lookupName}): ${key.keyType} ${key.fingerprint}; saved to ${key.trustFile}\n`);
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

/** One shell script gathers everything; its output is KEY=VALUE lines. Our own text; args are $1 $2. */
const PROBE = `py=$1; cache=$2
[ -n "$cache" ] || cache="$HOME/${REMOTE_CACHE_REL}"
${EXPAND_PY}
echo "hostname=$(hostname 2>/dev/null || uname -n)"
echo "cache=$cache"
if command -v nvidia-smi >/dev/null 2>&1; then
  echo "nvidia_smi=yes"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits 2>/dev/null | sed 's/^/gpu=/'
else
  echo "nvidia_smi=no"
fi
mkdir -p "$cache" 2>/dev/null
if [ -d "$cache" ] && [ -w "$cache" ]; then echo "cache_writable=yes"; else echo "cache_writable=no"; fi
d=$cache; while [ ! -d "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
echo "avail_kb=$(df -Pk "$d" 2>/dev/null | awk 'NR==2 {print $4}')"
if command -v "$py" >/dev/null 2>&1; then
  echo "python_path=$(command -v "$py")"
  "$py" -c '
import json, platform, sys
out = {"python": platform.python_version(), "executable": sys.executable}
try:
    import torch
    out["torch"] = torch.__version__
    out["cuda_build"] = torch.version.cuda
    out["cuda_available"] = bool(torch.cuda.is_available())
    devs = []
    if out["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            devs.append({"name": p.name, "memoryBytes": int(p.total_memory)})
    out["devices"] = devs
except Exception as e:
    out["torch_error"] = type(e).__name__ + ": " + str(e)
try:
    import pynvml
    pynvml.nvmlInit()
    out["nvml"] = True
    try:
        v = pynvml.nvmlSystemGetDriverVersion()
        out["nvml_driver"] = v.decode() if isinstance(v, bytes) else v
    except Exception:
        pass
except Exception as e:
    out["nvml"] = False
    out["nvml_error"] = type(e).__name__ + ": " + str(e)
print("pyjson=" + json.dumps(out))
' 2>&1 | sed -n '/^pyjson=/p;/^pyjson=/!s/^/pyerr=/p'
else
  echo "python_path="
fi
exit 0`;

interface PyProbe {
  python?: string;
  executable?: string;
  torch?: string;
  cuda_build?: string | null;
  cuda_available?: boolean;
  devices?: { name: string; memoryBytes: number }[];
  torch_error?: string;
  nvml?: boolean;
  nvml_driver?: string;
  nvml_error?: string;
}

export interface PreflightProblem {
  what: string;
  fix: string;
}

export interface PreflightReport {
  target: string;
  reachable: boolean;
  hostKeys: HostKeyReport[];
  hostname: string | null;
  python: { requested: string; path: string | null; version: string | null };
  torch: string | null;
  cuda: { available: boolean; build: string | null };
  gpus: { name: string; memoryBytes: number | null; driver: string | null }[];
  nvml: { available: boolean; detail: string | null };
  cache: { path: string | null; writable: boolean; freeBytes: number | null };
  problems: PreflightProblem[];
  ready: boolean;
}

function runLocalScript(body: string, args: string[], env: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', body, 'sh', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ code: null, signal: null, stdout, stderr: stderr + e.message }));
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Turns the probe's KEY=VALUE output into the report with a fix for each missing piece. */
export function interpretProbe(target: string, requestedPython: string, out: string, hostKeys: HostKeyReport[]): PreflightReport {
  const values = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const k = line.slice(0, eq);
    values.set(k, [...(values.get(k) ?? []), line.slice(eq + 1)]);
  }
  const one = (k: string): string | null => values.get(k)?.[0] ?? null;
  let py: PyProbe = {};
  const pyjson = one('pyjson');
  if (pyjson) {
    try {
      py = JSON.parse(pyjson) as PyProbe;
    } catch {
      py = {};
    }
  }
  const problems: PreflightProblem[] = [];
  const where = target === 'local' ? 'this machine' : target.slice(4);
  const pythonPath = one('python_path') || null;
  if (!pythonPath) {
    problems.push({ what: `Python "${requestedPython}" not found on ${where}`, fix: 'pass --python with the path of a Python 3 that has PyTorch (e.g. --python /usr/bin/python3)' });
  } else if (!py.python) {
    const err = (values.get('pyerr') ?? []).slice(-3).join(' / ');
    problems.push({ what: `Python "${pythonPath}" did not run the probe${err ? `: ${err}` : ''}`, fix: 'pass --python with a working Python 3 interpreter' });
  } else if (!py.torch) {
    problems.push({ what: `torch cannot be imported by ${py.executable ?? pythonPath}${py.torch_error ? ` (${py.torch_error})` : ''}`, fix: 'install PyTorch for that Python (pip install torch; Debian: apt-get install python3-torch libopenblas0-pthread) or pass --python with one that has it' });
  }
  const smiGpus = (values.get('gpu') ?? []).map((l) => l.split(',').map((s) => s.trim()));
  const gpus = smiGpus.length > 0
    ? smiGpus.map(([name, memMiB, driver]) => ({ name: name ?? 'unknown', memoryBytes: memMiB && /^\d+$/.test(memMiB) ? Number(memMiB) * 1024 * 1024 : null, driver: driver ?? null }))
    : (py.devices ?? []).map((d) => ({ name: d.name, memoryBytes: d.memoryBytes, driver: py.nvml_driver ?? null }));
  const cudaAvailable = py.cuda_available === true;
  if (py.torch && !cudaAvailable) {
    problems.push({
      what: gpus.length > 0 ? `torch ${py.torch} does not see the GPU(s) (CUDA build: ${py.cuda_build ?? 'none'})` : `no CUDA GPU on ${where}: runs use the CPU (fine for trying the tool, not for real numbers)`,
      fix: gpus.length > 0 ? 'install a CUDA build of PyTorch that matches the driver (pip install torch --index-url https://download.pytorch.org/whl/cu121)' : 'profile on a machine with an NVIDIA GPU (--target ssh:HOST or slurm:CLUSTER)',
    });
  }
  if (one('nvidia_smi') === 'no' && cudaAvailable) {
    problems.push({ what: 'nvidia-smi is not on PATH', fix: 'install the NVIDIA driver utilities (driver version and GPU list come from it)' });
  }
  const nvml = py.nvml === true;
  if (!nvml && (cudaAvailable || gpus.length > 0)) {
    problems.push({ what: `NVML is not available (${py.nvml_error ?? 'pynvml not importable'}): no power, energy or utilisation numbers`, fix: `pip install nvidia-ml-py for ${py.executable ?? requestedPython}` });
  }
  const cachePath = one('cache');
  const writable = one('cache_writable') === 'yes';
  const availKb = one('avail_kb');
  const freeBytes = availKb && /^\d+$/.test(availKb) ? Number(availKb) * 1024 : null;
  if (!writable) problems.push({ what: `the cache folder ${cachePath ?? '?'} is not writable`, fix: `make it writable (chmod -R u+w ${cachePath ?? 'FOLDER'}) or set its owner to this user` });
  if (freeBytes !== null && freeBytes < MIN_FREE_BYTES) problems.push({ what: `only ${Math.round(freeBytes / 1048576)} MiB free in ${cachePath ?? 'the cache folder'}`, fix: 'free some disk space there (old run folders can be deleted)' });
  const blocking = !pythonPath || !py.torch || !writable || (freeBytes !== null && freeBytes < MIN_FREE_BYTES);
  return {
    target,
    reachable: true,
    hostKeys,
    hostname: one('hostname'),
    python: { requested: requestedPython, path: pythonPath, version: py.python ?? null },
    torch: py.torch ?? null,
    cuda: { available: cudaAvailable, build: py.cuda_build ?? null },
    gpus,
    nvml: { available: nvml, detail: nvml ? (py.nvml_driver ? `driver ${py.nvml_driver}` : null) : (py.nvml_error ?? null) },
    cache: { path: cachePath, writable, freeBytes },
    problems,
    ready: !blocking,
  };
}

function unreachable(target: string, python: string, what: string, fix: string): PreflightReport {
  return {
    target,
    reachable: false,
    hostKeys: [],
    hostname: null,
    python: { requested: python, path: null, version: null },
    torch: null,
    cuda: { available: false, build: null },
    gpus: [],
    nvml: { available: false, detail: null },
    cache: { path: null, writable: false, freeBytes: null },
    problems: [{ what, fix }],
    ready: false,
  };
}

function fixFor(e: SshError): string {
  switch (e.kind) {
    case 'host-key-unknown':
      return 'verify the fingerprint with the host\'s administrator, then run again with --accept-new-host-key';
    case 'host-key-changed':
    case 'host-key-revoked':
      return 'do not connect until the host\'s administrator confirms the new key; then remove the old known_hosts entry';
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
  lines.push(`${ok(r.reachable)} reachable${r.hostKeys.map((k) => `; host key of ${k.alias} ${k.keyType} ${k.fingerprint} ${k.verdict === 'accepted' ? 'accepted now' : `trusted${k.at ? ` (${k.at.path}:${k.at.line})` : ''}`}`).join('')}`);
  if (r.reachable) {
    lines.push(`${ok(r.python.version !== null)} python ${r.python.version ?? 'missing'}${r.python.path ? ` (${r.python.path})` : ` (${r.python.requested})`}`);
    lines.push(`${ok(r.torch !== null)} torch ${r.torch ?? 'missing'}`);
    lines.push(`${ok(r.cuda.available)} CUDA ${r.cuda.available ? `available (build ${r.cuda.build ?? '?'})` : 'not available'}`);
    lines.push(`${ok(r.gpus.length > 0)} GPUs: ${r.gpus.length === 0 ? 'none' : r.gpus.map((g) => `${g.name}${g.memoryBytes ? ` ${Math.round(g.memoryBytes / 2 ** 30)} GiB` : ''}${g.driver ? ` driver ${g.driver}` : ''}`).join('; ')}`);
    lines.push(`${ok(r.nvml.available)} NVML ${r.nvml.available ? `available${r.nvml.detail ? ` (${r.nvml.detail})` : ''}` : 'not available'}`);
    lines.push(`${ok(r.cache.writable)} cache ${r.cache.path ?? '?'}: ${r.cache.writable ? 'writable' : 'NOT writable'}${r.cache.freeBytes !== null ? `, ${(r.cache.freeBytes / 2 ** 30).toFixed(1)} GiB free` : ''}`);
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
    const r = await runLocalScript(PROBE, [python, defaultCacheDir(io.env)], io.env);
    report = interpretProbe('local', python, r.stdout, []);
  } else if (spec.startsWith('ssh:')) {
    let aliases: string[];
    try {
      aliases = parseSshTargetSpec(spec);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (aliases.length !== 1) throw new UsageError(`preflight checks one host at a time; run it for each of ${aliases.join(', ')}`);
    const python = values.python ?? 'python3';
    const host = new SshHost(aliases[0]!, sshCliOptions(values, io, (p) => (p.startsWith('/') ? p : `${io.cwd}/${p}`)));
    try {
      await host.connect();
      const r = await host.script(PROBE, [python, ''], { timeoutMs: 120_000 });
      report = interpretProbe(spec, python, r.stdout, [...host.hostKeys]);
    } catch (e) {
      if (e instanceof SshError) report = unreachable(spec, python, e.message, fixFor(e));
      else if (e instanceof TargetError) report = unreachable(spec, python, e.message, 'see the message');
      else throw e;
    } finally {
      await host.close();
    }
  } else if (spec.startsWith('slurm:')) {
    throw new UsageError('preflight for slurm: targets checks the login node: use --target ssh:LOGIN_ALIAS (the compute nodes are checked by the job itself)');
  } else {
    throw new UsageError(`--target "${spec}" is not a target; use local or ssh:ALIAS`);
  }
  io.out(values.json ? JSON.stringify(report, null, 2) + '\n' : render(report));
  return report.ready ? 0 : 1;
};
