// Export of stored runs as CSV (RFC 4180), Markdown and JSON: one row per run with the config
// axes that tell runs apart, every metric as a raw number, and the error kind. Pure; the CLI writes.
import { METRIC_NAMES } from './record';
import type { RunMetrics, RunRecord } from './record';

export type Cell = string | number | null;

/** The columns of every export, in order. Metric columns carry raw numbers in the units of their names. */
export const EXPORT_COLUMNS: readonly string[] = [
  'id',
  'createdAt',
  'status',
  'target',
  'label',
  'stage',
  'model',
  'device',
  'attention',
  'kvHeads',
  'moe',
  'peft',
  'peftRank',
  'precision',
  'batch',
  'seqLen',
  'newTokens',
  'seed',
  'data',
  ...METRIC_NAMES,
  'errorKind',
];

/** The model as a column: the preset, or "custom" with its layers, or the Hugging Face path. */
function modelText(cfg: RunRecord['config']): string {
  const m = cfg.model;
  if (m.source === 'hf') return m.path;
  return m.preset ?? `custom L${m.shape.layers} h${m.shape.hidden}`;
}

/** "local", or "ssh:ALIAS" / "slurm:ALIAS", the way `--target` spells it. */
export function targetText(target: RunRecord['target']): string {
  return target.name === '' || target.name === target.kind ? target.kind : `${target.kind}:${target.name}`;
}

/** One run as the cells of EXPORT_COLUMNS. Missing numbers are null, never 0. */
export function exportRow(r: RunRecord): Cell[] {
  const metrics: Partial<RunMetrics> = r.metrics ?? {};
  return [
    r.id,
    r.createdAt,
    r.status,
    targetText(r.target),
    r.config.label,
    r.config.stage,
    modelText(r.config),
    r.env.device?.name ?? null,
    r.config.attention.kind,
    r.config.attention.kvHeads,
    r.config.moe
      ? `${r.config.moe.experts}x${r.config.moe.topK}${r.config.moe.shared ? `+${r.config.moe.shared}` : ''}`
      : null,
    r.config.peft?.method ?? null,
    r.config.peft && r.config.peft.rank > 0 ? r.config.peft.rank : null,
    r.config.precision,
    r.config.workload.batch,
    r.config.workload.seqLen,
    r.config.workload.newTokens,
    r.config.seed,
    r.config.trainTokens !== undefined ? (r.config.data ?? 'synthetic') : null,
    ...METRIC_NAMES.map((m) => {
      const v = metrics[m];
      return typeof v === 'number' && Number.isFinite(v) ? v : null;
    }),
    r.error?.kind ?? null,
  ];
}

// ---- CSV ----

const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * One CSV field. Text that a spreadsheet would run as a formula (leading =, +, -, @, tab or CR) gets
 * a leading apostrophe, unless it is a plain number such as "-1.5"; then RFC 4180 quoting applies
 * to fields holding a comma, a double quote, CR or LF (quotes inside are doubled).
 */
export function csvField(cell: Cell): string {
  if (cell === null) return '';
  let text = typeof cell === 'number' ? String(cell) : cell;
  if (typeof cell === 'string' && /^[=+\-@\t\r]/.test(text) && !PLAIN_NUMBER.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV: a header line, then one line per run, every line ending in CRLF. */
export function toCsv(records: readonly RunRecord[]): string {
  const lines = [EXPORT_COLUMNS, ...records.map(exportRow)].map((row) => row.map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

// ---- Markdown ----

/** A GitHub-flavoured Markdown table cell: backslashes and pipes escaped, line breaks as spaces. */
export function markdownCell(cell: Cell): string {
  if (cell === null) return '—';
  if (typeof cell === 'number') return String(cell);
  return cell
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r\n|[\r\n]/g, ' ');
}

const NUMERIC_COLUMNS = new Set<string>([
  'kvHeads',
  'peftRank',
  'batch',
  'seqLen',
  'newTokens',
  'seed',
  ...METRIC_NAMES,
]);

/** A Markdown (GFM) table, numbers right-aligned, missing values as "—". */
export function toMarkdown(records: readonly RunRecord[]): string {
  const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const rule = EXPORT_COLUMNS.map((c) => (NUMERIC_COLUMNS.has(c) ? '---:' : '---'));
  const lines = [row(EXPORT_COLUMNS), row(rule), ...records.map((r) => row(exportRow(r).map(markdownCell)))];
  return `${lines.join('\n')}\n`;
}

// ---- JSON ----

/** One run as a flat object keyed by EXPORT_COLUMNS (same cells as the CSV, numbers as numbers). */
export function exportObject(r: RunRecord): Record<string, Cell> {
  const cells = exportRow(r);
  const out: Record<string, Cell> = {};
  EXPORT_COLUMNS.forEach((c, i) => {
    out[c] = cells[i];
  });
  return out;
}

/** Pretty JSON `{"runs": [{id, createdAt, …, errorKind}, …]}` with a trailing newline. */
export function toJson(records: readonly RunRecord[]): string {
  return `${JSON.stringify({ runs: records.map(exportObject) }, null, 2)}\n`;
}
