import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { CliIo } from '../../src/cli/io';
import { UsageError } from '../../src/cli/io';
import { reportCommand } from '../../src/cli/report';
import {
  cspHash,
  escapeHtml,
  jsonForScriptElement,
  pageCsp,
  pageHtml,
  reportHtml,
  scriptForInlining,
} from '../../src/views/reportHtml';
import { RunStore } from '../../src/run/store';
import { ensureBundle } from '../webview/bundle';
import { HOSTILE, hostileSweep } from '../webview/fixtures';

const NONCE = 'c2VjcmV0LW5vbmNlLTEyMzQ1Ng==';

test('webview shell: the webview-sample CSP with the nonce; resources by URI; no data in the markup', () => {
  const html = pageHtml({
    panel: 'dashboard',
    title: `Results ${HOSTILE.script}`,
    assets: {
      kind: 'webview',
      cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
      nonce: NONCE,
      scriptUri: 'https://x/main.js?a=1&b=2',
      styleUris: ['https://x/main.css'],
    },
  });
  assert.ok(
    html.includes(
      `content="default-src 'none'; style-src https://file+.vscode-resource.vscode-cdn.net; img-src https://file+.vscode-resource.vscode-cdn.net data:; script-src 'nonce-${NONCE}'; base-uri 'none'; form-action 'none'"`,
    ),
  );
  assert.ok(html.includes(`<script nonce="${NONCE}" src="https://x/main.js?a=1&amp;b=2"></script>`));
  assert.ok(html.includes('<link rel="stylesheet" href="https://x/main.css">'));
  assert.ok(html.includes('<body data-panel="dashboard">'));
  assert.ok(!html.includes('<script>window.__pwned'), 'the title is escaped');
  assert.equal((html.match(/<script/g) ?? []).length, 1, 'one script, the bundle');
  assert.ok(!html.includes('class="standalone"'), 'VS Code provides the theme variables');
});

test('webview shell: a nonce that is not random base64 is refused', () => {
  const assets = { kind: 'webview' as const, cspSource: 'x', scriptUri: 'x', styleUris: [] };
  assert.throws(() => pageCsp({ ...assets, nonce: 'abc' }), /nonce/);
  assert.throws(() => pageCsp({ ...assets, nonce: `${NONCE}' 'unsafe-inline` }), /nonce/);
});

test('inlined JSON: no < at all, and it parses back to the same value', () => {
  const value = { label: HOSTILE.script, other: HOSTILE.comment, sep: 'a\u2028b\u2029c', amp: '&<>' };
  const text = jsonForScriptElement(value);
  assert.ok(!text.includes('<'));
  assert.ok(!text.includes('\u2028'));
  assert.deepEqual(JSON.parse(text), value);
});

test('inlined script: </script and <!-- broken up; the source map comment dropped; hashes match', () => {
  const script = 'var a = "</script><script>x()</script>"; var b = "<!--";\n//# sourceMappingURL=main.js.map\n';
  const safe = scriptForInlining(script);
  assert.ok(!/<\/script/i.test(safe));
  assert.ok(!safe.includes('<!--'));
  assert.ok(!safe.includes('sourceMappingURL'));
  // The same text as JavaScript.
  const run = (code: string): unknown => new Function(`${code}; return [a, b];`)();
  assert.deepEqual(run(safe), run(script.replace(/\/\/# sourceMappingURL.*\n/, '')));
  const html = reportHtml({ title: 't', script, css: 'body{color:red}', data: { a: 1 } });
  assert.ok(html.includes(`script-src ${cspHash(safe)}`));
  assert.ok(html.includes(`style-src ${cspHash('body{color:red}')}`));
  assert.ok(html.includes("default-src 'none'"));
  assert.ok(!html.includes('unsafe-inline'));
  assert.ok(html.includes('<html lang="en" class="standalone">'));
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('efficientllm report --html: one self-contained file from the store; bad input named', async () => {
  await ensureBundle();
  const dir = await mkdtemp(path.join(tmpdir(), 'efficientllm-report-unit-'));
  try {
    const store = new RunStore(path.join(dir, 'runs'));
    const runs = hostileSweep();
    for (const r of runs) await store.save(r);
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { out: (t) => void out.push(t), err: (t) => void err.push(t), isTTY: false, cwd: dir, env: {} };
    assert.equal(
      await reportCommand(['--html', 'r.html', '--store', 'runs', '--json', runs[0].id.slice(0, 15), runs[2].id], io),
      0,
    );
    const summary = JSON.parse(out.join(''));
    assert.deepEqual(summary.runs, [runs[0].id, runs[2].id]);
    const html = await readFile(path.join(dir, 'r.html'), 'utf8');
    const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '').replace(/<style>[\s\S]*?<\/style>/g, '');
    assert.ok(!/<[a-z][^>]*\s(?:src|href)=/i.test(markup), 'nothing loaded from outside the file');
    assert.ok(!html.includes(HOSTILE.img));
    const data = JSON.parse(
      /<script type="application\/json" id="efficientllm-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? 'null',
    );
    assert.equal(data.runs.length, 2);
    assert.equal(data.runs[0].device, HOSTILE.img, 'the text survives, as data');
    assert.ok(data.exports.csv.length > 0);

    await assert.rejects(
      reportCommand(['--store', 'runs'], io),
      (e: unknown) => e instanceof UsageError && /--html FILE/.test(e.message),
    );
    await assert.rejects(
      reportCommand(['--html', 'x.html', '--store', 'empty'], io),
      (e: unknown) => e instanceof UsageError && /no runs in/.test(e.message),
    );
    await assert.rejects(
      reportCommand(['--html', 'x.html', '--store', 'runs', 'nope'], io),
      (e: unknown) => e instanceof UsageError && /no run "nope"/.test(e.message),
    );
    await assert.rejects(
      reportCommand(['--html', path.join(dir, 'missing', 'x.html'), '--store', 'runs'], io),
      (e: unknown) => e instanceof UsageError && /cannot write .*ENOENT/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
