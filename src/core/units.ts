// Human formatting of the numbers a RunRecord carries. Pure functions, no I/O.
// Every formatter takes `number | null` and prints "—" for null (a metric the run could not measure)
// and for non-finite values, so a missing number never looks like a zero.
import type { RunMetrics } from './record';

export const MISSING = '—';

const isNumber = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * `v` with three significant figures, keeping trailing zeros ("1.50", "10.0", "100").
 * Magnitudes of 1000 and above print as whole numbers; below 0.001 in exponent form.
 */
export function sig3(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 999.5) return Math.round(v).toString();
  if (a < 0.001) return v.toExponential(2);
  return v.toPrecision(3);
}

/**
 * Scales `v` by powers of `base` until it prints as at most three digits before the point, then
 * formats with three significant figures. The choice of unit is made after rounding, so 1023.9 KiB
 * prints as "1.00 MiB", not "1020 KiB" or "1024 KiB".
 */
function scaled(v: number, base: number, units: readonly string[], firstIsExact: boolean): string {
  const sign = v < 0 ? '-' : '';
  let a = Math.abs(v);
  let i = 0;
  const limit = firstIsExact ? base : 999.5;
  if (a < limit || units.length === 1) {
    const text = firstIsExact ? Math.round(a).toString() : sig3(a);
    return `${sign}${text}${units[0]}`;
  }
  while (i < units.length - 1) {
    a /= base;
    i++;
    if (Number(a.toPrecision(3)) < 1000 || i === units.length - 1) break;
  }
  return `${sign}${sig3(a)}${units[i]}`;
}

const BYTE_UNITS = [' B', ' KiB', ' MiB', ' GiB', ' TiB', ' PiB'] as const;

/** 0 → "0 B", 1023 → "1023 B", 1024 → "1.00 KiB", 1.5 GiB → "1.50 GiB", null → "—". */
export function formatBytes(v: number | null): string {
  if (!isNumber(v)) return MISSING;
  return scaled(v, 1024, BYTE_UNITS, true);
}

/** 0 → "0 s", 2.5e-5 → "25.0 µs", 0.0123 → "12.3 ms", 1.5 → "1.50 s", 125 → "125 s". */
export function formatSeconds(v: number | null): string {
  if (!isNumber(v)) return MISSING;
  if (v === 0) return '0 s';
  const a = Math.abs(v);
  const sign = v < 0 ? '-' : '';
  // Pick the unit after rounding so that 0.99996 s prints "1.00 s", not "1000 ms".
  if (Number(a.toPrecision(3)) >= 1) return `${sign}${sig3(a)} s`;
  if (Number((a * 1e3).toPrecision(3)) >= 1) return `${sign}${sig3(a * 1e3)} ms`;
  if (Number((a * 1e6).toPrecision(3)) >= 1) return `${sign}${sig3(a * 1e6)} µs`;
  return `${sign}${sig3(a * 1e9)} ns`;
}

const COUNT_UNITS = ['', 'K', 'M', 'B', 'T'] as const;

/** 999 → "999", 1000 → "1.00K", 494_032_768 → "494M", 1.5e9 → "1.50B", 0.5 → "0.500". */
export function formatCount(v: number | null): string {
  if (!isNumber(v)) return MISSING;
  if (Math.abs(v) < 999.5) return Number.isInteger(v) ? v.toString() : sig3(v);
  return scaled(v, 1000, COUNT_UNITS, false);
}

/** 0.4234 → "42.3%", 1 → "100%", 0 → "0%". The argument is a fraction (0–1), not a percentage. */
export function formatPercent(fraction: number | null): string {
  if (!isNumber(fraction)) return MISSING;
  const p = fraction * 100;
  return `${sig3(p)}%`;
}

/** 250 → "250 W", 1500 → "1.50 kW". */
export function formatWatts(v: number | null): string {
  if (!isNumber(v)) return MISSING;
  return scaled(v, 1000, [' W', ' kW', ' MW'], false);
}

/** 0.5 → "0.500 J", 1234 → "1.23 kJ", 5e6 → "5.00 MJ". Below 1 mJ in exponent form. */
export function formatJoules(v: number | null): string {
  if (!isNumber(v)) return MISSING;
  return scaled(v, 1000, [' J', ' kJ', ' MJ', ' GJ'], false);
}

/** A rate with a count-style suffix: 1234.5, "tok/s" → "1.23K tok/s". */
export function formatRate(v: number | null, unit: string): string {
  if (!isNumber(v)) return MISSING;
  return `${formatCount(v)} ${unit}`;
}

/** A plain number with three significant figures; `suffix` is appended verbatim ("×"). */
export function formatNumber(v: number | null, suffix = ''): string {
  if (!isNumber(v)) return MISSING;
  return `${sig3(v)}${suffix}`;
}

/** How each metric is shown to people. `unit` names the raw unit of the stored number. */
export type MetricKind =
  | 'count'
  | 'bytes'
  | 'fraction'
  | 'seconds'
  | 'tokensPerS'
  | 'samplesPerS'
  | 'tokensPerParamPerS'
  | 'watts'
  | 'joules'
  | 'joulesPerToken'
  | 'ratio'
  | 'number';

export interface MetricInfo {
  /** Short human name, e.g. "Peak memory". */
  label: string;
  kind: MetricKind;
  /** Unit of the raw stored number, e.g. "bytes", "s", "fraction (0–1)". */
  unit: string;
}

export const METRIC_INFO: Readonly<Record<keyof RunMetrics, MetricInfo>> = {
  params: { label: 'Parameters', kind: 'count', unit: 'count' },
  activeParams: { label: 'Active parameters', kind: 'count', unit: 'count' },
  trainableParams: { label: 'Trainable parameters', kind: 'count', unit: 'count' },
  weightBytes: { label: 'Weights', kind: 'bytes', unit: 'bytes' },
  kvCacheBytes: { label: 'KV cache', kind: 'bytes', unit: 'bytes' },
  peakMemoryBytes: { label: 'Peak memory', kind: 'bytes', unit: 'bytes' },
  amuBytes: { label: 'AMU (avg memory)', kind: 'bytes', unit: 'bytes' },
  amuFraction: { label: 'AMU (of device)', kind: 'fraction', unit: 'fraction (0–1)' },
  pcu: { label: 'PCU (NVML kernel-busy)', kind: 'fraction', unit: 'fraction (0–1)' },
  mfu: { label: 'MFU', kind: 'fraction', unit: 'fraction (0–1)' },
  latencyS: { label: 'Latency (AL)', kind: 'seconds', unit: 's' },
  ttftS: { label: 'Time to first token', kind: 'seconds', unit: 's' },
  tpotS: { label: 'Time per output token', kind: 'seconds', unit: 's' },
  tokensPerS: { label: 'Throughput', kind: 'tokensPerS', unit: 'tokens/s' },
  samplesPerS: { label: 'Sample throughput', kind: 'samplesPerS', unit: 'samples/s' },
  tokensPerParamPerS: { label: 'Tokens/param/s', kind: 'tokensPerParamPerS', unit: 'tokens/param/s' },
  powerW: { label: 'Average power (AEC)', kind: 'watts', unit: 'W' },
  energyJ: { label: 'Energy', kind: 'joules', unit: 'J' },
  joulesPerToken: { label: 'Energy per token', kind: 'joulesPerToken', unit: 'J/token' },
  compressionRate: { label: 'Compression rate', kind: 'ratio', unit: 'ratio' },
  quality: { label: 'Quality', kind: 'number', unit: 'ratio to reference' },
  mcr: { label: 'MCR', kind: 'number', unit: 'ratio' },
  floorS: { label: 'Roofline floor', kind: 'seconds', unit: 's' },
  rooflineFraction: { label: 'Of roofline', kind: 'fraction', unit: 'fraction (0–1)' },
  valLoss: { label: 'Held-out loss', kind: 'number', unit: 'nats/token' },
  perplexity: { label: 'Perplexity', kind: 'number', unit: 'exp(nats/token)' },
  dataEntropy: { label: 'Data entropy (floor)', kind: 'number', unit: 'nats/token' },
  baseValLoss: { label: 'Held-out loss before', kind: 'number', unit: 'nats/token' },
  trainTokens: { label: 'Tokens trained', kind: 'count', unit: 'count' },
  latencyStdErrS: { label: 'Latency ± (std. error)', kind: 'seconds', unit: 's' },
  scalingEfficiency: { label: 'Scaling efficiency', kind: 'fraction', unit: 'fraction (0–1)' },
};

/** Formats one metric value with its unit, e.g. ("peakMemoryBytes", 1610612736) → "1.50 GiB". */
export function formatMetric(name: keyof RunMetrics, v: number | null): string {
  switch (METRIC_INFO[name].kind) {
    case 'count':
      return formatCount(v);
    case 'bytes':
      return formatBytes(v);
    case 'fraction':
      return formatPercent(v);
    case 'seconds':
      return formatSeconds(v);
    case 'tokensPerS':
      return formatRate(v, 'tok/s');
    case 'samplesPerS':
      return formatRate(v, 'samples/s');
    case 'tokensPerParamPerS':
      return formatNumber(v, ' tok/param/s');
    case 'watts':
      return formatWatts(v);
    case 'joules':
      return formatJoules(v);
    case 'joulesPerToken':
      return isNumber(v) ? `${formatJoules(v)}/tok` : MISSING;
    case 'ratio':
      return formatNumber(v, '×');
    case 'number':
      return formatNumber(v);
  }
}

/** An ISO timestamp as "YYYY-MM-DD HH:MM:SSZ" (UTC); text that is not a date prints as given. */
export function formatTimestamp(iso: string | null): string {
  if (iso === null) return MISSING;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return `${new Date(t).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}
