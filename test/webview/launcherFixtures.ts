// The launcher inputs that test/unit/launcherData.test.ts and launcher.test.ts (the page) share.
import type { ModelSite, SiteDetails } from '../../src/detect/site';

/** The `efficientllm.defaultSweep` settings the launcher tests start from. */
export const LAUNCHER_SETTINGS = {
  preset: 'tiny',
  attention: ['mha', 'gqa', 'mqa'],
  stage: 'inference',
  precision: ['fp32'],
};

/** The GQA attention site at models/llama.py:12, with the shape each test needs. */
export function llamaAttentionSite(details: SiteDetails): ModelSite {
  return { file: 'models/llama.py', line: 12, kind: 'attention', attention: 'gqa', name: 'LlamaAttention', details };
}
