// Finding model files under folders, and the background workspace scan built on it. Async all the
// way (readdir/stat/readFile), checking the AbortSignal between files, so the extension host stays
// responsive and a scan can be cancelled from its progress notification.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { DetectionCache, isModelFileName, type DetectFilesOptions, type DetectResult } from './detector';
import type { DetectProblem } from './site';

/** Folders that hold other people's code or build output, never the user's model. */
export const SKIP_DIRS: ReadonlySet<string> = new Set([
  'node_modules',
  '.git',
  '.hg',
  '.svn',
  '__pycache__',
  '.venv',
  'venv',
  'site-packages',
  'dist-packages',
  '.tox',
  '.nox',
  '.mypy_cache',
  '.pytest_cache',
  '.ruff_cache',
  '.ipynb_checkpoints',
  '.efficientllm',
]);

export interface FileList {
  files: string[];
  /** Folders that could not be listed, roots that do not exist. */
  problems: DetectProblem[];
}

export interface ListOptions {
  signal?: AbortSignal;
}

/** A folder is a virtual environment or conda env when it has pyvenv.cfg / conda-meta: skip it, whatever its name. */
function isEnvironment(entries: readonly Dirent[]): boolean {
  return entries.some((e) => (e.name === 'pyvenv.cfg' && e.isFile()) || (e.name === 'conda-meta' && e.isDirectory()));
}

/**
 * Python files and config.json files under `roots` (a root that is a file is listed as is), sorted.
 * No stat per file here: sizes are checked when the files are read (DetectionCache.detectFiles).
 */
export async function listModelFiles(roots: readonly string[], options: ListOptions = {}): Promise<FileList> {
  const files: string[] = [];
  const problems: DetectProblem[] = [];

  async function walk(dir: string): Promise<void> {
    options.signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      problems.push({ file: dir, message: `cannot list folder (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
      return;
    }
    if (isEnvironment(entries)) return;
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = path.join(dir, e.name);
      // Symbolic links are not followed: they loop, and point out of the workspace.
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(full);
      } else if (e.isFile() && isModelFileName(e.name)) {
        files.push(full);
      }
    }
  }

  for (const root of roots) {
    let info;
    try {
      info = await stat(root);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      problems.push({
        file: root,
        message: code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(e)})`,
      });
      continue;
    }
    if (info.isDirectory()) await walk(root);
    else files.push(root); // named explicitly: detect it whatever its name
  }
  return { files, problems };
}

export interface ScanOptions extends DetectFilesOptions {
  cache?: DetectionCache;
}

/** The background scan: every model file under `roots`, detected through the (shared) cache. */
export async function scanWorkspace(
  roots: readonly string[],
  options: ScanOptions = {},
): Promise<DetectResult & { files: number }> {
  const cache = options.cache ?? new DetectionCache();
  const listed = await listModelFiles(roots, { signal: options.signal });
  const result = await cache.detectFiles(listed.files, options);
  const label = options.label ?? ((f: string) => f);
  return {
    sites: result.sites,
    problems: [...listed.problems.map((p) => ({ file: label(p.file), message: p.message })), ...result.problems],
    skipped: result.skipped,
    files: listed.files.length,
  };
}
