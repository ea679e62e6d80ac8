// A page inside a simulated VS Code webview, for the launcher and host tests: the HTML shell the
// extension host serves (CSP with a fresh nonce, script and CSS by URI from `cspSource`), a stub
// acquireVsCodeApi that records what the page posts (and, with a bridge, hands it to a host in this
// process), and host messages delivered as `message` events, the way VS Code delivers them.
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { pageHtml } from '../../src/views/reportHtml';
import type { PanelKind } from '../../src/core/webviewProtocol/panels';
import { launch, watch } from './browser';
import type { Browser, PageWatch } from './browser';
import { loadBundle } from './bundle';

export const ORIGIN = 'https://webview.test';

export interface Recorded {
  posted: unknown[];
  state: unknown;
}

/**
 * A stand-in for VS Code's acquireVsCodeApi; postMessage also calls window.__toHost when a bridge
 * exposes it. State survives a reload (sessionStorage), as VS Code keeps a hidden webview's state.
 */
function stubApi(initialState: unknown): string {
  return `(() => {
    const kept = sessionStorage.getItem('__vscodeState');
    const rec = { posted: [], state: kept !== null ? JSON.parse(kept) : ${JSON.stringify(initialState ?? null)}, acquired: 0 };
    if (rec.state === null) rec.state = undefined;
    window.__rec = rec;
    window.acquireVsCodeApi = () => {
      rec.acquired++;
      if (rec.acquired > 1) throw new Error('acquireVsCodeApi called twice');
      return {
        postMessage: (m) => {
          const copy = JSON.parse(JSON.stringify(m));
          rec.posted.push(copy);
          if (typeof window.__toHost === 'function') window.__toHost(copy);
        },
        getState: () => rec.state,
        setState: (s) => {
          rec.state = JSON.parse(JSON.stringify(s));
          sessionStorage.setItem('__vscodeState', JSON.stringify(rec.state));
        },
      };
    };
  })();`;
}

export interface OpenOptions {
  initialState?: unknown;
  /** Receives every message the page posts (a host under test). */
  toHost?: (message: unknown) => void | Promise<void>;
  /** Called with the page before it loads (so a host can answer its first `ready`). */
  onPage?: (page: Page) => void;
}

export interface WebviewPage {
  page: Page;
  watch: PageWatch;
  /** What the page posted so far, and its saved state. */
  recorded(): Promise<Recorded>;
  /** Waits until the page has posted more than `n` messages; returns them all. */
  postedMoreThan(n: number): Promise<unknown[]>;
  /** Delivers a host message as VS Code does: a `message` event on the page's window. */
  fromHost(message: unknown): Promise<void>;
}

export async function openWebviewPage(
  browser: Browser,
  bundle: { script: Buffer; css: Buffer },
  panel: PanelKind,
  options: OpenOptions = {},
): Promise<WebviewPage> {
  const nonce = randomBytes(16).toString('base64');
  const html = pageHtml({
    panel,
    title: `EfficientLLM ${panel}`,
    assets: {
      kind: 'webview',
      cspSource: ORIGIN,
      nonce,
      scriptUri: `${ORIGIN}/dist/main.js`,
      styleUris: [`${ORIGIN}/dist/main.css`],
    },
  });
  const page = await browser.context.newPage();
  options.onPage?.(page);
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') return route.fulfill({ contentType: 'text/html', body: html });
    if (url.pathname === '/dist/main.js') return route.fulfill({ contentType: 'text/javascript', body: bundle.script });
    if (url.pathname === '/dist/main.css') return route.fulfill({ contentType: 'text/css', body: bundle.css });
    return route.fulfill({ status: 404, body: '' });
  });
  const w = await watch(page);
  const toHost = options.toHost;
  if (toHost) await page.exposeFunction('__toHost', (m: unknown) => void toHost(m));
  // A string, not a function: tsx's transform would add helpers the page does not have.
  await page.addInitScript({ content: stubApi(options.initialState) });
  await page.goto(`${ORIGIN}/index.html`);
  return {
    page,
    watch: w,
    recorded: () => recorded(page),
    async postedMoreThan(n: number) {
      await page.waitForFunction((k) => (window as unknown as { __rec: Recorded }).__rec.posted.length > k, n);
      return (await recorded(page)).posted;
    },
    fromHost: (message: unknown) => fromHost(page, message),
  };
}

/** What `page` posted so far, and its saved state. */
export function recorded(page: Page): Promise<Recorded> {
  return page.evaluate(() => (window as unknown as { __rec: Recorded }).__rec);
}

/** Delivers a host message to `page` as VS Code does: a `message` event on its window. */
export function fromHost(page: Page, message: unknown): Promise<void> {
  return page.evaluate((m) => window.postMessage(m, '*'), message);
}

export interface PageSuite {
  /** Opens `panel` in the suite's browser with the suite's bundle. */
  open(panel: PanelKind, options?: OpenOptions): Promise<WebviewPage>;
}

/** Chromium and the built bundle for the tests of the enclosing describe(): started before them, closed after. */
export function pageSuite(): PageSuite {
  let browser: Browser | undefined;
  let bundle: { script: Buffer; css: Buffer } | undefined;
  before(async () => {
    bundle = await loadBundle();
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  return {
    open(panel, options) {
      if (!browser || !bundle) throw new Error('pageSuite: open() before the suite started');
      return openWebviewPage(browser, bundle, panel, options);
    },
  };
}
