// Scaling efficiency of data-parallel runs (DESIGN.md "Parallel runs"): tokens/s at N processes ÷
// (N × tokens/s of the 1-process run of the same config). The baseline must be a completed run of
// exactly the same config without `parallel`, on the same target: anything else (another batch, seed,
// machine) would make the ratio say something about that difference instead.
import type { ProfileConfig } from './config';
import type { RunRecord } from './record';

/** The config as the 1-process run of it has it: no `parallel`, label aside. */
function baselineKey(config: ProfileConfig, target: RunRecord['target']): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped on purpose: the rest is the key
  const { label, parallel, ...rest } = config;
  return JSON.stringify({ target, config: rest });
}

/** World size of a run: its ranks as the harness reported them, else as its config asked. */
export function worldSizeOf(r: RunRecord): number {
  return r.env.worldSize ?? (r.config.parallel ? r.config.parallel.nproc * r.config.parallel.nodes : 1);
}

/**
 * `records` with metrics.scalingEfficiency set on every completed data-parallel run whose
 * 1-process sibling (same config and target, completed, tokens/s measured) is among them; null on
 * the others. When several siblings exist (repeats), the most recent is the baseline. Records are
 * copied, never changed in place.
 */
export function withScalingEfficiency(records: readonly RunRecord[]): RunRecord[] {
  const baselines = new Map<string, RunRecord>();
  for (const r of records) {
    if (r.config.parallel || r.status !== 'completed' || r.metrics.tokensPerS === null) continue;
    const key = baselineKey(r.config, r.target);
    const seen = baselines.get(key);
    if (!seen || seen.createdAt < r.createdAt) baselines.set(key, r);
  }
  return records.map((r) => {
    const world = worldSizeOf(r);
    const base = world > 1 ? baselines.get(baselineKey(r.config, r.target)) : undefined;
    const own = r.metrics.tokensPerS;
    const efficiency =
      base && r.status === 'completed' && own !== null && base.metrics.tokensPerS
        ? own / (world * base.metrics.tokensPerS)
        : null;
    return efficiency === (r.metrics.scalingEfficiency ?? null)
      ? r
      : { ...r, metrics: { ...r.metrics, scalingEfficiency: efficiency } };
  });
}
