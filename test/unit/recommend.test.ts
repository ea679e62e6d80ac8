import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/io';
import { recommendCommand } from '../../src/cli/recommend';
import type { ProfileConfigInput } from '../../src/core/config';
import { gpuFamily, PRIORS, PRIOR_SOURCE, relevantPriors } from '../../src/core/priors';
import {
  comparisonClause,
  groupRuns,
  NO_CONSTRAINTS,
  parseByteSize,
  parseDuration,
  parseObjectives,
  parsePercent,
  recommend,
  shortIds,
} from '../../src/core/recommend';
import { emptyEnv } from '../../src/core/record';
import type { RunMetrics, RunRecord } from '../../src/core/record';
import { fakeIo, makeRunRecord, withStore } from './helpers';

const GiB = 2 ** 30;
const H100 = { name: 'NVIDIA H100 80GB HBM3', memoryBytes: 80 * GiB };

function makeRecord(
  id: string,
  input: ProfileConfigInput,
  metrics: Partial<RunMetrics>,
  extra: Partial<RunRecord> = {},
): RunRecord {
  return makeRunRecord(id, input, metrics, { env: { ...emptyEnv(), device: H100 }, ...extra });
}

/** MHA fastest but big; MQA smallest but slow; GQA-2 nearly as fast as MHA at close to MQA's memory. */
function trio(): RunRecord[] {
  return [
    makeRecord('20250101-120000-a1b2', { attention: { kind: 'mha' } }, { latencyS: 1.0, peakMemoryBytes: 10 * GiB }),
    makeRecord(
      '20250101-120100-c3d4',
      { attention: { kind: 'gqa', kvHeads: 2 } },
      { latencyS: 1.02, peakMemoryBytes: 6 * GiB },
    ),
    makeRecord('20250101-120200-e5f6', { attention: { kind: 'mqa' } }, { latencyS: 1.3, peakMemoryBytes: 5.5 * GiB }),
  ];
}

const opts = (
  o: Partial<{ objectives: ('latency' | 'memory' | 'energy' | 'throughput' | 'quality')[] | null }> = {},
  c = {},
) => ({
  objectives: o.objectives ?? null,
  constraints: { ...NO_CONSTRAINTS, ...c },
});

test('MHA/GQA/MQA trio: GQA-2 recommended, reason cites the runs with the right percentages', () => {
  const report = recommend(trio(), opts());
  assert.equal(report.groups.length, 1);
  const g = report.groups[0];
  assert.deepEqual(g.objectives, ['latency', 'memory']);
  assert.deepEqual(new Set(g.front), new Set(['20250101-120000-a1b2', '20250101-120100-c3d4', '20250101-120200-e5f6']));
  assert.equal(g.front[0], '20250101-120100-c3d4', 'front is ordered nearest the ideal point first');
  assert.ok(g.recommendation);
  assert.equal(g.recommendation.runId, '20250101-120100-c3d4');
  assert.equal(g.recommendation.label, 'GQA-2');
  // latency: (1.02-1.00)/1.00 = 2% → equal; memory vs MHA: (10-6)/10 = 40% less.
  // vs MQA: latency (1.3-1.02)/1.3 = 21.5% → 22% faster; memory (6-5.5)/5.5 = 9.1% → 9% more.
  assert.equal(
    g.recommendation.reason,
    'GQA-2: 40% less memory than MHA at equal latency; 22% faster than MQA for 9% more memory — runs c3d4, a1b2, e5f6',
  );
  assert.deepEqual(g.recommendation.evidence, ['20250101-120100-c3d4', '20250101-120000-a1b2', '20250101-120200-e5f6']);
  assert.deepEqual(g.excluded, []);
  assert.ok(g.priors.includes('mqa-memory-latency'));
});

test('the reason percentages follow the metrics: MQA wins when it is also fast', () => {
  const runs = trio();
  runs[2].metrics.latencyS = 1.01; // MQA now equal in latency and smallest in memory: it dominates GQA-2
  const g = recommend(runs, opts()).groups[0];
  assert.equal(g.recommendation?.runId, '20250101-120200-e5f6');
  assert.deepEqual(g.dominated, [{ runId: '20250101-120100-c3d4', by: '20250101-120200-e5f6' }]);
  // vs MHA: memory (10-5.5)/10 = 45% less, latency 1% → equal. vs GQA-2 (best other memory): (6-5.5)/6 = 8.3% less, latency equal.
  assert.equal(
    g.recommendation?.reason,
    'MQA: 45% less memory than MHA at equal latency; 8% less memory than GQA-2 at equal latency — runs e5f6, a1b2, c3d4',
  );
});

test('comparisonClause: better, equal and worse parts; the "same … as" form', () => {
  assert.equal(comparisonClause(['latency', 'energy'], [1, 2], [2, 2.05], 'X'), '50% faster than X at equal energy');
  assert.equal(
    comparisonClause(['throughput', 'quality'], [200, 0.9], [100, 1.0], 'Y'),
    '100% more throughput than Y for 10% lower quality',
  );
  assert.equal(
    comparisonClause(['latency', 'memory'], [1, 11], [1, 10], 'Z'),
    'same latency as Z, for 10% more memory',
  );
  assert.equal(comparisonClause(['latency', 'memory'], [1, 10], [1.04, 10.4], 'W'), 'same latency and memory as W');
});

test('ties between equally good points go to lower memory', () => {
  const runs = [
    makeRecord('r-aaaa', { attention: { kind: 'mha' } }, { latencyS: 1, peakMemoryBytes: 2 * GiB }),
    makeRecord('r-bbbb', { attention: { kind: 'mqa' } }, { latencyS: 2, peakMemoryBytes: 1 * GiB }),
  ];
  // Relative gaps: mha (0, 1), mqa (1, 0): equal distance → the lower memory wins.
  assert.equal(recommend(runs, opts()).groups[0].recommendation?.runId, 'r-bbbb');
});

test('constraints: memory budget, quality loss, latency cap exclude runs with reasons', () => {
  const runs = trio();
  let g = recommend(runs, opts({}, { maxMemoryBytes: 8 * GiB })).groups[0];
  assert.deepEqual(
    g.excluded.map((e) => e.runId),
    ['20250101-120000-a1b2'],
  );
  assert.match(g.excluded[0].why, /memory 10\.0 GiB is over the 8\.00 GiB budget/);
  assert.ok(!g.front.includes('20250101-120000-a1b2'));
  assert.equal(g.recommendation?.runId, '20250101-120100-c3d4');

  g = recommend(runs, opts({}, { maxLatencyS: 1.1 })).groups[0];
  assert.deepEqual(
    g.excluded.map((e) => e.runId),
    ['20250101-120200-e5f6'],
  );
  assert.match(g.excluded[0].why, /latency 1\.30 s is over the 1\.10 s cap/);

  // Quality: synthetic models measure agreement with the reference, so loss is relative to 1.0.
  const q = trio();
  q[0].metrics.quality = 1.0;
  q[1].metrics.quality = 0.98;
  q[2].metrics.quality = 0.9;
  g = recommend(q, opts({}, { maxQualityLossPct: 5 })).groups[0];
  assert.deepEqual(
    g.excluded.map((e) => e.runId),
    ['20250101-120200-e5f6'],
  );
  assert.match(g.excluded[0].why, /quality 0\.9 is 10% below the reference 1, more than the allowed 5%/);
  assert.deepEqual(
    g.objectives,
    ['latency', 'memory', 'quality'],
    'quality joins the default objectives when every run measured it',
  );

  // HF models: loss relative to the best-quality comparable run.
  const hf = [
    makeRecord(
      'h-0001',
      { model: { source: 'hf', path: '/m/qwen' }, precision: 'bf16' },
      { latencyS: 1, peakMemoryBytes: 8 * GiB, quality: 0.8 },
    ),
    makeRecord(
      'h-0002',
      { model: { source: 'hf', path: '/m/qwen' }, precision: 'int4' },
      { latencyS: 1.1, peakMemoryBytes: 3 * GiB, quality: 0.78 },
    ),
    makeRecord(
      'h-0003',
      { model: { source: 'hf', path: '/m/qwen' }, precision: 'int8' },
      { latencyS: 1.05, peakMemoryBytes: 4 * GiB, quality: 0.7 },
    ),
  ];
  g = recommend(hf, opts({}, { maxQualityLossPct: 3 })).groups[0];
  assert.deepEqual(
    g.excluded.map((e) => e.runId),
    ['h-0003'],
  ); // 0.78 is 2.5% below 0.8; 0.7 is 12.5%
  assert.ok(g.priors.includes('int4-memory'));
  assert.ok(g.priors.includes('bf16-hopper'));

  // A constraint on a metric the run lacks excludes it with that reason.
  const m = trio();
  m[0].metrics.peakMemoryBytes = null;
  g = recommend(m, opts({}, { maxMemoryBytes: 100 * GiB })).groups[0];
  assert.match(g.excluded[0].why, /no memory measured, so --max-memory cannot be checked/);
});

test('grouping keeps different workloads, stages, models and devices apart', () => {
  const runs = [
    ...trio(),
    makeRecord(
      'w-0001',
      { attention: { kind: 'mha' }, workload: { seqLen: 512 } },
      { latencyS: 3, peakMemoryBytes: 12 * GiB },
    ),
    makeRecord(
      'w-0002',
      { attention: { kind: 'mqa' }, workload: { seqLen: 512 } },
      { latencyS: 3.2, peakMemoryBytes: 7 * GiB },
    ),
    makeRecord(
      'w-0003',
      { attention: { kind: 'mha' }, workload: { batch: 4 } },
      { latencyS: 2, peakMemoryBytes: 20 * GiB },
    ),
    makeRecord('s-0001', { stage: 'pretrain' }, { latencyS: 2, peakMemoryBytes: 20 * GiB }),
    makeRecord('m-0001', { model: { preset: '0.5b' } }, { latencyS: 2, peakMemoryBytes: 20 * GiB }),
    makeRecord(
      'd-0001',
      {},
      { latencyS: 2, peakMemoryBytes: 20 * GiB },
      { env: { ...emptyEnv(), device: { name: 'NVIDIA GH200 480GB', memoryBytes: 96 * GiB } } },
    ),
  ];
  const groups = groupRuns(runs);
  assert.equal(groups.length, 6);
  assert.deepEqual(
    groups[0].runs.map((r) => r.id),
    trio().map((r) => r.id),
  );
  assert.equal(groups[0].key.key, 'inference · tiny · batch 1, seqLen 128, newTokens 32 · NVIDIA H100 80GB HBM3');
  assert.deepEqual(
    groups[1].runs.map((r) => r.id),
    ['w-0001', 'w-0002'],
  );
  const report = recommend(runs, opts());
  assert.equal(report.groups.length, 6);
  assert.equal(
    report.groups[1].recommendation?.evidence.every((id) => id.startsWith('w-')),
    true,
  );
  // The MoE preset is grouped with its dense base, so MoE is compared against dense.
  const moe = groupRuns([
    makeRecord('x-1', { model: { preset: '0.5b' } }, {}),
    makeRecord('x-2', { model: { preset: '0.5bx8' } }, {}),
  ]);
  assert.equal(moe.length, 1);
});

test('failed runs and runs missing an objective are listed as excluded; all-failed groups are dropped', () => {
  const runs = [
    ...trio(),
    makeRecord(
      '20250101-130000-0oom',
      { attention: { kind: 'mla' } },
      {},
      {
        status: 'failed',
        error: { kind: 'oom', message: 'CUDA out of memory', stderrTail: '' },
      },
    ),
    makeRecord('20250101-130100-nlat', { attention: { kind: 'nsa' } }, { peakMemoryBytes: GiB }),
    makeRecord('20250101-140000-only', { workload: { batch: 8 } }, {}, { status: 'failed' }),
  ];
  const report = recommend(runs, opts());
  assert.equal(report.groups.length, 1);
  const g = report.groups[0];
  assert.deepEqual(g.excluded, [
    { runId: '20250101-130000-0oom', why: 'not completed (failed: oom (CUDA out of memory))' },
    { runId: '20250101-130100-nlat', why: 'no latency measured (latencyS is null)' },
  ]);
  assert.equal(g.recommendation?.runId, '20250101-120100-c3d4');
  assert.ok(g.priors.includes('mla-perplexity'));
});

test('a single eligible run is recommended as the only one; no eligible run → null', () => {
  const one = recommend([trio()[0]], opts()).groups[0];
  assert.equal(
    one.recommendation?.reason,
    'MHA fp32: the only comparable run that meets the constraints and measured latency, memory — run a1b2',
  );
  const none = recommend(trio(), opts({}, { maxMemoryBytes: GiB })).groups[0];
  assert.equal(none.recommendation, null);
  assert.deepEqual(none.front, []);
  assert.equal(none.excluded.length, 3);
});

test('explicit objectives; default adds energy only when every run measured it', () => {
  const runs = trio();
  runs.forEach((r, i) => {
    r.metrics.joulesPerToken = [0.3, 0.2, 0.25][i];
    r.metrics.tokensPerS = [100, 98, 78][i];
  });
  assert.deepEqual(recommend(runs, opts()).groups[0].objectives, ['latency', 'memory', 'energy']);
  runs[0].metrics.joulesPerToken = null;
  const g = recommend(runs, opts()).groups[0];
  assert.deepEqual(g.objectives, ['latency', 'memory']);
  const t = recommend(runs, opts({ objectives: ['throughput', 'energy'] })).groups[0];
  assert.deepEqual(t.objectives, ['throughput', 'energy']);
  assert.deepEqual(
    t.excluded.map((e) => e.runId),
    ['20250101-120000-a1b2'],
  );
});

test('parsers: sizes, percentages, durations, objectives', () => {
  assert.deepEqual(parseByteSize('40GiB'), { ok: true, value: 40 * GiB });
  assert.deepEqual(parseByteSize('1.5 GB'), { ok: true, value: 1.5e9 });
  assert.deepEqual(parseByteSize('512MiB'), { ok: true, value: 512 * 2 ** 20 });
  assert.deepEqual(parseByteSize('64KB'), { ok: true, value: 64e3 });
  assert.deepEqual(parseByteSize('4096B'), { ok: true, value: 4096 });
  assert.deepEqual(parseByteSize('2kib'), { ok: true, value: 2048 });
  for (const bad of ['40', '40 parsecs', 'GiB', '-1GiB', '0GiB', '']) assert.equal(parseByteSize(bad).ok, false, bad);
  assert.deepEqual(parsePercent('3%'), { ok: true, value: 3 });
  assert.deepEqual(parsePercent('2.5'), { ok: true, value: 2.5 });
  assert.equal(parsePercent('150').ok, false);
  assert.deepEqual(parseDuration('200ms'), { ok: true, value: 0.2 });
  assert.deepEqual(parseDuration('1.5'), { ok: true, value: 1.5 });
  assert.equal(parseDuration('fast').ok, false);
  assert.deepEqual(parseObjectives('latency, memory,latency'), { ok: true, value: ['latency', 'memory'] });
  const bad = parseObjectives('latency,speed');
  assert.equal(bad.ok, false);
  assert.match(
    bad.ok ? '' : bad.message,
    /"speed" is not an objective; use one or more of latency, memory, energy, throughput, quality/,
  );
});

test('shortIds: last 4 characters, full id on collision', () => {
  const s = shortIds(['20250101-120000-a1b2', '20250102-120000-a1b2', '20250101-120000-ffff']);
  assert.equal(s.get('20250101-120000-ffff'), 'ffff');
  assert.equal(s.get('20250101-120000-a1b2'), '20250101-120000-a1b2');
});

test("priors: each is labelled as the study's, with conditions; matching by technique and GPU", () => {
  assert.equal(PRIORS.length, 6);
  for (const p of PRIORS) {
    assert.equal(p.kind, 'prior');
    assert.equal(p.source, 'EfficientLLM, arXiv 2505.13840');
    assert.ok(p.id.length > 0 && p.text.length > 0);
  }
  assert.equal(PRIOR_SOURCE, 'EfficientLLM, arXiv 2505.13840');
  assert.equal(gpuFamily('NVIDIA GH200 480GB'), 'GH200');
  assert.equal(gpuFamily('NVIDIA H200'), 'H200');
  assert.equal(gpuFamily('NVIDIA H100 80GB HBM3'), 'H100');
  assert.equal(gpuFamily('NVIDIA A100-SXM4-80GB'), null);
  const bf = makeRecord('p-1', { precision: 'bf16' }, {});
  assert.deepEqual(
    relevantPriors([bf]).map((p) => p.id),
    ['bf16-hopper'],
  );
  const onA100 = { ...bf, env: { ...emptyEnv(), device: { name: 'NVIDIA A100-SXM4-80GB', memoryBytes: 80 * GiB } } };
  assert.deepEqual(
    relevantPriors([onA100]).map((p) => p.id),
    [],
  );
  const ft = makeRecord('p-2', { stage: 'finetune', peft: { method: 'rslora' } }, {});
  assert.ok(relevantPriors([ft]).some((p) => p.id === 'rslora-14b'));
  const moe = makeRecord('p-3', { model: { preset: '0.5bx8' } }, {});
  assert.ok(relevantPriors([moe]).some((p) => p.id === 'moe-memory'));
  // Comparing attention variants brings in the attention priors even without MQA or MLA runs.
  const cmp = [
    makeRecord('p-4', { attention: { kind: 'mha' } }, {}),
    makeRecord('p-5', { attention: { kind: 'gqa' } }, {}),
  ];
  assert.deepEqual(
    relevantPriors(cmp).map((p) => p.id),
    ['mqa-memory-latency', 'mla-perplexity'],
  );
});

// ---- CLI ----

test('recommend CLI: empty store prints the priors, labelled; --json gives no groups and every prior', async () => {
  await withStore(async (store, root) => {
    let io = fakeIo(root);
    assert.equal(await recommendCommand([], io), 0);
    assert.match(io.stdout, /No completed runs in /);
    assert.match(
      io.stdout,
      /Priors from the EfficientLLM study \(arXiv 2505\.13840\): findings of the paper, not measurements of your runs/,
    );
    for (const p of PRIORS) assert.ok(io.stdout.includes(`[prior] ${p.text}`), p.id);
    assert.match(io.stdout, /int4 .*3\.9× less memory.*3–5%/);
    assert.equal(io.stderr, '');

    // Only a failed run: still nothing measured.
    await store.save(makeRecord('20250101-120000-dead', {}, {}, { status: 'failed' }));
    io = fakeIo(root);
    assert.equal(await recommendCommand(['--json'], io), 0);
    const parsed = JSON.parse(io.stdout) as {
      groups: unknown[];
      priors: { id: string; kind: string; source: string }[];
    };
    assert.deepEqual(parsed.groups, []);
    assert.deepEqual(
      parsed.priors.map((p) => p.id),
      PRIORS.map((p) => p.id),
    );
    assert.ok(parsed.priors.every((p) => p.kind === 'prior' && p.source === 'EfficientLLM, arXiv 2505.13840'));
  });
});

test('recommend CLI: table, reason and priors per group; --json shape; --store DIR', async () => {
  await withStore(async (store, root) => {
    for (const r of trio()) await store.save(r);
    let io = fakeIo(root);
    assert.equal(await recommendCommand([], io), 0);
    const out = io.stdout;
    assert.match(out, /^Group 1: inference · tiny · batch 1, seqLen 128, newTokens 32 · NVIDIA H100 80GB HBM3$/m);
    assert.match(out, /^Objectives: latency \(min\), memory \(min\)$/m);
    assert.match(out, /^ {2}\* {2}20250101-120100-c3d4 +GQA-2 +1\.02 s +6\.00 GiB$/m);
    assert.match(out, /^ {5}20250101-120000-a1b2 +MHA +1\.00 s +10\.0 GiB$/m);
    assert.ok(
      out.includes(
        'Recommendation: GQA-2: 40% less memory than MHA at equal latency; 22% faster than MQA for 9% more memory — runs c3d4, a1b2, e5f6',
      ),
    );
    assert.match(out, /Relevant priors \(from the study, not measured here\):\n {2}\[prior\] MQA gave/);

    io = fakeIo(tmpdir());
    assert.equal(
      await recommendCommand(
        ['--json', '--store', store.dir, '--objective', 'latency,memory', '--max-memory', '8GiB'],
        io,
      ),
      0,
    );
    const parsed = JSON.parse(io.stdout) as {
      groups: {
        key: string;
        objectives: string[];
        front: string[];
        excluded: { runId: string; why: string }[];
        recommendation: { runId: string; label: string; reason: string; evidence: string[] } | null;
      }[];
      priors: unknown[];
    };
    assert.equal(parsed.groups.length, 1);
    const g = parsed.groups[0];
    assert.deepEqual(
      Object.keys(g).filter((k) => ['key', 'objectives', 'front', 'excluded', 'recommendation'].includes(k)).length,
      5,
    );
    assert.deepEqual(g.objectives, ['latency', 'memory']);
    assert.deepEqual(g.front, ['20250101-120100-c3d4', '20250101-120200-e5f6']);
    assert.deepEqual(
      g.excluded.map((e) => e.runId),
      ['20250101-120000-a1b2'],
    );
    assert.equal(g.recommendation?.runId, '20250101-120100-c3d4');
    assert.deepEqual(g.recommendation?.evidence, ['20250101-120100-c3d4', '20250101-120200-e5f6']);
    assert.equal(g.recommendation?.reason, 'GQA-2: 22% faster than MQA for 9% more memory — runs c3d4, e5f6');
    assert.equal(parsed.priors.length, PRIORS.length);
  });
});

test('recommend CLI: bad flags are UsageErrors naming the flag and the allowed values', async () => {
  await withStore(async (_store, root) => {
    const rejects = (argv: string[], re: RegExp) =>
      assert.rejects(
        recommendCommand(argv, fakeIo(root)),
        (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n'),
      );
    await rejects(
      ['--objective', 'speed'],
      /^recommend: --objective "speed" is not an objective; use one or more of latency, memory, energy, throughput, quality/,
    );
    await rejects(
      ['--max-memory', '40'],
      /^recommend: --max-memory "40" needs a unit \(B, KiB, MiB, GiB, TiB, KB, MB, GB, TB\)/,
    );
    await rejects(['--max-memory', '40XB'], /--max-memory "XB" in "40XB" is not a unit/);
    await rejects(['--max-quality-loss', 'lots'], /^recommend: --max-quality-loss "lots" is not a percentage/);
    await rejects(['--max-latency', 'soon'], /^recommend: --max-latency "soon" is not a duration/);
    await rejects(['--bogus'], /^recommend: .*--bogus/);
    await rejects(['extra'], /^recommend: takes no arguments/);
  });
});
