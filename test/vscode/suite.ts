// Extension tests that run inside a real VS Code (extension host), mocha-free: node:assert and a
// tiny runner. VS Code loads the bundled form of this file as `extensionTestsPath` and calls
// `run()`; a rejected promise fails the run. Two launchers start it: runTest.ts (@vscode/test-electron,
// a downloaded VS Code) and run-in-code-server.ts (code-server's Node extension host, used in CI here).
//
// The workspace both open holds copies of fixture models under models/ and a .vscode/settings.json
// with `efficientllm.pythonPath` (a Python with torch) and a tiny `efficientllm.defaultSweep`.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { expandSweep, type SweepAxes } from '../../src/core/sweep';
import { COMMANDS, commandId, type CommandName } from '../../src/vscode/commands';
import type { ExtensionApi } from '../../src/extension';

const EXTENSION_ID = 'efficientllm.efficientllm-profiler';

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
  if (typeof packageJson === 'object' && packageJson !== null && 'contributes' in packageJson) {
    const contributes: unknown = packageJson.contributes;
    if (typeof contributes === 'object' && contributes !== null && 'commands' in contributes) {
      const commands: unknown = contributes.commands;
      if (Array.isArray(commands)) {
        for (const entry of commands as unknown[]) {
          if (typeof entry === 'object' && entry !== null && 'command' in entry && typeof entry.command === 'string') {
            ids.push(entry.command);
          }
        }
      }
    }
  }
  return ids;
}

/** What activate() returned: the extension's context and its feature objects (the profiler, the panels). */
async function api(): Promise<ExtensionApi> {
  const extension = await activated();
  const exports: unknown = extension.exports;
  assert.ok(
    typeof exports === 'object' && exports !== null && 'ctx' in exports && 'profiler' in exports,
    'activate() returns the extension context and its features (ctx, profiler)',
  );
  return exports as ExtensionApi;
}

function workspaceRoot(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test instance has a workspace folder open');
  return folder.uri;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes; returns the last value. */
async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

test('the extension activates', async () => {
  const extension = await activated();
  assert.equal(extension.isActive, true);
});

test('every contributed command is registered, and every registered one is contributed', async () => {
  const extension = await activated();
  const registered = new Set(await vscode.commands.getCommands(true));
  const contributed = contributedCommands(extension);
  assert.ok(contributed.length >= 10, `expected at least 10 contributed commands, got ${contributed.length}`);
  for (const id of contributed) {
    assert.ok(registered.has(id), `${id} is contributed in package.json but not registered`);
  }
  const table = (Object.keys(COMMANDS) as CommandName[]).map(commandId);
  assert.deepEqual([...table].sort(), [...contributed].sort(), 'command table and package.json differ');
});

test('showLog runs without error', async () => {
  await activated();
  await vscode.commands.executeCommand(commandId('showLog'));
});

test('CodeLens on a fixture model offers Profile variants… and Estimate…', async () => {
  await activated();
  const uri = vscode.Uri.joinPath(workspaceRoot(), 'models', 'mqa_model.py');
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc);
  assert.equal(doc.languageId, 'python');
  // The parser (WASM) loads on first use: the first answer may come before it is ready.
  const titles = await waitFor(
    async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
        100,
      );
      const t = (lenses ?? []).map((l) => l.command?.title ?? '');
      return t.some((x) => x.includes('Profile variants')) ? t : undefined;
    },
    30_000,
    'a Profile variants… CodeLens on models/mqa_model.py',
  );
  assert.ok(
    titles.some((t) => t.includes('Estimate')),
    `an Estimate… lens: ${JSON.stringify(titles)}`,
  );
  // Each detected site (MultiQueryAttention at line 15, GroupedAttention at line 37) gets its own.
  assert.ok(
    titles.filter((t) => t.includes('Profile variants')).length >= 2,
    `one Profile variants… per site: ${JSON.stringify(titles)}`,
  );
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
  const lines = [
    ...new Set(lenses.filter((l) => l.command?.title.includes('Profile variants')).map((l) => l.range.start.line + 1)),
  ];
  assert.deepEqual(
    lines.sort((a, b) => a - b),
    [15, 37],
  );
});

test('a profile on the local target is stored and reaches the Runs view', async () => {
  const { ctx, profiler } = await api();
  const python = vscode.workspace.getConfiguration('efficientllm').get<string>('pythonPath');
  assert.ok(python, 'efficientllm.pythonPath is set in the test workspace');
  const axes: SweepAxes = { preset: ['tiny'], attention: ['gqa'], stage: ['inference'], precision: ['fp32'] };
  const sweep = expandSweep({ model: { preset: 'tiny' }, workload: { steps: 3, warmup: 1 } }, axes);
  assert.ok(sweep.ok, 'the tiny sweep expands');
  assert.equal(sweep.configs.length, 1);
  const started = Date.now();
  const result = await profiler.run(sweep.configs, { kind: 'local', python });
  assert.ok(result, 'the profiler ran (the test workspace is trusted)');
  const { records } = result;
  assert.equal(records.length, 1);
  const [record] = records;
  assert.equal(record.status, 'completed', `run ${record.id}: ${JSON.stringify(record.error)}`);
  assert.equal(record.target.kind, 'local');
  assert.ok(record.metrics.latencyS === null || record.metrics.latencyS > 0);
  console.log(`    profiled ${record.config.label} on local in ${Date.now() - started} ms: run ${record.id}`);

  // Stored in the workspace, where the CLI and teammates find it.
  const file = path.join(workspaceRoot().fsPath, '.efficientllm', 'runs', `${record.id}.json`);
  assert.ok(existsSync(file), `${file} exists`);
  const listed = await ctx.requireStore().list();
  assert.ok(
    listed.runs.some((r) => r.id === record.id),
    'the store lists the run',
  );

  // The Runs view draws ctx.runs: the finished run is there with the completed icon.
  const item = await waitFor(
    () => ctx.runs.items().find((i) => i.id === record.id && i.icon === 'pass'),
    5_000,
    'the run in the Runs view',
  );
  assert.match(item.label, /tiny/);
  assert.equal(ctx.runs.active.size, 0, 'no run is left active');
  // The view itself can be shown (its container and provider are registered).
  await vscode.commands.executeCommand('efficientllm.runs.focus');
});

test('Show results opens the dashboard for a stored run', async () => {
  const { ctx } = await api();
  const run = ctx.runs.all.find((r) => r.status === 'completed');
  assert.ok(run, 'a completed run is stored (previous test)');
  const before = new Set(webviewTabs());
  await vscode.commands.executeCommand(commandId('showResults'), run.id);
  const opened = await waitFor(
    () => {
      const now = webviewTabs().filter((t) => !before.has(t));
      return now.length > 0 ? now : undefined;
    },
    15_000,
    'a dashboard webview tab',
  );
  console.log(`    dashboard tab: ${opened.join(', ')}`);
});

test('commands that run code are gated on workspace trust in package.json, and refused in code when untrusted', async () => {
  const extension = await activated();
  const packageJson = extension.packageJSON as {
    contributes: { commands: { command: string; enablement?: string }[] };
  };
  for (const [name, spec] of Object.entries(COMMANDS) as [CommandName, (typeof COMMANDS)[CommandName]][]) {
    const entry = packageJson.contributes.commands.find((c) => c.command === commandId(name));
    assert.ok(entry, `${name} is contributed`);
    if (spec.runsCode)
      assert.match(
        entry.enablement ?? '',
        /isWorkspaceTrusted/,
        `${name} runs code: its enablement names isWorkspaceTrusted`,
      );
  }
  if (!vscode.workspace.isTrusted) {
    const { profiler } = await api();
    assert.equal(
      await profiler.run([], { kind: 'local', python: 'python3' }),
      undefined,
      'the profiler refuses in an untrusted workspace',
    );
  }
});

test('the sidebar views and the settings are contributed, each setting with a description', async () => {
  const extension = await activated();
  for (const view of ['efficientllm.targets', 'efficientllm.runs', 'efficientllm.recommendations']) {
    await vscode.commands.executeCommand(`${view}.focus`);
  }
  const props = (
    extension.packageJSON as {
      contributes: {
        configuration: { properties: Record<string, { description?: string; markdownDescription?: string }> };
      };
    }
  ).contributes.configuration.properties;
  for (const key of [
    'pythonPath',
    'sampleIntervalMs',
    'codeLens.enabled',
    'defaultSweep',
    'targets',
    'defaultTarget',
    'isolateRuns',
  ]) {
    const p = props[`efficientllm.${key}`];
    assert.ok(p, `efficientllm.${key} is contributed`);
    assert.ok((p.description ?? p.markdownDescription ?? '').length > 0, `efficientllm.${key} has a description`);
  }
});

test('efficientllm.codeLens.enabled = false removes the lenses', async () => {
  await activated();
  const uri = vscode.Uri.joinPath(workspaceRoot(), 'models', 'mqa_model.py');
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  const ours = async (): Promise<number> => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
    return (lenses ?? []).filter(
      (l) => l.command?.command.startsWith('efficientllm.') || l.command?.title.includes('Profile variants'),
    ).length;
  };
  await waitFor(async () => ((await ours()) > 0 ? true : undefined), 30_000, 'lenses before turning them off');
  const config = vscode.workspace.getConfiguration('efficientllm');
  await config.update('codeLens.enabled', false, vscode.ConfigurationTarget.Workspace);
  try {
    await waitFor(
      async () => ((await ours()) === 0 ? true : undefined),
      10_000,
      'no EfficientLLM lenses with the setting off',
    );
  } finally {
    await config.update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Workspace);
  }
});

test('Recommend opens a Markdown document with the report', async () => {
  await activated();
  await vscode.commands.executeCommand(commandId('recommend'));
  const doc = await waitFor(
    () => {
      const d = vscode.window.activeTextEditor?.document;
      return d && d.languageId === 'markdown' && d.getText().startsWith('# EfficientLLM recommendations')
        ? d
        : undefined;
    },
    10_000,
    'the recommendations document',
  );
  assert.match(doc.getText(), /run\(s\) in/);
});

/** Labels of the open webview editor tabs. */
function webviewTabs(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) =>
    g.tabs.filter((t) => t.input instanceof vscode.TabInputWebview).map((t) => t.label),
  );
}

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
    throw new Error(`${failures.length} VS Code test(s) failed: ${failures.join('; ')}`);
  }
}
