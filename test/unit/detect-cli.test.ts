import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli';
import { fakeIo } from './helpers';

const FIXTURES = path.resolve(__dirname, '../fixtures/models');

const SITE_KEYS = ['attention', 'details', 'file', 'kind', 'line', 'name'];

test('detect --json prints exactly {"sites": [...]}, paths relative to cwd, sorted by file then line', async () => {
  const io = fakeIo(FIXTURES);
  const code = await main(['detect', '--json'], io);
  assert.equal(io.stderr, '');
  assert.equal(code, 0);
  const out = JSON.parse(io.stdout) as { sites: Record<string, unknown>[] };
  assert.deepEqual(Object.keys(out), ['sites']);
  const expected = JSON.parse(await readFile(path.join(FIXTURES, 'expected.json'), 'utf8')) as {
    sites: Record<string, unknown>[];
  };
  assert.equal(out.sites.length, expected.sites.length);
  for (const [i, site] of out.sites.entries()) {
    assert.deepEqual(Object.keys(site).sort(), SITE_KEYS);
    assert.equal(typeof site.details, 'object');
    const { details: _details, ...rest } = site;
    assert.deepEqual(rest, expected.sites[i]);
  }
  const order = out.sites.map((s) => `${String(s.file)}\u0000${String(s.line).padStart(6, '0')}`);
  assert.deepEqual(order, [...order].sort());
});

test('detect PATH from another folder: paths relative to cwd; the table names each site', async () => {
  const root = path.resolve(FIXTURES, '../../..');
  const io = fakeIo(root);
  const code = await main(
    ['detect', 'test/fixtures/models/meta', 'test/fixtures/models/training/finetune_qlora.py'],
    io,
  );
  assert.equal(code, 0);
  assert.match(
    io.stdout,
    /test\/fixtures\/models\/meta\/model\.py:33\s+attention\s+gqa\s+Attention\s+32 layers · heads 32 · kv heads 8/,
  );
  assert.match(io.stdout, /finetune_qlora\.py:28\s+peft\s+LoraConfig\s+dora · r 16 · alpha 32/);
  assert.match(io.stdout, /6 site\(s\) in 2 file\(s\)/);
});

test('an unreadable or broken file is named on stderr; the others are still detected', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'detect-cli-'));
  try {
    await writeFile(path.join(dir, 'config.json'), '{"model_type": ');
    await writeFile(
      path.join(dir, 'm.py'),
      'class A:\n    def __init__(self):\n        self.c_attn = nn.Linear(1, 3)\n',
    );
    const io = fakeIo(dir);
    const code = await main(['detect', '.', 'missing.py', '--json'], io);
    assert.equal(code, 1);
    assert.match(io.stderr, /^efficientllm: missing\.py: does not exist$/m);
    assert.match(io.stderr, /^efficientllm: config\.json: not valid JSON/m);
    const out = JSON.parse(io.stdout) as { sites: { file: string; attention: string }[] };
    assert.deepEqual(
      out.sites.map((s) => [s.file, s.attention]),
      [['m.py', 'mha']],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('detect rejects unknown flags with a one-line reason', async () => {
  const io = fakeIo(FIXTURES);
  assert.equal(await main(['detect', '--jsn'], io), 2);
  assert.match(io.stderr, /^efficientllm: detect: .*--jsn.*\n$/);
});
