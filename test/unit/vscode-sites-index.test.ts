// `.efficientllm/sites.json` (src/vscode/sitesIndex.ts): which runs came from which detected site.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  addSiteRuns,
  emptySitesIndex,
  parseSitesIndex,
  removeRuns,
  runIdsForSite,
  siteOfRun,
  SitesIndexFile,
  workspaceRelative,
} from '../../src/vscode/sitesIndex';

const llama = { file: 'hf/modeling_llama.py', line: 43, name: 'LlamaAttention' };

test('runs are added per site and found again by name when lines move, by line when the name changed', () => {
  let d = addSiteRuns(emptySitesIndex(), llama, ['r1', 'r2']);
  d = addSiteRuns(d, { ...llama, line: 80, name: 'LlamaSdpaAttention' }, ['r3']);
  d = addSiteRuns(d, { ...llama, line: 45 }, ['r2', 'r4']); // same class, two lines further down now
  assert.deepEqual(runIdsForSite(d, { ...llama, line: 45 }), ['r1', 'r2', 'r4']);
  assert.deepEqual(runIdsForSite(d, { ...llama, line: 80, name: 'LlamaSdpaAttention' }), ['r3']);
  assert.deepEqual(runIdsForSite(d, { file: llama.file, line: 45, name: 'RenamedAttention' }), ['r1', 'r2', 'r4']);
  assert.deepEqual(runIdsForSite(d, { file: 'other.py', line: 1, name: 'X' }), []);
  assert.deepEqual(siteOfRun(d, 'r3'), { file: llama.file, line: 80, name: 'LlamaSdpaAttention' });
  assert.equal(siteOfRun(d, 'nope'), null);
  const pruned = removeRuns(d, new Set(['r3', 'r1']));
  assert.deepEqual(
    pruned.files[llama.file].map((e) => e.name),
    ['LlamaAttention'],
  );
  assert.deepEqual(d.files[llama.file].length, 2, 'the input is not changed');
});

test('a malformed index is read as empty with a problem; malformed entries are dropped', () => {
  assert.match(parseSitesIndex('{not json').problem ?? '', /not valid JSON/);
  assert.match(parseSitesIndex('{"schema": 2, "files": {}}').problem ?? '', /schema-1/);
  const r = parseSitesIndex(
    JSON.stringify({
      schema: 1,
      files: { 'a.py': [{ line: 1, name: 'A', runIds: ['x', 3] }, { line: '2' }], 'b.py': 'nope' },
    }),
  );
  assert.equal(r.problem, null);
  assert.deepEqual(r.data, { schema: 1, files: { 'a.py': [{ line: 1, name: 'A', runIds: ['x'] }] } });
});

test('the index file is written atomically and concurrent adds are all kept', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'efficientllm-sites-'));
  try {
    const index = new SitesIndexFile(root);
    assert.deepEqual(await index.read(), emptySitesIndex(), 'absent file → empty index');
    await Promise.all([
      index.add(llama, ['a']),
      index.add(llama, ['b']),
      index.add({ file: 'm.py', line: 3, name: 'M' }, ['c']),
    ]);
    const onDisk = JSON.parse(await readFile(index.file, 'utf8')) as unknown;
    assert.deepEqual(onDisk, {
      schema: 1,
      files: {
        [llama.file]: [{ line: 43, name: 'LlamaAttention', runIds: ['a', 'b'] }],
        'm.py': [{ line: 3, name: 'M', runIds: ['c'] }],
      },
    });
    await writeFile(index.file, 'garbage');
    index.invalidate();
    assert.deepEqual(await index.read(), emptySitesIndex());
    assert.match(index.problem ?? '', /not valid JSON/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('files are keyed workspace-relative with / separators', () => {
  assert.equal(workspaceRelative('/ws', '/ws/hf/modeling_llama.py'), 'hf/modeling_llama.py');
  assert.equal(workspaceRelative('/ws', '/elsewhere/x.py'), null);
  assert.equal(workspaceRelative('/ws', '/ws'), null);
});
