// `efficientllm detect [PATH…] [--json]`: attention, MoE, PEFT, quantization and model-loading sites
// in Python files and Hugging Face config.json files — exactly what the extension's CodeLens uses.
// Folders are walked (skipping node_modules, .git, virtual environments, site-packages and files over
// 2 MB); a path that cannot be read is named on stderr and the others are still detected.
import * as path from 'node:path';
import { renderTable, type Column } from '../views/table';
import { describeSite } from '../detect/describe';
import { DetectionCache } from '../detect/detector';
import { listModelFiles } from '../detect/scan';
import type { ModelSite } from '../detect/site';
import type { Subcommand } from './io';
import { parseFlags } from './runs';

/** A path for output: relative to cwd when inside it, with forward slashes on every OS. */
function shown(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  const p = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  return p.split(path.sep).join('/');
}

const COLUMNS: readonly Column<ModelSite>[] = [
  { key: 'where', header: 'where', align: 'left', maxWidth: 60, cell: (s) => `${s.file}:${s.line}` },
  { key: 'kind', header: 'kind', align: 'left', cell: (s) => s.kind },
  { key: 'attention', header: 'attention', align: 'left', cell: (s) => s.attention ?? '' },
  { key: 'name', header: 'name', align: 'left', maxWidth: 40, cell: (s) => s.name },
  { key: 'details', header: 'details', align: 'left', maxWidth: 80, cell: (s) => describeSite(s) },
];

export const detectCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags('detect', argv, { json: { type: 'boolean' } }, true);
  const roots = (positionals.length > 0 ? positionals : ['.']).map((p) => path.resolve(io.cwd, p));
  const listed = await listModelFiles(roots);
  const cache = new DetectionCache();
  const result = await cache.detectFiles(listed.files, { label: (f) => shown(f, io.cwd) });
  const problems = [...listed.problems.map((p) => ({ ...p, file: shown(p.file, io.cwd) })), ...result.problems];
  for (const p of result.skipped) io.err(`efficientllm: ${p.file}: ${p.message}\n`);
  for (const p of problems) io.err(`efficientllm: ${p.file}: ${p.message}\n`);
  if (values.json) {
    io.out(`${JSON.stringify({ sites: result.sites }, null, 2)}\n`);
  } else if (result.sites.length === 0) {
    io.out(`No model code found in ${listed.files.length} file(s).\n`);
  } else {
    io.out(`${renderTable(COLUMNS, result.sites)}\n${result.sites.length} site(s) in ${listed.files.length} file(s)\n`);
  }
  // Sites were still printed; a non-zero exit tells scripts that some input could not be read.
  return problems.length > 0 ? 1 : 0;
};
