import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { exportCommand } from '../../src/cli/export';
import { UsageError } from '../../src/cli/io';
import { csvField, EXPORT_COLUMNS, markdownCell, toCsv, toJson, toMarkdown } from '../../src/core/export';
import { METRIC_NAMES } from '../../src/core/record';
import type { RunMetrics, RunRecord } from '../../src/core/record';
import { fakeIo, makeRunRecord, withStore } from './helpers';

function makeRecord(
  id: string,
  label: string,
  metrics: Partial<RunMetrics> = {},
  extra: Partial<RunRecord> = {},
): RunRecord {
  return makeRunRecord(id, { label }, metrics, {
    createdAt: '2025-03-04T05:06:07.000Z',
    target: { kind: 'ssh', name: 'gpu-box' },
    ...extra,
  });
}

/** A strict RFC 4180 parser: quoted fields may hold commas, CR/LF and doubled quotes; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`bare quote at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.startsWith('\r\n', i)) {
      i += 2;
      rows.push(row);
      row = [];
      continue;
    }
    if (i >= text.length) {
      rows.push(row);
      break;
    }
    throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  return rows;
}

const HOSTILE = '=cmd|\' /C calc\'!A0, "quoted", and\r\na new line';

test('CSV round-trips a hostile label through an RFC 4180 parser, formula neutralised', () => {
  const records = [
    makeRecord('20250304-050607-aaaa', HOSTILE, { params: 1234, latencyS: 0.5, powerW: -0 }),
    makeRecord(
      '20250304-050607-bbbb',
      'plain',
      { tokensPerS: 1e-7 },
      { error: { kind: 'oom', message: 'x', stderrTail: '' }, status: 'failed' },
    ),
  ];
  const csv = toCsv(records);
  assert.ok(csv.endsWith('\r\n'));
  const rows = parseCsv(csv);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], [...EXPORT_COLUMNS]);
  for (const r of rows) assert.equal(r.length, EXPORT_COLUMNS.length);
  const col = (name: string): number => EXPORT_COLUMNS.indexOf(name);
  assert.equal(rows[1][col('label')], `'${HOSTILE}`);
  assert.equal(rows[1][col('id')], '20250304-050607-aaaa');
  assert.equal(rows[1][col('target')], 'ssh:gpu-box');
  assert.equal(rows[1][col('stage')], 'inference');
  assert.equal(rows[1][col('attention')], 'gqa');
  assert.equal(rows[1][col('kvHeads')], '2');
  assert.equal(rows[1][col('seqLen')], '128');
  assert.equal(rows[1][col('params')], '1234');
  assert.equal(rows[1][col('latencyS')], '0.5');
  assert.equal(rows[1][col('ttftS')], '', 'null is an empty cell, not 0');
  assert.equal(rows[1][col('errorKind')], '');
  assert.equal(rows[2][col('tokensPerS')], '1e-7');
  assert.equal(rows[2][col('errorKind')], 'oom');
  assert.equal(rows[2][col('status')], 'failed');
  assert.equal(rows[2][col('label')], 'plain');
});

test('formula injection: = + - @ tab CR get an apostrophe, plain numbers do not', () => {
  assert.equal(csvField('=1+1'), "'=1+1");
  assert.equal(csvField('+SUM(A1)'), "'+SUM(A1)");
  assert.equal(csvField('-cmd'), "'-cmd");
  assert.equal(csvField('@foo'), "'@foo");
  assert.equal(csvField('\tx'), "'\tx");
  assert.equal(csvField('-1.5'), '-1.5');
  assert.equal(csvField('+3e-4'), '+3e-4');
  assert.equal(csvField(-2.5), '-2.5');
  assert.equal(csvField('-1,5'), '"\'-1,5"');
  assert.equal(csvField('a"b'), '"a""b"');
  assert.equal(csvField(null), '');
  assert.equal(csvField('safe'), 'safe');
});

test('Markdown escapes pipes and backslashes, flattens newlines, shows null as —', () => {
  assert.equal(markdownCell('a|b'), 'a\\|b');
  assert.equal(markdownCell('a\\|b'), 'a\\\\\\|b');
  assert.equal(markdownCell('x\r\ny\nz'), 'x y z');
  assert.equal(markdownCell(null), '—');
  assert.equal(markdownCell(42), '42');
  const md = toMarkdown([makeRecord('20250304-050607-aaaa', 'a | b', { params: 7 })]);
  const lines = md.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  // Every line has the same number of unescaped pipes: one more than the number of columns.
  const unescapedPipes = (l: string): number => l.replace(/\\\\/g, '').replace(/\\\|/g, '').split('|').length - 1;
  for (const l of lines) assert.equal(unescapedPipes(l), EXPORT_COLUMNS.length + 1, l);
  assert.match(lines[1], /^\| --- \| --- /);
  const rule = lines[1].slice(2, -2).split(' | ');
  assert.equal(rule[EXPORT_COLUMNS.indexOf('params')], '---:', 'numbers are right-aligned');
  assert.equal(rule[EXPORT_COLUMNS.indexOf('errorKind')], '---');
  assert.ok(lines[2].includes('a \\| b'));
  assert.ok(lines[2].includes('| 7 |'));
  assert.ok(lines[2].includes('| — |'));
});

test('JSON export: {"runs": [flat rows]} with raw numbers and null', () => {
  const json = toJson([makeRecord('20250304-050607-aaaa', 'x', { weightBytes: 1024 })]);
  assert.ok(json.endsWith('}\n'));
  const parsed = JSON.parse(json) as { runs: Record<string, unknown>[] };
  assert.equal(parsed.runs.length, 1);
  assert.deepEqual(Object.keys(parsed.runs[0]), [...EXPORT_COLUMNS]);
  assert.equal(parsed.runs[0].weightBytes, 1024);
  assert.equal(parsed.runs[0].mfu, null);
  assert.equal(parsed.runs[0].errorKind, null);
  for (const m of METRIC_NAMES) assert.ok(m in parsed.runs[0]);
});

test('export subcommand: stdout, --out FILE, --store DIR, bad flags', async () => {
  await withStore(async (store, root) => {
    await store.save(makeRecord('20250304-050607-aaaa', 'first', { params: 1 }));
    await store.save({ ...makeRecord('20250305-050607-bbbb', 'second'), createdAt: '2025-03-05T05:06:07.000Z' });

    let io = fakeIo(root);
    assert.equal(await exportCommand(['--format', 'csv'], io), 0);
    const rows = parseCsv(io.stdout);
    assert.deepEqual(
      rows.slice(1).map((r) => r[0]),
      ['20250305-050607-bbbb', '20250304-050607-aaaa'],
    );

    io = fakeIo(root);
    assert.equal(await exportCommand(['--format', 'md', '--out', 'runs.md'], io), 0);
    assert.equal(io.stdout, '');
    assert.match(io.stderr, /wrote 2 runs to .*runs\.md/);
    assert.equal(await readFile(path.join(root, 'runs.md'), 'utf8'), toMarkdown((await store.list()).runs));

    io = fakeIo(tmpdir());
    assert.equal(await exportCommand(['--format', 'json', '--store', store.dir], io), 0);
    assert.equal((JSON.parse(io.stdout) as { runs: unknown[] }).runs.length, 2);

    await assert.rejects(
      exportCommand([], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /--format/.test(e.message),
    );
    await assert.rejects(
      exportCommand(['--format', 'xls'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /"xls".*csv, md or json/.test(e.message),
    );
    await assert.rejects(
      exportCommand(['--format', 'csv', '--bogus'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /^export: .*--bogus/.test(e.message) && !e.message.includes('\n'),
    );
    await assert.rejects(exportCommand(['--format'], fakeIo(root)), UsageError);
    await assert.rejects(exportCommand(['--format', 'csv', '--out', 'no/such/dir/x.csv'], fakeIo(root)), UsageError);
  });
});

test('tidy columns: model, device, MoE, PEFT with rank, seed and the data of a budget run', () => {
  const r = makeRunRecord(
    'tidy1',
    {
      stage: 'finetune',
      moe: { experts: 4, topK: 2 },
      peft: { method: 'lora', rank: 8 },
      seed: 3,
      trainTokens: 60_000,
    },
    { valLoss: 4.2, perplexity: Math.exp(4.2) },
  );
  r.env.device = { name: 'NVIDIA H200', memoryBytes: 141e9 };
  const row = Object.fromEntries(EXPORT_COLUMNS.map((c, i) => [c, toJsonRow(r)[i]]));
  assert.deepEqual(
    [row.model, row.device, row.moe, row.peft, row.peftRank, row.seed, row.data, row.valLoss],
    ['tiny', 'NVIDIA H200', '4x2', 'lora', 8, 3, 'synthetic', 4.2],
  );
  // a speed-only run: no data column, and no rank for full fine-tuning
  const plain = Object.fromEntries(
    EXPORT_COLUMNS.map((c, i) => [c, toJsonRow(makeRunRecord('tidy2', { stage: 'finetune' }))[i]]),
  );
  assert.deepEqual([plain.peft, plain.peftRank, plain.data, plain.moe], ['full', null, null, null]);
});

function toJsonRow(r: RunRecord): (string | number | null)[] {
  const [obj] = (JSON.parse(toJson([r])) as { runs: Record<string, string | number | null>[] }).runs;
  return EXPORT_COLUMNS.map((c) => obj[c] ?? null);
}
