// Browser side of the EfficientLLM panels: one bundle (dist/webview/main.js) for every panel and for
// the static report; `<body data-panel="…">` (src/views/reportHtml.ts) says which page to draw.
// Inside VS Code the page says `ready` and waits for the host's data (webview/host.ts); in the static
// report the data is inlined as JSON. It never builds HTML from data.
import { isPanelKind } from '../src/core/webviewProtocol/panels';
import { chartSummaries } from './charts';
import type { ChartSummary } from './charts';
import { startCompare } from './compare';
import { startDashboard } from './dashboard';
import { showProblem } from './dom';
import { environment } from './host';
import { startLauncher } from './launcher';
import { startSidebar } from './sidebar';

declare global {
  interface Window {
    /** Read-only view of the drawn charts, for tests and the e2e check from inside a webview. */
    efficientllmCharts?: () => ChartSummary[];
  }
}

function main(): void {
  const root = document.getElementById('app');
  if (!root) return;
  Object.defineProperty(window, 'efficientllmCharts', { value: chartSummaries, writable: false, configurable: false });
  const panel = document.body.dataset.panel;
  if (!isPanelKind(panel)) {
    showProblem(root, `Unknown panel "${String(panel)}".`);
    return;
  }
  switch (panel) {
    case 'dashboard':
      return startDashboard(root, environment('dashboard'));
    case 'compare':
      return startCompare(root, environment('compare'));
    case 'sidebar':
      return startSidebar(root, environment('sidebar'));
    case 'launcher':
      return startLauncher(root, environment('launcher'));
  }
}

main();
