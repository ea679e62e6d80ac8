// Extension tests that run inside a real VS Code (extension host), mocha-free: node:assert and a
// tiny runner. VS Code loads the bundled form of this file as `extensionTestsPath` and calls
// `run()`; a rejected promise fails the run. See runTest.ts for how it is started.
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { COMMANDS, commandId, type CommandName } from "../../src/vscode/commands";

const EXTENSION_ID = "efficientllm.efficientllm-profiler";

interface TestCase {
  readonly name: string;
  readonly fn: () => Promise<void>;
}

const tests: TestCase[] = [];
function test(name: string, fn: () => Promise<void>): void {
  tests.push({ name, fn });
}

async function activated(): Promise<vscode.Extension<unknown>> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not installed in the test instance`);
  await extension.activate();
  return extension;
}

/** The command ids package.json contributes, read without trusting its shape. */
function contributedCommands(extension: vscode.Extension<unknown>): string[] {
  const packageJson: unknown = extension.packageJSON;
  const ids: string[] = [];
  if (typeof packageJson === "object" && packageJson !== null && "contributes" in packageJson) {
    const contributes: unknown = packageJson.contributes;
    if (typeof contributes === "object" && contributes !== null && "commands" in contributes) {
      const commands: unknown = contributes.commands;
      if (Array.isArray(commands)) {
        for (const entry of commands as unknown[]) {
          if (typeof entry === "object" && entry !== null && "command" in entry && typeof entry.command === "string") {
            ids.push(entry.command);
          }
        }
      }
    }
  }
  return ids;
}

test("the extension activates", async () => {
  const extension = await activated();
  assert.equal(extension.isActive, true);
});

test("every contributed command is registered, and every registered one is contributed", async () => {
  const extension = await activated();
  const registered = new Set(await vscode.commands.getCommands(true));
  const contributed = contributedCommands(extension);
  assert.ok(contributed.length >= 10, `expected at least 10 contributed commands, got ${contributed.length}`);
  for (const id of contributed) {
    assert.ok(registered.has(id), `${id} is contributed in package.json but not registered`);
  }
  const table = (Object.keys(COMMANDS) as CommandName[]).map(commandId);
  assert.deepEqual([...table].sort(), [...contributed].sort(), "command table and package.json differ");
});

test("showLog runs without error", async () => {
  await activated();
  await vscode.commands.executeCommand(commandId("showLog"));
});

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      console.log(`  ok   ${name}`);
    } catch (error) {
      failures.push(name);
      console.error(`  FAIL ${name}\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
  console.log(`${tests.length - failures.length}/${tests.length} passed`);
  if (failures.length > 0) {
    throw new Error(`${failures.length} VS Code test(s) failed: ${failures.join("; ")}`);
  }
}
