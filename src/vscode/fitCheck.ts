// The preflight by estimate (core/fit.ts) as the extension runs it, free of `vscode` so a unit test
// can drive it through sweep.ts: the target's device memory found without starting the harness
// (run/deviceMemory.ts), what was not checked written to the log, and the way to try anyway named
// as the setting the user changes in the editor, where the CLI says --no-fit-check.
import type { FitCheck } from '../core/fit';
import { targetDeviceMemory } from '../run/deviceMemory';
import type { TargetSpec } from '../run/targets';

export const FIT_CHECK_SETTING = 'efficientllm.fitCheck';

export function editorFitCheck(
  spec: TargetSpec,
  env: NodeJS.ProcessEnv,
  log: { info(message: string): void },
  /** Where the device memory comes from; the real lookup by default (a test passes a known size). */
  memory: FitCheck['memory'] = () => targetDeviceMemory(spec, env),
): FitCheck {
  return {
    memory,
    log: (line) => log.info(`fit check: ${line}`),
    override: `set ${FIT_CHECK_SETTING} to false`,
  };
}
