import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type * as Runtime from '../run/lazy';

let loaded: typeof Runtime | undefined;

/**
 * The run code that reaches ssh2 (target factory, preflight probe), loaded on first use from its own
 * bundle, dist/run.js: activation stays below its 50 ms budget because it never compiles the SSH
 * client. Looked up beside this bundle (dist/extension.js), or from a test suite bundled under
 * dist/test/; from source (tsx) it is src/run/lazy.ts.
 */
export function runtime(): typeof Runtime {
  if (loaded) return loaded;
  const candidates = [
    path.join(__dirname, 'run.js'),
    path.join(__dirname, '..', 'run.js'),
    path.join(__dirname, '..', '..', 'run.js'),
    path.join(__dirname, '..', 'run', 'lazy.ts'),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (file === undefined)
    throw new Error(
      `the extension's run bundle is missing (looked for ${candidates[0]}); reinstall the extension or run npm run build`,
    );
  // A computed path on purpose: esbuild must not pull the run bundle into dist/extension.js.
  const load: (id: string) => unknown = require;
  loaded = load(file) as typeof Runtime;
  return loaded;
}
