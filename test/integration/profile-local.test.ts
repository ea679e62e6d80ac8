// The CLI on the local target, end to end on CPU with the real harness and PyTorch, checked against
// ground truth computed here, outside the harness: shape formulas and the wall clock around the process.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunRecord } from '../../src/core/record';
import { outcomes, runCli, tinyParams, type CliRun } from '../infra/control';

const PYTHON = process.env.EFFICIENTLLM_PYTHON ?? 'python3';
const TINY = { layers: 2, hidden: 256, heads: 8, headDim: 32, ffn: 688, vocab: 1024 };

async function workspace(): Promise<{ cwd: string; env: NodeJS.ProcessEnv }> {
  const cwd = await mkdtemp(join(tmpdir(), 'elp-ws-'));
  return { cwd, env: { ...process.env, EFFICIENTLLM_CACHE: join(cwd, 'cache'), EFFICIENTLLM_PYTHON: PYTHON } };
}

function cli(
  args: string[],
  ws: { cwd: string; env: NodeJS.ProcessEnv },
  whileRunning?: (pid: number) => Promise<void>,
): Promise<CliRun> {
  return runCli(args, { cwd: ws.cwd, env: ws.env }, whileRunning);
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first run folder whose events show the measured window has begun; returns its pid. */
async function measuringRunPid(cache: string): Promise<number> {
  return until('a run in its measured window', async () => {
    for (const id of await readdir(join(cache, 'runs'))) {
      const events = await readFile(join(cache, 'runs', id, 'events.jsonl'), 'utf8').catch(() => '');
      if (events.includes('"phase": "measure"') || events.includes('"phase":"measure"')) {
        return Number((await readFile(join(cache, 'runs', id, 'pid'), 'utf8')).trim());
      }
    }
    return null;
  });
}

test('MHA, GQA and MQA on the tiny preset: exact KV bytes and parameters, consistent timings', async () => {
  const ws = await workspace();
  const workload = { batch: 2, seqLen: 64, newTokens: 16, steps: 3 };
  const r = await cli(
    [
      'profile',
      '--preset',
      'tiny',
      '--attention',
      'mha,gqa,mqa',
      '--stage',
      'inference',
      '--target',
      'local',
      '--batch',
      String(workload.batch),
      '--seq-len',
      String(workload.seqLen),
      '--new-tokens',
      String(workload.newTokens),
      '--steps',
      String(workload.steps),
      '--warmup',
      '1',
      '--json',
    ],
    ws,
  );
  assert.equal(r.code, 0, r.stderr);
  const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
  assert.deepEqual(outcomes(runs), ['mha completed', 'gqa completed', 'mqa completed']);

  let measuredTotal = 0;
  for (const run of runs) {
    const m = run.metrics;
    const kv = run.config.attention.kvHeads;
    assert.equal(m.params, tinyParams(kv), `${run.config.label}: parameters from the shape formula`);
    // DESIGN.md: 2 × layers × kvHeads × headDim × batch × (seqLen + newTokens) × bytes per element (fp32).
    assert.equal(
      m.kvCacheBytes,
      2 * TINY.layers * kv * TINY.headDim * workload.batch * (workload.seqLen + workload.newTokens) * 4,
    );
    assert.equal(m.weightBytes, tinyParams(kv) * 4);
    for (const k of ['latencyS', 'ttftS', 'tpotS', 'tokensPerS', 'peakMemoryBytes', 'amuBytes'] as const) {
      assert.ok(m[k] !== null && m[k]! > 0, `${run.config.label}: ${k} = ${m[k]} is positive`);
    }
    // tokens/s = generated tokens ÷ time: over one request, tokens/s × latency = batch × newTokens.
    assert.ok(Math.abs(m.tokensPerS! * m.latencyS! - workload.batch * workload.newTokens) < 1e-6);
    // A request is a prefill plus newTokens − 1 decode steps.
    assert.ok(
      m.ttftS! + (workload.newTokens - 1) * m.tpotS! <= m.latencyS! * 1.05,
      `${run.config.label}: ttft + decode ≈ latency`,
    );
    assert.ok(m.ttftS! < m.latencyS!);
    assert.equal(run.env.device !== null, true);
    assert.equal(run.error, null);
    // Issue 12: the floor is a lower bound of the time and the peak an upper bound of the rate, so no
    // record may be faster than its floor or above its peak; the record names the peak it used.
    assert.ok(
      m.rooflineFraction === null || m.rooflineFraction <= 1,
      `${run.config.label}: roofline ${m.rooflineFraction}`,
    );
    assert.ok(m.mfu === null || m.mfu < 1, `${run.config.label}: MFU ${m.mfu}`);
    assert.equal(
      m.mfu === null,
      (run.measurement?.peakFlops?.flopsPerS ?? null) === null,
      'MFU null exactly without a peak',
    );
    assert.deepEqual(run.target, {
      kind: 'local',
      name: 'local',
      spec: { kind: 'local', python: PYTHON, isolate: false },
    });
    measuredTotal += m.latencyS! * workload.steps;
  }
  const [mha, gqa, mqa] = runs.map((x) => x.metrics.kvCacheBytes!);
  assert.ok(mha > gqa && gqa > mqa, 'KV memory MHA > GQA > MQA');
  assert.ok(
    measuredTotal < r.wallS,
    `measured ${measuredTotal}s must fit in the ${r.wallS}s wall clock around the CLI`,
  );

  const stored = (await readdir(join(ws.cwd, '.efficientllm', 'runs'))).filter((f) => f.endsWith('.json'));
  assert.deepEqual(stored.sort(), runs.map((x) => `${x.id}.json`).sort(), 'each run is stored once, by id');
  const onDisk = JSON.parse(
    await readFile(join(ws.cwd, '.efficientllm', 'runs', `${runs[0].id}.json`), 'utf8'),
  ) as RunRecord;
  assert.deepEqual(onDisk, runs[0]);
});

test('bad input names the field, exits non-zero and writes nothing', async () => {
  const ws = await workspace();
  const cases: [string[], RegExp][] = [
    [['--attention', 'xyz'], /attention\.kind.*"mha", "mqa", "gqa", "mla", "nsa"/],
    [
      ['--attention', 'gqa', '--kv-heads', '3'],
      /attention\.kvHeads: 3 does not divide the 8 query heads; use one of 1, 2, 4, 8/,
    ],
    [['--precision', 'fp64'], /precision/],
    [['--batch', 'two'], /--batch/],
    [['--target', 'moon'], /--target "moon"/],
  ];
  for (const [flags, message] of cases) {
    const r = await cli(['profile', '--preset', 'tiny', ...flags], ws);
    assert.notEqual(r.code, 0, flags.join(' '));
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  assert.equal(existsSync(join(ws.cwd, '.efficientllm')), false, 'nothing written to the store');
  assert.equal(existsSync(join(ws.cwd, 'cache')), false, 'no run folder created');
});

test('a harness killed mid-run leaves a failed record with what it had measured', async () => {
  const ws = await workspace();
  const cache = join(ws.cwd, 'cache');
  const r = await cli(
    ['profile', '--preset', 'tiny', '--attention', 'gqa,mqa', '--stage', 'pretrain', '--steps', '100000', '--json'],
    ws,
    async () => {
      const pid = await measuringRunPid(cache);
      process.kill(pid, 'SIGKILL');
    },
  );
  assert.equal(r.code, 1);
  const { runs } = JSON.parse(r.stdout) as { runs: RunRecord[] };
  assert.equal(runs[0].status, 'failed');
  assert.match(runs[0].error!.message, /killed by SIGKILL during this run/);
  assert.equal(typeof runs[0].error!.stderrTail, 'string');
  assert.notEqual(runs[0].env.torch, null, 'what the harness said before dying is kept');
  assert.equal(runs[1].status, 'failed');
  assert.match(runs[1].error!.message, /before this run started/);
  const stored = JSON.parse(
    await readFile(join(ws.cwd, '.efficientllm', 'runs', `${runs[0].id}.json`), 'utf8'),
  ) as RunRecord;
  assert.equal(stored.status, 'failed');
});

test('a harness that crashes mid-run leaves its stderr tail in the record', async () => {
  const ws = await workspace();
  // A real interpreter that runs the real harness and dies 1.5 s in, writing to stderr as a crash would.
  const wrapper = join(ws.cwd, 'crashing-python');
  await writeFile(
    wrapper,
    `#!/bin/sh
[ "$1" = "-c" ] && exec ${PYTHON} "$@"
shift 2
exec ${PYTHON} -c 'import os, runpy, sys, threading
def crash():
    sys.stderr.write("RuntimeError: simulated crash inside the harness\\n"); sys.stderr.flush(); os._exit(70)
threading.Timer(4.0, crash).start()
sys.argv = ["efficientllm_harness"] + sys.argv[1:]
runpy.run_module("efficientllm_harness", run_name="__main__")' "$@"
`,
  );
  await chmod(wrapper, 0o755);
  const r = await cli(
    ['profile', '--preset', 'tiny', '--stage', 'pretrain', '--steps', '100000', '--python', wrapper, '--json'],
    ws,
  );
  assert.equal(r.code, 1, r.stderr);
  const [run] = (JSON.parse(r.stdout) as { runs: RunRecord[] }).runs;
  assert.equal(run.status, 'failed');
  assert.match(run.error!.message, /exited with code 70/);
  assert.match(run.error!.stderrTail, /simulated crash inside the harness/);
});

test('cancelling the CLI cancels the runs and stores them as cancelled', async () => {
  const ws = await workspace();
  const cache = join(ws.cwd, 'cache');
  const r = await cli(
    ['profile', '--preset', 'tiny', '--stage', 'pretrain', '--steps', '100000', '--json'],
    ws,
    async (cliPid) => {
      const harnessPid = await measuringRunPid(cache);
      process.kill(cliPid, 'SIGINT');
      await until(
        'the harness process group to be gone',
        async () => {
          try {
            process.kill(harnessPid, 0);
            return null;
          } catch {
            return true;
          }
        },
        15_000,
      );
    },
  );
  const [run] = (JSON.parse(r.stdout) as { runs: RunRecord[] }).runs;
  assert.equal(run.status, 'cancelled');
  assert.equal(r.code, 1);
});
