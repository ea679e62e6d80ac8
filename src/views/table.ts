// A plain-text table renderer for the CLI (and anything else that prints columns): aligned
// columns, a header rule, control characters neutralised so a hostile label cannot move the cursor
// or break a row. Pure; the caller prints the string.
import type { RunMetrics, RunRecord } from '../core/record';
import { formatMetric } from '../core/units';

export type Align = 'left' | 'right';

export interface Column<T> {
  /** Stable name of the column, e.g. "peakMemoryBytes". */
  key: string;
  header: string;
  align: Align;
  /** Longer cells are cut to this many characters, ending in "…". */
  maxWidth?: number;
  cell(row: T): string;
}

const GAP = '  ';

/** Characters a terminal would act on, shown instead as a visible replacement; line breaks become spaces. */
export function cleanCell(text: string): string {
  return (
    text
      .replace(/[\r\n\t]/g, ' ')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '\uFFFD')
  );
}

/** Width in characters (code points), which is what a monospaced terminal shows for our text. */
export function textWidth(text: string): number {
  return [...text].length;
}

function truncate(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || maxWidth < 1) return text;
  const chars = [...text];
  if (chars.length <= maxWidth) return text;
  return `${chars.slice(0, maxWidth - 1).join('')}…`;
}

function pad(text: string, width: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, width - textWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Renders a grid of already formatted cells. Every line ends in "\n"; trailing spaces are trimmed. */
export function renderCells(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const head = headers.map(cleanCell);
  const body = rows.map((r) => headers.map((_, i) => cleanCell(r[i] ?? '')));
  const widths = head.map((h, i) => Math.max(textWidth(h), ...body.map((r) => textWidth(r[i]))));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => pad(c, widths[i], align[i] ?? 'left'))
      .join(GAP)
      .trimEnd();
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join(GAP), ...body.map(line)];
  return `${out.join('\n')}\n`;
}

/** Renders `rows` through `columns`: headers, a rule of dashes, then one line per row. */
export function renderTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  return renderCells(
    columns.map((c) => c.header),
    rows.map((r) => columns.map((c) => truncate(cleanCell(c.cell(r)), c.maxWidth))),
    columns.map((c) => c.align),
  );
}

/** A right-aligned column showing one metric of a RunRecord with its unit. */
export function metricColumn(name: keyof RunMetrics, header: string): Column<RunRecord> {
  return { key: name, header, align: 'right', cell: (r) => formatMetric(name, r.metrics[name] ?? null) };
}

/** Samples per second in the family's unit: images for an image model (ViT, DiT), sequences for text. */
function samplesCell(r: RunRecord): string {
  const image = r.config.model.source === 'synthetic' && r.config.model.vision !== undefined;
  return formatMetric('samplesPerS', r.metrics.samplesPerS ?? null).replace('samples/s', image ? 'images/s' : 'seq/s');
}

/** The profile table: one line per run with the headline numbers. */
export const SUMMARY_COLUMNS: readonly Column<RunRecord>[] = [
  { key: 'label', header: 'label', align: 'left', maxWidth: 40, cell: (r) => r.config.label },
  { key: 'status', header: 'status', align: 'left', cell: (r) => r.status },
  metricColumn('params', 'params'),
  metricColumn('weightBytes', 'weights'),
  metricColumn('kvCacheBytes', 'KV cache'),
  metricColumn('peakMemoryBytes', 'peak mem'),
  metricColumn('latencyS', 'latency'),
  metricColumn('ttftS', 'TTFT'),
  metricColumn('tpotS', 'TPOT'),
  metricColumn('tokensPerS', 'throughput'),
  { key: 'samplesPerS', header: 'samples', align: 'right', cell: samplesCell },
  metricColumn('powerW', 'power'),
  metricColumn('energyJ', 'energy'),
  metricColumn('mfu', 'MFU'),
  metricColumn('rooflineFraction', 'of roofline'),
];

/** The profile table for `records`, ready to print. */
export function renderSummary(
  records: readonly RunRecord[],
  columns: readonly Column<RunRecord>[] = SUMMARY_COLUMNS,
): string {
  return renderTable(columns, records);
}
