// What the Launcher's Launch button does, free of `vscode` (launch.ts wires it; the unit test
// test/unit/vscode-launch.test.ts drives it through the real LauncherController): the target is
// looked up by the name the form picked, the site the form picked travels with the sweep so its runs
// are indexed under it, and a sweep that could not start is a rejection naming the reason.
import type { ProfileConfig } from '../core/config';
import type { ModelSite } from '../detect/site';
import type { TargetSpec } from '../run/targets';
import type { LauncherDeps } from './panels/launcherController';
import type { SiteRef } from './sitesIndex';
import type { SweepResult } from './sweep';

export interface LaunchWiringDeps {
  /** The target of that name (local, or an `efficientllm.targets` entry); throws naming the setting otherwise. */
  resolveTarget(name: string): { spec: TargetSpec; name: string; pythonSetting: string };
  /** The sites index key of a detected site; undefined outside the home folder. */
  siteRef(site: ModelSite): SiteRef | undefined;
  /** Runs the sweep (runService.ts's Profiler.run); undefined when refused. */
  profile(
    configs: readonly ProfileConfig[],
    spec: TargetSpec,
    options: { targetName: string; site?: SiteRef; pythonSetting: string },
  ): Promise<SweepResult | undefined>;
}

export function launcherLaunch(deps: LaunchWiringDeps): LauncherDeps['launch'] {
  return async (configs, targetName, site) => {
    const target = deps.resolveTarget(targetName);
    const result = await deps.profile(configs, target.spec, {
      targetName: target.name,
      site: site ? deps.siteRef(site) : undefined,
      pythonSetting: target.pythonSetting,
    });
    if (result === undefined) throw new Error('the workspace is not trusted; nothing was launched');
    // The failed runs are stored and listed; the Launcher says why, as their records do.
    if (result.kind === 'not-started') throw new Error(result.records[0]?.error?.message ?? result.failure.message);
    return result.tally;
  };
}
