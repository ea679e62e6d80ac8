// The compare panel's messages, each declared once: the host (src/vscode/panels/resultsControllers.ts)
// and the page (webview/compare.ts) both take their types and checks from here.
import { METRIC_NAMES } from '../record';
import { array, bool, nullable, num, obj, oneOf, recordOf, someKeyed, str } from './guard';
import type { Infer } from './guard';
import { ipcCommand, ipcNotification, ipcRequest } from './envelope';
import { isMetricColumnView, isRunView, noParams, runIdsParams } from './results';

const isDeltaVerdict = oneOf(['better', 'worse', 'same', 'neutral'] as const);
export type DeltaVerdict = Infer<typeof isDeltaVerdict>;

/** A run's metric against the baseline's: signed absolute difference (formatted) and percent. */
const isDeltaView = obj({
  absText: str,
  /** (run − baseline) ÷ |baseline| × 100; null when the baseline is 0. */
  pct: nullable(num),
  pctText: str,
  verdict: isDeltaVerdict,
});
export type DeltaView = Infer<typeof isDeltaView>;

/** One row of the "config differences" block: a field of the config and its value per run (in `runs` order). */
const isConfigDifference = obj({ field: str, values: array(str), differs: bool });
export type ConfigDifference = Infer<typeof isConfigDifference>;

export const isCompareData = obj({
  title: str,
  generatedAt: str,
  metrics: array(isMetricColumnView),
  runs: array(isRunView),
  /** Stage, model, technique, workload, budget, device…: what is the same and what differs. */
  differences: array(isConfigDifference),
  /** Why some differences are not the technique's (different stages, models, workloads, devices). */
  warnings: array(str),
  baselineId: str,
  /** deltas[baselineId][runId][metric]: null where either side did not measure it; verdict 'neutral' across groups. */
  deltas: recordOf(recordOf(someKeyed(METRIC_NAMES, nullable(isDeltaView)))),
});
export type CompareData = Infer<typeof isCompareData>;

export const COMPARE_MESSAGES = [
  ipcCommand('compare/openDashboard', runIdsParams),
  ipcRequest('compare/refresh', noParams, isCompareData),
  ipcNotification('compare/data', isCompareData),
] as const;
