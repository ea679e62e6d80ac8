// One sweep of the extension, free of `vscode` (runService.ts adds the progress notification and the
// messages; test/unit/vscode-launch.test.ts runs this with a fake target): `profile()` from the run
// room, every record saved through the run model (so views and panels see it at once, and no
// watcher event re-reads the store), the runs indexed under the site they were launched from, and a
// target that cannot start turned into failed runs the user can see, rerun and read the reason of.
import * as l10n from '@vscode/l10n';
import type { ProfileConfig } from '../core/config';
import type { FitCheck } from '../core/fit';
import { emptyEnv, emptyMetrics, RUN_RECORD_SCHEMA, type RunRecord } from '../core/record';
import { profile, type ProfileOptions } from '../run/profile';
import { newRunId } from '../run/store';
import type { Target } from '../run/target';
import type { TargetSpec } from '../run/targets';
import type { RunsModel } from './runsModel';
import type { SiteRef } from './sitesIndex';

export interface SweepDeps {
  readonly runs: RunsModel;
  /** `.efficientllm/sites.json`; undefined without a folder. */
  readonly sites: { readonly file: string; add(site: SiteRef, runIds: readonly string[]): Promise<void> } | undefined;
  readonly log: { info(message: string): void; warn(message: string): void; debug(message: string): void };
  createTarget(spec: TargetSpec): Target;
  closeTarget(target: Target): Promise<void>;
  /** True for the run room's TargetError: the harness cannot start there (interpreter, torch, host). */
  isTargetError(error: unknown): boolean;
  readonly analytic: ProfileOptions['analytic'];
  newId?(): string;
  now?(): Date;
}

export interface SweepRequest {
  readonly configs: readonly ProfileConfig[];
  readonly spec: TargetSpec;
  /** Name shown for the target (a settings entry's name, or "local"). */
  readonly targetName: string;
  /** The detected site the sweep was launched from: its runs are added to the sites index there. */
  readonly site?: SiteRef;
  readonly controller: AbortController;
  /** The start failure as the caller's user reads it (the setting to fix in the editor); default its message. */
  describeFailure?(failure: StartFailure): string;
  /** Progress of the sweep ("1/3 · tiny mqa fp32 inference · measure 2/3"); `increment` in percent. */
  progress?(message: string, increment?: number): void;
  /** The preflight by estimate (fitCheck.ts): a config that cannot fit rejects with FitError before anything starts. */
  readonly fit?: FitCheck;
}

/** How many runs of a sweep ended how. */
export interface SweepTally {
  readonly runs: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

/** Why the harness could not start; `python` when the interpreter is the cause (the fix is a setting). */
export interface StartFailure {
  readonly message: string;
  readonly python: { readonly path: string; readonly problem: 'not-found' | 'no-torch' | 'broken' } | null;
}

export type SweepResult =
  | { readonly kind: 'ran'; readonly records: RunRecord[]; readonly tally: SweepTally }
  | {
      readonly kind: 'not-started';
      readonly records: RunRecord[];
      readonly tally: SweepTally;
      readonly failure: StartFailure;
    };

export function tallyOf(records: readonly RunRecord[]): SweepTally {
  const count = (s: RunRecord['status']): number => records.filter((r) => r.status === s).length;
  return {
    runs: records.length,
    completed: count('completed'),
    failed: count('failed'),
    cancelled: count('cancelled'),
  };
}

const PYTHON_PROBLEM = /^Python interpreter "([^"]+)" (could not start|was not found|has no torch|failed)/;

/**
 * The run room's start error, read for what the editor can offer: an interpreter that is missing,
 * lacks torch or fails is fixed in a setting, not with the CLI's --python.
 */
export function startFailureOf(error: unknown): StartFailure {
  const message = error instanceof Error ? error.message : String(error);
  // The run room's TargetError says which interpreter and what is wrong with it (src/run/target.ts).
  const python = (error as { python?: { path?: unknown; problem?: unknown } | null } | null)?.python;
  if (python && typeof python.path === 'string' && isProblem(python.problem))
    return { message, python: { path: python.path, problem: python.problem } };
  const m = PYTHON_PROBLEM.exec(message);
  if (!m) return { message, python: null };
  const problem = m[2] === 'has no torch' ? 'no-torch' : m[2] === 'failed' ? 'broken' : 'not-found';
  return { message, python: { path: m[1], problem } };
}

function isProblem(v: unknown): v is NonNullable<StartFailure['python']>['problem'] {
  return v === 'not-found' || v === 'no-torch' || v === 'broken';
}

/** The start failure in the editor's terms: the setting to change instead of the CLI's --python. */
export function pythonProblemText(failure: StartFailure, setting: string): string {
  const python = failure.python;
  if (!python) return failure.message;
  const detail = /\(([^)]*)\)/.exec(failure.message)?.[1];
  switch (python.problem) {
    case 'not-found':
      return l10n.t(
        'the Python interpreter "{0}" ({1}) could not start{2}. Set {1} to a Python 3 with PyTorch.',
        python.path,
        setting,
        detail ? ` (${detail})` : '',
      );
    case 'no-torch':
      return l10n.t(
        'the Python interpreter "{0}" ({1}) has no PyTorch. Install it for that Python (pip install torch), or set {1} to one that has it.',
        python.path,
        setting,
      );
    case 'broken':
      return l10n.t(
        'the Python interpreter "{0}" ({1}) failed: {2}. Set {1} to a working Python 3 with PyTorch.',
        python.path,
        setting,
        failure.message.replace(/^[^:]*:\s*/, ''),
      );
  }
}

function failedRecord(
  id: string,
  createdAt: string,
  config: ProfileConfig,
  target: RunRecord['target'],
  message: string,
): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    id,
    createdAt,
    status: 'failed',
    target,
    config,
    env: emptyEnv(),
    metrics: emptyMetrics(),
    measurement: null,
    samples: [],
    protocolProblems: [],
    error: { kind: 'harness-exit', message: `the harness did not start: ${message}`, stderrTail: '' },
  };
}

/** Runs `request.configs` on the target; every record ends in the run model and its store. */
export async function runSweep(deps: SweepDeps, request: SweepRequest): Promise<SweepResult> {
  const { runs, log } = deps;
  const { configs, targetName } = request;
  const newId = deps.newId ?? (() => newRunId(deps.now?.() ?? new Date()));
  const sweep = runs.startSweep(request.spec, request.controller);
  const ids: string[] = [];
  let indexed: Promise<void> | null = null;
  // Indexed as soon as every id is known (before the first record is saved), so a window closed
  // mid-sweep still knows where the runs came from.
  const index = (): void => {
    const { site } = request;
    const sites = deps.sites;
    if (!site || !sites || indexed !== null) return;
    indexed = sites
      .add(site, [...ids])
      .catch((error: unknown) =>
        log.warn(`could not update ${sites.file}: ${error instanceof Error ? error.message : String(error)}`),
      );
  };
  const nextId = (): string => {
    const id = newId();
    const config = configs[ids.length];
    ids.push(id);
    runs.addActive(sweep, id, config?.label ?? id, targetName);
    return id;
  };
  let done = 0;
  const step = 100 / Math.max(1, configs.length);
  let target: Target | undefined;
  try {
    target = deps.createTarget(request.spec);
    const records = await profile({
      configs: [...configs],
      target,
      store: {
        save: async (record) => {
          index();
          await runs.save(record);
        },
      },
      analytic: deps.analytic,
      newId: nextId,
      signal: request.controller.signal,
      now: deps.now,
      fit: request.fit,
      onUpdate: (run, state) => {
        runs.update(run.id, state);
        const p = state.lastProgress;
        request.progress?.(
          `${done}/${configs.length} · ${run.config.label}${p ? ` · ${p.phase} ${p.step}/${p.total}` : ''}`,
        );
      },
      onRecord: (record) => {
        done += 1;
        runs.endRun(record.id);
        request.progress?.(`${done}/${configs.length} · ${record.config.label}: ${record.status}`, step);
        log.info(
          `${record.status.padEnd(9)} ${record.id} ${record.config.label}${record.error ? `: ${record.error.kind}: ${record.error.message}` : ''}`,
        );
        if (record.error?.stderrTail.trim()) log.debug(`${record.id} stderr:\n${record.error.stderrTail.trimEnd()}`);
      },
    });
    return { kind: 'ran', records, tally: tallyOf(records) };
  } catch (error) {
    if (!deps.isTargetError(error) || ids.length > 0) throw error;
    // The harness never started (the target refused in prepare): each config is a failed run, stored
    // like any other, so the Runs view, the Launcher and "Run again" all see it.
    const failure = startFailureOf(error);
    log.warn(`profile on ${targetName}: ${failure.message}`);
    const at = (deps.now?.() ?? new Date()).toISOString();
    // The spec travels with the failed runs too, so "Run again" retries exactly this target.
    const where = { kind: request.spec.kind, name: target?.name ?? targetName, spec: request.spec };
    const text = request.describeFailure?.(failure) ?? failure.message;
    const records = configs.map(() => nextId()).map((id, i) => failedRecord(id, at, configs[i], where, text));
    for (const record of records) {
      index();
      await runs.save(record);
    }
    return { kind: 'not-started', records, tally: tallyOf(records), failure };
  } finally {
    runs.endSweep(sweep);
    if (target) await deps.closeTarget(target).catch(() => undefined);
    await indexed;
  }
}
