import * as vscode from 'vscode';
import type { FieldError, Precision } from '../core/config';
import { isPrecision } from './siteEstimate';
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

const SECTION = 'efficientllm';

/**
 * Typed getters over the `efficientllm.*` settings. Values are read on every access, so a change
 * takes effect on the next use; none of them needs a restart today (see `needsRestart`).
 */
export class Config {
  /** Settings whose change only applies after a window reload. Empty for now, kept explicit. */
  static readonly needsRestart: readonly string[] = [];

  private get section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /** Interpreter that runs the harness on this machine; must be able to `import torch`. */
  get pythonPath(): string {
    const value = this.section.get<string>('pythonPath', 'python3').trim();
    return value === '' ? 'python3' : value;
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
    return isPrecision(first) ? first : 'bf16';
  }

  /** `efficientllm.targets`, validated; the entries with problems are left out and reported. */
  get targets(): { targets: TargetSetting[]; errors: FieldError[] } {
    return validateTargetSettings(this.section.get<unknown>('targets', []));
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

  /** True when the change event touches one of our settings (optionally a specific one). */
  static affects(event: vscode.ConfigurationChangeEvent, key?: string): boolean {
    return event.affectsConfiguration(key === undefined ? SECTION : `${SECTION}.${key}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
