// The page tests load the built bundle (dist/webview/main.js, main.css); build it when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BUNDLE_DIR = path.join(ROOT, 'dist', 'webview');

const present = (): boolean =>
  existsSync(path.join(BUNDLE_DIR, 'main.js')) && existsSync(path.join(BUNDLE_DIR, 'main.css'));

/** Waits briefly for a build in progress (it empties dist/ first), then builds if still missing. */
export async function ensureBundle(): Promise<void> {
  for (let i = 0; i < 20 && !present(); i++) await new Promise((r) => setTimeout(r, 250));
  if (present()) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !present())
    throw new Error('npm run build failed; the page tests need dist/webview/main.js and main.css');
}

/** The bundle's bytes, read once, so a rebuild during the tests cannot pull it away mid-test. */
export async function loadBundle(): Promise<{ script: Buffer; css: Buffer }> {
  await ensureBundle();
  const [script, css] = await Promise.all([
    readFile(path.join(BUNDLE_DIR, 'main.js')),
    readFile(path.join(BUNDLE_DIR, 'main.css')),
  ]);
  return { script, css };
}
