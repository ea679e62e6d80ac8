// What the launcher panel does with its messages, free of `vscode` (launcherPanel.ts wires it to a
// webview; test/webview/host-launcher.test.ts drives it against the real page in Chromium).
// The page sends its form; previews and launches are computed here from that form with
// src/views/launcherData.ts, so what runs is always what the host validated, never configs the page
// assembled.
import type { ProfileConfig } from '../../core/config';
import {
  formatLauncherErrors,
  launcherInit,
  launcherPlan,
  launcherPreview,
  launcherSites,
  siteId,
} from '../../views/launcherData';
import type { ModelSite as LauncherSite } from '../../detect/site';
import type { LauncherDefaults, LauncherEnv, LauncherSeedInput } from '../../views/launcherData';
import type { LauncherChoice, LauncherForm, LauncherInit, LauncherPreview } from '../../core/webviewProtocol/launcher';
import { PanelDispatcher } from './dispatch';
import type { DispatchLog, PostToPage } from './dispatch';

/** How many runs of a launched sweep ended how (sweep.ts's tally). */
export interface LaunchOutcome {
  readonly runs: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
}

export interface LauncherDeps {
  /** Detected model sites of the workspace (the detection cache); [] when there is none. */
  sites(): Promise<readonly LauncherSite[]>;
  /** Targets to offer, "local" first; the value is what `launch` gets as its target. */
  targets(): LauncherChoice[];
  /** The target picked first (`efficientllm.defaultTarget`). */
  defaultTarget?(): string | undefined;
  /** `efficientllm.defaultSweep`. */
  defaults(): LauncherDefaults;
  /** `efficientllm.sampleIntervalMs`. */
  sampleMs(): number | undefined;
  /**
   * Runs the sweep on the target named `target`; `site` is the detected site picked in the form (its
   * runs are indexed under it), none for a preset. Resolves when it is done; rejects when nothing ran.
   */
  launch(configs: ProfileConfig[], target: string, site: LauncherSite | undefined): Promise<LaunchOutcome>;
  /** Shows a site's file at its line. */
  openSite(site: LauncherSite): void | Promise<void>;
  /** How a site's file is shown (workspace-relative). */
  displayPath?(file: string): string;
}

export class LauncherController {
  readonly dispatcher: PanelDispatcher<'launcher'>;
  private seed: LauncherSeedInput | undefined;
  private revision = Date.now();
  /** The sites of the last init: a form's siteId refers to one of these. */
  private sites: LauncherSite[] = [];
  private targetValues: string[] = ['local'];

  constructor(
    seed: LauncherSeedInput | undefined,
    private readonly deps: LauncherDeps,
    post: PostToPage<'launcher'>,
    private readonly log: DispatchLog,
  ) {
    this.seed = seed;
    this.dispatcher = new PanelDispatcher(
      'launcher',
      post,
      {
        ready: () => this.push(),
        commands: { 'launcher/openSite': (p) => this.openSite(p.siteId) },
        requests: {
          'launcher/preview': async (p) => this.preview(p.form),
          'launcher/launch': (p) => this.launch(p.form),
        },
      },
      log,
    );
  }

  /** Opens with another seed: the page replaces its form with the new defaults. */
  async setSeed(seed: LauncherSeedInput | undefined): Promise<void> {
    this.seed = seed;
    this.revision = Math.max(this.revision + 1, Date.now());
    await this.push();
  }

  async init(): Promise<LauncherInit> {
    let found: readonly LauncherSite[] = [];
    try {
      found = await this.deps.sites();
    } catch (e) {
      this.log.warn(
        `launcher: the detected model sites are not available: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    this.sites = launcherSites(found, this.seed);
    const targets = this.deps.targets();
    this.targetValues = targets.map((t) => t.value);
    return launcherInit({
      sites: this.sites,
      seed: this.seed,
      defaults: this.deps.defaults(),
      targets,
      defaultTarget: this.deps.defaultTarget?.(),
      revision: this.revision,
      // The launcher only opens from commands that need a trusted workspace, and trust is never taken
      // back without a reload: Launch is never blocked while the page shows.
      launchBlocked: null,
      displayPath: this.deps.displayPath,
    });
  }

  async push(): Promise<void> {
    if (!this.dispatcher.ready) return;
    await this.dispatcher.notify('launcher/init', await this.init());
  }

  private env(): LauncherEnv {
    return {
      sites: this.sites,
      targets: this.targetValues,
      sampleMs: this.deps.sampleMs(),
      defaults: this.deps.defaults(),
    };
  }

  preview(form: LauncherForm): LauncherPreview {
    return launcherPreview(form, this.env());
  }

  /** Validates the form again and hands its configs over; answers once handed over, reports the end by notification. */
  async launch(form: LauncherForm): Promise<{ launched: number; target: string }> {
    const plan = launcherPlan(form, this.env());
    if (!plan.ok) throw new Error(`the form has errors:\n${formatLauncherErrors(plan.errors)}`);
    const n = plan.configs.length;
    const what = `${n} config${n === 1 ? '' : 's'} on ${plan.target}`;
    this.log.info(`launcher: launching ${what}`);
    const source = form.source;
    const site = source.kind === 'site' ? this.sites.find((s) => siteId(s) === source.siteId) : undefined;
    let running: Promise<LaunchOutcome>;
    try {
      running = this.deps.launch(plan.configs, plan.target, site);
    } catch (e) {
      throw e instanceof Error ? e : new Error(String(e), { cause: e });
    }
    void this.reportEnd(running, what);
    return { launched: n, target: plan.target };
  }

  /**
   * Reports how the sweep ended, after the launch request's response has gone out (a macrotask later):
   * a sweep that ends at once (cancelled, or nothing could start) must not have its end overwritten on
   * the page by the "launched" answer.
   */
  private async reportEnd(running: Promise<LaunchOutcome>, what: string): Promise<void> {
    let end: { ok: boolean; message: string };
    try {
      end = launchEnd(await running, what);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`launcher: the sweep of ${what} failed: ${message}`);
      end = { ok: false, message: `The sweep of ${what} failed: ${message}` };
    }
    await new Promise((resolve) => setImmediate(resolve));
    await this.dispatcher.notify('launcher/launchResult', end);
  }

  private async openSite(id: string): Promise<void> {
    const site = this.sites.find((s) => siteId(s) === id);
    if (!site) {
      this.log.warn(`launcher: no detected site ${id}`);
      return;
    }
    await this.deps.openSite(site);
  }
}

/** What the Launcher says when a sweep ended: cancelled, some failed, or finished. */
export function launchEnd(outcome: LaunchOutcome, what: string): { ok: boolean; message: string } {
  const { runs, completed, failed, cancelled } = outcome;
  const n = `${runs} run${runs === 1 ? '' : 's'}`;
  if (cancelled > 0)
    return { ok: true, message: `Sweep cancelled (${n}${completed > 0 ? `; ${completed} completed` : ''}).` };
  if (failed > 0) return { ok: false, message: `Finished ${what}: ${failed} of ${n} failed (see the Runs view).` };
  return { ok: true, message: `Finished ${what}.` };
}
