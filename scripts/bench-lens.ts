// Bench section "CodeLens": the provider's own code path (src/vscode/codeLensModel.ts lensesForDocument,
// which codeLens.ts calls) on a 5,000-line modeling file through a fake TextDocument, with three
// earlier runs indexed under its first sites so the lenses carry results and recommendations too.
//   after a one-line edit: the document's cache has seen the file; each request types into one line
//   first open: a fresh cache per request, the parser already loaded (its one-time load is not a lens's)
// Baseline, alternated with ours request by request: one whole-file web-tree-sitter parse of the same text.
import * as path from 'node:path';
import { resolveConfig } from '../src/core/config';
import { emptyEnv, emptyMetrics, type RunRecord } from '../src/core/record';
import { DetectionCache } from '../src/detect/detector';
import { sharedPythonParser } from '../src/detect/pythonParser';
import { lensesForDocument, type LensSources } from '../src/vscode/codeLensModel';
import { addSiteRuns, emptySitesIndex, workspaceRelative } from '../src/vscode/sitesIndex';
import { bigFile, rng } from './bench-corpus';
import { alternate, measure, percentile, row, type BenchSection, type Row } from './bench-rows';

/** Three comparable runs, as the store would hold them after a sweep launched from a lens. */
function sampleRuns(): RunRecord[] {
  const kinds = [
    ['mha', 1.0, 10],
    ['gqa', 1.02, 6],
    ['mqa', 1.3, 5.5],
  ] as const;
  return kinds.map(([kind, latencyS, gib], i) => {
    const cfg = resolveConfig({
      model: { preset: 'tiny' },
      attention: { kind, kvHeads: kind === 'gqa' ? 2 : undefined },
    });
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.errors));
    return {
      schema: 1,
      id: `20250101-12000${i}-ab1${i}`,
      createdAt: `2025-01-01T12:00:0${i}.000Z`,
      status: 'completed',
      target: { kind: 'local', name: 'local' },
      config: cfg.value,
      env: { ...emptyEnv(), device: { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * 2 ** 30 } },
      metrics: { ...emptyMetrics(), latencyS, peakMemoryBytes: gib * 2 ** 30 },
      measurement: null,
      samples: [],
      protocolProblems: [],
      error: null,
    } satisfies RunRecord;
  });
}

type Times = { wallMs: number; cpuMs: number }[];
const p95 = (xs: Times, of: 'wallMs' | 'cpuMs' = 'wallMs'): number =>
  percentile(
    xs.map((x) => x[of]).sort((a, b) => a - b),
    95,
  );

export function codeLensSection(lines: number, requests: number): BenchSection {
  return {
    name: 'CodeLens',
    async run(): Promise<Row[]> {
      const parser = await sharedPythonParser();
      const text = await bigFile(lines);
      const textLines = text.split('\n');
      const root = '/workspace';
      const fileName = path.join(root, 'models', 'big_model.py');
      const firstSites = await new DetectionCache().detectText(fileName, text);
      const runs = sampleRuns();
      let index = emptySitesIndex();
      for (const s of firstSites.slice(0, 5))
        index = addSiteRuns(
          index,
          { file: workspaceRelative(root, fileName) ?? '', line: s.line, name: s.name },
          runs.map((r) => r.id),
        );
      const sources: LensSources = {
        detection: new DetectionCache(),
        workspaceRoot: root,
        index: async () => index,
        runsById: new Map(runs.map((r) => [r.id, r])),
        precision: 'bf16',
      };
      const lensCount = (await lensesForDocument({ fileName, getText: () => text }, sources)).length;
      if (lensCount === 0) throw new Error(`no lenses on the ${lines}-line file`);

      // The edited text is joined inside getText, as a TextDocument builds it on request.
      const editRand = rng(11);
      const edited = (i: number): (() => string) => {
        const at = Math.floor(editRand() * textLines.length);
        return () => textLines.map((l, j) => (j === at ? `${l} # edit ${i}` : l)).join('\n');
      };
      const texts: string[] = [];
      const edit = await alternate(
        requests,
        (i) => {
          const getText = edited(i);
          return measure(async () => {
            const doc = { fileName, getText: () => (texts[i] = getText()) };
            await lensesForDocument(doc, sources);
          });
        },
        (i) => measure(() => parser.parse(texts[i])?.delete()),
      );
      const open = await alternate(
        Math.min(requests, 20),
        () =>
          measure(() =>
            lensesForDocument({ fileName, getText: () => text }, { ...sources, detection: new DetectionCache() }),
          ),
        () => measure(() => parser.parse(text)?.delete()),
      );
      const what = `${lines}-line file, ${lensCount} lenses, vs a whole-file web-tree-sitter parse`;
      const editName = `CodeLens p95 after a one-line edit, ${what}`;
      const openName = `CodeLens p95 on first open (parser loaded, empty caches), ${what}`;
      return [
        row(editName, 'ms', p95(edit.ours), p95(edit.baseline), { on: 'value', op: '<', limit: 10 }),
        row(`${editName}, CPU time (info)`, 'ms', p95(edit.ours, 'cpuMs'), p95(edit.baseline, 'cpuMs')),
        row(openName, 'ms', p95(open.ours), p95(open.baseline), { on: 'value', op: '<', limit: 30 }),
        row(`${openName}, CPU time (info)`, 'ms', p95(open.ours, 'cpuMs'), p95(open.baseline, 'cpuMs')),
      ];
    },
  };
}
