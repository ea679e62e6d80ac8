// The run store: `<workspace>/.efficientllm/runs/<runId>.json`, one pretty-printed RunRecord per
// file so a team can commit and diff them (DESIGN.md "RunRecord store"). Writes are atomic (unique
// temp file in the same folder, fsync, rename), so a reader sees the old file or the new one, never
// half of one. A file that cannot be read as a schema-1 record is reported, never thrown, by list().
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { emptyEnv, emptyMetrics, RUN_RECORD_SCHEMA, RUN_STATUSES } from '../core/record';
import type { RunRecord } from '../core/record';
import { isTargetSpec } from '../core/targetSpec';

/** Where the store lives inside a workspace. */
export const STORE_SUBDIR = path.join('.efficientllm', 'runs');

export function runStoreDir(workspace: string): string {
  return path.join(workspace, STORE_SUBDIR);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A new run id, `YYYYMMDD-HHMMSS-xxxx` in UTC with 4 random hex characters: ids sort by creation
 * time as plain strings, and two runs started in the same second still differ.
 */
export function newRunId(date: Date = new Date()): string {
  const d = `${date.getUTCFullYear()}${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}`;
  const t = `${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}`;
  return `${d}-${t}-${randomBytes(2).toString('hex')}`;
}

/** Ids are file names: letters, digits, '.', '_', '-', not starting with '.' (no paths, no hidden files). */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidRunId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A store file that list() skipped, and what to do about it. */
export interface StoreProblem {
  /** Absolute path of the file. */
  file: string;
  message: string;
}

export interface RunList {
  /** Newest first by createdAt (ties: id, descending). */
  runs: RunRecord[];
  problems: StoreProblem[];
}

/** get() or delete() could not find exactly one run; the message says why and lists candidates. */
export class RunLookupError extends Error {
  constructor(
    message: string,
    readonly query: string,
    readonly candidates: string[],
  ) {
    super(message);
    this.name = 'RunLookupError';
  }
}

/** A stored file exists but is not a readable schema-1 RunRecord. */
export class StoreFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'StoreFileError';
  }
}

type Parsed = { ok: true; record: RunRecord } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks the parts of a RunRecord that the store, the table and the exports rely on, and fills
 * metrics/env/samples that an older writer of schema 1 left out. Not a full validation of config.
 */
export function parseStoredRecord(text: string, expectedId: string | null): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, message: `is not valid JSON (${why}); fix it by hand or delete the file` };
  }
  if (!isObject(value))
    return { ok: false, message: 'is not a JSON object; delete the file or move it out of the store' };
  if (value.schema !== RUN_RECORD_SCHEMA) {
    const newer = typeof value.schema === 'number' && value.schema > RUN_RECORD_SCHEMA;
    const what =
      value.schema === undefined
        ? 'has no "schema" field'
        : `has schema ${JSON.stringify(value.schema)}, not ${RUN_RECORD_SCHEMA}`;
    const todo = newer
      ? 'it was written by a newer EfficientLLM Profiler; upgrade to read it'
      : 'it is not a RunRecord this version can read; move it out of the store';
    return { ok: false, message: `${what}; ${todo}` };
  }
  const bad = (field: string, want: string): Parsed => ({
    ok: false,
    message: `has a bad "${field}" (want ${want}); fix the field or delete the file`,
  });
  if (typeof value.id !== 'string' || !isValidRunId(value.id))
    return bad('id', 'a run id such as 20250101-120000-ab12');
  if (expectedId !== null && value.id !== expectedId) {
    return {
      ok: false,
      message: `holds run "${value.id}" but is named "${expectedId}.json"; rename it to "${value.id}.json"`,
    };
  }
  if (typeof value.createdAt !== 'string' || Number.isNaN(Date.parse(value.createdAt)))
    return bad('createdAt', 'an ISO timestamp');
  if (typeof value.status !== 'string' || !(RUN_STATUSES as readonly string[]).includes(value.status)) {
    return bad('status', RUN_STATUSES.join('|'));
  }
  if (!isObject(value.target) || typeof value.target.kind !== 'string' || typeof value.target.name !== 'string') {
    return bad('target', '{kind, name}');
  }
  // Records before the spec was kept have none; "Run again" then finds the target by name.
  if (value.target.spec !== undefined && !isTargetSpec(value.target.spec))
    return bad('target.spec', 'a target spec {kind: local|ssh|slurm, python, …}');
  const config = value.config;
  if (
    !isObject(config) ||
    typeof config.label !== 'string' ||
    !isObject(config.attention) ||
    !isObject(config.workload)
  ) {
    return bad('config', 'a resolved ProfileConfig');
  }
  if (value.metrics !== undefined && !isObject(value.metrics)) return bad('metrics', 'an object of numbers or null');
  if (value.error !== undefined && value.error !== null && !isObject(value.error))
    return bad('error', '{kind, message, stderrTail} or null');
  const filled = {
    measurement: null,
    samples: [],
    protocolProblems: [],
    error: null,
    ...value,
    env: { ...emptyEnv(), ...(isObject(value.env) ? value.env : {}) },
    metrics: { ...emptyMetrics(), ...(isObject(value.metrics) ? value.metrics : {}) },
  };
  return { ok: true, record: filled as unknown as RunRecord };
}

const isErrnoCode = (e: unknown, code: string): boolean => isObject(e) && e.code === code;

function newestFirst(a: RunRecord, b: RunRecord): number {
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  if (ta !== tb) return tb - ta;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

const commonPrefix = (a: string, b: string): number => {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
};

export class RunStore {
  /** The folder holding `<runId>.json` files. */
  readonly dir: string;

  /** `dir` is the runs folder itself; use `RunStore.forWorkspace` for `<workspace>/.efficientllm/runs`. */
  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  static forWorkspace(workspace: string): RunStore {
    return new RunStore(runStoreDir(workspace));
  }

  /** Path of the file of run `id` (which must be a valid id). */
  fileOf(id: string): string {
    if (!isValidRunId(id)) throw new RunLookupError(`"${id}" is not a run id (letters, digits, ".", "_", "-")`, id, []);
    return path.join(this.dir, `${id}.json`);
  }

  /** Writes `record` atomically, replacing any earlier file of the same id. Returns the file's path. */
  async save(record: RunRecord): Promise<string> {
    if (record.schema !== RUN_RECORD_SCHEMA)
      throw new Error(
        `RunRecord ${record.id} has schema ${String(record.schema)}, the store writes ${RUN_RECORD_SCHEMA}`,
      );
    const file = this.fileOf(record.id);
    await fs.mkdir(this.dir, { recursive: true });
    const text = `${JSON.stringify(record, null, 2)}\n`;
    // Unique per process and call; starts with '.' and ends in '.tmp' so list() never reads it.
    const tmp = path.join(this.dir, `.${record.id}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fs.open(tmp, 'wx', 0o644);
    try {
      try {
        await handle.writeFile(text, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    await this.syncDir();
    return file;
  }

  /** Makes the rename durable; not every platform can open a folder, so failure is ignored. */
  private async syncDir(): Promise<void> {
    try {
      const dirHandle = await fs.open(this.dir, 'r');
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch {
      // Windows and some filesystems refuse; the rename itself is still atomic.
    }
  }

  /** Ids of every `<id>.json` in the store (unsorted); an absent store has none. */
  async ids(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) return [];
      throw e;
    }
    return names
      .filter((n) => n.endsWith('.json'))
      .map((n) => n.slice(0, -'.json'.length))
      .filter(isValidRunId);
  }

  /** The id of the one run that is `query` or starts with it; otherwise a RunLookupError listing candidates. */
  async resolveId(query: string): Promise<string> {
    const q = query.trim();
    if (q.length === 0) throw new RunLookupError('give a run id (or the start of one)', query, []);
    const ids = (await this.ids()).sort().reverse();
    if (ids.includes(q)) return q;
    const matches = ids.filter((id) => id.startsWith(q));
    if (matches.length === 1) return matches[0];
    const show = (list: string[]): string =>
      list.slice(0, 5).join(', ') + (list.length > 5 ? `, … (${list.length - 5} more)` : '');
    if (matches.length > 1) {
      throw new RunLookupError(
        `"${q}" matches ${matches.length} runs: ${show(matches)}; give more of the id`,
        q,
        matches,
      );
    }
    if (ids.length === 0) throw new RunLookupError(`no run "${q}": the store ${this.dir} holds no runs`, q, []);
    const best = Math.max(...ids.map((id) => commonPrefix(id, q)));
    const close = best > 0 ? ids.filter((id) => commonPrefix(id, q) === best) : ids;
    const label = best > 0 ? 'closest' : 'newest';
    throw new RunLookupError(`no run "${q}" in ${this.dir}; ${label}: ${show(close)}`, q, close.slice(0, 5));
  }

  /** The run whose id is `idOrPrefix` or uniquely starts with it. */
  async get(idOrPrefix: string): Promise<RunRecord> {
    const id = await this.resolveId(idOrPrefix);
    const file = this.fileOf(id);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT'))
        throw new RunLookupError(`run "${id}" was deleted while being read`, idOrPrefix, []);
      throw e;
    }
    const parsed = parseStoredRecord(text, id);
    if (!parsed.ok) throw new StoreFileError(file, parsed.message);
    return parsed.record;
  }

  /** Every readable run, newest first, and a problem for each file that could not be read. */
  async list(): Promise<RunList> {
    const runs: RunRecord[] = [];
    const problems: StoreProblem[] = [];
    for (const id of await this.ids()) {
      const file = path.join(this.dir, `${id}.json`);
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (e) {
        if (isErrnoCode(e, 'ENOENT')) continue; // deleted between readdir and read
        problems.push({
          file,
          message: `cannot be read (${e instanceof Error ? e.message : String(e)}); check its permissions`,
        });
        continue;
      }
      const parsed = parseStoredRecord(text, id);
      if (parsed.ok) runs.push(parsed.record);
      else problems.push({ file, message: parsed.message });
    }
    runs.sort(newestFirst);
    problems.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    return { runs, problems };
  }

  /** Removes the file of run `id` (an exact id, not a prefix). Unknown ids are a RunLookupError. */
  async delete(id: string): Promise<void> {
    const file = this.fileOf(id);
    try {
      await fs.unlink(file);
    } catch (e) {
      if (isErrnoCode(e, 'ENOENT')) throw new RunLookupError(`no run "${id}" in ${this.dir}`, id, []);
      throw e;
    }
  }
}
