// The dashboard panel's messages, each declared once: the host (src/vscode/panels/resultsControllers.ts)
// and the page (webview/dashboard.ts) both take their types and checks from here.
import { array, keyed, nullable, obj, oneOf, refine, str } from './guard';
import type { Infer } from './guard';
import { ipcCommand, ipcNotification, ipcRequest } from './envelope';
import { isMetricColumnView, isRecommendationView, isRunView, noParams, runIdsParams } from './results';

export const EXPORT_FORMATS = ['csv', 'md', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const isDashboardData = obj({
  title: str,
  /** ISO time the host built this payload. */
  generatedAt: str,
  metrics: array(isMetricColumnView),
  /** In sweep order (oldest first). */
  runs: array(isRunView),
  recommendations: array(isRecommendationView),
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
