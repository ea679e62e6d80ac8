// The prefiltered detection path against the reference that reads every statement of every file
// (DetectionCache {prefilter: false}): the same sites on the fixtures and on a generated workspace,
// while most files are never parsed; the incremental lexer against lexing the whole text again; and
// the caches (an edited buffer, a copy of a file) against a fresh cache. No timings here: budgets
// are checked by `npm run bench`.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { lex, relex } from '../../src/detect/blocks';
import { DetectionCache, mayHoldSites } from '../../src/detect/detector';
import { listModelFiles } from '../../src/detect/scan';
import { bigFile, generateCorpus, rng } from '../../scripts/bench-corpus';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');

async function bothPaths(roots: string[]): Promise<{ full: DetectionCache; pre: DetectionCache; files: string[] }> {
  const { files } = await listModelFiles(roots);
  const full = new DetectionCache(undefined, { prefilter: false });
  const pre = new DetectionCache();
  const a = await full.detectFiles(files);
  const b = await pre.detectFiles(files);
  assert.deepEqual(b, a);
  assert.ok(a.sites.length > 0);
  return { full, pre, files };
}

test('the fixtures: the prefiltered path finds exactly what reading every statement finds', async () => {
  const { full, pre } = await bothPaths([FIXTURES]);
  assert.ok(pre.stats.parses < full.stats.parses, `${pre.stats.parses} parses vs ${full.stats.parses}`);
});

test('a generated workspace: the same sites, details included, with most ordinary files never parsed', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'detect-prefilter-'));
  try {
    const corpus = await generateCorpus(dir, 240);
    assert.ok(corpus.ordinaryFiles > corpus.modelFiles * 3, JSON.stringify(corpus));
    const { full, pre, files } = await bothPaths([dir]);
    const py = files.filter((f) => f.endsWith('.py')).length;
    assert.equal(full.stats.skipped, 0);
    // The generator's ordinary files hold real sites too (from_pretrained in scripts, LoraConfig in
    // tests), so the prefilter cannot skip them all; it must skip most of the others.
    assert.ok(pre.stats.skipped > py / 3, `${pre.stats.skipped} of ${py} Python files skipped`);
    assert.ok(pre.stats.parses * 2 < full.stats.parses, `${pre.stats.parses} parses vs ${full.stats.parses}`);
    const sites = (await pre.detectFiles(files)).sites;
    const ordinaryWithSites = new Set(sites.filter((s) => !/modeling_|config\.json$/.test(s.file)).map((s) => s.file));
    assert.ok(ordinaryWithSites.size > 0, 'some ordinary files hold sites');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the file-level prefilter keeps every file that has a site', async () => {
  const { files } = await listModelFiles([FIXTURES]);
  for (const f of files.filter((x) => x.endsWith('.py'))) assert.ok(mayHoldSites(await readFile(f, 'utf8')), f);
  assert.equal(mayHoldSites('import os\n\ndef main():\n    n_head = 12\n    return os.getcwd()\n'), false);
  // a class that could be a site, nested in a function; a call we report in a script
  assert.equal(
    mayHoldSites('def make():\n    class A:\n        def __init__(self):\n            self.qkv = 1\n'),
    true,
  );
  assert.equal(mayHoldSites('m = AutoModelForCausalLM.from_pretrained("gpt2")\n'), true);
});

test('relex: the lexing of an edited text equals lexing it whole, over random edits that open and close strings', async () => {
  let text = await bigFile(800);
  let lexed = lex(text);
  const rand = rng(5);
  const inserts = ['"""', "'", '"', "'''", '(', ')', ']', '\\\n', '#', '\n', 'x = 1\n', 'class A:\n', '@d\n', ''];
  for (let k = 0; k < 600; k++) {
    const at = Math.floor(rand() * (text.length + 1));
    const next =
      text.slice(0, at) + inserts[Math.floor(rand() * inserts.length)] + text.slice(at + Math.floor(rand() * 4));
    const got = relex(text, lexed, next);
    assert.deepEqual(got, lex(next), `edit ${k} at offset ${at}`);
    text = next;
    lexed = got;
  }
});

test('an edited buffer gives the sites a fresh cache gives, edit after edit', async () => {
  const base = await bigFile(1500);
  const lines = base.split('\n');
  const cache = new DetectionCache();
  await cache.detectText('big.py', base);
  const rand = rng(9);
  const edits = [' # note', '    ', 'x', ' = 4', '"""'];
  for (let k = 0; k < 12; k++) {
    const at = Math.floor(rand() * lines.length);
    lines[at] = `${lines[at]}${edits[k % edits.length]}`;
    const text = lines.join('\n');
    assert.deepEqual(await cache.detectText('big.py', text), await new DetectionCache().detectText('big.py', text));
  }
});

test('the same content under another name is answered from the content cache, relabelled', async () => {
  const text = await readFile(path.join(FIXTURES, 'meta/model.py'), 'utf8');
  const cache = new DetectionCache();
  const first = await cache.detectText('/w/a/model.py', text);
  const parses = cache.stats.parses;
  const copy = await cache.detectText('/w/b/model.py', text);
  assert.equal(cache.stats.parses, parses);
  assert.deepEqual(
    copy,
    first.map((s) => ({ ...s, file: '/w/b/model.py' })),
  );
  assert.deepEqual(copy, await new DetectionCache().detectText('/w/b/model.py', text));
});
