import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { toCsv, toJson, toMarkdown } from '../core/export';
import type { RunRecord } from '../core/record';
import { defaultCacheDir } from '../run/local';
import type { Ctx } from './ctx';
import type { Panels } from './panels/open';
import { recommendationMarkdown } from './recommendModel';
import type { Profiler } from './runService';
import { runIdsFromArgs } from './runsView';
import { siteOfRun } from './sitesIndex';
import { targetOfRecord } from './targets';

/** Runs of the newest sweep: same target, created within a few seconds of the newest run. */
export function latestSweep(runs: readonly RunRecord[]): RunRecord[] {
  const newest = runs[0];
  if (!newest) return [];
  const t = Date.parse(newest.createdAt);
  return runs.filter(
    (r) =>
      r.target.name === newest.target.name &&
      r.target.kind === newest.target.kind &&
      Math.abs(t - Date.parse(r.createdAt)) < 5000,
  );
}

async function loadedRuns(ctx: Ctx): Promise<readonly RunRecord[]> {
  await ctx.runs.whenLoaded();
  return ctx.runs.all;
}

function noRuns(): void {
  void vscode.window.showInformationMessage(
    vscode.l10n.t('EfficientLLM: no runs in this workspace yet. Run "EfficientLLM: Profile configuration…" first.'),
  );
}

export async function showResults(ctx: Ctx, panels: Panels, args: readonly unknown[]): Promise<void> {
  const given = runIdsFromArgs(args);
  if (given.length > 0) return panels.openDashboard(given);
  const sweep = latestSweep(await loadedRuns(ctx));
  if (sweep.length === 0) return noRuns();
  await panels.openDashboard(sweep.map((r) => r.id));
}

/** Compare runs…: the given runs, or the one Compare picker (Panels.openCompare) for fewer than two. */
export function compareRuns(panels: Panels, args: readonly unknown[]): Promise<void> {
  return panels.openCompare(runIdsFromArgs(args));
}

const FORMATS = [
  { label: 'CSV', ext: 'csv', render: toCsv },
  { label: 'Markdown', ext: 'md', render: toMarkdown },
  { label: 'JSON', ext: 'json', render: toJson },
] as const;

export async function exportResults(ctx: Ctx, args: readonly unknown[]): Promise<void> {
  const all = await loadedRuns(ctx);
  const given = new Set(runIdsFromArgs(args));
  const runs = given.size > 0 ? all.filter((r) => given.has(r.id)) : all;
  if (runs.length === 0) return noRuns();
  const format = await vscode.window.showQuickPick(
    FORMATS.map((f) => ({ label: f.label, description: `.${f.ext}`, format: f })),
    { title: vscode.l10n.t('Export {0} run(s)', runs.length), placeHolder: vscode.l10n.t('Format') },
  );
  if (!format) return;
  const base =
    ctx.workspaceRoot !== undefined
      ? vscode.Uri.file(path.join(ctx.workspaceRoot, `efficientllm-runs.${format.format.ext}`))
      : undefined;
  const target = await vscode.window.showSaveDialog({
    defaultUri: base,
    filters: { [format.format.label]: [format.format.ext] },
    saveLabel: vscode.l10n.t('Export'),
  });
  if (!target) return;
  await writeFile(target.fsPath, format.format.render(runs), 'utf8');
  ctx.log.info(`exported ${runs.length} run(s) as ${format.format.label} to ${target.fsPath}`);
  const open = vscode.l10n.t('Open');
  const choice = await vscode.window.showInformationMessage(
    vscode.l10n.t('EfficientLLM: exported {0} run(s) to {1}.', runs.length, vscode.workspace.asRelativePath(target)),
    open,
  );
  if (choice === open) await vscode.window.showTextDocument(target);
}

export async function recommendDocument(ctx: Ctx): Promise<void> {
  const runs = await loadedRuns(ctx);
  const content = recommendationMarkdown(
    runs,
    ctx.store ? vscode.workspace.asRelativePath(ctx.store.dir) : '.efficientllm/runs',
  );
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(doc, { preview: true });
}

export async function cancelRun(ctx: Ctx, args: readonly unknown[]): Promise<void> {
  let ids = runIdsFromArgs(args).filter((id) => ctx.runs.active.has(id));
  if (ids.length === 0) {
    const active = [...ctx.runs.active.values()];
    if (active.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('EfficientLLM: no run is in progress in this window.'));
      return;
    }
    const picked = await vscode.window.showQuickPick(
      active.map((a) => ({
        label: a.label,
        description: `${a.targetName}`,
        detail: vscode.l10n.t('{0} · cancels its sweep of {1} run(s)', a.id, a.sweep.runIds.length),
        id: a.id,
      })),
      { title: vscode.l10n.t('Cancel run'), placeHolder: vscode.l10n.t('Which run?') },
    );
    if (!picked) return;
    ids = [picked.id];
  }
  for (const id of ids) if (ctx.runs.cancel(id)) ctx.log.info(`cancel requested for ${id} (and the rest of its sweep)`);
}

export async function openRuns(ctx: Ctx, panels: Panels, args: readonly unknown[]): Promise<void> {
  const ids = runIdsFromArgs(args);
  if (ids.length === 0) return showResults(ctx, panels, []);
  await panels.openDashboard(ids);
}

export async function rerunRuns(ctx: Ctx, profiler: Profiler, args: readonly unknown[]): Promise<void> {
  const ids = runIdsFromArgs(args);
  const records = ids.map((id) => ctx.runs.get(id)).filter((r): r is RunRecord => r !== undefined);
  if (records.length === 0) return;
  const first = records[0];
  const { spec, name, pythonSetting } = targetOfRecord(ctx, first);
  const index = ctx.sites ? await ctx.sites.read() : null;
  const site = index ? (siteOfRun(index, first.id) ?? undefined) : undefined;
  await profiler.run(
    records.map((r) => r.config),
    spec,
    { targetName: name, site, pythonSetting },
  );
}

export async function deleteRuns(ctx: Ctx, args: readonly unknown[]): Promise<void> {
  const store = ctx.requireStore();
  const ids = runIdsFromArgs(args).filter((id) => !ctx.runs.active.has(id));
  if (ids.length === 0) return;
  const del = vscode.l10n.t('Delete');
  const what =
    ids.length === 1 ? (ctx.runs.get(ids[0])?.config.label ?? ids[0]) : vscode.l10n.t('{0} runs', ids.length);
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Delete {0}?', what),
    {
      modal: true,
      detail: vscode.l10n.t(
        'Their files in {0} are removed; this cannot be undone (unless they are committed).',
        vscode.workspace.asRelativePath(store.dir),
      ),
    },
    del,
  );
  if (choice !== del) return;
  await ctx.runs.delete(ids);
  await ctx.sites?.remove(new Set(ids));
  ctx.log.info(`deleted ${ids.join(', ')}`);
}

/** The run's stderr.log (else events.jsonl) when it ran here; the stored stderr tail for remote runs. */
export async function revealRunLog(ctx: Ctx, args: readonly unknown[]): Promise<void> {
  const id = runIdsFromArgs(args)[0];
  if (id === undefined) return ctx.log.show(true);
  const record = ctx.runs.get(id);
  if (!record || record.target.kind === 'local') {
    const dir = path.join(defaultCacheDir(process.env), 'runs', id);
    for (const name of ['stderr.log', 'events.jsonl']) {
      const file = path.join(dir, name);
      if (existsSync(file)) {
        await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
        return;
      }
    }
  }
  const where =
    record && record.target.kind !== 'local'
      ? vscode.l10n.t('on {0} in ~/.cache/efficientllm/runs/{1}/', record.target.name, id)
      : path.join(defaultCacheDir(process.env), 'runs', id);
  const tail = record?.error?.stderrTail.trim();
  if (tail) {
    const doc = await vscode.workspace.openTextDocument({
      language: 'log',
      content: `# ${id}: stderr tail (full log ${where})\n\n${tail}\n`,
    });
    await vscode.window.showTextDocument(doc, { preview: true });
    return;
  }
  void vscode.window.showInformationMessage(vscode.l10n.t('EfficientLLM: the log of {0} is {1}.', id, where));
}
