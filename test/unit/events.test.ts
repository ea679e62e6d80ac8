import assert from 'node:assert/strict';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEventLine } from '../../src/core/protocol';
import { EventFileReader, EventLineDecoder } from '../../src/run/eventReader';

const progress = (step: number): string => JSON.stringify({ type: 'progress', phase: 'measure', step, total: 3 });

test('unknown, broken and incomplete lines are problems, never exceptions', () => {
  const cases: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"type":"gossip"}', /unknown event type "gossip"/],
    ['{"type":"progress","phase":"x"}', /progress needs/],
    ['{"type":"error","kind":"meltdown","message":"m"}', /error needs kind/],
    ['{"type":"hello","protocol":2}', /protocol 2 is not 1/],
  ];
  for (const [text, reason] of cases) {
    const r = parseEventLine(text, 7);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.match(r.problem.reason, reason);
      assert.equal(r.problem.line, 7);
    }
  }
});

test('the decoder keeps a partial line until its newline arrives and counts bytes exactly', () => {
  const d = new EventLineDecoder();
  const line = progress(1) + '\n';
  const half = Math.floor(line.length / 2);
  assert.equal(d.push(Buffer.from(line.slice(0, half))).events.length, 0);
  assert.equal(d.offset, 0);
  const b = d.push(Buffer.from(line.slice(half) + 'garbage\n'));
  assert.equal(b.events.length, 1);
  assert.equal(b.problems.length, 1);
  assert.equal(b.problems[0].line, 2);
  assert.equal(d.offset, Buffer.byteLength(line) + 'garbage\n'.length);
});

test('a multi-byte character split across reads survives', () => {
  const d = new EventLineDecoder();
  const bytes = Buffer.from(JSON.stringify({ type: 'error', kind: 'crash', message: 'µ-Überlauf' }) + '\n');
  const cut = bytes.indexOf(Buffer.from('µ')) + 1; // inside the two-byte µ
  d.push(bytes.subarray(0, cut));
  const b = d.push(bytes.subarray(cut));
  assert.equal(b.events.length, 1);
  assert.equal(b.events[0].type === 'error' && b.events[0].message, 'µ-Überlauf');
});

test('the file reader resumes at its byte offset as the file grows', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'elp-events-'));
  const file = join(dir, 'events.jsonl');
  const reader = new EventFileReader(file);
  assert.deepEqual((await reader.readNew()).events, [], 'a missing file reads as nothing yet');
  await writeFile(file, progress(1) + '\n' + progress(2).slice(0, 10));
  assert.equal((await reader.readNew()).events.length, 1);
  await appendFile(file, progress(2).slice(10) + '\n' + progress(3) + '\n');
  const b = await reader.readNew();
  assert.deepEqual(
    b.events.map((e) => e.type === 'progress' && e.step),
    [2, 3],
  );
  assert.equal((await reader.readNew()).events.length, 0, 'nothing is read twice');
});
