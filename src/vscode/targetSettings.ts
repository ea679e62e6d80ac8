// The `efficientllm.targets` setting: where runs can go besides this machine. Validated here, without
// `vscode`, so every problem names its field ("efficientllm.targets[1].partition") and unit tests can
// check it. No secrets ever live in settings: a field that looks like one is refused with where the
// secret goes instead (ssh-agent, or the passphrase prompt that keeps it in VS Code's SecretStorage).
import type { FieldError } from '../core/config';
import type { TargetSpec } from '../run/targets';

export type TargetSetting =
  | { readonly name: string; readonly kind: 'local'; readonly python?: string; readonly isolate?: boolean }
  | {
      readonly name: string;
      readonly kind: 'ssh';
      readonly hosts: readonly string[];
      readonly python?: string;
      readonly isolate?: boolean;
    }
  | {
      readonly name: string;
      readonly kind: 'slurm';
      /** SSH alias of the login node, or "local" when VS Code runs on it. */
      readonly host: string;
      readonly python?: string;
      readonly partition?: string;
      readonly account?: string;
      readonly gres?: string;
      readonly timeLimit?: string;
      readonly sharedDir?: string;
    };

type TargetKindName = TargetSetting['kind'];

/** The implicit target that always exists: this machine with `efficientllm.pythonPath`. */
export const LOCAL_TARGET_NAME = 'local';

const SETTING = 'efficientllm.targets';
const SECRET_KEYS = /pass(word|phrase)?|secret|token|private.?key|identity/i;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALIAS = /^[A-Za-z0-9_.@-][A-Za-z0-9_.@:-]*$/;
const SAFE_PATH = /^\/[A-Za-z0-9._+@~/-]*$/;
const SLURM_WORD = /^[A-Za-z0-9_.:,=+-]+$/;

const KEYS: Readonly<Record<TargetKindName, readonly string[]>> = {
  local: ['name', 'kind', 'python', 'isolate'],
  ssh: ['name', 'kind', 'hosts', 'python', 'isolate'],
  slurm: ['name', 'kind', 'host', 'python', 'partition', 'account', 'gres', 'timeLimit', 'sharedDir'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the whole setting. Valid entries are kept even when others are not, so one typo does not hide
 * every target; each problem names the field and what to write.
 */
export function validateTargetSettings(value: unknown): { targets: TargetSetting[]; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const targets: TargetSetting[] = [];
  if (value === undefined || value === null) return { targets, errors };
  if (!Array.isArray(value))
    return {
      targets,
      errors: [
        {
          field: SETTING,
          message: 'must be a list of targets, e.g. [{"name": "gpubox", "kind": "ssh", "hosts": ["gpubox"]}]',
        },
      ],
    };
  const names = new Set<string>([LOCAL_TARGET_NAME]);
  (value as unknown[]).forEach((entry, i) => {
    const r = validateTargetSetting(entry, `${SETTING}[${i}]`);
    errors.push(...r.errors);
    if (!r.target) return;
    if (names.has(r.target.name)) {
      errors.push({
        field: `${SETTING}[${i}].name`,
        message: `"${r.target.name}" is already used${r.target.name === LOCAL_TARGET_NAME ? " by this machine's built-in target" : ''}; give each target its own name`,
      });
      return;
    }
    names.add(r.target.name);
    targets.push(r.target);
  });
  return { targets, errors };
}

export function validateTargetSetting(
  entry: unknown,
  at = 'target',
): { target: TargetSetting | null; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (field: string, message: string): void => void errors.push({ field: `${at}.${field}`, message });
  if (!isObject(entry))
    return { target: null, errors: [{ field: at, message: 'must be an object with name and kind' }] };
  const kind = entry.kind;
  if (kind !== 'local' && kind !== 'ssh' && kind !== 'slurm') {
    err('kind', `${JSON.stringify(kind)} is not allowed; use "local", "ssh" or "slurm"`);
    return { target: null, errors };
  }
  for (const key of Object.keys(entry)) {
    if (SECRET_KEYS.test(key))
      err(
        key,
        "secrets are never kept in settings; load the key into ssh-agent, or let EfficientLLM ask for the passphrase (it can remember it in VS Code's secret storage)",
      );
    else if (!KEYS[kind].includes(key)) err(key, `is not a field of a ${kind} target; use ${KEYS[kind].join(', ')}`);
  }
  const name = entry.name;
  if (typeof name !== 'string' || !NAME.test(name))
    err('name', `${JSON.stringify(name)} is not allowed; use letters, digits, ".", "_" or "-" (up to 64)`);
  const optString = (key: string, pattern: RegExp, want: string): string | undefined => {
    const v = entry[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '' || !pattern.test(v.trim())) {
      err(key, `${JSON.stringify(v)} is not allowed; ${want}`);
      return undefined;
    }
    return v.trim();
  };
  const python = optString(
    'python',
    /^[^\s'"`$;&|<>]+$/,
    'give an interpreter path or command without spaces or shell characters, e.g. /usr/bin/python3',
  );
  const isolate = entry.isolate;
  if (isolate !== undefined && typeof isolate !== 'boolean')
    err('isolate', `${JSON.stringify(isolate)} is not allowed; use true or false`);
  const common = { name: name as string, ...(python !== undefined ? { python } : {}) };
  let target: TargetSetting | null = null;
  if (kind === 'local') {
    target = { ...common, kind, ...(typeof isolate === 'boolean' ? { isolate } : {}) };
  } else if (kind === 'ssh') {
    const hosts = entry.hosts;
    const list = typeof hosts === 'string' ? [hosts] : hosts;
    if (!Array.isArray(list) || list.length === 0 || !list.every((h) => typeof h === 'string' && ALIAS.test(h))) {
      err(
        'hosts',
        `${JSON.stringify(hosts)} is not allowed; give the Host aliases from ~/.ssh/config, e.g. ["gpubox"]`,
      );
    } else if (new Set(list).size !== list.length) {
      err('hosts', 'lists a host twice');
    } else {
      target = { ...common, kind, hosts: list as string[], ...(typeof isolate === 'boolean' ? { isolate } : {}) };
    }
  } else {
    const host = entry.host;
    if (typeof host !== 'string' || !ALIAS.test(host))
      err(
        'host',
        `${JSON.stringify(host)} is not allowed; give the login node's Host alias from ~/.ssh/config, or "local"`,
      );
    const partition = optString('partition', SLURM_WORD, 'give a partition name such as gpu');
    const account = optString('account', SLURM_WORD, 'give an account name');
    const gres = optString('gres', SLURM_WORD, 'give a GRES such as gpu:1 or gpu:h100:1');
    const timeLimit = optString('timeLimit', /^[0-9:-]+$/, 'give a Slurm time such as 30, 1:00:00 or 1-00:00:00');
    const sharedDir = optString(
      'sharedDir',
      SAFE_PATH,
      'give an absolute path of letters, digits and ._+@~/- on the shared filesystem',
    );
    if (typeof host === 'string' && ALIAS.test(host)) {
      target = {
        ...common,
        kind,
        host,
        ...(partition !== undefined ? { partition } : {}),
        ...(account !== undefined ? { account } : {}),
        ...(gres !== undefined ? { gres } : {}),
        ...(timeLimit !== undefined ? { timeLimit } : {}),
        ...(sharedDir !== undefined ? { sharedDir } : {}),
      };
    }
  }
  return { target: errors.length === 0 ? target : null, errors };
}

/** The run-room spec of a setting; `localPython` is `efficientllm.pythonPath`, remote ones default to python3. */
export function targetSpecOf(t: TargetSetting, localPython: string, isolateDefault: boolean): TargetSpec {
  switch (t.kind) {
    case 'local':
      return { kind: 'local', python: t.python ?? localPython, isolate: t.isolate ?? isolateDefault };
    case 'ssh':
      return { kind: 'ssh', hosts: [...t.hosts], python: t.python ?? 'python3', isolate: t.isolate ?? isolateDefault };
    case 'slurm':
      return {
        kind: 'slurm',
        alias: t.host,
        python: t.python ?? (t.host === 'local' ? localPython : 'python3'),
        job: {
          ...(t.partition !== undefined ? { partition: t.partition } : {}),
          ...(t.account !== undefined ? { account: t.account } : {}),
          ...(t.gres !== undefined ? { gres: t.gres } : {}),
          ...(t.timeLimit !== undefined ? { timeLimit: t.timeLimit } : {}),
        },
        ...(t.sharedDir !== undefined ? { sharedDir: t.sharedDir } : {}),
      };
  }
}

/** "ssh gpubox,gpubox2 · python3", the description in the Targets view and pickers. */
export function describeTargetSetting(t: TargetSetting, localPython: string): string {
  switch (t.kind) {
    case 'local':
      return `local · ${t.python ?? localPython}`;
    case 'ssh':
      return `ssh ${t.hosts.join(',')} · ${t.python ?? 'python3'}`;
    case 'slurm':
      return `slurm via ${t.host}${t.partition ? ` · ${t.partition}` : ''}${t.gres ? ` · ${t.gres}` : ''}`;
  }
}
