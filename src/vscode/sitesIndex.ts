// `.efficientllm/sites.json`: which runs were launched from which detected site. RunRecord v1 has no
// field for it, so this small index sits beside the run store (and can be committed with it):
//   {"schema": 1, "files": {"hf/modeling_llama.py": [{"line": 43, "name": "LlamaAttention", "runIds": [...]}]}}
// Files are workspace-relative with "/" separators. Sites are matched by name first (lines move as the
// file is edited), the nearest line breaking ties; by line when the name changed. No `vscode` here.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export interface SiteRef {
  /** Workspace-relative, "/"-separated. */
  readonly file: string;
  /** 1-based, as ModelSite.line. */
  readonly line: number;
  readonly name: string;
}

export interface IndexedSite {
  line: number;
  name: string;
  /** Oldest first. */
  runIds: string[];
}

export interface SitesIndexData {
  schema: 1;
  files: Record<string, IndexedSite[]>;
}

export const SITES_INDEX_FILE = path.join('.efficientllm', 'sites.json');

export function emptySitesIndex(): SitesIndexData {
  return { schema: 1, files: {} };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the index leniently: a malformed entry is dropped, a malformed file is reported and read as empty. */
export function parseSitesIndex(text: string): { data: SitesIndexData; problem: string | null } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return {
      data: emptySitesIndex(),
      problem: `is not valid JSON (${e instanceof Error ? e.message : String(e)}); delete it to start a new index`,
    };
  }
  if (!isObject(value) || value.schema !== 1 || !isObject(value.files)) {
    return {
      data: emptySitesIndex(),
      problem: 'is not a schema-1 sites index ({"schema": 1, "files": {…}}); delete it to start a new index',
    };
  }
  const files: Record<string, IndexedSite[]> = {};
  for (const [file, entries] of Object.entries(value.files)) {
    if (!Array.isArray(entries)) continue;
    const sites: IndexedSite[] = [];
    for (const e of entries as unknown[]) {
      if (!isObject(e) || typeof e.line !== 'number' || typeof e.name !== 'string' || !Array.isArray(e.runIds))
        continue;
      sites.push({
        line: e.line,
        name: e.name,
        runIds: (e.runIds as unknown[]).filter((id): id is string => typeof id === 'string'),
      });
    }
    if (sites.length > 0) files[file] = sites;
  }
  return { data: { schema: 1, files }, problem: null };
}

/** The entry of `site` in its file's list, or -1. */
function findEntry(entries: readonly IndexedSite[], site: Pick<SiteRef, 'line' | 'name'>): number {
  let best = -1;
  let bestDistance = Infinity;
  entries.forEach((e, i) => {
    if (e.name !== site.name) return;
    const distance = Math.abs(e.line - site.line);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  if (best >= 0) return best;
  return entries.findIndex((e) => e.line === site.line);
}

/** A new index with `runIds` appended to `site`'s entry (created when absent); the input is not changed. */
export function addSiteRuns(data: SitesIndexData, site: SiteRef, runIds: readonly string[]): SitesIndexData {
  const entries = (data.files[site.file] ?? []).map((e) => ({ ...e, runIds: [...e.runIds] }));
  const i = findEntry(entries, site);
  if (i >= 0) {
    const entry = entries[i];
    entry.line = site.line;
    for (const id of runIds) if (!entry.runIds.includes(id)) entry.runIds.push(id);
  } else {
    entries.push({ line: site.line, name: site.name, runIds: [...new Set(runIds)] });
    entries.sort((a, b) => a.line - b.line);
  }
  return { schema: 1, files: { ...data.files, [site.file]: entries } };
}

/** A new index without these run ids (deleted runs); entries left with none are dropped. */
export function removeRuns(data: SitesIndexData, runIds: ReadonlySet<string>): SitesIndexData {
  const files: Record<string, IndexedSite[]> = {};
  for (const [file, entries] of Object.entries(data.files)) {
    const kept = entries
      .map((e) => ({ ...e, runIds: e.runIds.filter((id) => !runIds.has(id)) }))
      .filter((e) => e.runIds.length > 0);
    if (kept.length > 0) files[file] = kept;
  }
  return { schema: 1, files };
}

/** Run ids launched from the site (oldest first); none when it was never profiled. */
export function runIdsForSite(data: SitesIndexData, site: SiteRef): string[] {
  const entries = data.files[site.file];
  if (!entries) return [];
  const i = findEntry(entries, site);
  return i >= 0 ? entries[i].runIds : [];
}

/** The site a run was launched from (rerun adds its new runs there too), or null. */
export function siteOfRun(data: SitesIndexData, runId: string): SiteRef | null {
  for (const [file, entries] of Object.entries(data.files)) {
    for (const e of entries) if (e.runIds.includes(runId)) return { file, line: e.line, name: e.name };
  }
  return null;
}

/** Workspace-relative "/" path of `file`, or null when it lies outside the workspace. */
export function workspaceRelative(root: string, file: string): string | null {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}

/** The index key of a detected site in `site.file` (absolute, or relative to `root`); undefined outside `root`. */
export function siteRefIn(root: string, site: { file: string; line: number; name: string }): SiteRef | undefined {
  const rel = workspaceRelative(root, path.resolve(root, site.file));
  return rel === null ? undefined : { file: rel, line: site.line, name: site.name };
}

/**
 * The index file of one workspace. Reads are cached until `invalidate()` (the file watcher calls it);
 * writes are serialized and atomic (temp file + rename), so two launches never lose each other's ids.
 */
export class SitesIndexFile {
  readonly file: string;
  private cached: Promise<SitesIndexData> | null = null;
  private writing: Promise<unknown> = Promise.resolve();
  /** The last problem reading the file (shown in the log), or null. */
  problem: string | null = null;

  constructor(readonly workspaceRoot: string) {
    this.file = path.join(workspaceRoot, SITES_INDEX_FILE);
  }

  invalidate(): void {
    this.cached = null;
  }

  read(): Promise<SitesIndexData> {
    this.cached ??= this.load();
    return this.cached;
  }

  private async load(): Promise<SitesIndexData> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if (isObject(e) && e.code === 'ENOENT') return emptySitesIndex();
      this.problem = `cannot be read (${e instanceof Error ? e.message : String(e)})`;
      return emptySitesIndex();
    }
    const parsed = parseSitesIndex(text);
    this.problem = parsed.problem;
    return parsed.data;
  }

  add(site: SiteRef, runIds: readonly string[]): Promise<void> {
    return this.update((d) => addSiteRuns(d, site, runIds));
  }

  remove(runIds: ReadonlySet<string>): Promise<void> {
    return this.update((d) => removeRuns(d, runIds));
  }

  private update(change: (d: SitesIndexData) => SitesIndexData): Promise<void> {
    const next = this.writing.then(async () => {
      this.cached = null; // re-read: another window may have written since
      const data = change(await this.read());
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, 'utf8');
      await fs.rename(tmp, this.file);
      this.cached = Promise.resolve(data);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }
}
