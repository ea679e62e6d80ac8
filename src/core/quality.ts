// The quality side of a run (DESIGN.md, Round 2: quality beside cost), from the harness's counters.
// Measured only when the run trained to a budget; every field is null otherwise, never 0.
import type { ResultCounters } from './protocol';
import type { RunMetrics } from './record';

export type QualityMetrics = Pick<RunMetrics, 'valLoss' | 'perplexity' | 'dataEntropy' | 'baseValLoss' | 'trainTokens'>;

export function qualityMetrics(c: ResultCounters): QualityMetrics {
  const valLoss = c.valLoss ?? null;
  return {
    valLoss,
    perplexity: valLoss === null ? null : Math.exp(valLoss),
    dataEntropy: c.dataEntropy ?? null,
    baseValLoss: c.baseValLoss ?? null,
    trainTokens: c.trainTokens ?? null,
  };
}
