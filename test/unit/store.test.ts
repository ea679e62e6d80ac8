import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/cli/io';
import { runsCommand } from '../../src/cli/runs';
import { showCommand } from '../../src/cli/show';
import { emptyMetrics } from '../../src/core/record';
import type { RunMetrics, RunRecord } from '../../src/core/record';
import { newRunId, RunLookupError, RunStore, runStoreDir, StoreFileError } from '../../src/run/store';
import { fakeIo, makeRunRecord, withStore } from './helpers';

function makeRecord(
  id: string,
  createdAt: string,
  metrics: Partial<RunMetrics> = {},
  extra: Partial<RunRecord> = {},
): RunRecord {
  return makeRunRecord(id, {}, metrics, { createdAt, ...extra });
}

test('newRunId is YYYYMMDD-HHMMSS-xxxx in UTC, sortable and random', () => {
  const d = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));
  const id = newRunId(d);
  assert.match(id, /^20250102-030405-[0-9a-f]{4}$/);
  const ids = new Set(Array.from({ length: 50 }, () => newRunId(d)));
  assert.ok(ids.size > 40, 'random suffixes differ');
  assert.ok(newRunId(new Date(Date.UTC(2025, 0, 2, 3, 4, 6))) > newRunId(d).slice(0, 15));
  assert.match(newRunId(), /^\d{8}-\d{6}-[0-9a-f]{4}$/);
});

test('save writes pretty JSON with a trailing newline under .efficientllm/runs, get reads it back', async () => {
  await withStore(async (store, root) => {
    assert.equal(store.dir, runStoreDir(root));
    assert.equal(store.dir, path.join(root, '.efficientllm', 'runs'));
    const r = makeRecord('20250101-120000-abcd', '2025-01-01T12:00:00.000Z', { latencyS: 0.25 });
    const file = await store.save(r);
    assert.equal(file, path.join(store.dir, '20250101-120000-abcd.json'));
    const text = await readFile(file, 'utf8');
    assert.equal(text, `${JSON.stringify(r, null, 2)}\n`);
    assert.deepEqual(await store.get('20250101-120000-abcd'), r);
    assert.deepEqual(await readdir(store.dir), ['20250101-120000-abcd.json']);
  });
});

test('atomic writes: no temp files left, a concurrent reader never sees a partial file', async () => {
  await withStore(async (store) => {
    const id = '20250101-120000-beef';
    const big = (n: number): RunRecord =>
      makeRecord(
        id,
        '2025-01-01T12:00:00.000Z',
        { params: n },
        {
          samples: Array.from({ length: 20_000 }, (_, i) => ({
            t: i / 10,
            memoryBytes: 1e9 + i * n,
            utilization: 50,
            powerW: 300.5,
          })),
          protocolProblems: [`generation ${n}`],
        },
      );
    await store.save(big(0));
    const size = (await readFile(store.fileOf(id))).length;
    assert.ok(size > 1_000_000, `record is big (${size} bytes)`);

    let writing = true;
    let reads = 0;
    const seen = new Set<number>();
    const reader = (async () => {
      while (writing) {
        const text = await readFile(store.fileOf(id), 'utf8');
        const parsed = JSON.parse(text) as RunRecord; // throws on a partial file
        assert.equal(parsed.samples.length, 20_000);
        assert.ok(text.endsWith('}\n'));
        seen.add(parsed.metrics.params ?? -1);
        reads++;
      }
    })();
    try {
      for (let n = 1; n <= 30; n++) await store.save(big(n));
      // Several writers of the same id at once: last rename wins, each file whole.
      await Promise.all(Array.from({ length: 8 }, (_, k) => store.save(big(100 + k))));
    } finally {
      writing = false;
    }
    await reader;
    assert.ok(reads > 5, `reader ran alongside the writer (${reads} reads)`);
    assert.ok(seen.size > 1, `reader saw several generations (${[...seen].join(',')})`);
    assert.deepEqual(await readdir(store.dir), [`${id}.json`], 'no temp files left behind');
    const final = await store.get(id);
    assert.ok((final.metrics.params ?? 0) >= 100);
  });
});

test('get by unique prefix; ambiguous and unknown prefixes name the id and list close matches', async () => {
  await withStore(async (store) => {
    await store.save(makeRecord('20250101-120000-aaaa', '2025-01-01T12:00:00.000Z'));
    await store.save(makeRecord('20250101-120000-aabb', '2025-01-01T12:00:00.000Z'));
    await store.save(makeRecord('20250202-090000-cccc', '2025-02-02T09:00:00.000Z'));
    assert.equal((await store.get('20250202')).id, '20250202-090000-cccc');
    assert.equal((await store.get('20250101-120000-aab')).id, '20250101-120000-aabb');
    assert.equal((await store.get('20250101-120000-aaaa')).id, '20250101-120000-aaaa');
    await assert.rejects(store.get('20250101-120000-aa'), (e: unknown) => {
      assert.ok(e instanceof RunLookupError);
      assert.match(
        e.message,
        /"20250101-120000-aa" matches 2 runs: 20250101-120000-aabb, 20250101-120000-aaaa; give more/,
      );
      assert.deepEqual(e.candidates.sort(), ['20250101-120000-aaaa', '20250101-120000-aabb']);
      return true;
    });
    await assert.rejects(store.get('20250101-120000-zz'), (e: unknown) => {
      assert.ok(e instanceof RunLookupError);
      assert.match(e.message, /no run "20250101-120000-zz".*closest: 20250101-120000-aabb, 20250101-120000-aaaa/);
      return true;
    });
    await assert.rejects(store.get('zzz'), /no run "zzz".*newest: 20250202-090000-cccc/);
    await assert.rejects(store.get('../../etc/passwd'), RunLookupError);
    await assert.rejects(store.get(''), RunLookupError);
  });
});

test('list: newest first; corrupt, foreign-schema and misnamed files are reported, not thrown', async () => {
  await withStore(async (store) => {
    await store.save(makeRecord('20250101-120000-aaaa', '2025-01-01T12:00:00.000Z'));
    await store.save(makeRecord('20250301-120000-cccc', '2025-03-01T12:00:00.000Z'));
    await store.save(makeRecord('20250201-120000-bbbb', '2025-02-01T12:00:00.000Z'));
    await writeFile(path.join(store.dir, 'broken.json'), '{"schema": 1, "id": "bro');
    await writeFile(path.join(store.dir, 'future.json'), JSON.stringify({ schema: 2, id: 'future' }));
    await writeFile(
      path.join(store.dir, 'renamed.json'),
      JSON.stringify(makeRecord('20240101-000000-0000', '2024-01-01T00:00:00Z')),
    );
    await writeFile(path.join(store.dir, 'notes.txt'), 'not a run');
    await writeFile(path.join(store.dir, '.20250101-120000-aaaa.123.abcdef.tmp'), '{"half');
    const { runs, problems } = await store.list();
    assert.deepEqual(
      runs.map((r) => r.id),
      ['20250301-120000-cccc', '20250201-120000-bbbb', '20250101-120000-aaaa'],
    );
    assert.equal(problems.length, 3);
    const byName = new Map(problems.map((p) => [path.basename(p.file), p.message]));
    assert.match(byName.get('broken.json') ?? '', /not valid JSON.*fix it by hand or delete/);
    assert.match(byName.get('future.json') ?? '', /schema 2, not 1.*newer EfficientLLM Profiler; upgrade/);
    assert.match(
      byName.get('renamed.json') ?? '',
      /holds run "20240101-000000-0000".*rename it to "20240101-000000-0000.json"/,
    );
    for (const p of problems) assert.ok(path.isAbsolute(p.file));
    await assert.rejects(
      store.get('broken'),
      (e: unknown) => e instanceof StoreFileError && /broken\.json: is not valid JSON/.test(e.message),
    );
  });
});

test('list of a store that does not exist yet is empty; a schema-1 record missing newer fields is filled in', async () => {
  await withStore(async (store) => {
    assert.deepEqual(await store.list(), { runs: [], problems: [] });
    await mkdir(store.dir, { recursive: true });
    const r = makeRecord('20250101-120000-aaaa', '2025-01-01T12:00:00.000Z', { mfu: 0.5 });
    const partial: Record<string, unknown> = { ...r, metrics: { mfu: 0.5 } };
    delete partial.samples;
    delete partial.measurement;
    await writeFile(store.fileOf(r.id), JSON.stringify(partial));
    const got = await store.get(r.id);
    assert.deepEqual(got.metrics, { ...emptyMetrics(), mfu: 0.5 });
    assert.deepEqual(got.samples, []);
    assert.equal(got.measurement, null);
  });
});

test('delete removes one run by exact id; unknown ids are a lookup error', async () => {
  await withStore(async (store) => {
    await store.save(makeRecord('20250101-120000-aaaa', '2025-01-01T12:00:00.000Z'));
    await store.delete('20250101-120000-aaaa');
    assert.deepEqual((await store.list()).runs, []);
    await assert.rejects(store.delete('20250101-120000-aaaa'), RunLookupError);
    await assert.rejects(store.delete('../x'), RunLookupError);
  });
});

test('save refuses ids that are not file names', async () => {
  await withStore(async (store) => {
    await assert.rejects(store.save(makeRecord('../escape', '2025-01-01T12:00:00.000Z')), RunLookupError);
    await assert.rejects(store.save(makeRecord('.hidden', '2025-01-01T12:00:00.000Z')), RunLookupError);
  });
});

// ---- CLI ----

async function seed(store: RunStore): Promise<void> {
  await store.save(
    makeRecord('20250101-120000-aaaa', '2025-01-01T12:00:00.000Z', {
      latencyS: 0.0123,
      tokensPerS: 2600,
      peakMemoryBytes: 1.5 * 1024 ** 3,
      params: 2_300_000,
      mfu: 0.123,
    }),
  );
  await store.save(
    makeRecord(
      '20250102-120000-bbbb',
      '2025-01-02T12:00:00.000Z',
      {},
      {
        status: 'failed',
        target: { kind: 'ssh', name: 'gpu1' },
        error: {
          kind: 'oom',
          message: 'CUDA out of memory',
          stderrTail: 'Traceback (most recent call last):\n  torch.OutOfMemoryError\x1b[31m',
        },
      },
    ),
  );
}

test('runs: table newest first, --json prints {"runs": [...]}, problems go to stderr', async () => {
  await withStore(async (store, root) => {
    await seed(store);
    await writeFile(path.join(store.dir, 'junk.json'), 'nope');
    let io = fakeIo(root);
    assert.equal(await runsCommand([], io), 0);
    const lines = io.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^id\s+created\s+status\s+label\s+latency\s+throughput\s+peak mem\s+power\s+energy$/);
    assert.match(lines[1], /^-+ +-+/);
    assert.match(lines[2], /^20250102-120000-bbbb\s+2025-01-02 12:00:00Z\s+failed\s+tiny gqa-2 fp32 inference\s+—/);
    assert.match(lines[3], /^20250101-120000-aaaa .*completed.*12\.3 ms\s+2\.60K tok\/s\s+1\.50 GiB\s+—\s+—$/);
    assert.match(io.stderr, /skipped .*junk\.json: is not valid JSON/);

    io = fakeIo(root);
    assert.equal(await runsCommand(['--json'], io), 0);
    const parsed = JSON.parse(io.stdout) as { runs: RunRecord[] };
    assert.deepEqual(
      parsed.runs.map((r) => r.id),
      ['20250102-120000-bbbb', '20250101-120000-aaaa'],
    );
    assert.deepEqual(parsed.runs[1], await store.get('20250101-120000-aaaa'));

    io = fakeIo(tmpdir());
    assert.equal(await runsCommand(['--store', store.dir, '--json'], io), 0);
    assert.equal((JSON.parse(io.stdout) as { runs: RunRecord[] }).runs.length, 2);

    io = fakeIo(path.join(root, 'empty'));
    assert.equal(await runsCommand([], io), 0);
    assert.match(io.stdout, /No runs in .*efficientllm profile/);
    io = fakeIo(path.join(root, 'empty'));
    assert.equal(await runsCommand(['--json'], io), 0);
    assert.deepEqual(JSON.parse(io.stdout), { runs: [] });

    await assert.rejects(
      runsCommand(['--jsn'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /^runs: .*--jsn/.test(e.message) && !e.message.includes('\n'),
    );
    await assert.rejects(
      runsCommand(['extra'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /takes no arguments/.test(e.message),
    );
    await assert.rejects(runsCommand(['--store'], fakeIo(root)), UsageError);
  });
});

test('show: config, env, every metric with units, error with stderr tail; --json; prefix; bad ids', async () => {
  await withStore(async (store, root) => {
    await seed(store);
    let io = fakeIo(root);
    assert.equal(await showCommand(['20250101'], io), 0);
    const text = io.stdout;
    assert.match(text, /^Run 20250101-120000-aaaa {2}completed {2}2025-01-01 12:00:00Z {2}on local\n/);
    assert.match(text, /model +synthetic tiny \(2 layers, hidden 256, 8 heads, 2 KV heads, head dim 32/);
    assert.match(text, /attention +gqa, 2 KV heads/);
    assert.match(text, /workload +batch 1, seqLen 128, newTokens 32, steps 5 \(\+2 warm-up\)/);
    assert.match(text, /python +—/);
    assert.match(text, /Peak memory +1\.50 GiB +1610612736 +bytes/);
    assert.match(text, /Latency \(AL\) +12\.3 ms +0\.0123 +s/);
    assert.match(text, /MFU +12\.3% +0\.123 +fraction/);
    assert.match(text, /Energy +— +J/);
    assert.doesNotMatch(text, /Error/);

    io = fakeIo(root);
    assert.equal(await showCommand(['20250102-120000-bbbb'], io), 0);
    assert.match(io.stdout, /on ssh:gpu1/);
    assert.match(
      io.stdout,
      /Error: oom\n {2}CUDA out of memory\n {2}stderr \(tail\):\n {2}\| Traceback \(most recent call last\):\n {2}\| {3}torch\.OutOfMemoryError\uFFFD\[31m\n/,
    );
    assert.ok(!io.stdout.includes('\x1b'), 'no escape sequences reach the terminal');

    io = fakeIo(root);
    assert.equal(await showCommand(['--json', '20250102'], io), 0);
    assert.deepEqual(JSON.parse(io.stdout), await store.get('20250102-120000-bbbb'));

    await assert.rejects(
      showCommand([], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /give a run id/.test(e.message),
    );
    await assert.rejects(
      showCommand(['2025'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /^show: "2025" matches 2 runs/.test(e.message),
    );
    await assert.rejects(
      showCommand(['nope'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && /^show: no run "nope"/.test(e.message),
    );
    await assert.rejects(showCommand(['a', 'b'], fakeIo(root)), UsageError);
    await assert.rejects(
      showCommand(['--verbose', 'x'], fakeIo(root)),
      (e: unknown) => e instanceof UsageError && !e.message.includes('\n'),
    );
  });
});
