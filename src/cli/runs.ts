// `efficientllm runs [--reattach] [--json] [--store DIR]`: the runs in the store, newest first;
// --reattach first follows runs left queued or running on SSH targets to their end.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { openRuns, type RunRecord } from '../core/record';
import { metricColumn, renderTable } from '../views/table';
import type { Column } from '../views/table';
import { formatTimestamp } from '../core/units';
import { RunStore } from '../run/store';
import type { StoreProblem } from '../run/store';
import { analyticFor } from '../core/analytic';
import type { SshHostOptions } from '../run/remote/sshHost';
import { hooksSavingOnce } from '../run/profile';
import { reattach } from '../run/sshTarget';
import { UsageError } from './io';
import { SSH_CLI_OPTIONS, sshCliOptions } from './preflight';
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

/**
 * Follows the stored runs that are still queued or running on SSH targets (the CLI or the editor
 * was closed mid-sweep) to their end, and stores each final record once. Returns how many ended.
 */
async function reattachRuns(
  io: CliIo,
  store: RunStore,
  runs: readonly RunRecord[],
  connect: SshHostOptions,
): Promise<number> {
  const open = openRuns(runs, 'ssh');
  const elsewhere = [...openRuns(runs, 'local'), ...openRuns(runs, 'slurm')];
  for (const r of elsewhere)
    io.err(
      `efficientllm: ${r.id} is ${r.status} on ${r.target.kind} target "${r.target.name}"; reattach covers SSH targets only so far\n`,
    );
  if (open.length === 0) return 0;
  io.err(
    `efficientllm: reattaching ${open.length} run(s) on ${[...new Set(open.map((r) => r.target.name))].join(', ')}\n`,
  );
  let ended = 0;
  await reattach(
    open,
    hooksSavingOnce(open, analyticFor, async (record) => {
      await store.save(record);
      ended += 1;
      io.err(
        `${record.status.padEnd(9)} ${record.id} ${record.config.label}${record.error ? `: ${record.error.message}` : ''}\n`,
      );
    }),
    { connect, log: (line) => io.err(`efficientllm: ${line}\n`) },
  );
  return ended;
}

export const runsCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags(
    'runs',
    argv,
    { json: { type: 'boolean' }, reattach: { type: 'boolean' }, ...SSH_CLI_OPTIONS, ...STORE_FLAG },
    true,
  );
  if (positionals.length > 0)
    throw new UsageError(`runs: takes no arguments, got "${positionals[0]}"; use "show ID" for one run`);
  const store = openStore(io, values.store);
  let { runs, problems } = await store.list();
  if (
    values.reattach &&
    (await reattachRuns(
      io,
      store,
      runs,
      sshCliOptions(values, io, (p) => path.resolve(io.cwd, p)),
    )) > 0
  ) {
    ({ runs, problems } = await store.list());
  }
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
