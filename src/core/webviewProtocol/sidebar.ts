// The sidebar (Results view) messages, each declared once: the host (src/vscode/panels/resultsControllers.ts)
// and the page (webview/sidebar.ts) both take their types and checks from here.
import { array, nullable, obj, str } from './guard';
import type { Infer } from './guard';
import { ipcCommand, ipcNotification } from './envelope';
import { isMetricColumnView, isRecommendationView, isRunView, runIdsParams } from './results';

export const isSidebarData = obj({
  /** Human name of the latest sweep ("inference · tiny · …"), or null when there are no runs. */
  sweep: nullable(str),
  /** A few headline metrics of the latest sweep, each a small bar chart. */
  headline: array(isMetricColumnView),
  runs: array(isRunView),
  recommendation: nullable(isRecommendationView),
});
export type SidebarData = Infer<typeof isSidebarData>;

export const SIDEBAR_MESSAGES = [
  ipcCommand('sidebar/openDashboard', runIdsParams),
  ipcNotification('sidebar/data', isSidebarData),
] as const;
