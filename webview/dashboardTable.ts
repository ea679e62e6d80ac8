// The dashboard's tables: the runs of the shown group (cost and quality columns where any run measured
// them, fine-tuning's loss before → after, the seed where a config was repeated), and the configs
// repeated over seeds as mean ± spread.
import type { DashboardData, RepeatsView } from '../src/core/webviewProtocol/dashboard';
import type { MetricKey, RunView } from '../src/core/webviewProtocol/results';
import { el } from './dom';
import type { TableColumn } from './table';

/** Metrics shown as table columns when any run of the group measured them. */
export const TABLE_METRICS: readonly MetricKey[] = [
  'latencyS',
  'ttftS',
  'tpotS',
  'tokensPerS',
  'peakMemoryBytes',
  'amuBytes',
  'kvCacheBytes',
  'mfu',
  'pcu',
  'powerW',
  'joulesPerToken',
  'valLoss',
  'perplexity',
  'dataEntropy',
  'trainTokens',
  'rooflineFraction',
  'quality',
  'mcr',
];

/** Metrics of the seeds table, where a folded config measured them. */
export const REPEAT_METRICS: readonly MetricKey[] = [
  'valLoss',
  'perplexity',
  'baseValLoss',
  'latencyS',
  'tokensPerS',
  'peakMemoryBytes',
  'joulesPerToken',
  'quality',
];

const better = (d: 'min' | 'max' | null): string =>
  d === 'min' ? 'lower is better' : d === 'max' ? 'higher is better' : '';

/** Columns of the runs table; `select` adds the Compare checkboxes (webview only). */
export function runColumns(
  data: DashboardData,
  repeated: boolean,
  select: { ids: Set<string>; save(ids: string[]): void } | null,
): TableColumn<RunView>[] {
  const cols: TableColumn<RunView>[] = [
    {
      key: 'label',
      header: 'Run',
      numeric: false,
      sortValue: (r) => r.label,
      cell: (r) =>
        el('span', {}, [
          el('span', { className: 'run-label', text: r.label }),
          r.configLabel && r.configLabel !== r.label
            ? el('span', { className: 'config-label muted', text: ` ${r.configLabel}` })
            : null,
        ]),
    },
    { key: 'status', header: 'Status', numeric: false, sortValue: (r) => r.status, cell: (r) => r.status },
  ];
  if (repeated)
    cols.push({ key: 'seed', header: 'Seed', numeric: true, sortValue: (r) => r.seed, cell: (r) => String(r.seed) });
  cols.push(
    { key: 'device', header: 'Device', numeric: false, sortValue: (r) => r.device, cell: (r) => r.device ?? '—' },
    { key: 'target', header: 'Target', numeric: false, sortValue: (r) => r.target, cell: (r) => r.target },
  );
  const measured = (key: MetricKey): boolean => data.metrics.some((c) => c.key === key && c.measured);
  for (const key of TABLE_METRICS) {
    const m = data.metrics.find((c) => c.key === key);
    if (!m || !m.measured) continue;
    const b = better(m.direction);
    cols.push({
      key,
      header: m.label,
      title: `${m.unit}${b ? `; ${b}` : ''}`,
      numeric: true,
      sortValue: (r) => r.metrics[key].v,
      cell: (r) => r.metrics[key].text,
    });
    // Fine-tuning: the base model's held-out loss and the tuned one's, side by side, after the loss.
    if (key === 'valLoss' && measured('baseValLoss')) {
      cols.push({
        key: 'lossChange',
        header: 'Held-out loss before → after',
        title: 'nats/token on the task’s held-out split, base model then tuned; sorts by the change, lower is better',
        numeric: true,
        sortValue: (r) =>
          r.metrics.valLoss.v !== null && r.metrics.baseValLoss.v !== null
            ? r.metrics.valLoss.v - r.metrics.baseValLoss.v
            : null,
        cell: (r) =>
          r.metrics.baseValLoss.v === null && r.metrics.valLoss.v === null
            ? '—'
            : `${r.metrics.baseValLoss.text} → ${r.metrics.valLoss.text}`,
      });
    }
  }
  cols.push({
    key: 'error',
    header: 'Error',
    numeric: false,
    sortValue: (r) => r.error?.kind ?? null,
    cell: (r) => (r.error ? `${r.error.kind}: ${r.error.message.split('\n')[0]}` : ''),
  });
  if (select) {
    cols.push({
      key: 'compare',
      header: 'Compare',
      numeric: false,
      sortValue: (r) => (select.ids.has(r.id) ? 0 : 1),
      cell: (r) => {
        const box = el('input', { attrs: { type: 'checkbox', 'aria-label': `Compare ${r.label}` } });
        box.checked = select.ids.has(r.id);
        box.addEventListener('change', () => {
          if (box.checked) select.ids.add(r.id);
          else select.ids.delete(r.id);
          select.save([...select.ids]);
        });
        return box;
      },
    });
  }
  return cols;
}

/** Columns of the seeds table: the config, its seeds, then mean ± spread of each metric some config measured. */
export function repeatColumns(data: DashboardData, repeats: readonly RepeatsView[]): TableColumn<RepeatsView>[] {
  const cols: TableColumn<RepeatsView>[] = [
    { key: 'label', header: 'Config', numeric: false, sortValue: (g) => g.label, cell: (g) => g.label },
    {
      key: 'seeds',
      header: 'Seeds',
      numeric: false,
      sortValue: (g) => g.seeds.length,
      cell: (g) => g.seeds.join(', '),
    },
  ];
  for (const key of REPEAT_METRICS) {
    if (!repeats.some((g) => g.cells[key] !== undefined)) continue;
    const m = data.metrics.find((c) => c.key === key);
    const b = better(m?.direction ?? null);
    cols.push({
      key,
      header: `${m?.label ?? key} (mean ± s.d.)`,
      title: `${m?.unit ?? ''}; mean over the seeds ± their sample standard deviation${b ? `; ${b}` : ''}`,
      numeric: true,
      sortValue: (g) => g.cells[key]?.mean ?? null,
      cell: (g) => g.cells[key]?.text ?? '—',
    });
  }
  return cols;
}
