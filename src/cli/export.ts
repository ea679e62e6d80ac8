// `efficientllm export --format csv|md|json [--out FILE] [--store DIR]`: every stored run, one row each.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { toCsv, toJson, toMarkdown } from '../core/export';
import type { RunRecord } from '../core/record';
import { UsageError } from './io';
import type { Subcommand } from './io';
import { openStore, parseFlags, reportProblems, STORE_FLAG } from './runs';

export const EXPORT_FORMATS = ['csv', 'md', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const RENDER: Record<ExportFormat, (records: readonly RunRecord[]) => string> = {
  csv: toCsv,
  md: toMarkdown,
  json: toJson,
};

function asFormat(v: string | undefined): ExportFormat {
  if (v === undefined) throw new UsageError('export: give --format csv, md or json');
  const f = v === 'markdown' ? 'md' : v;
  if ((EXPORT_FORMATS as readonly string[]).includes(f)) return f as ExportFormat;
  throw new UsageError(`export: --format ${JSON.stringify(v)} is not allowed; use csv, md or json`);
}

export const exportCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags(
    'export',
    argv,
    { format: { type: 'string' }, out: { type: 'string' }, ...STORE_FLAG },
    true,
  );
  if (positionals.length > 0) throw new UsageError(`export: takes no arguments, got "${positionals[0]}"`);
  const format = asFormat(values.format);
  if (values.out !== undefined && values.out.length === 0) throw new UsageError('export: --out needs a file name');
  const store = openStore(io, values.store);
  const { runs, problems } = await store.list();
  reportProblems(io, problems);
  const text = RENDER[format](runs);
  if (values.out === undefined) {
    io.out(text);
    return 0;
  }
  const file = path.resolve(io.cwd, values.out);
  try {
    await fs.writeFile(file, text, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : String(e);
    throw new UsageError(`export: cannot write ${file} (${code})`);
  }
  io.err(`efficientllm: wrote ${runs.length} run${runs.length === 1 ? '' : 's'} to ${file}\n`);
  return 0;
};
