// Recommendations from the user's own completed runs. Pure; no I/O.
//
// 1. Group: only comparable runs are compared — same stage, same model (preset or shape, or HF path;
//    an MoE preset counts as its dense base, since MoE is the technique being compared), same
//    workload (batch, seqLen, newTokens) and same device.
// 2. Constrain: runs over the memory budget, the latency cap or the allowed quality loss are excluded,
//    each with the reason.
// 3. Pareto: the front over the chosen objectives (src/core/pareto.ts).
// 4. Choose: the front point nearest the ideal point (the best value of each objective on the front),
//    each objective's gap measured relative to that best value, so "10% slower" weighs the same as
//    "10% more memory"; ties go to the lower memory, then to the lower run id.
// 5. Explain: one line comparing the choice with the best alternative on each objective, with
//    percentages from the cited runs' metrics and "equal" within 5%.
import { MOE_PRESETS, presetShape, tokenCount } from './config';
import type { ModelShape } from './config';
import { OBJECTIVE_SPECS, OBJECTIVES, objectiveValue, paretoFront } from './pareto';
import type { Objective } from './pareto';
import { PRIORS, relevantPriors } from './priors';
import type { Prior } from './priors';
import type { RunMetrics, RunRecord } from './record';
import { foldRepeats, type Repeats } from './repeats';
import { formatBytes, formatSeconds, sig3 } from './units';

// ---- input parsing (the CLI and the extension's settings share these) ----

export type ParsedValue<T> = { ok: true; value: T } | { ok: false; message: string };

const BYTE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};
export const BYTE_UNIT_NAMES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'KB', 'MB', 'GB', 'TB'] as const;

/** "40GiB", "1.5 GB", "512MiB", "4096B" → bytes. A unit is required, so "40" is not silently 40 bytes. */
export function parseByteSize(text: string): ParsedValue<number> {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)\s*$/.exec(text);
  const units = BYTE_UNIT_NAMES.join(', ');
  if (!m) return { ok: false, message: `"${text}" is not a size; use a number and a unit (${units}), e.g. 40GiB` };
  if (m[2] === '') return { ok: false, message: `"${text}" needs a unit (${units}), e.g. ${m[1]}GiB` };
  const scale = BYTE_UNITS[m[2].toLowerCase()];
  if (scale === undefined) return { ok: false, message: `"${m[2]}" in "${text}" is not a unit; use one of ${units}` };
  const bytes = Number(m[1]) * scale;
  if (!(bytes > 0)) return { ok: false, message: `"${text}" must be more than 0 bytes` };
  return { ok: true, value: bytes };
}

/** "3", "3%", "2.5" → 3, 3, 2.5 (percent, 0 to 100). */
export function parsePercent(text: string): ParsedValue<number> {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%?\s*$/.exec(text);
  const v = m ? Number(m[1]) : NaN;
  if (!m || !(v >= 0 && v <= 100))
    return { ok: false, message: `"${text}" is not a percentage; use a number from 0 to 100, e.g. 3 or 3%` };
  return { ok: true, value: v };
}

const SECOND_UNITS: Readonly<Record<string, number>> = { '': 1, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6 };

/** "0.5", "0.5s", "200ms", "150us" → seconds. */
export function parseDuration(text: string): ParsedValue<number> {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(s|ms|us|µs)?\s*$/i.exec(text);
  const v = m ? Number(m[1]) * SECOND_UNITS[(m[2] ?? '').toLowerCase()] : NaN;
  if (!m || !(v > 0))
    return { ok: false, message: `"${text}" is not a duration; use seconds or a unit (s, ms, us), e.g. 0.5s or 200ms` };
  return { ok: true, value: v };
}

/** "latency,memory" → ["latency", "memory"] (duplicates dropped, order kept). */
export function parseObjectives(text: string): ParsedValue<Objective[]> {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const allowed = OBJECTIVES.join(', ');
  if (names.length === 0) return { ok: false, message: `give at least one objective: ${allowed}` };
  const out: Objective[] = [];
  for (const n of names) {
    const o = OBJECTIVES.find((x) => x === n.toLowerCase());
    if (o === undefined)
      return { ok: false, message: `"${n}" is not an objective; use one or more of ${allowed}, comma-separated` };
    if (!out.includes(o)) out.push(o);
  }
  return { ok: true, value: out };
}

// ---- grouping ----

export interface Constraints {
  /** Peak memory (or AMU where the peak is missing) must be at most this. */
  maxMemoryBytes: number | null;
  /** Quality may be at most this many percent below the reference (see qualityReference). */
  maxQualityLossPct: number | null;
  maxLatencyS: number | null;
}

export const NO_CONSTRAINTS: Readonly<Constraints> = {
  maxMemoryBytes: null,
  maxQualityLossPct: null,
  maxLatencyS: null,
};

export interface RecommendOptions {
  /** null: latency and memory, plus energy and quality when every completed run of the group measured them. */
  objectives: readonly Objective[] | null;
  constraints: Constraints;
}

export const DEFAULT_OBJECTIVES: readonly Objective[] = ['latency', 'memory'];
export const OPTIONAL_DEFAULT_OBJECTIVES: readonly Objective[] = ['energy', 'quality'];

export interface GroupKey {
  /** Human-readable and unique per group, e.g. "inference · tiny · batch 1, seqLen 128, newTokens 32 · NVIDIA H100 80GB HBM3". */
  key: string;
  stage: RunRecord['config']['stage'];
  model: string;
  workload: { batch: number; seqLen: number; newTokens: number };
  device: string;
}

const shapeText = (s: ModelShape): string =>
  `L${s.layers} h${s.hidden} H${s.heads} d${s.headDim} ffn${s.ffn} v${s.vocab}`;

/** The model part of the key. kvHeads is left out: it is set by the attention variant, which is what is compared. */
export function modelKey(cfg: RunRecord['config']): string {
  const m = cfg.model;
  if (m.source === 'hf') return `hf ${m.path}`;
  const name = m.preset !== null ? (MOE_PRESETS[m.preset]?.base ?? m.preset) : null;
  const base = m.preset !== null ? presetShape(m.preset) : undefined;
  const same = base !== undefined && shapeText(base) === shapeText(m.shape);
  if (name !== null && same) return name;
  // An image model's trunk can have a text decoder's shape; its family keeps them apart.
  return `${name ?? (m.vision ? `custom ${m.vision.family}` : 'custom')} (${shapeText(m.shape)})`;
}

export function groupKeyOf(r: RunRecord): GroupKey {
  const w = r.config.workload;
  const model = modelKey(r.config);
  const device = r.env.device?.name ?? 'unknown device';
  const workload = { batch: w.batch, seqLen: w.seqLen, newTokens: w.newTokens };
  // Runs trained to different budgets or on different data are not comparable in quality.
  const budget =
    r.config.trainTokens !== undefined
      ? ` · ${tokenCount(r.config.trainTokens)} tokens of ${r.config.data ?? 'synthetic'}`
      : '';
  // DiT inference: a different number of sampling steps is a different workload.
  const steps = w.samplingSteps !== undefined ? `, samplingSteps ${w.samplingSteps}` : '';
  const key = `${r.config.stage} · ${model} · batch ${w.batch}, seqLen ${w.seqLen}, newTokens ${w.newTokens}${steps}${budget} · ${device}`;
  return { key, stage: r.config.stage, model, workload, device };
}

/** Runs grouped by comparability, groups in order of their first run in `runs`, runs in input order. */
export function groupRuns(runs: readonly RunRecord[]): { key: GroupKey; runs: RunRecord[] }[] {
  const groups = new Map<string, { key: GroupKey; runs: RunRecord[] }>();
  for (const r of runs) {
    const k = groupKeyOf(r);
    const g = groups.get(k.key);
    if (g) g.runs.push(r);
    else groups.set(k.key, { key: k, runs: [r] });
  }
  return [...groups.values()];
}

// ---- labels and ids ----

function attentionLabel(r: RunRecord): string {
  const a = r.config.attention;
  return a.kind === 'gqa' ? `GQA-${a.kvHeads}` : a.kind.toUpperCase();
}

const PEFT_NAMES: Readonly<Record<string, string>> = {
  full: 'full FT',
  lora: 'LoRA',
  rslora: 'RSLoRA',
  dora: 'DoRA',
  freeze: 'freeze',
};

function techniqueParts(r: RunRecord): string[] {
  const c = r.config;
  const moe = c.moe ? `MoE-${c.moe.experts}x${c.moe.topK}` : 'dense';
  const p = c.peft;
  const peft =
    p === null
      ? ''
      : p.method === 'lora' || p.method === 'rslora' || p.method === 'dora'
        ? `${PEFT_NAMES[p.method]} r${p.rank}`
        : PEFT_NAMES[p.method];
  return [attentionLabel(r), moe, peft, c.precision];
}

/**
 * A short label per run naming what differs within `runs`: "GQA-2", "MQA bf16", "MoE-8x2". When
 * nothing differs (repeats of one config) it is the whole technique, e.g. "GQA-2 fp32".
 */
export function techniqueLabels(runs: readonly RunRecord[]): Map<string, string> {
  const parts = runs.map(techniqueParts);
  const dims = [0, 1, 2, 3];
  const varying = dims.filter((d) => new Set(parts.map((p) => p[d])).size > 1);
  const out = new Map<string, string>();
  runs.forEach((r, i) => {
    const p = parts[i];
    const use =
      varying.length > 0
        ? varying
        : dims.filter((d) => d === 0 || d === 3 || (d === 1 && p[1] !== 'dense') || (d === 2 && p[2] !== ''));
    out.set(
      r.id,
      use
        .map((d) => p[d])
        .filter((s) => s.length > 0)
        .join(' '),
    );
  });
  return out;
}

/** Short forms of ids for text: the last 4 characters where unique among `ids`, else the full id. */
export function shortIds(ids: readonly string[]): Map<string, string> {
  const tail = (id: string): string => (id.length > 4 ? id.slice(-4) : id);
  const counts = new Map<string, number>();
  for (const id of new Set(ids)) counts.set(tail(id), (counts.get(tail(id)) ?? 0) + 1);
  return new Map(ids.map((id) => [id, counts.get(tail(id)) === 1 ? tail(id) : id]));
}

// ---- constraints ----

/**
 * The quality a loss is measured from: 1.0 for synthetic models, whose quality is agreement with
 * the bf16 reference; otherwise the best quality among the group's completed runs (null if none).
 */
export function qualityReference(runs: readonly RunRecord[]): number | null {
  if (runs.length > 0 && runs.every((r) => r.config.model.source === 'synthetic')) return 1;
  const qs = runs.map((r) => r.metrics.quality).filter((q): q is number => typeof q === 'number' && Number.isFinite(q));
  return qs.length > 0 ? Math.max(...qs) : null;
}

const round1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** Why `r` breaks the constraints, or null when it meets them. */
export function constraintViolation(r: RunRecord, c: Constraints, qualityRef: number | null): string | null {
  const why: string[] = [];
  if (c.maxMemoryBytes !== null) {
    const mem = objectiveValue(r.metrics, 'memory');
    if (mem === null) why.push('no memory measured, so --max-memory cannot be checked');
    else if (mem > c.maxMemoryBytes)
      why.push(`memory ${formatBytes(mem)} is over the ${formatBytes(c.maxMemoryBytes)} budget`);
  }
  if (c.maxLatencyS !== null) {
    const lat = r.metrics.latencyS;
    if (lat === null) why.push('no latency measured, so --max-latency cannot be checked');
    else if (lat > c.maxLatencyS)
      why.push(`latency ${formatSeconds(lat)} is over the ${formatSeconds(c.maxLatencyS)} cap`);
  }
  if (c.maxQualityLossPct !== null) {
    const q = r.metrics.quality;
    if (q === null) why.push('no quality measured, so --max-quality-loss cannot be checked');
    else if (qualityRef !== null && qualityRef > 0) {
      const loss = ((qualityRef - q) / qualityRef) * 100;
      if (loss > c.maxQualityLossPct + 1e-9) {
        why.push(
          `quality ${q} is ${round1(loss)}% below the reference ${qualityRef}, more than the allowed ${c.maxQualityLossPct}%`,
        );
      }
    }
  }
  return why.length > 0 ? why.join('; ') : null;
}

// ---- scoring and the reason line ----

/** Within this relative difference two values are called equal in the reason line. */
export const EQUAL_WITHIN = 0.05;

/**
 * Distance of a value vector from the ideal point: each objective's gap relative to the ideal value
 * (so scale-free); where the ideal is 0, relative to the range instead.
 */
function idealDistance(values: readonly number[], ideal: readonly number[], worst: readonly number[]): number {
  let sum = 0;
  values.forEach((v, i) => {
    const gap = Math.abs(v - ideal[i]);
    const scale = ideal[i] !== 0 ? Math.abs(ideal[i]) : Math.abs(worst[i] - ideal[i]);
    const g = scale > 0 ? gap / scale : 0;
    sum += g * g;
  });
  return Math.sqrt(sum);
}

const BETTER_WORDS: Readonly<Record<Objective, string>> = {
  latency: 'faster',
  memory: 'less memory',
  energy: 'less energy',
  throughput: 'more throughput',
  quality: 'higher quality',
  perplexity: 'lower perplexity',
};
const WORSE_WORDS: Readonly<Record<Objective, string>> = {
  latency: 'more latency',
  memory: 'more memory',
  energy: 'more energy',
  throughput: 'less throughput',
  quality: 'lower quality',
  perplexity: 'higher perplexity',
};

type Comparison = { kind: 'better' | 'equal' | 'tie' | 'worse'; pct: number };

/**
 * How the chosen value `c` compares with the alternative's `a` on `o`, as a percentage of `a`. A
 * difference inside `tolerance` (the two points' combined spread over seeds or steps) is a tie: "no
 * measurable difference", whatever its size.
 */
export function compareValues(c: number, a: number, o: Objective, tolerance = 0): Comparison {
  const scale = Math.abs(a);
  const rel = scale > 0 ? Math.abs(c - a) / scale : c === a ? 0 : Infinity;
  if (rel <= EQUAL_WITHIN + 1e-12) return { kind: 'equal', pct: rel * 100 };
  if (Math.abs(c - a) <= tolerance) return { kind: 'tie', pct: rel * 100 };
  const cBetter = OBJECTIVE_SPECS[o].direction === 'min' ? c < a : c > a;
  return { kind: cBetter ? 'better' : 'worse', pct: rel * 100 };
}

const pctText = (p: number): string => (Number.isFinite(p) ? `${Math.round(p)}%` : 'far');

/** One clause: "40% less memory than MHA at equal latency", "22% faster than MQA for 9% more memory". */
export function comparisonClause(
  objectives: readonly Objective[],
  chosen: readonly number[],
  alt: readonly number[],
  altLabel: string,
  tolerance: readonly number[] = [],
  /** The values with their spread, for objectives whose numbers the reason quotes (quality). */
  quote: (i: number) => string | null = () => null,
): string {
  const better: string[] = [];
  const equal: string[] = [];
  const worse: string[] = [];
  const ties: string[] = [];
  objectives.forEach((o, i) => {
    const c = compareValues(chosen[i], alt[i], o, tolerance[i] ?? 0);
    const q = quote(i);
    const quoted = q === null ? '' : ` (${q})`;
    if (c.kind === 'better') better.push(`${pctText(c.pct)} ${BETTER_WORDS[o]}${quoted}`);
    else if (c.kind === 'worse') worse.push(`${pctText(c.pct)} ${WORSE_WORDS[o]}${quoted}`);
    else if (c.kind === 'tie') ties.push(`${o}${quoted}`);
    else equal.push(q === null ? o : `${o}${quoted}`);
  });
  if (better.length + equal.length + worse.length === 0)
    return `no measurable difference from ${altLabel} in ${ties.join(', ')} (inside the spread)`;
  const clause = clauseOf(better, equal, worse, altLabel);
  return ties.length > 0 ? `${clause}; no measurable difference in ${ties.join(', ')} (inside the spread)` : clause;
}

function clauseOf(better: string[], equal: string[], worse: string[], altLabel: string): string {
  const and = (xs: string[]): string =>
    xs.length <= 2 ? xs.join(' and ') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
  if (better.length > 0) {
    let s = `${and(better)} than ${altLabel}`;
    if (equal.length > 0) s += ` at equal ${and(equal)}`;
    if (worse.length > 0) s += `${equal.length > 0 ? ',' : ''} for ${and(worse)}`;
    return s;
  }
  if (equal.length > 0) {
    const s = `same ${and(equal)} as ${altLabel}`;
    return worse.length > 0 ? `${s}, for ${and(worse)}` : s;
  }
  return `${and(worse)} than ${altLabel}`;
}

// ---- the result ----

export interface Recommendation {
  runId: string;
  label: string;
  /** One line citing short run ids, e.g. "GQA-2: 40% less memory than MHA at equal latency — runs 9f3c, a1b2". */
  reason: string;
  /** Full ids of the runs the reason cites, the chosen one first. */
  evidence: string[];
}

export interface GroupPoint {
  /** The first run of the config; with seeds, the point stands for every run in runIds. */
  runId: string;
  runIds: string[];
  label: string;
  /** Values in the order of the group's objectives (means over seeds). */
  values: number[];
  /** Spread of each value: the seeds' standard deviation, or one run's step-to-step standard error (latency). */
  spread: number[];
  /** Distance from the ideal point (0 = best on every objective). */
  score: number;
}

export interface GroupResult extends GroupKey {
  objectives: Objective[];
  /** Run ids on the front, nearest the ideal point first. */
  front: string[];
  points: GroupPoint[];
  dominated: { runId: string; by: string }[];
  excluded: { runId: string; why: string }[];
  recommendation: Recommendation | null;
  /** Ids of the priors that speak to this group's techniques and hardware. */
  priors: string[];
  /** Labels of every run in the group, by id. */
  labels: Record<string, string>;
}

export interface RecommendReport {
  groups: GroupResult[];
  /** Every prior of the study (findings, not measurements). */
  priors: Prior[];
}

const measuredByAll = (completed: readonly RunRecord[], o: Objective): boolean =>
  completed.length > 0 && completed.every((r) => objectiveValue(r.metrics, o) !== null);

/**
 * The objectives of a group: the ones asked for, or by default latency and memory plus energy and
 * quality where every completed run measured them. Quality means held-out perplexity when every run
 * was trained to a budget (the study's quality for pretraining and fine-tuning), else the MCR quality.
 */
function groupObjectives(asked: readonly Objective[] | null, completed: readonly RunRecord[]): Objective[] {
  const perplexity = measuredByAll(completed, 'perplexity');
  const base =
    asked !== null && asked.length > 0
      ? [...asked]
      : [
          ...DEFAULT_OBJECTIVES,
          ...OPTIONAL_DEFAULT_OBJECTIVES.filter((o) => measuredByAll(completed, o) || (o === 'quality' && perplexity)),
        ];
  const out = base.map((o): Objective => (o === 'quality' && perplexity ? 'perplexity' : o));
  return out.filter((o, i) => out.indexOf(o) === i);
}

/** The spread of one objective's value for a folded config (0 when unknown). */
function spreadOf(rep: Repeats, o: Objective): number {
  const spec = OBJECTIVE_SPECS[o];
  const metric: keyof RunMetrics =
    typeof rep.run.metrics[spec.metric] === 'number' || spec.fallback === null ? spec.metric : spec.fallback;
  return rep.spread[metric] ?? 0;
}

/** "12.0 ± 0.3 vs 13.5 ± 0.2": the two sides of a quality comparison, as measured. */
function quoteValues(o: Objective, c: number, cs: number, a: number, as: number): string | null {
  if (o !== 'perplexity' && o !== 'quality') return null;
  const side = (v: number, s: number): string => (s > 0 ? `${sig3(v)} ± ${sig3(s)}` : sig3(v));
  return `${o === 'perplexity' ? 'ppl ' : ''}${side(c, cs)} vs ${side(a, as)}`;
}

function statusWhy(r: RunRecord): string {
  const err = r.error
    ? `: ${r.error.kind}${r.error.message ? ` (${r.error.message.split('\n')[0].slice(0, 120)})` : ''}`
    : '';
  return `not completed (${r.status}${err})`;
}

function recommendGroup(key: GroupKey, runs: RunRecord[], options: RecommendOptions): GroupResult | null {
  const completed = runs.filter((r) => r.status === 'completed');
  if (completed.length === 0) return null;
  const objectives = groupObjectives(options.objectives, completed);
  const labels = techniqueLabels(runs);
  const excluded: { runId: string; why: string }[] = runs
    .filter((r) => r.status !== 'completed')
    .map((r) => ({ runId: r.id, why: statusWhy(r) }));
  const qRef = qualityReference(completed);
  const allowed: RunRecord[] = [];
  for (const r of completed) {
    const why = constraintViolation(r, options.constraints, qRef);
    if (why === null) allowed.push(r);
    else excluded.push({ runId: r.id, why });
  }
  // Seeds of one config become one point (means); a difference inside the spread never dominates.
  const folded = foldRepeats(allowed);
  const repeatsOf = new Map(folded.map((f) => [f.run.id, f]));
  const spreadAt = (r: RunRecord, i: number): number => spreadOf(repeatsOf.get(r.id) as Repeats, objectives[i]);
  const pf = paretoFront(
    folded.map((f) => f.run),
    objectives,
    (a, b, i) => spreadAt(a, i) + spreadAt(b, i),
  );
  for (const e of pf.excluded)
    for (const id of repeatsOf.get(e.item.id)?.runIds ?? [e.item.id]) excluded.push({ runId: id, why: e.why });

  const placed = [...pf.front, ...pf.dominated.map((d) => d.point)];
  const ideal = objectives.map((o, i) => {
    const vs = pf.front.map((p) => p.values[i]);
    return OBJECTIVE_SPECS[o].direction === 'min' ? Math.min(...vs) : Math.max(...vs);
  });
  const worst = objectives.map((o, i) => {
    const vs = placed.map((p) => p.values[i]);
    return OBJECTIVE_SPECS[o].direction === 'min' ? Math.max(...vs) : Math.min(...vs);
  });
  const memOf = (r: RunRecord): number => objectiveValue(r.metrics, 'memory') ?? Infinity;
  const points: GroupPoint[] = placed.map((p) => {
    const runIds = repeatsOf.get(p.item.id)?.runIds ?? [p.item.id];
    const label = labels.get(p.item.id) ?? p.item.id;
    return {
      runId: p.item.id,
      runIds,
      label: runIds.length > 1 ? `${label} (${runIds.length} seeds)` : label,
      values: p.values,
      spread: objectives.map((_, i) => spreadAt(p.item, i)),
      score: pf.front.length > 0 ? idealDistance(p.values, ideal, worst) : Infinity,
    };
  });
  const byId = new Map(folded.map((f) => [f.run.id, f.run]));
  const rank = (a: GroupPoint, b: GroupPoint): number => {
    if (Math.abs(a.score - b.score) > 1e-9) return a.score - b.score;
    const ma = memOf(byId.get(a.runId) as RunRecord);
    const mb = memOf(byId.get(b.runId) as RunRecord);
    if (ma !== mb) return ma < mb ? -1 : 1;
    return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0;
  };
  const frontIds = new Set(pf.front.map((p) => p.item.id));
  const frontPoints = points.filter((p) => frontIds.has(p.runId)).sort(rank);
  const otherPoints = points.filter((p) => !frontIds.has(p.runId)).sort(rank);
  const recommendation =
    frontPoints.length > 0
      ? explain(frontPoints[0], [...frontPoints.slice(1), ...otherPoints], objectives, rank)
      : null;
  return {
    ...key,
    objectives,
    front: frontPoints.map((p) => p.runId),
    points: [...frontPoints, ...otherPoints],
    dominated: pf.dominated.flatMap((d) =>
      (repeatsOf.get(d.point.item.id)?.runIds ?? [d.point.item.id]).map((runId) => ({ runId, by: d.by.item.id })),
    ),
    excluded,
    recommendation,
    priors: relevantPriors(runs).map((p) => p.id),
    labels: Object.fromEntries(runs.map((r) => [r.id, labels.get(r.id) ?? r.id])),
  };
}

/** The reason line: the choice against the best alternative on each objective. */
function explain(
  choice: GroupPoint,
  others: readonly GroupPoint[],
  objectives: readonly Objective[],
  rank: (a: GroupPoint, b: GroupPoint) => number,
): Recommendation {
  if (others.length === 0) {
    const s = shortIds(choice.runIds);
    const cited = choice.runIds.map((id) => s.get(id) ?? id).join(', ');
    return {
      runId: choice.runId,
      label: choice.label,
      reason: `${choice.label}: the only comparable ${choice.runIds.length > 1 ? 'config' : 'run'} that meets the constraints and measured ${objectives.join(', ')} — ${choice.runIds.length > 1 ? 'runs' : 'run'} ${cited}`,
      evidence: [...choice.runIds],
    };
  }
  const alts: GroupPoint[] = [];
  objectives.forEach((o, i) => {
    const dir = OBJECTIVE_SPECS[o].direction;
    const best = [...others].sort((a, b) => {
      if (a.values[i] !== b.values[i]) return dir === 'min' ? a.values[i] - b.values[i] : b.values[i] - a.values[i];
      return rank(a, b);
    })[0];
    if (!alts.includes(best)) alts.push(best);
  });
  const clauses = alts.map((a) =>
    comparisonClause(
      objectives,
      choice.values,
      a.values,
      a.label,
      objectives.map((_, i) => choice.spread[i] + a.spread[i]),
      (i) => quoteValues(objectives[i], choice.values[i], choice.spread[i], a.values[i], a.spread[i]),
    ),
  );
  const evidence = [...choice.runIds, ...alts.flatMap((a) => a.runIds)];
  const s = shortIds(evidence);
  const cited = evidence.map((id) => s.get(id) ?? id).join(', ');
  return {
    runId: choice.runId,
    label: choice.label,
    reason: `${choice.label}: ${clauses.join('; ')} — runs ${cited}`,
    evidence,
  };
}

/** Per group of comparable runs: the front, the recommended run and why, and the relevant priors. */
export function recommend(runs: readonly RunRecord[], options: RecommendOptions): RecommendReport {
  const groups: GroupResult[] = [];
  for (const g of groupRuns(runs)) {
    const res = recommendGroup(g.key, g.runs, options);
    if (res) groups.push(res);
  }
  return { groups, priors: [...PRIORS] };
}

/** The JSON shape of `recommend --json`. */
export function reportToJson(report: RecommendReport): unknown {
  return {
    groups: report.groups.map((g) => ({
      key: g.key,
      stage: g.stage,
      model: g.model,
      workload: g.workload,
      device: g.device,
      objectives: g.objectives,
      front: g.front,
      dominated: g.dominated,
      excluded: g.excluded,
      recommendation: g.recommendation,
      priors: g.priors,
    })),
    priors: report.priors,
  };
}
