// Compare's "config differences" block and its warnings (issue 13): before any delta, what the runs
// have in common and where they differ. Runs of different stages, models, workloads, budgets or
// devices are not comparable (recommend.ts groups them apart), so the page warns and calls no delta
// better or worse between them. Pure.
import { tokenCount } from '../core/config';
import { targetText } from '../core/export';
import { groupKeyOf, modelKey } from '../core/recommend';
import type { RunRecord } from '../core/record';
import type { ConfigDifference } from '../core/webviewProtocol/compare';

const PEFT_NAMES: Readonly<Record<string, string>> = {
  full: 'full fine-tune',
  lora: 'LoRA',
  rslora: 'RSLoRA',
  dora: 'DoRA',
  freeze: 'freeze',
};

function attentionText(r: RunRecord): string {
  const a = r.config.attention;
  return a.kind === 'gqa' || a.kind === 'nsa' ? `${a.kind.toUpperCase()}-${a.kvHeads}` : a.kind.toUpperCase();
}

function peftText(r: RunRecord): string {
  const p = r.config.peft;
  if (p === null || r.config.stage !== 'finetune') return 'none';
  const name = PEFT_NAMES[p.method] ?? p.method;
  return p.method === 'lora' || p.method === 'rslora' || p.method === 'dora' ? `${name} rank ${p.rank}` : name;
}

function workloadText(r: RunRecord): string {
  const w = r.config.workload;
  const tokens = r.config.stage === 'inference' ? `, newTokens ${w.newTokens}` : '';
  return `batch ${w.batch}, seqLen ${w.seqLen}${tokens}`;
}

function budgetText(r: RunRecord): string {
  const c = r.config;
  return c.trainTokens === undefined
    ? 'none (speed only)'
    : `${tokenCount(c.trainTokens)} tokens of ${c.data ?? 'synthetic'}`;
}

/** The rows, in reading order; `technique` marks what a sweep varies on purpose. */
const FIELDS: readonly { field: string; technique: boolean; value: (r: RunRecord) => string }[] = [
  { field: 'Stage', technique: false, value: (r) => r.config.stage },
  { field: 'Model', technique: false, value: (r) => modelKey(r.config) },
  { field: 'Attention', technique: true, value: attentionText },
  {
    field: 'MoE',
    technique: true,
    value: (r) => (r.config.moe ? `${r.config.moe.experts} experts, top-${r.config.moe.topK}` : 'dense'),
  },
  { field: 'PEFT', technique: true, value: peftText },
  { field: 'Precision', technique: true, value: (r) => r.config.precision },
  { field: 'Workload', technique: false, value: workloadText },
  { field: 'Training budget', technique: false, value: budgetText },
  { field: 'Seed', technique: false, value: (r) => String(r.config.seed) },
  { field: 'Device', technique: false, value: (r) => r.env.device?.name ?? 'unknown device' },
  { field: 'Target', technique: false, value: (r) => targetText(r.target) },
];

/** Every field, with each run's value (in `runs` order) and whether they differ. */
export function configDifferences(runs: readonly RunRecord[]): ConfigDifference[] {
  return FIELDS.map((f) => {
    const values = runs.map(f.value);
    return { field: f.field, values, differs: new Set(values).size > 1 };
  });
}

/** What makes some deltas not the technique's: different stages first, then other non-technique fields. */
export function differenceWarnings(runs: readonly RunRecord[]): string[] {
  if (new Set(runs.map((r) => groupKeyOf(r).key)).size <= 1) return [];
  const stages = [...new Set(runs.map((r) => r.config.stage))];
  const out: string[] = [];
  if (stages.length > 1) {
    out.push(
      `These runs are of different stages (${stages.join(', ')}): a training step and an inference request measure different things, so their metrics are not comparable. No difference is called better or worse.`,
    );
  }
  const rest = FIELDS.filter(
    (f) => !f.technique && ['Model', 'Workload', 'Training budget', 'Device'].includes(f.field),
  ).filter((f) => new Set(runs.map(f.value)).size > 1);
  if (rest.length > 0) {
    out.push(
      `These runs differ in more than the technique (${rest.map((f) => f.field.toLowerCase()).join(', ')}): a difference may come from that, not from the technique${stages.length > 1 ? '' : '. No difference is called better or worse'}.`,
    );
  }
  return out;
}
