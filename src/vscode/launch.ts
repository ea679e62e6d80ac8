import * as vscode from 'vscode';
import type { ModelSite } from '../detect/site';
import { scanWorkspace } from '../detect/scan';
import type { Ctx } from './ctx';
import { openLauncher, setLaunchHandler, setSitesProvider, type LauncherSeed } from './panels/open';
import { siteRefOf } from './profileActions';
import { runtime } from './runtime';
import { runProfile } from './runService';
import type { SiteRef } from './sitesIndex';
import { findTarget } from './targets';

/**
 * The launcher panel (panels/) shows one form at a time; the site it was last opened for is where its
 * runs are indexed (`.efficientllm/sites.json`), so the CodeLens of that site shows their results.
 */
class LauncherOrigin {
  site: SiteRef | undefined;
}

const origins = new WeakMap<Ctx, LauncherOrigin>();

function originOf(ctx: Ctx): LauncherOrigin {
  let o = origins.get(ctx);
  if (!o) origins.set(ctx, (o = new LauncherOrigin()));
  return o;
}

/** Opens the launcher, remembering the seed's site for the sites index. */
export async function openLauncherFor(ctx: Ctx, seed?: LauncherSeed): Promise<void> {
  originOf(ctx).site = seed?.site && seed.file ? siteRefOf(ctx, seed.file, seed.site) : undefined;
  await openLauncher(ctx, seed);
}

/**
 * Every model site of the workspace, through the shared detection cache: the first call reads every
 * file (progress in the status bar), later ones only files whose mtime or size changed.
 */
async function workspaceSites(ctx: Ctx): Promise<readonly ModelSite[]> {
  if (ctx.workspaceRoot === undefined) return [];
  const root = ctx.workspaceRoot;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EfficientLLM: scanning for model code') },
    async (progress) => {
      const result = await scanWorkspace([root], {
        cache: ctx.detection,
        onProgress: (done, total) => {
          if (done % 50 === 0 || done === total) progress.report({ message: `${done}/${total}` });
        },
      });
      for (const p of result.problems) ctx.log.debug(`scan: ${p.file}: ${p.message}`);
      return result.sites;
    },
  );
}

/** Wires the launcher's Launch button and site list to runProfile and the detector. */
export function registerLaunch(ctx: Ctx): void {
  ctx.register(
    setLaunchHandler(async (configs, targetName) => {
      const named = findTarget(ctx, targetName);
      let spec = named?.spec;
      if (!spec) {
        const { parseTargetText, TargetError } = runtime();
        try {
          spec = parseTargetText(targetName, ctx.config.pythonPath, ctx.config.isolateRuns);
        } catch (error) {
          if (error instanceof TargetError)
            throw new Error(vscode.l10n.t('no target "{0}": add it with "EfficientLLM: Add target…"', targetName), {
              cause: error,
            });
          throw error;
        }
      }
      await runProfile(ctx, configs, spec, { targetName: named?.name ?? targetName, site: originOf(ctx).site });
    }),
  );
  ctx.register(setSitesProvider(() => workspaceSites(ctx)));
}
