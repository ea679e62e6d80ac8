import * as vscode from 'vscode';
import { PRECISIONS, type Precision } from '../core/config';
import { estimateModel } from '../core/estimate';
import { GPUS } from '../core/gpus';
import { formatBytes, formatCount, formatSeconds } from '../core/units';
import type { ModelSite } from '../detect/site';
import type { SiteArgs } from './codeLensModel';
import { detectionText } from './codeLensModel';
import type { Ctx } from './ctx';
import type { Launcher } from './launch';
import { estimateSite, sitePrecision } from './siteEstimate';

function isSiteArgs(v: unknown): v is SiteArgs {
  return typeof v === 'object' && v !== null && 'site' in v && 'file' in v && typeof v.file === 'string';
}

/** The active editor's sites (detected from the buffer, not the disk); [] without a Python/config editor. */
async function activeSites(ctx: Ctx): Promise<{ file: string; text: string; sites: ModelSite[] } | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const doc = editor.document;
  const text = doc.getText();
  const sites = await ctx.detection.detectText(doc.fileName, text);
  // Prefer the site at or above the cursor: "this model" is the one being looked at.
  const cursor = editor.selection.active.line + 1;
  const sorted = [...sites].sort((a, b) => {
    const da = a.line <= cursor ? cursor - a.line : Infinity;
    const db = b.line <= cursor ? cursor - b.line : Infinity;
    return da !== db ? da - db : a.line - b.line;
  });
  return { file: doc.fileName, text, sites: sorted };
}

/** Profile this model: the active file's site (nearest above the cursor, else the first) → the launcher. */
export async function profileModel(ctx: Ctx, launcher: Launcher): Promise<void> {
  const found = await activeSites(ctx);
  if (!found) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('EfficientLLM: open a Python model file (or a config.json) first.'),
    );
    return;
  }
  const site = found.sites[0];
  if (!site) {
    const open = vscode.l10n.t('Profile configuration…');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'EfficientLLM: no attention, MoE, PEFT, quantization or model-loading code was found in {0}.',
        vscode.workspace.asRelativePath(found.file),
      ),
      open,
    );
    if (choice === open) await launcher.open();
    return;
  }
  await launcher.open({ file: found.file, line: site.line, site });
}

/** The "Profile variants…" lens: the launcher seeded with the site. */
export async function profileSite(ctx: Ctx, launcher: Launcher, arg: unknown): Promise<void> {
  if (!isSiteArgs(arg)) return profileModel(ctx, launcher);
  await launcher.open({ file: arg.file, line: arg.site.line, site: arg.site });
}

const SEQ_LENS = [1024, 4096, 8192, 32768, 131072];

/**
 * Estimate…: precision, sequence length and GPU picked in turn, then the estimate in a modal with
 * "Copy JSON". Everything is analytic (estimate.ts); the message says so.
 */
export async function estimateSiteCommand(ctx: Ctx, arg: unknown): Promise<void> {
  let site: ModelSite | undefined;
  let text: string | undefined;
  if (isSiteArgs(arg)) {
    site = arg.site;
    text = vscode.workspace.textDocuments.find((d) => d.fileName === arg.file)?.getText();
  } else {
    const found = await activeSites(ctx);
    site = found?.sites[0];
    text = found?.text;
  }
  if (!site) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('EfficientLLM: no model code detected in the active editor to estimate.'),
    );
    return;
  }
  const title = vscode.l10n.t('Estimate {0}', site.name);
  const current = sitePrecision(site, ctx.config.defaultPrecision);
  const precision = await vscode.window.showQuickPick(
    PRECISIONS.map((p) => ({
      label: p,
      description: p === current ? vscode.l10n.t('current') : undefined,
      precision: p,
    })),
    { title, placeHolder: vscode.l10n.t('Weight precision') },
  );
  if (!precision) return;
  const seq = await vscode.window.showQuickPick(
    SEQ_LENS.map((n) => ({ label: n.toLocaleString('en-US'), description: vscode.l10n.t('tokens of context'), n })),
    { title, placeHolder: vscode.l10n.t('Sequence length') },
  );
  if (!seq) return;
  const none = vscode.l10n.t('No GPU (sizes only)');
  const gpu = await vscode.window.showQuickPick(
    [
      { label: none, spec: null },
      ...GPUS.map((g) => ({
        label: g.name,
        description: g.memoryBytes ? formatBytes(g.memoryBytes) : undefined,
        spec: g,
      })),
    ],
    { title, placeHolder: vscode.l10n.t('GPU for the roofline floors') },
  );
  if (!gpu) return;
  const result = estimateFor(site, precision.precision, seq.n, gpu.spec, text);
  if (!result) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t(
        'EfficientLLM: {0} reads its shape from a config object, so there is nothing to estimate here; open its config.json or profile it.',
        site.name,
      ),
    );
    return;
  }
  const copy = vscode.l10n.t('Copy JSON');
  const choice = await vscode.window.showInformationMessage(
    result.headline,
    { modal: true, detail: result.detail },
    copy,
  );
  if (choice === copy) {
    await vscode.env.clipboard.writeText(JSON.stringify(result.json, null, 2));
    ctx.log.info(`estimate of ${site.name} copied to the clipboard`);
  }
}

export interface EstimateView {
  headline: string;
  detail: string;
  json: Record<string, unknown>;
}

export function estimateFor(
  site: ModelSite,
  precision: Precision,
  seqLen: number,
  gpu: (typeof GPUS)[number] | null,
  text?: string,
): EstimateView | null {
  const base = estimateSite(site, precision, text);
  if (!base) return null;
  const e = estimateModel(base.arch, { precision, batch: 1, seqLen, gpu });
  const scope = base.scope === 'model' ? vscode.l10n.t('whole model') : vscode.l10n.t('one attention layer');
  const kvAtSeq = e.kvBytesPerToken * seqLen;
  const lines = [
    `${detectionText(site)}`,
    vscode.l10n.t('Scope: {0}; batch 1; analytic estimate, not a measurement.', scope),
    '',
    vscode.l10n.t(
      'Parameters: {0} ({1} active)',
      formatCount(base.params),
      formatCount(base.scope === 'model' ? e.activeParams : base.params),
    ),
    vscode.l10n.t('Weights at {0}: {1}', precision, formatBytes(base.weightBytes)),
    vscode.l10n.t(
      'KV cache: {0} per 1k tokens, {1} at {2} tokens',
      formatBytes(e.kvBytesPerToken * 1000),
      formatBytes(kvAtSeq),
      seqLen.toLocaleString('en-US'),
    ),
  ];
  if (base.scope === 'model') lines.push(vscode.l10n.t('FLOPs per token: {0}', formatCount(e.flopsPerToken)));
  if (gpu) {
    lines.push(
      '',
      vscode.l10n.t('Roofline floors on {0}:', gpu.name),
      vscode.l10n.t(
        '  prefill {0} · decode {1}/token · train step {2}',
        formatSeconds(e.floors.prefillS),
        formatSeconds(e.floors.decodePerTokenS),
        formatSeconds(e.floors.trainStepS),
      ),
    );
    if (gpu.memoryBytes !== null && base.scope === 'model') {
      const fits = base.weightBytes + kvAtSeq <= gpu.memoryBytes;
      lines.push(
        fits
          ? vscode.l10n.t('Weights + KV cache fit in {0}.', formatBytes(gpu.memoryBytes))
          : vscode.l10n.t('Weights + KV cache exceed the {0} of one GPU.', formatBytes(gpu.memoryBytes)),
      );
    }
  }
  return {
    headline: vscode.l10n.t(
      '{0}: {1} params, {2} weights at {3}',
      site.name,
      formatCount(base.params),
      formatBytes(base.weightBytes),
      precision,
    ),
    detail: lines.join('\n'),
    json: {
      site: { file: site.file, line: site.line, kind: site.kind, attention: site.attention, name: site.name },
      scope: base.scope,
      precision,
      seqLen,
      gpu: gpu?.name ?? null,
      params: base.params,
      activeParams: base.scope === 'model' ? e.activeParams : base.params,
      weightBytes: base.weightBytes,
      kvBytesPerToken: e.kvBytesPerToken,
      kvBytesAtSeqLen: kvAtSeq,
      flopsPerToken: e.flopsPerToken,
      floors: e.floors,
    },
  };
}
