// GPU catalogue: the peak figures that MFU and the roofline floor divide by.
//
// Every peak is the DENSE figure (NVIDIA datasheets print the 2:4-sparsity figure with an asterisk;
// we halve it), because the harness runs dense matmuls and MFU against a sparse peak would read 2×
// too low. A figure the part lacks (A100 has no FP8 tensor cores) is null, so MFU comes out null
// rather than measured against a precision the hardware does not run.
//
// Memory sizes are the marketed capacities taken as GiB (HBM stacks are binary-sized; torch reports
// a little less than this because of the driver's reservation). They are used to tell variants of a
// part apart and as the "total" for AMU when NVML is absent, never as a limit.
import type { Precision } from './config';

export interface PeakFlops {
  /** Non-tensor-core FP32 (what PyTorch fp32 matmuls run on with TF32 off, its default). */
  fp32: number | null;
  tf32: number | null;
  bf16: number | null;
  fp16: number | null;
  fp8: number | null;
  int8: number | null;
}

export interface GpuSpec {
  /** Display name, unique in the catalogue. */
  name: string;
  /** Device names (torch.cuda.get_device_name / NVML) that identify the part; any one suffices. */
  match: RegExp[];
  /** Names that contain a match but are a different part (e.g. "H200 NVL" is a lower-clocked PCIe card). */
  exclude: RegExp[];
  /** When several entries match a name and no memory size is known, the one whose hint matches wins. */
  nameHint: RegExp | null;
  memoryBytes: number | null;
  bandwidthBytesPerS: number | null;
  /** Dense peak ops/s per dtype. */
  peakFlops: PeakFlops;
  /** Board power limit in W; for GH200 the module (CPU + GPU + memory), which is what its NVML power covers. */
  tdpW: number | null;
}

const GiB = 2 ** 30;
const T = 1e12;

/** The Hopper die at SXM clocks, dense (H100 SXM, H200 and GH200 datasheets print the same figures). */
const HOPPER_SXM_PEAKS: PeakFlops = {
  fp32: 67 * T,
  tf32: 494.5 * T,
  bf16: 989.5 * T,
  fp16: 989.5 * T,
  fp8: 1979 * T,
  int8: 1979 * T,
};

const GH200_96GB: GpuSpec = {
  // NVIDIA GH200 Grace Hopper Superchip datasheet: GPU FP32 67 TF, TF32 494 (989*), BF16/FP16 990
  // (1,979*), FP8 1,979 (3,958*), INT8 1,979 (3,958*) TOPS; 96 GB HBM3 at 4 TB/s; module power
  // configurable 450–1000 W (1000 W taken). NVML names it "NVIDIA GH200 480GB" (480 GB is the Grace LPDDR5X).
  name: 'GH200 96GB',
  match: [/\bGH200\b/i],
  exclude: [],
  nameHint: /\b480GB\b|\bHBM3\b(?!e)/i,
  memoryBytes: 96 * GiB,
  bandwidthBytesPerS: 4.0 * T,
  peakFlops: HOPPER_SXM_PEAKS,
  tdpW: 1000,
};

const A100_SXM_80GB: GpuSpec = {
  // NVIDIA A100 Tensor Core GPU datasheet, 80GB SXM column: FP32 19.5 TF, TF32 156 (312*),
  // BF16/FP16 312 (624*), INT8 624 (1,248*) TOPS, no FP8; 80 GB HBM2e, 2,039 GB/s; 400 W.
  name: 'A100 SXM 80GB',
  match: [/\bA100\b.*\bSXM/i],
  exclude: [],
  nameHint: /80GB/i,
  memoryBytes: 80 * GiB,
  bandwidthBytesPerS: 2.039 * T,
  peakFlops: { fp32: 19.5 * T, tf32: 156 * T, bf16: 312 * T, fp16: 312 * T, fp8: null, int8: 624 * T },
  tdpW: 400,
};

export const GPUS: readonly GpuSpec[] = [
  {
    // NVIDIA H100 Tensor Core GPU datasheet, SXM column: FP32 67 TF, TF32 989*, BF16/FP16 1,979*,
    // FP8 3,958*, INT8 3,958* TOPS (* = with sparsity, halved here); 80 GB HBM3, 3.35 TB/s; up to 700 W.
    name: 'H100 SXM',
    match: [/\bH100\b.*\b(SXM\d?|HBM3)\b/i],
    exclude: [/\bNVL\b/i, /\bPCIe\b/i],
    nameHint: null,
    memoryBytes: 80 * GiB,
    bandwidthBytesPerS: 3.35 * T,
    peakFlops: HOPPER_SXM_PEAKS,
    tdpW: 700,
  },
  {
    // NVIDIA H100 datasheet, PCIe column: FP32 51 TF, TF32 756*, BF16/FP16 1,513*, FP8 3,026*,
    // INT8 3,026* TOPS; 80 GB HBM2e, 2 TB/s; 300–350 W (we take the 350 W maximum).
    name: 'H100 PCIe',
    match: [/\bH100\b.*\bPCIe\b/i],
    exclude: [],
    nameHint: null,
    memoryBytes: 80 * GiB,
    bandwidthBytesPerS: 2.0 * T,
    peakFlops: { fp32: 51 * T, tf32: 378 * T, bf16: 756.5 * T, fp16: 756.5 * T, fp8: 1513 * T, int8: 1513 * T },
    tdpW: 350,
  },
  {
    // NVIDIA H200 Tensor Core GPU datasheet, SXM column: same Hopper die and clocks as H100 SXM —
    // FP32 67 TF, TF32 989*, BF16/FP16 1,979*, FP8 3,958*, INT8 3,958* TOPS; 141 GB HBM3e, 4.8 TB/s; up to 700 W.
    name: 'H200',
    // \b before H200 keeps "GH200" out.
    match: [/\bH200\b/i],
    exclude: [/\bNVL\b/i],
    nameHint: null,
    memoryBytes: 141 * GiB,
    bandwidthBytesPerS: 4.8 * T,
    peakFlops: HOPPER_SXM_PEAKS,
    tdpW: 700,
  },
  GH200_96GB,
  // Same datasheet, HBM3e variant: 144 GB HBM3e at 4.9 TB/s, same GPU peaks; NVML "NVIDIA GH200 144G HBM3e".
  {
    ...GH200_96GB,
    name: 'GH200 144GB',
    nameHint: /\b144G|\bHBM3e\b/i,
    memoryBytes: 144 * GiB,
    bandwidthBytesPerS: 4.9 * T,
  },
  A100_SXM_80GB,
  // Same datasheet, 40GB SXM column: same peaks; 40 GB HBM2, 1,555 GB/s; 400 W.
  { ...A100_SXM_80GB, name: 'A100 SXM 40GB', nameHint: /40GB/i, memoryBytes: 40 * GiB, bandwidthBytesPerS: 1.555 * T },
  {
    // NVIDIA L40S datasheet: FP32 91.6 TF, TF32 183 (366*), BF16/FP16 362.05 (733*), FP8 733 (1,466*),
    // INT8 733 (1,466*) TOPS; 48 GB GDDR6, 864 GB/s; 350 W.
    name: 'L40S',
    match: [/\bL40S\b/i],
    exclude: [],
    nameHint: null,
    memoryBytes: 48 * GiB,
    bandwidthBytesPerS: 0.864 * T,
    peakFlops: { fp32: 91.6 * T, tf32: 183 * T, bf16: 362.05 * T, fp16: 362.05 * T, fp8: 733 * T, int8: 733 * T },
    tdpW: 350,
  },
  {
    // NVIDIA Ada Lovelace architecture whitepaper, GeForce RTX 4090 column: FP32 82.6 TF; tensor
    // figures WITH FP32 ACCUMULATE, which is what PyTorch bf16/fp16 matmuls use (GeForce runs those at
    // half the FP16-accumulate rate): TF32 82.6, BF16/FP16 165.2, FP8 330.3; INT8 660.6 TOPS; 24 GB
    // GDDR6X, 1,008 GB/s; 450 W. "RTX 4090 D" is a cut-down part and is excluded.
    name: 'RTX 4090',
    match: [/\bRTX\s*4090\b/i],
    exclude: [/\b4090\s*D\b/i],
    nameHint: null,
    memoryBytes: 24 * GiB,
    bandwidthBytesPerS: 1.008 * T,
    peakFlops: { fp32: 82.6 * T, tf32: 82.6 * T, bf16: 165.2 * T, fp16: 165.2 * T, fp8: 330.3 * T, int8: 660.6 * T },
    tdpW: 450,
  },
  {
    // Host CPU: its peak depends on the exact part, core count and clocks, which the harness does not
    // report, so every figure is unknown and MFU/floors come out null instead of invented.
    name: 'CPU',
    match: [/^\s*cpu\s*$/i],
    exclude: [],
    nameHint: null,
    memoryBytes: null,
    bandwidthBytesPerS: null,
    peakFlops: { fp32: null, tf32: null, bf16: null, fp16: null, fp8: null, int8: null },
    tdpW: null,
  },
];

export const GPU_NAMES: readonly string[] = GPUS.map((g) => g.name);

/**
 * The catalogue entry for a device name as torch/NVML report it ("NVIDIA H100 80GB HBM3"), or a
 * catalogue name itself ("H100 SXM"). When several entries share a name (GH200 96 GB / 144 GB, A100
 * 40 / 80 GB) the reported memory decides if given, else the name's hint. Unknown parts → null.
 */
export function findGpu(deviceName: string, memoryBytes?: number | null): GpuSpec | null {
  const exact = GPUS.find((g) => g.name.toLowerCase() === deviceName.trim().toLowerCase());
  if (exact) return exact;
  const candidates = GPUS.filter(
    (g) => g.match.some((re) => re.test(deviceName)) && !g.exclude.some((re) => re.test(deviceName)),
  );
  if (candidates.length <= 1) return candidates[0] ?? null;
  if (typeof memoryBytes === 'number' && memoryBytes > 0) {
    // Nearest capacity: torch reports slightly under the marketed size, so equality would never hold.
    let best = candidates[0];
    for (const g of candidates) {
      if (Math.abs((g.memoryBytes ?? 0) - memoryBytes) < Math.abs((best.memoryBytes ?? 0) - memoryBytes)) best = g;
    }
    return best;
  }
  return candidates.find((g) => g.nameHint !== null && g.nameHint.test(deviceName)) ?? candidates[0];
}

/**
 * A GPU a person names on the command line: a device name or catalogue name as findGpu takes it, or
 * a short name such as "H100", "a100" or "4090", which picks the first catalogue entry whose name
 * holds it as a word (the catalogue lists the common variant first: SXM before PCIe, 80 GB before 40).
 */
export function findGpuByUserName(name: string): GpuSpec | null {
  const found = findGpu(name);
  if (found) return found;
  const word = name.trim().toLowerCase();
  if (word.length === 0) return null;
  return GPUS.find((g) => g.name.toLowerCase().split(/\s+/).includes(word)) ?? null;
}

/**
 * Dense peak ops/s for a run's precision, or null when unknown / not supported by the part.
 * fp32 maps to the non-tensor FP32 peak because PyTorch leaves TF32 matmuls off by default; int4 is
 * weight-only (dequantised to bf16 before the matmul), so its compute runs at the bf16 peak.
 */
export function peakFlops(gpu: GpuSpec, precision: Precision): number | null {
  return gpu.peakFlops[precision === 'int4' ? 'bf16' : precision];
}
