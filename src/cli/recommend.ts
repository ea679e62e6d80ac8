// `efficientllm recommend [--objective latency,memory,…] [--max-memory SIZE] [--max-quality-loss PCT]
// [--max-latency TIME] [--store DIR] [--json]`: per group of comparable runs, the Pareto front, the
// recommended run with a reason citing its evidence, and the study's priors, labelled as priors.
import { OBJECTIVE_SPECS } from '../core/pareto';
import type { Objective } from '../core/pareto';
import { formatPrior, PRIORS } from '../core/priors';
import type { Prior } from '../core/priors';
import {
  NO_CONSTRAINTS,
  parseByteSize,
  parseDuration,
  parseObjectives,
  parsePercent,
  recommend,
  reportToJson,
  shortIds,
} from '../core/recommend';
import type { Constraints, GroupResult, ParsedValue } from '../core/recommend';
import { cleanCell, renderCells } from '../views/table';
import type { Align } from '../views/table';
import { formatMetric } from '../core/units';
import { UsageError } from './io';
import type { Subcommand } from './io';
import { openStore, parseFlags, reportProblems, STORE_FLAG } from './runs';

const FLAGS = {
  json: { type: 'boolean' },
  objective: { type: 'string' },
  'max-memory': { type: 'string' },
  'max-quality-loss': { type: 'string' },
  'max-latency': { type: 'string' },
  ...STORE_FLAG,
} as const;

function flagValue<T>(flag: string, text: string | undefined, parse: (t: string) => ParsedValue<T>): T | null {
  if (text === undefined) return null;
  const r = parse(text);
  if (!r.ok) throw new UsageError(`recommend: --${flag} ${r.message}`);
  return r.value;
}

const PRIORS_HEADING =
  'Priors from the EfficientLLM study (arXiv 2505.13840): findings of the paper, not measurements of your runs';

function formatObjective(o: Objective, v: number): string {
  return formatMetric(OBJECTIVE_SPECS[o].metric, v);
}

function renderGroup(g: GroupResult, index: number, priorsById: ReadonlyMap<string, Prior>): string {
  const out: string[] = [];
  out.push(`Group ${index + 1}: ${cleanCell(g.key)}`);
  out.push(`Objectives: ${g.objectives.map((o) => `${o} (${OBJECTIVE_SPECS[o].direction})`).join(', ')}`);
  const allIds = [...g.points.map((p) => p.runId), ...g.excluded.map((e) => e.runId)];
  const s = shortIds(allIds);
  const short = (id: string): string => s.get(id) ?? id;
  const frontIds = new Set(g.front);
  const front = g.points.filter((p) => frontIds.has(p.runId));
  if (front.length > 0) {
    const headers = ['', 'run', 'label', ...g.objectives];
    const align: Align[] = ['left', 'left', 'left', ...g.objectives.map((): Align => 'right')];
    const rows = front.map((p) => [
      g.recommendation?.runId === p.runId ? '*' : '',
      p.runId,
      p.label,
      ...g.objectives.map((o, i) => formatObjective(o, p.values[i])),
    ]);
    out.push('Pareto front (* = recommended):');
    out.push(
      renderCells(headers, rows, align)
        .trimEnd()
        .split('\n')
        .map((l) => `  ${l}`.trimEnd())
        .join('\n'),
    );
  } else {
    out.push('Pareto front: empty (no run meets the constraints and measured every objective)');
  }
  if (g.dominated.length > 0) {
    out.push(
      `Dominated: ${g.dominated.map((d) => `${short(d.runId)} ${cleanCell(g.labels[d.runId] ?? '')} (by ${short(d.by)})`).join(', ')}`,
    );
  }
  for (const e of g.excluded)
    out.push(`Excluded: ${short(e.runId)} ${cleanCell(g.labels[e.runId] ?? '')}: ${cleanCell(e.why)}`);
  out.push(g.recommendation ? `Recommendation: ${cleanCell(g.recommendation.reason)}` : 'Recommendation: none');
  const priors = g.priors.map((id) => priorsById.get(id)).filter((p): p is Prior => p !== undefined);
  if (priors.length > 0) {
    out.push('Relevant priors (from the study, not measured here):');
    for (const p of priors) out.push(`  ${formatPrior(p)}`);
  }
  return `${out.join('\n')}\n`;
}

export const recommendCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags('recommend', argv, FLAGS, true);
  if (positionals.length > 0)
    throw new UsageError(
      `recommend: takes no arguments, got "${positionals[0]}"; use --objective, --max-memory, --max-quality-loss, --max-latency`,
    );
  const objectives = flagValue('objective', values.objective, parseObjectives);
  const constraints: Constraints = {
    ...NO_CONSTRAINTS,
    maxMemoryBytes: flagValue('max-memory', values['max-memory'], parseByteSize),
    maxQualityLossPct: flagValue('max-quality-loss', values['max-quality-loss'], parsePercent),
    maxLatencyS: flagValue('max-latency', values['max-latency'], parseDuration),
  };
  const store = openStore(io, values.store);
  const { runs, problems } = await store.list();
  reportProblems(io, problems);
  const report = recommend(runs, { objectives, constraints });
  if (values.json) {
    io.out(`${JSON.stringify(reportToJson(report), null, 2)}\n`);
    return 0;
  }
  if (report.groups.length === 0) {
    const lines = [
      `No completed runs in ${store.dir}; nothing measured yet. Run "efficientllm profile" to measure your model on your GPUs.`,
      '',
      `${PRIORS_HEADING}:`,
      ...PRIORS.map((p) => `  ${formatPrior(p)}`),
    ];
    io.out(`${lines.join('\n')}\n`);
    return 0;
  }
  const priorsById = new Map(report.priors.map((p) => [p.id, p]));
  io.out(report.groups.map((g, i) => renderGroup(g, i, priorsById)).join('\n'));
  return 0;
};
