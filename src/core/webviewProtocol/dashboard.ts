// The dashboard panel's messages, each declared once: the host (src/vscode/panels/resultsControllers.ts)
// and the page (webview/dashboard.ts) both take their types and checks from here.
import { METRIC_NAMES } from '../record';
import { array, keyed, nullable, num, obj, oneOf, refine, someKeyed, str } from './guard';
import type { Infer } from './guard';
import { ipcCommand, ipcNotification, ipcRequest } from './envelope';
import { isMetricColumnView, isRecommendationView, isRunView, noParams, runIdsParams } from './results';

export const EXPORT_FORMATS = ['csv', 'md', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A metric of a config repeated over seeds: the mean, the seeds' sample standard deviation, "5.12 ± 0.08". */
const isRepeatCell = obj({ mean: num, spread: num, text: str });
export type RepeatCell = Infer<typeof isRepeatCell>;

/** One config run with two or more seeds, folded as recommend() folds it (src/core/repeats.ts). */
const isRepeatsView = obj({
  /** The first run of the config: recommendations and the Pareto front name the config by it. */
  runId: str,
  runIds: array(str),
  label: str,
  seeds: array(num),
  /** Metrics every seed measured. */
  cells: someKeyed(METRIC_NAMES, isRepeatCell),
});
export type RepeatsView = Infer<typeof isRepeatsView>;

/**
 * A group of comparable runs (same stage, model, workload, budget and device, as recommend() groups
 * them): the page shows one at a time, since a training step and an inference request are not comparable.
 */
export const isDashboardGroup = obj({
  /** recommend()'s group key; RunView.group and RecommendationView.group name it. */
  key: str,
  stage: str,
  /** Short, for the group picker: "pretrain · tiny · batch 8, seqLen 128 · 150k tokens of synthetic · 4 runs". */
  label: str,
  /** In sweep order. */
  runIds: array(str),
  /** Columns with axis units and `measured` from this group's runs alone. */
  metrics: array(isMetricColumnView),
  /** Configs repeated over seeds (empty when none was). */
  repeats: array(isRepeatsView),
});
export type DashboardGroup = Infer<typeof isDashboardGroup>;

export const isDashboardData = obj({
  title: str,
  /** ISO time the host built this payload. */
  generatedAt: str,
  metrics: array(isMetricColumnView),
  /** In sweep order (oldest first). */
  runs: array(isRunView),
  recommendations: array(isRecommendationView),
  /** Every run is in exactly one group; groups in order of their first run. */
  groups: array(isDashboardGroup),
  /** The group shown first: the one holding the newest completed run (else the newest run); null without runs. */
  defaultGroup: nullable(str),
  /** A run to show highlighted, in its group (a click on one run in the Runs view); null when none. */
  focusRunId: nullable(str),
  /** Precomputed export texts, only in the static report (there is no host to ask). */
  exports: nullable(keyed(EXPORT_FORMATS, str)),
});
export type DashboardData = Infer<typeof isDashboardData>;

/** The file a save wrote, or null when the user cancelled. */
const savedTo = obj({ savedTo: nullable(str) });

export const DASHBOARD_MESSAGES = [
  /** Open the Compare panel with these runs. */
  ipcCommand('dashboard/compare', runIdsParams),
  /** Remember the selected run (the host may reveal it in the Runs view). */
  ipcCommand('dashboard/selectRun', obj({ runId: str })),
  /** Save an export of these runs. */
  ipcRequest('dashboard/export', obj({ format: oneOf(EXPORT_FORMATS), runIds: array(str) }), savedTo),
  /** Save a chart as PNG (a data: URL from canvas.toDataURL; nothing else is written). */
  ipcRequest(
    'dashboard/savePng',
    obj({ chart: str, dataUrl: refine(str, (u) => u.startsWith('data:image/png;base64,')) }),
    savedTo,
  ),
  /** Ask for the data again (after a refresh button, or a reload). */
  ipcRequest('dashboard/refresh', noParams, isDashboardData),
  ipcNotification('dashboard/data', isDashboardData),
] as const;
