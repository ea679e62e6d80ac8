// `efficientllm runs [--json] [--store DIR]`: the runs in the store, newest first.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import type { RunRecord } from '../core/record';
import { metricColumn, renderTable } from '../core/table';
import type { Column } from '../core/table';
import { formatTimestamp } from '../core/units';
import { RunStore } from '../run/store';
import type { StoreProblem } from '../run/store';
import { UsageError } from './io';
import type { CliIo, Subcommand } from './io';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict: true, its errors turned into a one-line UsageError naming the subcommand. */
export function parseFlags<O extends Options>(command: string, argv: string[], options: O, allowPositionals: boolean) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new UsageError(`${command}: ${message}`);
  }
}

/** `--store DIR` (the folder of `<id>.json` files, relative to io.cwd), else `<io.cwd>/.efficientllm/runs`. */
export function openStore(io: CliIo, storeFlag: string | undefined): RunStore {
  if (storeFlag !== undefined) {
    if (storeFlag.length === 0) throw new UsageError('--store needs a folder');
    return new RunStore(path.resolve(io.cwd, storeFlag));
  }
  return RunStore.forWorkspace(io.cwd);
}

/** One stderr line per unreadable store file; never fatal. */
export function reportProblems(io: CliIo, problems: readonly StoreProblem[]): void {
  for (const p of problems) io.err(`efficientllm: skipped ${p.file}: ${p.message}\n`);
}

export const STORE_FLAG = { store: { type: 'string' } } as const;

export const RUNS_COLUMNS: readonly Column<RunRecord>[] = [
  { key: 'id', header: 'id', align: 'left', cell: (r) => r.id },
  { key: 'createdAt', header: 'created', align: 'left', cell: (r) => formatTimestamp(r.createdAt) },
  { key: 'status', header: 'status', align: 'left', cell: (r) => r.status },
  { key: 'label', header: 'label', align: 'left', maxWidth: 40, cell: (r) => r.config.label },
  metricColumn('latencyS', 'latency'),
  metricColumn('tokensPerS', 'throughput'),
  metricColumn('peakMemoryBytes', 'peak mem'),
  metricColumn('powerW', 'power'),
  metricColumn('energyJ', 'energy'),
];

export const runsCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags('runs', argv, { json: { type: 'boolean' }, ...STORE_FLAG }, true);
  if (positionals.length > 0) throw new UsageError(`runs: takes no arguments, got "${positionals[0]}"; use "show ID" for one run`);
  const store = openStore(io, values.store);
  const { runs, problems } = await store.list();
  reportProblems(io, problems);
  if (values.json) {
    io.out(`${JSON.stringify({ runs }, null, 2)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    io.out(`No runs in ${store.dir}. Run "efficientllm profile" to make some.\n`);
    return 0;
  }
  io.out(renderTable(RUNS_COLUMNS, runs));
  return 0;
};
