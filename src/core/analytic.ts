// Analytic figures a measured run is compared against: model FLOPs of one iteration, the device's
// dense peak for the run's dtype, and the roofline floor time (src/core/estimate.ts, src/core/gpus.ts).
// A GPU in the catalogue uses its datasheet; a device without one (a CPU) uses what the harness
// measured on it (a large matmul and a large copy), labelled as such in the record.
import type { Analytic } from './assemble';
import type { ProfileConfig } from './config';
import { iterationFloorS, iterationFlops } from './estimate';
import { findGpu, peakFlops, type GpuSpec } from './gpus';
import type { ResultCounters } from './protocol';

/** A catalogue-shaped entry for a device measured by the harness: one peak for the run's dtype. */
function measuredDevice(name: string, peak: number, bandwidth: number, memoryBytes: number | null): GpuSpec {
  return {
    name: `${name} (measured)`,
    match: [],
    exclude: [],
    nameHint: null,
    memoryBytes,
    bandwidthBytesPerS: bandwidth,
    peakFlops: { fp32: peak, tf32: peak, bf16: peak, fp16: peak, fp8: peak, int8: peak },
    tdpW: null,
  };
}

export function analyticFor(
  config: ProfileConfig,
  deviceName: string | null,
  deviceMemoryBytes: number | null,
  counters?: ResultCounters,
): Analytic {
  const none: Analytic = {
    iterationFlops: null,
    peakFlopsPerS: null,
    floorS: null,
    peakSource: 'not known for this device',
  };
  if (config.model.source !== 'synthetic')
    return { ...none, peakSource: 'not computed for Hugging Face checkpoints yet' };
  const flops = iterationFlops(config);
  const gpu = deviceName === null ? null : findGpu(deviceName, deviceMemoryBytes);
  if (gpu) {
    return {
      iterationFlops: flops,
      peakFlopsPerS: peakFlops(gpu, config.precision),
      floorS: iterationFloorS(config, gpu),
      peakSource: `${gpu.name} datasheet, dense`,
    };
  }
  const peak = counters?.measuredPeakFlopsPerS ?? null;
  const bandwidth = counters?.measuredBandwidthBytesPerS ?? null;
  if (peak !== null && bandwidth !== null && peak > 0 && bandwidth > 0) {
    const device = measuredDevice(deviceName ?? 'device', peak, bandwidth, deviceMemoryBytes);
    return {
      iterationFlops: flops,
      peakFlopsPerS: peak,
      floorS: iterationFloorS(config, device),
      peakSource: 'measured on this device by the harness (1024² matmul in the run dtype, 128 MiB copy)',
    };
  }
  return { ...none, iterationFlops: flops };
}
