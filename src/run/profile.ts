// The one path from resolved configs to stored RunRecords, shared by the CLI and the extension:
// plan ids, store each run as queued, let the target run them, and store each record the moment
// its run ends, so a crash of anything later loses no finished result.
import { assembleRecord, type Analytic, type RunState } from '../core/assemble';
import type { ProfileConfig } from '../core/config';
import { refuseWhatCannotFit, type FitCheck } from '../core/fit';
import type { ResultCounters } from '../core/protocol';
import { emptyEnv, emptyMetrics, RUN_RECORD_SCHEMA, type RunRecord } from '../core/record';
import { recordTargetOf, type PlannedRun, type RunOutcome, type Target, type TargetHooks } from './target';

export interface RecordSink {
  save(record: RunRecord): Promise<unknown>;
}

export interface ProfileOptions {
  configs: ProfileConfig[];
  target: Target;
  store: RecordSink;
  /** Analytic FLOPs, peak and floor for a config on the device the run reports. */
  analytic: (
    config: ProfileConfig,
    deviceName: string | null,
    deviceMemoryBytes: number | null,
    counters: ResultCounters,
  ) => Analytic;
  newId: () => string;
  signal?: AbortSignal;
  onUpdate?: (run: PlannedRun, state: RunState) => void;
  onRecord?: (record: RunRecord) => void;
  now?: () => Date;
  /** Preflight by estimate (core/fit.ts): configs that cannot fit throw FitError before anything starts. */
  fit?: FitCheck;
}

function queuedRecord(run: PlannedRun, target: Target): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    id: run.id,
    createdAt: run.createdAt,
    status: 'queued',
    target: recordTargetOf(target),
    config: run.config,
    env: emptyEnv(),
    metrics: emptyMetrics(),
    measurement: null,
    samples: [],
    protocolProblems: [],
    error: null,
  };
}

/** The final RunRecord of a run from how it ended; shared by profile and reattach. */
export function recordFromOutcome(
  run: PlannedRun,
  target: RunRecord['target'],
  outcome: RunOutcome,
  analytic: ProfileOptions['analytic'],
): RunRecord {
  return assembleRecord({
    id: run.id,
    createdAt: run.createdAt,
    target,
    config: run.config,
    state: outcome.state,
    ending: outcome.ending,
    stderrTail: outcome.stderrTail,
    analytic: (name, memory, counters) => analytic(run.config, name, memory, counters),
  });
}

/**
 * Hooks for following runs that an earlier process started (reattach): each run's final record is
 * built and passed to `save` exactly once, however often the target reports it.
 */
export function hooksSavingOnce(
  open: readonly RunRecord[],
  analytic: ProfileOptions['analytic'],
  save: (record: RunRecord) => Promise<void>,
): TargetHooks {
  const byId = new Map(open.map((r) => [r.id, r]));
  return {
    onUpdate: () => undefined,
    onRunEnd: async (outcome) => {
      const r = byId.get(outcome.id);
      if (!r) return;
      byId.delete(outcome.id);
      await save(
        recordFromOutcome({ id: r.id, createdAt: r.createdAt, config: r.config }, r.target, outcome, analytic),
      );
    },
  };
}

/** Runs every config on the target; returns the final records in the order of `configs`. */
export async function profile(options: ProfileOptions): Promise<RunRecord[]> {
  const { target, store } = options;
  const signal = options.signal ?? new AbortController().signal;
  if (options.fit) await refuseWhatCannotFit(options.configs, target.name, options.fit);
  await target.prepare();
  const now = options.now ?? (() => new Date());
  const runs: PlannedRun[] = options.configs.map((config) => ({
    id: options.newId(),
    createdAt: now().toISOString(),
    config,
  }));
  const byId = new Map(runs.map((r) => [r.id, r]));
  const finals = new Map<string, RunRecord>();
  for (const run of runs) await store.save(queuedRecord(run, target));

  await target.execute(
    runs,
    {
      onUpdate: (id, state) => {
        const run = byId.get(id);
        if (run) options.onUpdate?.(run, state);
      },
      onRunEnd: async (outcome) => {
        const run = byId.get(outcome.id);
        if (!run || finals.has(outcome.id)) return; // stored exactly once
        const record = recordFromOutcome(run, recordTargetOf(target), outcome, options.analytic);
        finals.set(run.id, record);
        await store.save(record);
        options.onRecord?.(record);
      },
    },
    signal,
  );
  return runs.map((r) => {
    const rec = finals.get(r.id);
    if (!rec) throw new Error(`target ${target.name} ended without reporting run ${r.id}`);
    return rec;
  });
}
