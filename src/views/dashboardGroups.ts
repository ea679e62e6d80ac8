// The dashboard's groups of comparable runs and its seed repeats. A pretrain step, a fine-tuning step
// and an inference request measure different things, so the page shows one group at a time (issue 13);
// configs repeated over seeds show as mean ± spread, folded exactly as recommend() folds them, so the
// numbers on the page are the ones the recommendation weighed (issue 14). Pure.
import { tokenCount } from '../core/config';
import { groupRuns, techniqueLabels } from '../core/recommend';
import type { GroupKey } from '../core/recommend';
import { METRIC_NAMES } from '../core/record';
import type { RunRecord } from '../core/record';
import { foldRepeats } from '../core/repeats';
import { formatMetric } from '../core/units';
import type { DashboardGroup, RepeatCell, RepeatsView } from '../core/webviewProtocol/dashboard';
import type { MetricColumnView, MetricKey } from '../core/webviewProtocol/results';

/** "pretrain · tiny · batch 8, seqLen 128 · 150k tokens of synthetic · cpu · 4 runs": stage first, no newTokens for training. */
export function groupLabel(key: GroupKey, runs: readonly RunRecord[]): string {
  const w = key.workload;
  const workload = `batch ${w.batch}, seqLen ${w.seqLen}${key.stage === 'inference' ? `, newTokens ${w.newTokens}` : ''}`;
  const cfg = runs[0]?.config;
  const budget =
    cfg?.trainTokens !== undefined ? ` · ${tokenCount(cfg.trainTokens)} tokens of ${cfg.data ?? 'synthetic'}` : '';
  const n = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
  return `${key.stage} · ${key.model} · ${workload}${budget} · ${key.device} · ${n}`;
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Configs of `runs` with two or more completed seeds: the means and spreads recommend() uses. */
export function repeatsViews(runs: readonly RunRecord[]): RepeatsView[] {
  const completed = runs.filter((r) => r.status === 'completed');
  const labels = techniqueLabels(completed);
  const seedOf = new Map(completed.map((r) => [r.id, r.config.seed]));
  const out: RepeatsView[] = [];
  for (const f of foldRepeats(completed)) {
    if (f.runIds.length < 2) continue;
    const cells: Partial<Record<MetricKey, RepeatCell>> = {};
    for (const k of METRIC_NAMES) {
      const mean = f.run.metrics[k];
      const spread = f.spread[k];
      if (!finite(mean) || !finite(spread)) continue;
      cells[k] = { mean, spread, text: `${formatMetric(k, mean)} ± ${formatMetric(k, spread)}` };
    }
    out.push({
      runId: f.run.id,
      runIds: f.runIds,
      label: `${labels.get(f.run.id) ?? f.run.id} (${f.runIds.length} seeds)`,
      seeds: f.runIds.map((id) => seedOf.get(id) ?? 0),
      cells,
    });
  }
  return out;
}

/** The groups of `runs` (already in sweep order); `columns` gives a group's metric columns from its runs. */
export function dashboardGroups(
  runs: readonly RunRecord[],
  columns: (runs: readonly RunRecord[]) => MetricColumnView[],
): DashboardGroup[] {
  return groupRuns(runs).map((g) => ({
    key: g.key.key,
    stage: g.key.stage,
    label: groupLabel(g.key, g.runs),
    runIds: g.runs.map((r) => r.id),
    metrics: columns(g.runs),
    repeats: repeatsViews(g.runs),
  }));
}

/** The group to show first: the one with the newest completed run, else the newest run's; null without runs. */
export function defaultGroupKey(runs: readonly RunRecord[], groups: readonly DashboardGroup[]): string | null {
  const newestFirst = [...runs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
  const pick = newestFirst.find((r) => r.status === 'completed') ?? newestFirst[0];
  if (!pick) return null;
  return groups.find((g) => g.runIds.includes(pick.id))?.key ?? null;
}
