// `efficientllm show ID [--json] [--store DIR]`: one stored run in full. ID may be a unique prefix.
import { targetText } from '../core/export';
import { METRIC_NAMES } from '../core/record';
import type { RunRecord } from '../core/record';
import { cleanCell, renderCells } from '../views/table';
import { formatBytes, formatMetric, formatTimestamp, METRIC_INFO, MISSING } from '../core/units';
import { RunLookupError, StoreFileError } from '../run/store';
import { UsageError } from './io';
import type { Subcommand } from './io';
import { openStore, parseFlags, STORE_FLAG } from './runs';

const orMissing = (v: string | null | undefined): string =>
  v === null || v === undefined || v === '' ? MISSING : cleanCell(v);

/** Keeps line breaks, neutralises every other control character (ANSI escapes in a stderr tail). */
const cleanBlock = (text: string): string =>
  text
    .split(/\r\n|\r|\n/)
    .map(cleanCell)
    .join('\n');

function configLines(r: RunRecord): string[] {
  const c = r.config;
  const lines: string[] = [];
  const model =
    c.model.source === 'synthetic'
      ? `synthetic ${c.model.preset ?? 'custom'} (${c.model.shape.layers} layers, hidden ${c.model.shape.hidden}, ` +
        `${c.model.shape.heads} heads, ${c.model.shape.kvHeads} KV heads, head dim ${c.model.shape.headDim}, ` +
        `ffn ${c.model.shape.ffn}, vocab ${c.model.shape.vocab})`
      : `hf ${cleanCell(c.model.path)}`;
  lines.push(`  stage      ${c.stage}`, `  model      ${model}`);
  const a = c.attention;
  let attention = `${a.kind}, ${a.kvHeads} KV heads`;
  if (a.mla) attention += `; MLA kvRank ${a.mla.kvRank}, qRank ${a.mla.qRank}, ropeDim ${a.mla.ropeDim}`;
  if (a.nsa) attention += `; NSA block ${a.nsa.block}, selected ${a.nsa.selected}, window ${a.nsa.window}`;
  lines.push(`  attention  ${attention}`);
  if (c.moe) lines.push(`  moe        ${c.moe.experts} experts, top-${c.moe.topK}, ${c.moe.shared} shared`);
  if (c.peft) {
    const targets = c.peft.targets.length > 0 ? `, targets ${c.peft.targets.map(cleanCell).join(',')}` : '';
    lines.push(`  peft       ${c.peft.method}, rank ${c.peft.rank}, alpha ${c.peft.alpha}${targets}`);
  }
  const w = c.workload;
  lines.push(
    `  precision  ${c.precision}`,
    `  workload   batch ${w.batch}, seqLen ${w.seqLen}, newTokens ${w.newTokens}, steps ${w.steps} (+${w.warmup} warm-up)`,
    `  sampling   every ${c.sampleMs} ms, seed ${c.seed}`,
  );
  return lines;
}

function envLines(r: RunRecord): string[] {
  const e = r.env;
  const device = e.device ? `${cleanCell(e.device.name)} (${formatBytes(e.device.memoryBytes)})` : MISSING;
  return [
    `  python     ${orMissing(e.python)}`,
    `  torch      ${orMissing(e.torch)}`,
    `  cuda       ${orMissing(e.cuda)}`,
    `  device     ${device}`,
    `  nvml       ${e.nvml ? 'yes' : 'no'}`,
    `  power      ${orMissing(e.powerScope)}`,
    `  memory     ${orMissing(e.memorySource)}`,
  ];
}

const indent = (text: string): string =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/** The human-readable report of one run. */
export function formatRunDetails(r: RunRecord): string {
  const out: string[] = [];
  out.push(`Run ${r.id}  ${r.status}  ${formatTimestamp(r.createdAt)}  on ${cleanCell(targetText(r.target))}`);
  out.push(`Label ${cleanCell(r.config.label)}`, '', 'Config', ...configLines(r), '', 'Environment', ...envLines(r));
  if (r.measurement) {
    const m = r.measurement;
    out.push('', 'Measured with');
    out.push(`  memory       ${cleanCell(m.memory)}`, `  utilisation  ${cleanCell(m.utilization)}`);
    out.push(`  power        ${cleanCell(m.power)}`, `  timing       ${cleanCell(m.timing)}`);
  }
  const rows = METRIC_NAMES.map((name) => {
    const v = r.metrics[name] ?? null;
    return [METRIC_INFO[name].label, formatMetric(name, v), v === null ? '' : String(v), METRIC_INFO[name].unit];
  });
  out.push(
    '',
    'Metrics',
    indent(renderCells(['metric', 'value', 'raw', 'raw unit'], rows, ['left', 'right', 'right', 'left'])),
  );
  if (r.protocolProblems.length > 0) {
    out.push(
      '',
      `Protocol problems (${r.protocolProblems.length})`,
      ...r.protocolProblems.map((p) => `  ${cleanCell(p)}`),
    );
  }
  if (r.error) {
    out.push('', `Error: ${r.error.kind}`, indent(cleanBlock(r.error.message)));
    const tail = r.error.stderrTail.trimEnd();
    out.push('  stderr (tail):');
    out.push(
      tail.length > 0
        ? cleanBlock(tail)
            .split('\n')
            .map((l) => `  | ${l}`)
            .join('\n')
        : '  | (empty)',
    );
  }
  return `${out.join('\n')}\n`;
}

export const showCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags('show', argv, { json: { type: 'boolean' }, ...STORE_FLAG }, true);
  if (positionals.length === 0) throw new UsageError('show: give a run id (see "efficientllm runs")');
  if (positionals.length > 1) throw new UsageError(`show: takes one run id, got ${positionals.length}`);
  const store = openStore(io, values.store);
  let record: RunRecord;
  try {
    record = await store.get(positionals[0]);
  } catch (e) {
    if (e instanceof RunLookupError || e instanceof StoreFileError) throw new UsageError(`show: ${e.message}`);
    throw e;
  }
  io.out(values.json ? `${JSON.stringify(record, null, 2)}\n` : formatRunDetails(record));
  return 0;
};
