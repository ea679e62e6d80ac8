// Headless Debian Chromium driven by playwright-core, with its own profile folder (HOME and XDG dirs
// inside it, so nothing is written to the real home), for the page tests.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';

export const CHROMIUM = process.env.EFFICIENTLLM_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} is missing (Debian: apt-get install chromium; scripts/setup.sh installs it as root)`;
}

export interface Browser {
  context: BrowserContext;
  profile: string;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'efficientllm-chromium-'));
  const home = path.join(profile, 'home');
  const context = await chromium.launchPersistentContext(path.join(profile, 'user-data'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
    },
    viewport: { width: 1200, height: 900 },
    acceptDownloads: true,
  });
  return {
    context,
    profile,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What a page reported: CSP violations (from the securitypolicyviolation event), errors and console errors. */
export interface PageWatch {
  violations(): Promise<{ directive: string; blocked: string; sample: string }[]>;
  errors: string[];
}

/** Records CSP violations from the first script on, and page errors, for `page`. */
export async function watch(page: Page): Promise<PageWatch> {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: { directive: string; blocked: string; sample: string }[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      w.__csp.push({ directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample });
    });
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return {
    errors,
    violations: () =>
      page.evaluate(
        () => (window as unknown as { __csp: { directive: string; blocked: string; sample: string }[] }).__csp,
      ),
  };
}

/** Per canvas id: how many pixels differ from the corner pixel (the painted background). */
export function inkedPixels(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    document.querySelectorAll('canvas').forEach((c) => {
      const ctx = c.getContext('2d');
      if (!ctx || c.width === 0 || c.height === 0) {
        out[c.id] = 0;
        return;
      }
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      const [r, g, b, a] = [data[0], data[1], data[2], data[3]];
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (
          Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) + Math.abs(data[i + 3] - a) >
          30
        )
          n++;
      }
      out[c.id] = n;
    });
    return out;
  });
}
