// Runs suite.ts inside a downloaded VS Code with @vscode/test-electron.
//
//   npm run build && node --import tsx test/vscode/runTest.ts
//
// Needs network access to download VS Code and a display (xvfb-run on Linux). Machines without
// that (like the project's CI) run the same suite in code-server instead: run-in-code-server.ts
// (`npm run test:vscode`, see test/e2e/README.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { runTests } from '@vscode/test-electron';
import { suiteWorkspace } from './workspace';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  // Inside dist/ (dist/test/ → ../harness): the suite's own imports of the run code find the
  // harness package the way the extension's do. `npm run build` and `npm run package` empty dist/ first.
  const suite = path.join(root, 'dist/test/suite.js');
  // VS Code loads plain CommonJS: bundle the suite, leaving `vscode` to the extension host.
  await build({
    absWorkingDir: root,
    entryPoints: ['test/vscode/suite.ts'],
    outfile: suite,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    external: ['vscode', 'cpu-features', '*.node'],
  });
  const tmp = mkdtempSync(path.join(tmpdir(), 'efficientllm-electron-'));
  try {
    const workspace = suiteWorkspace(path.join(tmp, 'workspace'));
    await runTests({
      extensionDevelopmentPath: root,
      extensionTestsPath: suite,
      launchArgs: [
        workspace,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--user-data-dir',
        path.join(tmp, 'user-data'),
      ],
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`VS Code tests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
