import * as vscode from 'vscode';
import { analyticFor } from '../core/analytic';
import type { ProfileConfig } from '../core/config';
import type { RunRecord } from '../core/record';
import { profile } from '../run/profile';
import { newRunId } from '../run/store';
import type { TargetSpec } from '../run/targets';
import type { Ctx } from './ctx';
import { openDashboard } from './panels/open';
import type { SiteRef } from './sitesIndex';
import { sshOptions } from './sshPrompts';
import { runtime } from './runtime';
import { requireTrust } from './trust';

export interface RunProfileOptions {
  /** The detected site the sweep was launched from: its runs are added to `.efficientllm/sites.json`. */
  readonly site?: SiteRef;
  /** Name shown for the target (a settings entry's name); default the spec's text. */
  readonly targetName?: string;
}

/**
 * The one way the extension runs a sweep (launcher, Profile this model, rerun): `profile()` from the
 * core under a cancellable progress notification, records saved to the workspace store as they end,
 * the Runs view and status bar fed live through `ctx.runs`, and "Show results" offered at the end.
 * Refused in an untrusted workspace, whoever calls it. Resolves with the final records, or undefined
 * when nothing ran (refused, or the target could not start).
 */
export async function runProfile(
  ctx: Ctx,
  configs: readonly ProfileConfig[],
  spec: TargetSpec,
  options: RunProfileOptions = {},
): Promise<RunRecord[] | undefined> {
  if (!(await requireTrust(vscode.l10n.t('Profile')))) {
    ctx.log.info('profile: refused, workspace is not trusted');
    return undefined;
  }
  if (configs.length === 0)
    throw new Error(vscode.l10n.t('the sweep has no configs; pick at least one value on every axis'));
  const store = ctx.requireStore();
  // Loaded on first use: the SSH client (ssh2) costs more to load than the whole rest of activation.
  const { closeTarget, createTarget, targetSpecText, TargetError } = runtime();
  const targetName = options.targetName ?? targetSpecText(spec);
  const controller = new AbortController();
  const sweep = ctx.runs.startSweep(spec, controller);
  const ids: string[] = [];
  const sites = ctx.sites;
  let indexed: Promise<void> | null = null;
  const newId = (): string => {
    const id = newRunId(new Date());
    const config = configs[ids.length];
    ids.push(id);
    ctx.runs.addActive(sweep, id, config?.label ?? id, targetName);
    // profile() asks for every id synchronously before the first run starts; index them all at once
    // as soon as that is done, so a window closed mid-sweep still knows where the runs came from.
    if (options.site && sites && indexed === null) {
      const site = options.site;
      indexed = new Promise<void>((resolve) => setImmediate(resolve)).then(() => sites.add(site, [...ids]));
      indexed.catch((error: unknown) =>
        ctx.log.warn(`could not update ${sites.file}: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
    return id;
  };
  ctx.log.info(`profile: ${configs.length} config(s) on ${targetName}: ${configs.map((c) => c.label).join(', ')}`);
  let records: RunRecord[] | undefined;
  try {
    const target = createTarget(spec, {
      env: process.env,
      ssh: sshOptions(ctx),
      onSlurmStatus: (e) => ctx.log.info(`slurm: ${e.message}`),
    });
    try {
      records = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: vscode.l10n.t('EfficientLLM: profiling on {0}', targetName),
          cancellable: true,
        },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let done = 0;
          const step = 100 / configs.length;
          progress.report({ message: vscode.l10n.t('starting {0} run(s)…', configs.length) });
          return profile({
            configs: [...configs],
            target,
            store: {
              save: async (record) => {
                await store.save(record);
                ctx.runs.upsert(record);
              },
            },
            analytic: analyticFor,
            newId,
            signal: controller.signal,
            onUpdate: (run, state) => {
              ctx.runs.update(run.id, state);
              const p = state.lastProgress;
              progress.report({
                message: `${done}/${configs.length} · ${run.config.label}${p ? ` · ${p.phase} ${p.step}/${p.total}` : ''}`,
              });
            },
            onRecord: (record) => {
              done += 1;
              ctx.runs.endRun(record.id);
              progress.report({
                increment: step,
                message: `${done}/${configs.length} · ${record.config.label}: ${record.status}`,
              });
              ctx.log.info(
                `${record.status.padEnd(9)} ${record.id} ${record.config.label}${record.error ? `: ${record.error.kind}: ${record.error.message}` : ''}`,
              );
              if (record.error?.stderrTail.trim())
                ctx.log.debug(`${record.id} stderr:\n${record.error.stderrTail.trimEnd()}`);
            },
          });
        },
      );
    } finally {
      await closeTarget(target).catch(() => undefined);
    }
  } catch (error) {
    if (error instanceof TargetError) {
      ctx.log.error(`profile on ${targetName}: ${error.message}`);
      const log = vscode.l10n.t('Show Log');
      void vscode.window
        .showErrorMessage(
          vscode.l10n.t('EfficientLLM: {0} cannot run the harness: {1}', targetName, error.message),
          log,
        )
        .then((c) => {
          if (c === log) ctx.log.show(true);
        });
      return undefined;
    }
    throw error;
  } finally {
    ctx.runs.endSweep(sweep);
    await indexed;
    void ctx.reloadRuns();
  }
  const completed = records.filter((r) => r.status === 'completed').length;
  const summary = vscode.l10n.t(
    'EfficientLLM: {0} of {1} run(s) completed on {2}.',
    completed,
    records.length,
    targetName,
  );
  const show = vscode.l10n.t('Show results');
  const log = vscode.l10n.t('Show Log');
  const finished = records;
  const notify =
    completed === records.length
      ? vscode.window.showInformationMessage(summary, show)
      : vscode.window.showWarningMessage(summary, show, log);
  void notify.then((choice) => {
    if (choice === show)
      void openDashboard(
        ctx,
        finished.map((r) => r.id),
      );
    else if (choice === log) ctx.log.show(true);
  });
  return records;
}
