// Shared inputs of the vscode-*.test.ts files (the extension's vscode-free models).
import { resolveConfig, type ProfileConfigInput } from '../../src/core/config';
import { emptyEnv, emptyMetrics, type RunMetrics, type RunRecord } from '../../src/core/record';
import type { RunStoreLike, RunsModelDeps } from '../../src/vscode/runsModel';

const GiB = 2 ** 30;
export const H100 = { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * GiB };

export function record(
  id: string,
  input: ProfileConfigInput,
  metrics: Partial<RunMetrics>,
  extra: Partial<RunRecord> = {},
): RunRecord {
  const cfg = resolveConfig({ model: { preset: 'tiny' }, ...input });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
  return {
    schema: 1,
    id,
    createdAt: `2025-01-01T12:${id.slice(11, 13)}:00.000Z`,
    status: 'completed',
    target: { kind: 'local', name: 'local' },
    config: cfg.value,
    env: { ...emptyEnv(), device: H100 },
    metrics: { ...emptyMetrics(), ...metrics },
    measurement: null,
    samples: [],
    protocolProblems: [],
    error: null,
    ...extra,
  };
}

/** MHA fast but big, GQA-2 nearly as fast and small, MQA smallest but slow (GQA-2 is recommended). */
export function trio(): RunRecord[] {
  return [
    record('20250101-120000-a1b2', { attention: { kind: 'mha' } }, { latencyS: 1.0, peakMemoryBytes: 10 * GiB }),
    record(
      '20250101-120100-c3d4',
      { attention: { kind: 'gqa', kvHeads: 2 } },
      { latencyS: 1.02, peakMemoryBytes: 6 * GiB },
    ),
    record('20250101-120200-e5f6', { attention: { kind: 'mqa' } }, { latencyS: 1.3, peakMemoryBytes: 5.5 * GiB }),
  ];
}

/**
 * In-memory run stores for the run model (src/vscode/runsModel.ts), one per folder, counting the reads
 * of each: `write` is another process saving a run (the model only hears of it through `fileChanged`).
 */
export function memoryStores(initial: Record<string, RunRecord[]> = {}) {
  const files = new Map<string, { record: RunRecord; version: number }>();
  const reads = new Map<string, number>();
  let version = 0;
  const dirOf = (folder: string): string => `${folder}/.efficientllm/runs`;
  const fileOf = (folder: string, id: string): string => `${dirOf(folder)}/${id}.json`;
  const write = (folder: string, r: RunRecord): string => {
    const file = fileOf(folder, r.id);
    files.set(file, { record: r, version: ++version });
    return file;
  };
  for (const [folder, runs] of Object.entries(initial)) for (const r of runs) write(folder, r);
  const storeOf = (folder: string): RunStoreLike => ({
    dir: dirOf(folder),
    fileOf: (id) => fileOf(folder, id),
    list: async () => {
      reads.set(folder, (reads.get(folder) ?? 0) + 1);
      const runs = [...files.entries()].filter(([f]) => f.startsWith(`${dirOf(folder)}/`)).map(([, v]) => v.record);
      return { runs: runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)), problems: [] };
    },
    save: async (r) => write(folder, r),
    delete: async (id) => void files.delete(fileOf(folder, id)),
  });
  const deps: RunsModelDeps = {
    storeOf,
    fingerprint: async (file) => {
      const f = files.get(file);
      return f ? String(f.version) : null;
    },
    log: { warn: () => undefined, error: () => undefined },
    settleMs: 5,
  };
  return { deps, write, fileOf, reads: (folder: string) => reads.get(folder) ?? 0 };
}
