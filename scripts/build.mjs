// One esbuild script for every bundle, so `npm run build` is the only build step.
//   dist/extension.js      VS Code extension host (node, cjs, `vscode` provided by the host)
//   dist/cli.js            the command-line twin (node, cjs, executable with a shebang)
//   dist/webview/main.js   browser code of the panels (iife, no node APIs)
//   dist/harness/...       the Python harness, copied as-is: it is uploaded to GPU machines
// Type errors are not esbuild's job: `npm run typecheck` runs tsc.
import { build } from 'esbuild';
import { chmod, cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const production = process.argv.includes('--production');

/** @type {import("esbuild").BuildOptions} */
const common = {
  absWorkingDir: root,
  bundle: true,
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  target: 'es2022',
};

// ssh2 tries two optional native add-ons inside try/catch and falls back to pure JS; leave them
// out of the bundle so the .vsix and dist/cli.js need no node_modules and no compiler.
const optionalNative = ['cpu-features', '*.node'];

const bundles = [
  {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', ...optionalNative],
  },
  {
    // The run code that reaches ssh2, loaded by the extension on first use (src/vscode/runtime.ts),
    // so activation never compiles the SSH client.
    ...common,
    entryPoints: ['src/run/lazy.ts'],
    outfile: 'dist/run.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', ...optionalNative],
  },
  {
    ...common,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // The CLI never loads the editor API; keeping it external makes an accidental import fail
    // at run time with a clear "Cannot find module 'vscode'" instead of bundling a stub.
    external: ['vscode', ...optionalNative],
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
    platform: 'browser',
    format: 'iife',
    // Always minified: `efficientllm report --html` inlines this file (chart.js + Lit) into each report.
    minify: true,
  },
  {
    ...common,
    entryPoints: ['media/webview.css'],
    outfile: 'dist/webview/main.css',
    minify: true,
  },
];

async function exists(p) {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Copy the harness package's .py files (no __pycache__, no tests) next to the bundles. */
async function copyHarness() {
  const from = path.join(root, 'src/harness/efficientllm_harness');
  const to = path.join(dist, 'harness/efficientllm_harness');
  await rm(to, { recursive: true, force: true });
  if (!(await exists(from))) {
    console.warn(`build: ${path.relative(root, from)} does not exist yet; no harness copied`);
    return 0;
  }
  let copied = 0;
  async function walk(dir, rel) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '__pycache__') continue;
      const src = path.join(dir, entry.name);
      const dst = path.join(to, rel, entry.name);
      if (entry.isDirectory()) {
        await walk(src, path.join(rel, entry.name));
      } else if (entry.isFile() && entry.name.endsWith('.py')) {
        await mkdir(path.dirname(dst), { recursive: true });
        await cp(src, dst);
        copied++;
      }
    }
  }
  await walk(from, '');
  return copied;
}

/** The Python parser's WebAssembly (src/detect/pythonParser.ts loads it from beside the bundle). */
async function copyParserWasm() {
  const files = [
    ['node_modules/web-tree-sitter/web-tree-sitter.wasm', 'web-tree-sitter.wasm'],
    ['node_modules/tree-sitter-python/tree-sitter-python.wasm', 'tree-sitter-python.wasm'],
  ];
  for (const [from, name] of files) await cp(path.join(root, from), path.join(dist, name));
}

async function main() {
  const started = Date.now();
  await rm(dist, { recursive: true, force: true });
  await Promise.all(bundles.map((options) => build(options)));
  await chmod(path.join(dist, 'cli.js'), 0o755);
  const harnessFiles = await copyHarness();
  await copyParserWasm();
  const ms = Date.now() - started;
  console.log(
    `build: dist/extension.js, dist/run.js, dist/cli.js, dist/webview/main.{js,css}, ${harnessFiles} harness file(s) in ${ms} ms`,
  );
}

main().catch((error) => {
  // esbuild has already printed its diagnostics; say which step failed and exit non-zero.
  console.error(`build failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  process.exit(1);
});
