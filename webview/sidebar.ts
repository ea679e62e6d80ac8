// The sidebar view under Runs: the latest sweep's headline metrics as small bar charts and the
// current recommendation, one click from the dashboard.
import type { SidebarData } from '../src/core/webviewProtocol/sidebar';
import { isSidebarData } from '../src/core/webviewProtocol/sidebar';
import { drawChart, onThemeChange, readTheme, tickText } from './charts';
import { button } from './controls';
import { clear, el, showProblem } from './dom';
import type { Environment } from './host';

type Env = Environment<'sidebar', Record<string, never>>;

export function startSidebar(root: HTMLElement, env: Env): void {
  let current: SidebarData | null = null;
  const show = (data: SidebarData): void => {
    current = data;
    renderSidebar(root, data, env);
  };
  onThemeChange(() => {
    if (current) renderSidebar(root, current, env);
  });
  if (env.kind === 'webview') {
    env.channel.start((m) => {
      if (m.method === 'sidebar/data') show(m.params);
    });
    return;
  }
  if (isSidebarData(env.data)) show(env.data);
  else showProblem(root, 'No results data.');
}

function renderSidebar(root: HTMLElement, data: SidebarData, env: Env): void {
  clear(root);
  root.setAttribute('aria-busy', 'false');
  root.classList.add('compact');
  if (data.sweep === null || data.runs.length === 0) {
    root.appendChild(el('p', { className: 'muted', text: 'No runs yet.' }));
    return;
  }
  root.appendChild(el('p', { className: 'muted', text: data.sweep }));
  if (data.recommendation) {
    root.appendChild(
      el('div', { className: 'recommendation' }, [
        el('p', {}, [
          el('strong', { text: 'Recommended: ' }),
          el('span', { className: 'rec-label', text: data.recommendation.label }),
        ]),
        el('p', { className: 'rec-reason', text: data.recommendation.reason }),
      ]),
    );
  }
  if (env.kind === 'webview') {
    const ids = data.runs.map((r) => r.id);
    root.appendChild(
      button(
        'Open dashboard',
        () => env.channel.command({ method: 'sidebar/openDashboard', params: { runIds: ids } }),
        { name: 'open-dashboard' },
      ),
    );
  }
  const theme = readTheme();
  const recId = data.recommendation?.runId;
  for (const m of data.headline) {
    const canvas = el('canvas', { id: `mini-${m.key}`, attrs: { role: 'img', 'aria-label': `${m.label} per run` } });
    root.appendChild(el('h2', { className: 'mini-title', text: m.label }));
    root.appendChild(el('div', { className: 'chart mini' }, [canvas]));
    drawChart(`mini-${m.key}`, canvas, {
      type: 'bar',
      data: {
        labels: data.runs.map((r) => r.label),
        datasets: [
          {
            label: m.label,
            data: data.runs.map((r) =>
              r.metrics[m.key].v === null ? null : (r.metrics[m.key].v as number) / m.axis.divisor,
            ),
            backgroundColor: data.runs.map((r) => (r.id === recId ? theme.series[2] : theme.series[0])),
          },
        ],
      },
      options: {
        indexAxis: 'y',
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => data.runs[item.dataIndex].metrics[m.key].text } },
        },
        scales: {
          x: {
            beginAtZero: true,
            ticks: { color: theme.fg, maxTicksLimit: 4, callback: (v) => tickText(v) },
            title: { display: true, text: m.axis.unit, color: theme.fg },
          },
          y: { ticks: { color: theme.fg } },
        },
      },
    });
  }
  document.documentElement.dataset.rendered = 'sidebar';
}
