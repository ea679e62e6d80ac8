// What the CodeLens provider shows, computed without `vscode` so the benchmark and unit tests run the
// provider's real code path in plain Node (codeLens.ts is a thin wrapper that turns LensSpecs into
// vscode.CodeLens objects). Per site, on the site's line:
//   1. what was detected + the instant estimate          → "Estimate…" (click for other precisions)
//   2. "Profile variants…"                                → the launcher seeded with the site
//   3. "Estimate…"
//   4. after a run: the last measured result              → the dashboard with that run
//   5. after runs: the current recommendation for the site → the dashboard with the runs it cites
import * as l10n from '@vscode/l10n';
import type { Precision } from '../core/config';
import type { RunRecord } from '../core/record';
import { recommend, techniqueLabels } from '../core/recommend';
import { formatBytes, formatCount, formatSeconds } from '../core/units';
import { describeParts, describeSite } from '../detect/describe';
import { MAX_FILE_BYTES, type DetectionCache } from '../detect/detector';
import type { ModelSite } from '../detect/site';
import { estimateSite, sitePrecision, type SiteEstimate } from './siteEstimate';
import { runIdsForSite, workspaceRelative, type SiteRef, type SitesIndexData } from './sitesIndex';

/** The commands a lens can run (names in commands.ts's table; the table checks they exist). */
export type LensCommandName = 'estimateSite' | 'profileSite' | 'openRuns';

export interface LensCommand {
  readonly name: LensCommandName;
  readonly args: readonly unknown[];
}

export interface LensSpec {
  /** 0-based line (ModelSite.line − 1). */
  readonly line: number;
  readonly title: string;
  readonly tooltip?: string;
  /** null: a plain label (VS Code shows it unclickable). */
  readonly command: LensCommand | null;
}

/** Arguments of the lens commands: the site as the launcher and the Estimate… picker need it. */
export interface SiteArgs {
  readonly site: ModelSite;
  /** Workspace-relative "/" path (the sites index key), or null outside a workspace. */
  readonly relFile: string | null;
  /** Absolute path of the document. */
  readonly file: string;
}

export interface LensInput {
  readonly sites: readonly ModelSite[];
  /** Absolute path of the document. */
  readonly file: string;
  readonly relFile: string | null;
  /** The document's text (config.json sites are parsed exactly from it). */
  readonly text?: string;
  /** Precision when the site does not name its own dtype. */
  readonly precision: Precision;
  readonly index: SitesIndexData | null;
  readonly runsById: ReadonlyMap<string, RunRecord>;
}

const KIND_LABEL: Readonly<Record<ModelSite['kind'], string>> = {
  attention: 'attention',
  moe: 'MoE',
  peft: 'PEFT',
  quantization: 'quantization',
  load: 'model load',
  config: 'config',
};

/**
 * The most characters a lens title has (its codicon included): a longer line runs past the editor's
 * width and hides the lenses after it. What does not fit is in the tooltip.
 */
export const MAX_LENS_CHARS = 100;

/** "GQA attention", "PEFT". */
function kindText(site: ModelSite): string {
  return site.attention !== null ? `${site.attention.toUpperCase()} ${KIND_LABEL[site.kind]}` : KIND_LABEL[site.kind];
}

/** "GQA attention · heads 32 · kv heads 8" (whole: the CLI and the tooltip). */
export function detectionText(site: ModelSite): string {
  const details = describeSite(site);
  return details ? `${kindText(site)} · ${details}` : kindText(site);
}

/** `head` + as many of `parts` (in order, " · " between) as keep the line at `max` with `tail` after. */
export function fitLine(head: string, parts: readonly string[], tail: string, max = MAX_LENS_CHARS): string {
  let line = head;
  for (const p of parts) {
    if (line.length + 3 + p.length + tail.length > max) break;
    line += ` · ${p}`;
  }
  const out = line + tail;
  return out.length <= max ? out : `${out.slice(0, max - 1)}…`;
}

/** The short estimate for a lens title: "8.03B params · 15.0 GiB bf16 · KV 125 MiB/1k tok". */
export function estimateShort(e: SiteEstimate): string {
  const head = e.scope === 'model' ? formatCount(e.params) : `per layer ${formatCount(e.params)}`;
  return l10n.t(
    '{0} params · {1} {2} · KV {3}/1k tok',
    head,
    formatBytes(e.weightBytes),
    e.precision,
    formatBytes(e.kvBytesPer1k),
  );
}

/** Where the site's shape numbers came from, for the tooltip: "layers: GPTConfig.n_layer; ffn: MLP.c_fc". */
function shapeSources(site: ModelSite): string | null {
  const from = site.details.shapeFrom;
  if (!from) return null;
  const parts = Object.entries(from).map(([k, v]) => `${k} from ${v}`);
  return parts.length > 0 ? parts.join('; ') : null;
}

/** "8.03B params · 15.0 GiB weights (bf16) · KV 125 MiB / 1k tokens". */
export function estimateText(e: SiteEstimate): string {
  if (e.scope === 'model') {
    return l10n.t(
      '{0} params · {1} weights ({2}) · KV {3} / 1k tokens',
      formatCount(e.params),
      formatBytes(e.weightBytes),
      e.precision,
      formatBytes(e.kvBytesPer1k),
    );
  }
  return l10n.t(
    'per layer: {0} attention params · {1} ({2}) · KV {3} / 1k tokens',
    formatCount(e.params),
    formatBytes(e.weightBytes),
    e.precision,
    formatBytes(e.kvBytesPer1k),
  );
}

/** The run's headline: latency (or throughput) and peak memory; the error kind when it failed. */
export function runSummary(r: RunRecord, label: string): string {
  if (r.status === 'running' || r.status === 'queued') return l10n.t('{0}: {1}', label, r.status);
  if (r.status !== 'completed') return l10n.t('{0}: {1}{2}', label, r.status, r.error ? ` (${r.error.kind})` : '');
  const m = r.metrics;
  const parts: string[] = [];
  if (m.latencyS !== null) parts.push(l10n.t('{0} latency', formatSeconds(m.latencyS)));
  if (m.tokensPerS !== null) parts.push(l10n.t('{0} tok/s', formatCount(m.tokensPerS)));
  if (m.peakMemoryBytes !== null) parts.push(l10n.t('{0} peak', formatBytes(m.peakMemoryBytes)));
  return parts.length > 0 ? `${label}: ${parts.join(' · ')}` : label;
}

/** The site's runs (newest first) from the index, skipping ids whose files were deleted. */
export function runsForSite(input: Pick<LensInput, 'index' | 'runsById'>, ref: SiteRef): RunRecord[] {
  if (!input.index) return [];
  const runs: RunRecord[] = [];
  for (const id of runIdsForSite(input.index, ref)) {
    const r = input.runsById.get(id);
    if (r) runs.push(r);
  }
  return runs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
}

/** The lenses of one site. */
export function siteLenses(site: ModelSite, input: LensInput): LensSpec[] {
  const line = Math.max(0, site.line - 1);
  const args: SiteArgs = { site, relFile: input.relFile, file: input.file };
  const precision = sitePrecision(site, input.precision);
  const estimate = estimateSite(site, precision, input.text);
  const fromConfig = !estimate && hasConfigRefs(site);
  const tail = estimate
    ? ` — ${estimateShort(estimate)}`
    : fromConfig
      ? ` — ${l10n.t('pick a config.json for numbers')}`
      : '';
  const sources = shapeSources(site);
  const tooltip = [
    detectionText(site),
    estimate ? estimateText(estimate) : null,
    sources,
    estimate
      ? l10n.t('Detected by EfficientLLM; the figures are the analytic estimate (batch 1), not a measurement.')
      : fromConfig
        ? l10n.t(
            'Detected by EfficientLLM. The shape is read from a config object at run time: open or pick the config.json it is built from for an estimate, or profile it to measure.',
          )
        : l10n.t('Detected by EfficientLLM.'),
  ]
    .filter((x): x is string => x !== null)
    .join('\n');
  const lenses: LensSpec[] = [
    {
      line,
      title: fitLine(`$(pulse) ${kindText(site)}`, describeParts(site), tail),
      tooltip,
      command: estimate ? { name: 'estimateSite', args: [args] } : null,
    },
    {
      line,
      title: l10n.t('Profile variants…'),
      tooltip: l10n.t("Open the launcher with this site's shape"),
      command: { name: 'profileSite', args: [args] },
    },
    {
      line,
      title: l10n.t('Estimate…'),
      tooltip: l10n.t('Estimate at another precision, sequence length or GPU'),
      command: { name: 'estimateSite', args: [args] },
    },
  ];
  if (input.relFile === null) return lenses;
  const runs = runsForSite(input, { file: input.relFile, line: site.line, name: site.name });
  if (runs.length === 0) return lenses;
  const labels = techniqueLabels(runs);
  const last = runs[0];
  const summary = runSummary(last, labels.get(last.id) ?? last.config.label);
  lenses.push({
    line,
    title: fitLine(`$(history) ${l10n.t('Last {0} run', last.config.stage)} ${summary}`, [], ''),
    tooltip: l10n.t(
      '{0} run {1} on {2} ({3}); click to open it',
      last.config.stage,
      last.id,
      last.target.name,
      summary,
    ),
    command: { name: 'openRuns', args: [[last.id]] },
  });
  const report = recommend(runs, {
    objectives: null,
    constraints: { maxMemoryBytes: null, maxQualityLossPct: null, maxLatencyS: null },
  });
  const byId = new Map(runs.map((r) => [r.id, r]));
  // Only a recommendation of what this site is (an attention variant for an attention class, a PEFT
  // method for a LoraConfig, a precision for a quantization config): among runs that differ in it.
  const own = (r: RunRecord): string => ownTechnique(site.kind, r);
  const varies = (ids: readonly string[]): boolean =>
    new Set(ids.map((id) => byId.get(id)).flatMap((r) => (r ? [own(r)] : []))).size > 1;
  const groups = report.groups.filter((g) => g.recommendation !== null && varies(Object.keys(g.labels)));
  const group = groups.find((g) => g.labels[last.id] !== undefined) ?? groups[0];
  const rec = group?.recommendation;
  const chosen = rec ? byId.get(rec.runId) : undefined;
  if (group && rec && chosen) {
    lenses.push({
      line,
      title: fitLine(
        `$(star-full) ${l10n.t('Recommended for {0}: {1}', chosen.config.stage, site.kind === 'config' ? rec.label : own(chosen))}`,
        [],
        '',
      ),
      tooltip: rec.reason,
      command: { name: 'openRuns', args: [rec.evidence] },
    });
  }
  return lenses;
}

/** A site reads the plain field its numbers come from (`config.n_head`): its config.json has them. */
function hasConfigRefs(site: ModelSite): boolean {
  const d = site.details;
  return [d.headsFrom, d.kvHeadsFrom, d.expertsFrom, d.topKFrom].some((x) => x !== undefined);
}

/** The part of a run's config a site of `kind` is about ("GQA-2", "LoRA", "int8"); all of it for a config. */
export function ownTechnique(kind: ModelSite['kind'], r: RunRecord): string {
  const c = r.config;
  const attention = c.attention.kind === 'gqa' ? `GQA-${c.attention.kvHeads}` : c.attention.kind.toUpperCase();
  const moe = c.moe ? `MoE ${c.moe.experts}×${c.moe.topK}` : 'dense';
  const peft = c.peft ? c.peft.method : 'none';
  switch (kind) {
    case 'attention':
      return attention;
    case 'moe':
      return moe;
    case 'peft':
      return peft === 'full' ? 'full FT' : peft;
    case 'quantization':
    case 'load':
      return c.precision;
    case 'config':
      return [attention, moe, peft, c.precision].join(' ');
  }
}

/** Every lens of a document, in site order. */
export function buildLenses(input: LensInput, isCancelled: () => boolean = () => false): LensSpec[] {
  const out: LensSpec[] = [];
  for (const site of input.sites) {
    if (isCancelled()) return [];
    out.push(...siteLenses(site, input));
  }
  return out;
}

/** The parts of a vscode.TextDocument the provider reads (a fake one in the benchmark and tests). */
export interface LensDocument {
  readonly fileName: string;
  getText(): string;
}

/** Where the provider's inputs come from; every read is in memory or cached (providers never block). */
export interface LensSources {
  readonly detection: DetectionCache;
  readonly workspaceRoot: string | undefined;
  /** The sites index (cached after the first read), or null outside a workspace. */
  index(): Promise<SitesIndexData | null>;
  readonly runsById: ReadonlyMap<string, RunRecord>;
  readonly precision: Precision;
}

/**
 * The provider's whole code path: detect the document's text through the shared cache (only changed
 * top-level statements are parsed again), then build the lenses. Returns [] when cancelled meanwhile
 * or when the file is too large to annotate usefully.
 */
export async function lensesForDocument(
  doc: LensDocument,
  sources: LensSources,
  isCancelled: () => boolean = () => false,
): Promise<LensSpec[]> {
  const text = doc.getText();
  if (text.length > MAX_FILE_BYTES) return [];
  const sites = await sources.detection.detectText(doc.fileName, text);
  if (isCancelled() || sites.length === 0) return [];
  const index = await sources.index();
  if (isCancelled()) return [];
  const relFile = sources.workspaceRoot !== undefined ? workspaceRelative(sources.workspaceRoot, doc.fileName) : null;
  return buildLenses(
    { sites, file: doc.fileName, relFile, text, precision: sources.precision, index, runsById: sources.runsById },
    isCancelled,
  );
}
