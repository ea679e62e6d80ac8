// Runs suite.ts inside a downloaded VS Code with @vscode/test-electron.
//
//   npm run build && node --import tsx test/vscode/runTest.ts
//
// Needs network access to download VS Code and a display (xvfb-run on Linux). Machines without
// that (like the project's CI) run the same kind of checks in code-server instead; see README.
import * as path from "node:path";
import { build } from "esbuild";
import { runTests } from "@vscode/test-electron";

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "../..");
  const suite = path.join(root, "dist/test/vscode/suite.js");
  // VS Code loads plain CommonJS: bundle the suite, leaving `vscode` to the extension host.
  await build({
    absWorkingDir: root,
    entryPoints: ["test/vscode/suite.ts"],
    outfile: suite,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    sourcemap: true,
    external: ["vscode"],
  });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: suite,
    launchArgs: ["--disable-extensions", "--disable-workspace-trust"],
  });
}

main().catch((error: unknown) => {
  console.error(`VS Code tests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
