// Analytic figures a measured run is compared against: model FLOPs of one iteration, the device's
// dense peak for the run's dtype, and the roofline floor time (src/core/estimate.ts, src/core/gpus.ts).
import type { Analytic } from './assemble';
import type { ProfileConfig } from './config';
import { iterationFloorS, iterationFlops } from './estimate';
import { findGpu, peakFlops } from './gpus';

export function analyticFor(config: ProfileConfig, deviceName: string | null, deviceMemoryBytes: number | null): Analytic {
  if (config.model.source !== 'synthetic') return { iterationFlops: null, peakFlopsPerS: null, floorS: null };
  const gpu = deviceName === null ? null : findGpu(deviceName, deviceMemoryBytes);
  return {
    iterationFlops: iterationFlops(config),
    peakFlopsPerS: gpu ? peakFlops(gpu, config.precision) : null,
    floorS: gpu ? iterationFloorS(config, gpu) : null,
  };
}
