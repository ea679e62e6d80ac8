// The HTML shell of every results page, for both places it lives (pure; no I/O):
//  - a VS Code webview: script and CSS by URI (`webview.asWebviewUri`), the webview-sample CSP
//    `default-src 'none'; style-src ${cspSource}; img-src ${cspSource} data:; script-src 'nonce-…'`
//    with a fresh nonce per render from crypto.randomBytes (the host's job); data arrives later by
//    postMessage after the page's `ready`.
//  - the static report of `efficientllm report --html`: one self-contained file, the bundled page
//    script and CSS inlined and allowed by their SHA-256 hashes (a static file cannot keep a nonce
//    secret, a hash allows exactly that text and nothing an injection could add), the data inlined as
//    JSON in `<script type="application/json">` with every `<` written \u003c so no run label can close
//    the element.
// Nothing from a run (labels, device names, errors, paths) is put into the markup except inside
// that JSON; the page renders it with textContent.
import { createHash } from 'node:crypto';
import { INLINE_DATA_ELEMENT_ID } from '../core/webviewProtocol/panels';
import type { PanelKind } from '../core/webviewProtocol/panels';

export type PageAssets =
  | {
      kind: 'webview';
      /** `webview.cspSource`. */
      cspSource: string;
      /** Base64 from crypto.randomBytes(16 or more), new for every render. */
      nonce: string;
      scriptUri: string;
      styleUris: readonly string[];
    }
  | {
      kind: 'inline';
      /** The bundled page script (dist/webview/main.js). */
      script: string;
      /** CSS texts (dist/webview/main.css). */
      styles: readonly string[];
      /** The payload the page renders (a DashboardData for the dashboard). */
      data: unknown;
    };

export interface PageOptions {
  panel: PanelKind;
  title: string;
  assets: PageAssets;
}

/** Text for an HTML text node or a double-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON for a `<script type="application/json">` element: `<` as \u003c, so neither `</script>` nor
 * `<!--` can appear; U+2028/2029 escaped too. JSON.parse of the element's text gives `value` back.
 */
export function jsonForScriptElement(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * A bundled script made safe to sit inside `<script>…</script>`: its source-map comment dropped (the
 * map is not shipped in the file), and `</script` and `<!--` broken up. In a bundle these occur only
 * inside strings, regular expressions and comments, where `<\/` and `<\!` mean the same text.
 */
export function scriptForInlining(script: string): string {
  return script
    .replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n')
    .replace(/<\/(script)/gi, '<\\/$1')
    .replace(/<!--/g, '<\\!--');
}

/** CSS made safe to sit inside `<style>…</style>`. */
export function styleForInlining(css: string): string {
  return css.replace(/\n\/\*# sourceMappingURL=\S*\s*\*\/\s*$/, '\n').replace(/<\/(style)/gi, '<\\/$1');
}

/** Text for a double-quoted attribute value (quotes of CSP keywords such as 'none' stay readable). */
export function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The CSP source for exactly this text: `'sha256-…'`. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const NONCE = /^[A-Za-z0-9+/_-]{16,}={0,2}$/;

/** The Content-Security-Policy of a page. */
export function pageCsp(assets: PageAssets): string {
  if (assets.kind === 'webview') {
    if (!NONCE.test(assets.nonce)) throw new Error('webview nonce must be base64 of at least 12 random bytes');
    const src = assets.cspSource;
    return `default-src 'none'; style-src ${src}; img-src ${src} data:; script-src 'nonce-${assets.nonce}'; base-uri 'none'; form-action 'none'`;
  }
  const styles = assets.styles.map((s) => cspHash(styleForInlining(s))).join(' ');
  const script = cspHash(scriptForInlining(assets.script));
  return `default-src 'none'; style-src ${styles || "'none'"}; img-src data:; script-src ${script}; base-uri 'none'; form-action 'none'`;
}

/** The whole page. */
export function pageHtml(options: PageOptions): string {
  const { assets } = options;
  const csp = pageCsp(assets);
  const head: string[] = [
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${escapeHtml(options.title)}</title>`,
  ];
  const body: string[] = [
    `<main id="app" aria-busy="true"><p class="loading">Loading ${escapeHtml(options.panel)}…</p>`,
    '<noscript><p>This page draws its charts with JavaScript; enable it to see the results.</p></noscript></main>',
  ];
  if (assets.kind === 'webview') {
    for (const uri of assets.styleUris) head.push(`<link rel="stylesheet" href="${escapeHtml(uri)}">`);
    body.push(`<script nonce="${escapeHtml(assets.nonce)}" src="${escapeHtml(assets.scriptUri)}"></script>`);
  } else {
    for (const css of assets.styles) head.push(`<style>${styleForInlining(css)}</style>`);
    body.push(
      `<script type="application/json" id="${INLINE_DATA_ELEMENT_ID}">${jsonForScriptElement(assets.data)}</script>`,
    );
    body.push(`<script>${scriptForInlining(assets.script)}</script>`);
  }
  // The standalone class turns on the CSS fallbacks for VS Code's theme variables (light and dark).
  const htmlClass = assets.kind === 'inline' ? ' class="standalone"' : '';
  return [
    '<!DOCTYPE html>',
    `<html lang="en"${htmlClass}>`,
    `<head>\n${head.join('\n')}\n</head>`,
    `<body data-panel="${escapeHtml(options.panel)}">\n${body.join('\n')}\n</body>`,
    '</html>',
    '',
  ].join('\n');
}

/** The static report: the dashboard page with everything inlined. */
export function reportHtml(options: { title: string; script: string; css: string; data: unknown }): string {
  return pageHtml({
    panel: 'dashboard',
    title: options.title,
    assets: { kind: 'inline', script: options.script, styles: [options.css], data: options.data },
  });
}
