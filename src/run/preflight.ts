// Preflight: can a target run the harness? One probe script (shell + a few lines of Python) reports
// reachability, Python, torch, CUDA, GPUs, NVML and the cache folder; interpretProbe turns its output
// into a report with a fix for each missing piece. Shared by `efficientllm preflight` and the
// extension's "Test target" command; each caller words the SSH fixes for its own UI (fixFor).
import { spawn } from 'node:child_process';
import { defaultCacheDir } from './local';
import type { ExecResult } from './remote/host';
import { EXPAND_PY, MIN_FREE_BYTES, REMOTE_CACHE_REL } from './remote/remoteRuns';
import { SshHost, type SshHostOptions } from './remote/sshHost';
import type { HostKeyReport } from './ssh/connect';
import { SshError } from './ssh/errors';
import { TargetError } from './target';

/** One shell script gathers everything; its output is KEY=VALUE lines. Our own text; args are $1 $2. */
export const PROBE = `py=$1; cache=$2
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

export function runLocalScript(body: string, args: string[], env: NodeJS.ProcessEnv): Promise<ExecResult> {
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
export function interpretProbe(
  target: string,
  requestedPython: string,
  out: string,
  hostKeys: HostKeyReport[],
): PreflightReport {
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
    problems.push({
      what: `Python "${requestedPython}" not found on ${where}`,
      fix: 'pass --python with the path of a Python 3 that has PyTorch (e.g. --python /usr/bin/python3)',
    });
  } else if (!py.python) {
    const err = (values.get('pyerr') ?? []).slice(-3).join(' / ');
    problems.push({
      what: `Python "${pythonPath}" did not run the probe${err ? `: ${err}` : ''}`,
      fix: 'pass --python with a working Python 3 interpreter',
    });
  } else if (!py.torch) {
    problems.push({
      what: `torch cannot be imported by ${py.executable ?? pythonPath}${py.torch_error ? ` (${py.torch_error})` : ''}`,
      fix: 'install PyTorch for that Python (pip install torch; Debian: apt-get install python3-torch libopenblas0-pthread) or pass --python with one that has it',
    });
  }
  const smiGpus = (values.get('gpu') ?? []).map((l) => l.split(',').map((s) => s.trim()));
  const gpus =
    smiGpus.length > 0
      ? smiGpus.map(([name, memMiB, driver]) => ({
          name: name ?? 'unknown',
          memoryBytes: memMiB && /^\d+$/.test(memMiB) ? Number(memMiB) * 1024 * 1024 : null,
          driver: driver ?? null,
        }))
      : (py.devices ?? []).map((d) => ({ name: d.name, memoryBytes: d.memoryBytes, driver: py.nvml_driver ?? null }));
  const cudaAvailable = py.cuda_available === true;
  if (py.torch && !cudaAvailable) {
    problems.push({
      what:
        gpus.length > 0
          ? `torch ${py.torch} does not see the GPU(s) (CUDA build: ${py.cuda_build ?? 'none'})`
          : `no CUDA GPU on ${where}: runs use the CPU (fine for trying the tool, not for real numbers)`,
      fix:
        gpus.length > 0
          ? 'install a CUDA build of PyTorch that matches the driver (pip install torch --index-url https://download.pytorch.org/whl/cu121)'
          : 'profile on a machine with an NVIDIA GPU (--target ssh:HOST or slurm:CLUSTER)',
    });
  }
  if (one('nvidia_smi') === 'no' && cudaAvailable) {
    problems.push({
      what: 'nvidia-smi is not on PATH',
      fix: 'install the NVIDIA driver utilities (driver version and GPU list come from it)',
    });
  }
  const nvml = py.nvml === true;
  if (!nvml && (cudaAvailable || gpus.length > 0)) {
    problems.push({
      what: `NVML is not available (${py.nvml_error ?? 'pynvml not importable'}): no power, energy or utilisation numbers`,
      fix: `pip install nvidia-ml-py for ${py.executable ?? requestedPython}`,
    });
  }
  const cachePath = one('cache');
  const writable = one('cache_writable') === 'yes';
  const availKb = one('avail_kb');
  const freeBytes = availKb && /^\d+$/.test(availKb) ? Number(availKb) * 1024 : null;
  if (!writable)
    problems.push({
      what: `the cache folder ${cachePath ?? '?'} is not writable`,
      fix: `make it writable (chmod -R u+w ${cachePath ?? 'FOLDER'}) or set its owner to this user`,
    });
  if (freeBytes !== null && freeBytes < MIN_FREE_BYTES)
    problems.push({
      what: `only ${Math.round(freeBytes / 1048576)} MiB free in ${cachePath ?? 'the cache folder'}`,
      fix: 'free some disk space there (old run folders can be deleted)',
    });
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
    nvml: {
      available: nvml,
      detail: nvml ? (py.nvml_driver ? `driver ${py.nvml_driver}` : null) : (py.nvml_error ?? null),
    },
    cache: { path: cachePath, writable, freeBytes },
    problems,
    ready: !blocking,
  };
}

export function unreachable(target: string, python: string, what: string, fix: string): PreflightReport {
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

/** Probes this machine with `python`. */
export async function probeLocal(python: string, env: NodeJS.ProcessEnv): Promise<PreflightReport> {
  const r = await runLocalScript(PROBE, [python, defaultCacheDir(env)], env);
  return interpretProbe('local', python, r.stdout, []);
}

/**
 * Probes one SSH host; connection problems become an unreachable report whose fix comes from
 * `fixFor` (the CLI names flags, the extension names commands). Other errors are thrown.
 */
export async function probeSsh(
  alias: string,
  python: string,
  options: SshHostOptions,
  fixFor: (e: SshError) => string,
): Promise<PreflightReport> {
  const spec = `ssh:${alias}`;
  const host = new SshHost(alias, options);
  try {
    await host.connect();
    const r = await host.script(PROBE, [python, ''], { timeoutMs: 120_000 });
    return interpretProbe(spec, python, r.stdout, [...host.hostKeys]);
  } catch (e) {
    if (e instanceof SshError) return unreachable(spec, python, e.message, fixFor(e));
    if (e instanceof TargetError) return unreachable(spec, python, e.message, 'see the message');
    throw e;
  } finally {
    await host.close();
  }
}
