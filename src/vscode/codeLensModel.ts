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
import { describeSite } from '../detect/describe';
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

/** "GQA attention · heads 32 · kv heads 8". */
export function detectionText(site: ModelSite): string {
  const what =
    site.attention !== null ? `${site.attention.toUpperCase()} ${KIND_LABEL[site.kind]}` : KIND_LABEL[site.kind];
  const details = describeSite(site);
  return details ? `${what} · ${details}` : what;
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
  const detected = detectionText(site);
  const lenses: LensSpec[] = [
    {
      line,
      title: estimate ? `$(pulse) ${detected} — ${estimateText(estimate)}` : `$(pulse) ${detected}`,
      tooltip: estimate
        ? l10n.t('Detected by EfficientLLM; the figures are the analytic estimate (batch 1), not a measurement.')
        : l10n.t(
            'Detected by EfficientLLM. The shape comes from a config object, so there is no instant estimate; profile it to measure.',
          ),
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
  lenses.push({
    line,
    title: `$(history) ${l10n.t('Last run')} ${runSummary(last, labels.get(last.id) ?? last.config.label)}`,
    tooltip: l10n.t('Run {0} on {1}; click to open it', last.id, last.target.name),
    command: { name: 'openRuns', args: [[last.id]] },
  });
  const report = recommend(runs, {
    objectives: null,
    constraints: { maxMemoryBytes: null, maxQualityLossPct: null, maxLatencyS: null },
  });
  const group =
    report.groups.find((g) => g.recommendation !== null && g.labels[last.id] !== undefined) ??
    report.groups.find((g) => g.recommendation !== null);
  if (group?.recommendation) {
    const rec = group.recommendation;
    lenses.push({
      line,
      title: `$(star-full) ${l10n.t('Recommended: {0}', rec.label)}`,
      tooltip: rec.reason,
      command: { name: 'openRuns', args: [rec.evidence] },
    });
  }
  return lenses;
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
