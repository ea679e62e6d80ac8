// The Recommendations view and the "Recommend" document, from src/core/recommend.ts, without `vscode`.
// Per group of comparable runs: the recommendation line, expandable to the Pareto front; with no
// completed runs, the study's priors, labelled as priors (findings of the paper, not measurements).
import * as l10n from '@vscode/l10n';
import { OBJECTIVE_SPECS } from '../core/pareto';
import { formatPrior, PRIOR_SOURCE } from '../core/priors';
import type { RunRecord } from '../core/record';
import { NO_CONSTRAINTS, recommend, type GroupResult, type RecommendReport } from '../core/recommend';
import { formatMetric } from '../core/units';

export type RecIcon = 'star-full' | 'circle-outline' | 'graph' | 'lightbulb' | 'info';

export interface RecNode {
  readonly id: string;
  readonly label: string;
  readonly description?: string;
  readonly tooltip?: string;
  readonly icon: RecIcon;
  /** Runs the node stands for: clicking opens them in the dashboard. */
  readonly runIds: readonly string[];
  readonly children: readonly RecNode[];
}

export function recommendReport(runs: readonly RunRecord[]): RecommendReport {
  return recommend(runs, { objectives: null, constraints: NO_CONSTRAINTS });
}

function valuesText(g: GroupResult, values: readonly number[]): string {
  return g.objectives.map((o, i) => `${o} ${formatMetric(OBJECTIVE_SPECS[o].metric, values[i])}`).join(' · ');
}

function groupNode(g: GroupResult): RecNode {
  const front = new Set(g.front);
  const children: RecNode[] = g.points
    .filter((p) => front.has(p.runId))
    .map((p) => ({
      id: `${g.key}/${p.runId}`,
      label: p.label,
      description: valuesText(g, p.values),
      tooltip: l10n.t('Run {0}, on the Pareto front', p.runId),
      icon: g.recommendation?.runId === p.runId ? 'star-full' : 'circle-outline',
      runIds: [p.runId],
      children: [],
    }));
  for (const e of g.excluded) {
    children.push({
      id: `${g.key}/x/${e.runId}`,
      label: g.labels[e.runId] ?? e.runId,
      description: e.why,
      icon: 'info',
      runIds: [e.runId],
      children: [],
    });
  }
  const label = g.recommendation ? g.recommendation.label : l10n.t('no recommendation');
  return {
    id: g.key,
    label,
    description: g.key,
    tooltip: g.recommendation?.reason ?? l10n.t('No run in this group completed with every objective measured.'),
    icon: 'graph',
    runIds: g.recommendation?.evidence ?? g.front,
    children,
  };
}

/** The view's top level: one node per group, or the priors when nothing is measured yet. */
export function recommendationTree(runs: readonly RunRecord[]): RecNode[] {
  const report = recommendReport(runs);
  if (report.groups.length > 0) return report.groups.map(groupNode);
  return report.priors.map((p) => ({
    id: `prior/${p.id}`,
    label: formatPrior(p),
    description: l10n.t('prior · {0}', PRIOR_SOURCE),
    tooltip: l10n.t(
      'A finding of the EfficientLLM study, not a measurement of your runs. Profile your model to replace it with evidence.',
    ),
    icon: 'lightbulb' as const,
    runIds: [],
    children: [],
  }));
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

/** The "Recommend" command's document: the CLI's report, as Markdown. */
export function recommendationMarkdown(runs: readonly RunRecord[], storeDir: string): string {
  const report = recommendReport(runs);
  const out: string[] = [`# ${l10n.t('EfficientLLM recommendations')}`, ''];
  out.push(l10n.t('From {0} run(s) in `{1}`.', runs.length, storeDir), '');
  if (report.groups.length === 0) {
    out.push(
      l10n.t(
        'No completed runs yet: nothing is measured. Run **EfficientLLM: Profile configuration…** to measure your model on your GPUs.',
      ),
      '',
    );
  }
  const priorsById = new Map(report.priors.map((p) => [p.id, p]));
  report.groups.forEach((g, i) => {
    out.push(`## ${l10n.t('Group {0}', i + 1)}: ${mdCell(g.key)}`, '');
    out.push(
      `**${l10n.t('Recommendation')}:** ${g.recommendation ? mdCell(g.recommendation.reason) : l10n.t('none')}`,
      '',
    );
    out.push(
      `${l10n.t('Objectives')}: ${g.objectives.map((o) => `${o} (${OBJECTIVE_SPECS[o].direction})`).join(', ')}`,
      '',
    );
    const front = new Set(g.front);
    const points = g.points.filter((p) => front.has(p.runId));
    if (points.length > 0) {
      out.push(`| | ${l10n.t('run')} | ${l10n.t('technique')} | ${g.objectives.join(' | ')} |`);
      out.push(`|---|---|---|${g.objectives.map(() => '---:').join('|')}|`);
      for (const p of points) {
        const star = g.recommendation?.runId === p.runId ? '★' : '';
        out.push(
          `| ${star} | \`${p.runId}\` | ${mdCell(p.label)} | ${g.objectives.map((o, k) => formatMetric(OBJECTIVE_SPECS[o].metric, p.values[k])).join(' | ')} |`,
        );
      }
      out.push('');
    }
    if (g.dominated.length > 0) {
      out.push(
        `${l10n.t('Dominated')}: ${g.dominated.map((d) => `${mdCell(g.labels[d.runId] ?? d.runId)} (\`${d.runId}\`, ${l10n.t('by')} \`${d.by}\`)`).join(', ')}`,
        '',
      );
    }
    for (const e of g.excluded)
      out.push(`- ${l10n.t('Excluded')}: \`${e.runId}\` ${mdCell(g.labels[e.runId] ?? '')}: ${mdCell(e.why)}`);
    if (g.excluded.length > 0) out.push('');
    const priors = g.priors.map((id) => priorsById.get(id)).filter((p) => p !== undefined);
    if (priors.length > 0) {
      out.push(`*${l10n.t('Relevant priors (from the study, not measured here)')}:*`, '');
      for (const p of priors) out.push(`- ${mdCell(formatPrior(p))}`);
      out.push('');
    }
  });
  if (report.groups.length === 0) {
    out.push(`## ${l10n.t('Priors from the EfficientLLM study ({0})', PRIOR_SOURCE)}`, '');
    out.push(`*${l10n.t('Findings of the paper, not measurements of your runs.')}*`, '');
    for (const p of report.priors) out.push(`- ${mdCell(formatPrior(p))}`);
    out.push('');
  }
  return out.join('\n');
}
