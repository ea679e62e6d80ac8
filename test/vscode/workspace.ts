// The workspace folder suite.ts expects, shared by both launchers (runTest.ts, run-in-code-server.ts):
// copies of fixture models under models/ and .vscode/settings.json with a Python that has torch and
// a tiny default sweep.
import * as path from 'node:path';
import { REPO, TINY_SWEEP, makeWorkspace, torchPython } from '../e2e/codeServer';

export function suiteWorkspace(root: string): string {
  return makeWorkspace(
    root,
    {
      'models/mqa_model.py': path.join(REPO, 'test/fixtures/models/config_driven/mqa_model.py'),
      'models/modeling_llama.py': path.join(REPO, 'test/fixtures/models/hf/modeling_llama.py'),
    },
    { 'efficientllm.pythonPath': torchPython(), 'efficientllm.defaultSweep': TINY_SWEEP },
  );
}
