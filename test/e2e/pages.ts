// What every e2e suite needs besides code-server itself (codeServer.ts): the packaged extension to
// install, and the webview frame a panel rendered in.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { REPO, sleep } from './codeServer';

/** The .vsix to install: $EFFICIENTLLM_VSIX, else `npm run package` builds efficientllm-profiler.vsix. */
export function packagedVsix(log: (message: string) => void = () => undefined): string {
  if (process.env.EFFICIENTLLM_VSIX) return path.resolve(process.env.EFFICIENTLLM_VSIX);
  const started = Date.now();
  const result = spawnSync('npm', ['run', '--silent', 'package'], { cwd: REPO, encoding: 'utf8', timeout: 180_000 });
  assert.equal(result.status, 0, `npm run package failed:\n${result.stdout}\n${result.stderr}`);
  const vsix = path.join(REPO, 'efficientllm-profiler.vsix');
  const found = existsSync(vsix)
    ? vsix
    : readdirSync(REPO)
        .filter((f) => f.endsWith('.vsix'))
        .map((f) => path.join(REPO, f))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  assert.ok(found, 'npm run package wrote no .vsix');
  log(
    `npm run package: ${path.basename(found)} (${(statSync(found).size / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`,
  );
  return found;
}

/** The webview frame whose page says it rendered `kind` (`<html data-rendered=…>`, set by webview/*.ts). */
export async function webviewFrame(page: Page, kind: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const rendered = await frame.evaluate(() => document.documentElement.dataset.rendered).catch(() => undefined);
      if (rendered === kind) return frame;
    }
    if (Date.now() > deadline) throw new Error(`no webview rendered "${kind}" within ${timeoutMs} ms`);
    await sleep(200);
  }
}
