import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/core/config';
import { METRIC_NAMES } from '../../src/core/record';
import { cleanCell, renderCells, renderSummary, renderTable, SUMMARY_COLUMNS } from '../../src/views/table';
import {
  formatBytes,
  formatCount,
  formatJoules,
  formatMetric,
  formatPercent,
  formatSeconds,
  formatTimestamp,
  formatWatts,
  METRIC_INFO,
  MISSING,
  sig3,
} from '../../src/core/units';
import { makeRunRecord } from './helpers';

test('bytes: 0, null, 1023 B, 1024 B, 1.5 GiB and the unit boundaries', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(null), MISSING);
  assert.equal(formatBytes(Number.NaN), MISSING);
  assert.equal(formatBytes(1), '1 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.00 KiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(10 * 1024), '10.0 KiB');
  assert.equal(formatBytes(100 * 1024), '100 KiB');
  assert.equal(formatBytes(1.5 * 1024 ** 3), '1.50 GiB');
  assert.equal(formatBytes(80 * 1024 ** 3), '80.0 GiB');
  // Rounds to 1000+ in the smaller unit → moves up instead of printing 4 digits.
  assert.equal(formatBytes(1023.9 * 1024), '1.00 MiB');
  assert.equal(formatBytes(1000 * 1024), '0.977 MiB');
  assert.equal(formatBytes(2 * 1024 ** 6), '2048 PiB');
  assert.equal(formatBytes(-2048), '-2.00 KiB');
});

test('seconds pick µs, ms or s after rounding', () => {
  assert.equal(formatSeconds(0), '0 s');
  assert.equal(formatSeconds(null), MISSING);
  assert.equal(formatSeconds(2.5e-5), '25.0 µs');
  assert.equal(formatSeconds(0.0123), '12.3 ms');
  assert.equal(formatSeconds(0.99996), '1.00 s');
  assert.equal(formatSeconds(0.0009996), '1.00 ms');
  assert.equal(formatSeconds(1.5), '1.50 s');
  assert.equal(formatSeconds(125), '125 s');
  assert.equal(formatSeconds(3600), '3600 s');
  assert.equal(formatSeconds(5e-10), '0.500 ns');
});

test('counts, power, energy, percentages', () => {
  assert.equal(formatCount(0), '0');
  assert.equal(formatCount(999), '999');
  assert.equal(formatCount(1000), '1.00K');
  assert.equal(formatCount(494_032_768), '494M');
  assert.equal(formatCount(1.5e9), '1.50B');
  assert.equal(formatCount(2.5e12), '2.50T');
  assert.equal(formatCount(0.5), '0.500');
  assert.equal(formatCount(null), MISSING);
  assert.equal(formatWatts(250), '250 W');
  assert.equal(formatWatts(0), '0 W');
  assert.equal(formatWatts(1500), '1.50 kW');
  assert.equal(formatJoules(0.5), '0.500 J');
  assert.equal(formatJoules(1234), '1.23 kJ');
  assert.equal(formatJoules(null), MISSING);
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(0.4234), '42.3%');
  assert.equal(formatPercent(1), '100%');
  assert.equal(formatPercent(null), MISSING);
  assert.equal(sig3(1e-7), '1.00e-7');
});

test('every metric has a label and a formatter; null is "—", never 0', () => {
  for (const name of METRIC_NAMES) {
    assert.ok(METRIC_INFO[name].label.length > 0);
    assert.equal(formatMetric(name, null), MISSING);
    assert.notEqual(formatMetric(name, 0), MISSING);
  }
  assert.equal(formatMetric('peakMemoryBytes', 1.5 * 1024 ** 3), '1.50 GiB');
  assert.equal(formatMetric('tokensPerS', 1234.5), '1.23K tok/s');
  assert.equal(formatMetric('mfu', 0.123), '12.3%');
  assert.equal(formatMetric('joulesPerToken', 0.05), '0.0500 J/tok');
  assert.equal(formatMetric('compressionRate', 2), '2.00×');
  assert.equal(formatTimestamp('2025-01-02T03:04:05.678Z'), '2025-01-02 03:04:05Z');
  assert.equal(formatTimestamp('not a date'), 'not a date');
});

test('renderCells aligns columns, draws a header rule and trims trailing spaces', () => {
  const text = renderCells(
    ['name', 'n'],
    [
      ['a', '1'],
      ['longer', '1000'],
    ],
    ['left', 'right'],
  );
  assert.equal(text, ['name       n', '------  ----', 'a          1', 'longer  1000', ''].join('\n'));
});

test('control characters cannot break a row or reach the terminal', () => {
  assert.equal(cleanCell('a\nb\tc\x1b[31m'), 'a b c\uFFFD[31m');
  const text = renderCells(['x'], [['line1\nline2']]);
  assert.equal(text.split('\n').length, 4);
});

test('renderTable truncates long cells with an ellipsis', () => {
  const text = renderTable(
    [{ key: 'k', header: 'k', align: 'left', maxWidth: 5, cell: (s: string) => s }],
    ['abcdefgh', 'ab'],
  );
  assert.deepEqual(text.trimEnd().split('\n'), ['k', '-----', 'abcd…', 'ab']);
});

test('SUMMARY_COLUMNS cover the profile table and render a RunRecord', () => {
  assert.deepEqual(
    SUMMARY_COLUMNS.map((c) => c.key),
    [
      'label',
      'status',
      'params',
      'weightBytes',
      'kvCacheBytes',
      'peakMemoryBytes',
      'latencyS',
      'ttftS',
      'tpotS',
      'tokensPerS',
      'samplesPerS',
      'powerW',
      'energyJ',
      'mfu',
      'rooflineFraction',
    ],
  );
  const record = makeRunRecord(
    '20250101-120000-abcd',
    {},
    {
      params: 2_000_000,
      peakMemoryBytes: 1.5 * 1024 ** 3,
      latencyS: 0.0123,
      mfu: 0.25,
    },
  );
  const lines = renderSummary([record]).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /^label\s+status\s+params\s+weights/);
  assert.match(lines[2], /tiny gqa-2 fp32 inference\s+completed\s+2\.00M\s+—/);
  assert.match(lines[2], /1\.50 GiB\s+12\.3 ms\s+—\s+—\s+—\s+—\s+—\s+—\s+25\.0%\s+—$/);
});

test('the samples column says images/s for an image model and seq/s for text', () => {
  const text = makeRunRecord('20250101-120000-abcd', {}, { samplesPerS: 12.5 });
  assert.match(renderSummary([text]), /12\.5 seq\/s/);
  const r = resolveConfig({ model: { preset: 'vit-tiny' } });
  assert.ok(r.ok);
  const image = { ...text, config: r.value };
  assert.match(renderSummary([image]), /12\.5 images\/s/);
});
