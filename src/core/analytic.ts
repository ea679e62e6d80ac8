// Analytic figures a measured run is compared against: model FLOPs of one iteration, the peak MFU
// divides by, and the roofline floor time (src/core/estimate.ts, src/core/gpus.ts). The peak is the
// one the work ran at: each matmul at the dtype of its kernel (int8/fp8 only where quant.py uses them),
// blended into one figure (estimate.ts effectivePeak), and the record states its value and dtypes.
// A GPU in the catalogue uses its datasheet; a device without one (a CPU) uses what the harness
// measured on it (a large matmul in the run's compute dtype and a large copy), labelled as such.
import type { Analytic } from './assemble';
import type { ProfileConfig } from './config';
import { analyseIteration } from './estimate';
import { findGpu, type GpuSpec } from './gpus';
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

const tflops = (f: number): string => `${(f / 1e12).toPrecision(4)} TFLOP/s`;

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
  const gpu = deviceName === null ? null : findGpu(deviceName, deviceMemoryBytes);
  if (gpu) {
    const a = analyseIteration(config, gpu, 'cuda');
    return {
      iterationFlops: a.flops,
      peakFlopsPerS: a.peak?.flopsPerS ?? null,
      floorS: a.floorS,
      peakSource: a.peak
        ? `${gpu.name} datasheet, dense, ${a.peak.dtype}: ${tflops(a.peak.flopsPerS)}`
        : `${gpu.name} datasheet has no peak for ${Object.keys(a.work).join(' + ')}`,
      peakDtype: a.peak?.dtype ?? null,
    };
  }
  const peak = counters?.measuredPeakFlopsPerS ?? null;
  const bandwidth = counters?.measuredBandwidthBytesPerS ?? null;
  if (peak !== null && bandwidth !== null && peak > 0 && bandwidth > 0) {
    const device = measuredDevice(deviceName ?? 'device', peak, bandwidth, deviceMemoryBytes);
    const a = analyseIteration(config, device, 'cpu');
    return {
      iterationFlops: a.flops,
      peakFlopsPerS: peak,
      floorS: a.floorS,
      peakSource: `measured on this device by the harness (1024² matmul in the run's compute dtype ${a.peak?.dtype ?? ''}, 128 MiB copy): ${tflops(peak)}`,
      peakDtype: a.peak?.dtype ?? null,
    };
  }
  return { ...none, iterationFlops: analyseIteration(config, null, 'cuda').flops };
}
