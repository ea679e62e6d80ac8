import * as vscode from 'vscode';
import { PRECISIONS, type FieldError, type Precision } from '../core/config';
import { LOCAL_TARGET_NAME, validateTargetSettings, type TargetSetting } from './targetSettings';

/** The sweep the user stored in `efficientllm.defaultSweep`; each list is one axis of a product. */
export interface DefaultSweepSetting {
  readonly preset?: string;
  readonly attention?: readonly string[];
  readonly stage?: string;
  readonly precision?: readonly string[];
  readonly batch?: number;
  readonly seqLen?: number;
  readonly newTokens?: number;
  readonly steps?: number;
  readonly warmup?: number;
}

/** Our settings, without the "efficientllm." prefix. */
export type SettingKey =
  | 'pythonPath'
  | 'sampleIntervalMs'
  | 'codeLens.enabled'
  | 'defaultSweep'
  | 'targets'
  | 'defaultTarget'
  | 'isolateRuns'
  | 'fitCheck';

/** A change of our settings: `affects('targets')` says whether that setting changed. */
export interface ConfigChange {
  affects(key: SettingKey): boolean;
}

const SECTION = 'efficientllm';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The one reader of the `efficientllm.*` settings: typed getters, and the one change event every
 * feature listens to. Values are read on access, so a change applies on the next use (none needs a
 * restart). `efficientllm.targets` is parsed once per change, with targetSettings.ts's rules, and its
 * problems are reported once.
 */
export class Config implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ConfigChange>();
  /** Fired after one of our settings changed. */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private parsedTargets: { targets: TargetSetting[]; errors: FieldError[] } | undefined;

  /** `reportProblem` gets each problem of `efficientllm.targets` once per change of the setting. */
  constructor(private readonly reportProblem: (message: string) => void) {
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      if (e.affectsConfiguration(`${SECTION}.targets`)) this.parsedTargets = undefined;
      this.changed.fire({ affects: (key) => e.affectsConfiguration(`${SECTION}.${key}`) });
    });
  }

  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /** Interpreter that runs the harness on this machine; must be able to `import torch`. */
  get pythonPath(): string {
    const value = this.section.get<string>('pythonPath', 'python3').trim();
    return value === '' ? 'python3' : value;
  }

  /** Sets `efficientllm.pythonPath` where it is set now (the workspace's settings, else the user's). */
  async setPythonPath(value: string): Promise<void> {
    const inspected = this.section.inspect<string>('pythonPath');
    const where =
      inspected?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : inspected?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    await this.section.update('pythonPath', value, where);
  }

  get sampleIntervalMs(): number {
    const value = this.section.get<number>('sampleIntervalMs', 50);
    return Number.isFinite(value) && value > 0 ? value : 50;
  }

  get codeLensEnabled(): boolean {
    return this.section.get<boolean>('codeLens.enabled', true);
  }

  get defaultSweep(): DefaultSweepSetting {
    const value = this.section.get<unknown>('defaultSweep');
    return isObject(value) ? (value as DefaultSweepSetting) : {};
  }

  /** The first precision of the default sweep: what CodeLens estimates use when a site names none. */
  get defaultPrecision(): Precision {
    const first = this.defaultSweep.precision?.[0];
    return (PRECISIONS as readonly unknown[]).includes(first) ? (first as Precision) : 'bf16';
  }

  /** `efficientllm.targets`, validated; the entries with problems are left out (and reported once). */
  get targets(): { targets: TargetSetting[]; errors: FieldError[] } {
    if (this.parsedTargets === undefined) {
      this.parsedTargets = validateTargetSettings(this.section.get<unknown>('targets', []));
      for (const e of this.parsedTargets.errors) this.reportProblem(`settings: ${e.field}: ${e.message}`);
    }
    return this.parsedTargets;
  }

  /** The raw list, to append to (Add target…). */
  get rawTargets(): unknown[] {
    const value = this.section.get<unknown>('targets', []);
    return Array.isArray(value) ? [...(value as unknown[])] : [];
  }

  async setTargets(value: unknown[]): Promise<void> {
    await this.section.update('targets', value, vscode.ConfigurationTarget.Global);
  }

  /** Name of the target runs go to when none is picked; "local" by default. */
  get defaultTarget(): string {
    const value = this.section.get<string>('defaultTarget', LOCAL_TARGET_NAME).trim();
    return value === '' ? LOCAL_TARGET_NAME : value;
  }

  /** One harness process per config (slower start, nothing shared between configs). */
  get isolateRuns(): boolean {
    return this.section.get<boolean>('isolateRuns', false);
  }

  /** Refuse configs whose estimated memory floor exceeds the target's device memory (core/fit.ts); on by default. */
  get fitCheck(): boolean {
    return this.section.get<boolean>('fitCheck', true) !== false;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
