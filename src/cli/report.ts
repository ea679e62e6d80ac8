// `efficientllm report --html FILE [--store DIR] [--title TEXT] [--json] [ID…]`: a self-contained HTML
// dashboard of stored runs (all of them, or the given ids or id prefixes) for people outside VS Code.
// The page is the same bundle as the extension's dashboard (dist/webview/main.js + main.css), with the
// data inlined as JSON (src/views/reportHtml.ts).
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from '../core/record';
import { reportHtml } from '../views/reportHtml';
import { dashboardData } from '../views/webviewData';
import { RunLookupError } from '../run/store';
import { UsageError } from './io';
import type { Subcommand } from './io';
import { openStore, parseFlags, reportProblems, STORE_FLAG } from './runs';

export interface PageAssetFiles {
  script: string;
  css: string;
}

/**
 * Where the page bundle is: next to dist/cli.js (`dist/webview/`), or, when the CLI runs from
 * source (tsx), in the repository's dist/ after `npm run build`.
 */
export function findPageAssets(
  candidates: readonly string[] = [
    path.join(__dirname, 'webview'),
    path.join(__dirname, '..', '..', 'dist', 'webview'),
  ],
): PageAssetFiles {
  for (const dir of candidates) {
    const script = path.join(dir, 'main.js');
    const css = path.join(dir, 'main.css');
    if (existsSync(script) && existsSync(css)) return { script, css };
  }
  throw new UsageError(
    `report: the dashboard bundle (webview/main.js and main.css) is not in ${candidates.join(' or ')}; run "npm run build" first`,
  );
}

export const reportCommand: Subcommand = async (argv, io) => {
  const { values, positionals } = parseFlags(
    'report',
    argv,
    { html: { type: 'string' }, title: { type: 'string' }, json: { type: 'boolean' }, ...STORE_FLAG },
    true,
  );
  if (values.html === undefined || values.html.length === 0)
    throw new UsageError('report: give --html FILE, the page to write');
  const store = openStore(io, values.store);
  let runs: RunRecord[];
  if (positionals.length > 0) {
    runs = [];
    for (const id of positionals) {
      try {
        const r = await store.get(id);
        if (!runs.some((x) => x.id === r.id)) runs.push(r);
      } catch (e) {
        if (e instanceof RunLookupError) throw new UsageError(`report: ${e.message}`);
        throw e;
      }
    }
  } else {
    const listed = await store.list();
    reportProblems(io, listed.problems);
    runs = listed.runs;
    if (runs.length === 0)
      throw new UsageError(`report: no runs in ${store.dir}; run "efficientllm profile" first, or pass --store DIR`);
  }
  const assets = findPageAssets();
  const [script, css] = await Promise.all([fs.readFile(assets.script, 'utf8'), fs.readFile(assets.css, 'utf8')]);
  const data = dashboardData(runs, {
    withExports: true,
    ...(values.title !== undefined ? { title: values.title } : {}),
  });
  const html = reportHtml({ title: data.title, script, css, data });
  const file = path.resolve(io.cwd, values.html);
  try {
    await fs.writeFile(file, html, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : String(e);
    throw new UsageError(`report: cannot write ${file} (${code})`);
  }
  if (values.json) io.out(`${JSON.stringify({ file, runs: runs.map((r) => r.id), bytes: Buffer.byteLength(html) })}\n`);
  else io.err(`efficientllm: wrote a report of ${runs.length} run${runs.length === 1 ? '' : 's'} to ${file}\n`);
  return 0;
};
