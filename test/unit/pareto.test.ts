import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dominates, objectiveValue, paretoFront } from '../../src/core/pareto';
import { emptyMetrics } from '../../src/core/record';
import type { RunMetrics } from '../../src/core/record';

const pt = (id: string, m: Partial<RunMetrics>): { id: string; metrics: RunMetrics } => ({
  id,
  metrics: { ...emptyMetrics(), ...m },
});
const ids = (xs: readonly { item: { id: string } }[]): string[] => xs.map((x) => x.item.id);

test('dominates: no worse anywhere and strictly better somewhere, per direction', () => {
  assert.equal(dominates([1, 1], [2, 2], ['min', 'min']), true);
  assert.equal(dominates([1, 2], [2, 1], ['min', 'min']), false);
  assert.equal(dominates([1, 1], [1, 1], ['min', 'min']), false, 'equal points do not dominate');
  assert.equal(dominates([1, 5], [1, 4], ['min', 'max']), true);
  assert.equal(dominates([1, 4], [1, 5], ['min', 'max']), false);
});

test('dominated points are removed; the dominator is named', () => {
  const r = paretoFront(
    [
      pt('a', { latencyS: 1.0, peakMemoryBytes: 10 }),
      pt('b', { latencyS: 2.0, peakMemoryBytes: 5 }),
      pt('c', { latencyS: 2.5, peakMemoryBytes: 12 }), // dominated by a and by b; the first front point is named
      pt('d', { latencyS: 3.0, peakMemoryBytes: 4 }),
    ],
    ['latency', 'memory'],
  );
  assert.deepEqual(ids(r.front), ['a', 'b', 'd']);
  assert.deepEqual(
    r.dominated.map((d) => [d.point.item.id, d.by.item.id]),
    [['c', 'a']],
  );
  assert.deepEqual(r.excluded, []);
});

test('ties are kept: identical points both stay on the front', () => {
  const r = paretoFront(
    [
      pt('a', { latencyS: 1, peakMemoryBytes: 10 }),
      pt('b', { latencyS: 1, peakMemoryBytes: 10 }),
      pt('c', { latencyS: 1, peakMemoryBytes: 11 }),
    ],
    ['latency', 'memory'],
  );
  assert.deepEqual(ids(r.front), ['a', 'b']);
  assert.deepEqual(
    r.dominated.map((d) => d.point.item.id),
    ['c'],
  );
});

test('a run missing a chosen objective is excluded with the reason; others are not', () => {
  const r = paretoFront(
    [
      pt('a', { latencyS: 1, peakMemoryBytes: 10, joulesPerToken: 0.5 }),
      pt('b', { latencyS: 0.5, peakMemoryBytes: 20 }),
      pt('c', { peakMemoryBytes: 5 }),
    ],
    ['latency', 'memory', 'energy'],
  );
  assert.deepEqual(ids(r.front), ['a']);
  assert.deepEqual(
    r.excluded.map((e) => [e.item.id, e.missing]),
    [
      ['b', ['energy']],
      ['c', ['latency', 'energy']],
    ],
  );
  assert.match(r.excluded[0].why, /joulesPerToken is null/);
  assert.match(r.excluded[1].why, /latencyS is null.*joulesPerToken is null/);
  // Without energy, b is back on the front.
  assert.deepEqual(
    ids(
      paretoFront(
        [pt('a', { latencyS: 1, peakMemoryBytes: 10 }), pt('b', { latencyS: 0.5, peakMemoryBytes: 20 })],
        ['latency', 'memory'],
      ).front,
    ),
    ['a', 'b'],
  );
});

test('directions: throughput and quality are maximised, latency/memory/energy minimised', () => {
  const r = paretoFront(
    [
      pt('slow', { tokensPerS: 100, quality: 0.99 }),
      pt('fast', { tokensPerS: 300, quality: 0.95 }),
      pt('worse', { tokensPerS: 90, quality: 0.9 }),
    ],
    ['throughput', 'quality'],
  );
  assert.deepEqual(ids(r.front), ['slow', 'fast']);
  assert.deepEqual(
    r.dominated.map((d) => d.point.item.id),
    ['worse'],
  );
  const e = paretoFront([pt('x', { joulesPerToken: 2 }), pt('y', { joulesPerToken: 1 })], ['energy']);
  assert.deepEqual(ids(e.front), ['y']);
});

test('memory is the peak, or AMU when the peak is null', () => {
  assert.equal(objectiveValue(pt('a', { peakMemoryBytes: 7, amuBytes: 5 }).metrics, 'memory'), 7);
  assert.equal(objectiveValue(pt('a', { amuBytes: 5 }).metrics, 'memory'), 5);
  assert.equal(objectiveValue(pt('a', {}).metrics, 'memory'), null);
  const r = paretoFront([pt('p', { peakMemoryBytes: 8 }), pt('q', { amuBytes: 6 })], ['memory']);
  assert.deepEqual(ids(r.front), ['q']);
});
