// The preflight by estimate on the extension's path, without VS Code: sweep.ts's runSweep (profile()
// from the run room) with the check runService.ts builds (fitCheck.ts), on a fake target that counts
// what it was asked to do, and the real run model over in-memory stores. A config that cannot fit the
// target's memory is refused before the target is prepared or any record is stored, and the message
// names the estimate, the memory and the setting that tries anyway; one that fits runs as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRunState } from '../../src/core/assemble';
import { resolveConfig, type ProfileConfig, type ProfileConfigInput } from '../../src/core/config';
import { FitError, type DeviceMemory } from '../../src/core/fit';
import { formatBytes } from '../../src/core/units';
import { TargetError, type PlannedRun, type Target, type TargetHooks } from '../../src/run/target';
import { editorFitCheck, FIT_CHECK_SETTING } from '../../src/vscode/fitCheck';
import { launcherLaunch } from '../../src/vscode/launchWiring';
import { RunsModel } from '../../src/vscode/runsModel';
import { runSweep, tallyOf, type SweepResult } from '../../src/vscode/sweep';
import { memoryStores } from './vscode-models.fixtures';

const GiB = 2 ** 30;
const CPU: DeviceMemory = { name: 'local CPU', bytes: 8 * GiB };

const SHAPE = { layers: 2, hidden: 256, heads: 8, kvHeads: 8, headDim: 32, ffn: 688, vocab: 1024 };
function config(input: ProfileConfigInput): ProfileConfig {
  const r = resolveConfig({
    model: { preset: 'tiny', shape: SHAPE },
    attention: { kind: 'mha' },
    stage: 'inference',
    ...input,
  });
  assert.ok(r.ok, JSON.stringify(r));
  return r.value;
}
const LONG = 2 ** 24;
const tooLarge = config({ workload: { batch: 1, seqLen: LONG, newTokens: 16 } });
const small = config({ workload: { batch: 1, seqLen: 64, newTokens: 8, steps: 2, warmup: 1 } });
// The floor of the long one, from the shape here (fp32): the static KV cache, 2 × layers × kvHeads ×
// headDim × (seqLen + newTokens) × 4 bytes (64 GiB), and the prefill MLP's activations, seqLen ×
// (2 × hidden + 2 × ffn) × 4 bytes (118 GiB), beside 8 MiB of weights.
const KV = 2 * SHAPE.layers * SHAPE.kvHeads * SHAPE.headDim * (LONG + 16) * 4;
const ACTIVATIONS = LONG * (2 * SHAPE.hidden + 2 * SHAPE.ffn) * 4;
const attentionParams =
  2 * SHAPE.hidden * SHAPE.heads * SHAPE.headDim + 2 * SHAPE.hidden * SHAPE.kvHeads * SHAPE.headDim;
const WEIGHTS =
  4 *
  (2 * SHAPE.vocab * SHAPE.hidden +
    SHAPE.layers * (attentionParams + 3 * SHAPE.hidden * SHAPE.ffn + 2 * SHAPE.hidden) +
    SHAPE.hidden);

/** A target that records its calls and completes nothing (every run fails at once). */
function countingTarget(): { target: Target; calls: string[] } {
  const calls: string[] = [];
  const target: Target = {
    kind: 'local',
    name: 'local',
    prepare: async () => void calls.push('prepare'),
    execute: async (runs: PlannedRun[], hooks: TargetHooks) => {
      calls.push(`execute ${runs.length}`);
      for (const r of runs)
        await hooks.onRunEnd({
          id: r.id,
          state: newRunState(),
          ending: { status: 'failed', message: 'fake target' },
          stderrTail: '',
        });
    },
  };
  return { target, calls };
}

function sweep(configs: ProfileConfig[], memory: DeviceMemory | null, fitOn = true) {
  const { deps } = memoryStores();
  const runs = new RunsModel(deps, ['/ws']);
  const { target, calls } = countingTarget();
  const logged: string[] = [];
  const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), debug: () => undefined };
  let n = 0;
  const result = runSweep(
    {
      runs,
      sites: undefined,
      log,
      createTarget: () => target,
      closeTarget: async () => undefined,
      isTargetError: (e) => e instanceof TargetError,
      analytic: () => {
        throw new Error('no run of the fake target has a result to analyse');
      },
      newId: () => `20250101-1200${String(n++).padStart(2, '0')}-abcd`,
    },
    {
      configs,
      spec: { kind: 'local', python: 'python3' },
      targetName: 'local',
      controller: new AbortController(),
      fit: fitOn ? editorFitCheck({ kind: 'local', python: 'python3' }, {}, log, async () => memory) : undefined,
    },
  );
  return { result, runs, calls, logged };
}

test('a config that cannot fit is refused before the target is prepared or any run is stored', async () => {
  const s = sweep([small, tooLarge], CPU);
  const error = await s.result.then(
    () => assert.fail('the sweep should have been refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof FitError, String(error));
  assert.deepEqual(
    error.refused.map((r) => r.index),
    [1],
    'only the second config is refused',
  );
  // The estimate with its parts, the memory it was compared with, and the editor's way to try anyway.
  assert.ok(
    error.message.startsWith(
      `config 2 (${tooLarge.label}) needs ≈ ${formatBytes(WEIGHTS + KV + ACTIVATIONS)} (a floor: weights ${formatBytes(WEIGHTS)}, KV cache ${formatBytes(KV)}, activations ${formatBytes(ACTIVATIONS)}); local CPU has ${formatBytes(CPU.bytes)}.`,
    ),
    error.message,
  );
  assert.match(error.message, new RegExp(`set ${FIT_CHECK_SETTING.replace('.', '\\.')} to false to try anyway`));
  assert.doesNotMatch(error.message, /--no-fit-check/, "the CLI's flag is not the editor's fix");
  assert.deepEqual(s.calls, [], 'the target was never prepared or asked to run');
  assert.equal((await s.runs.list()).length, 0, 'nothing was stored');
  assert.equal(s.runs.active.size, 0, 'no run is shown as active');
});

test('with the memory unknown, nothing is refused and the log says what was not checked', async () => {
  const s = sweep([tooLarge], null);
  const r: SweepResult = await s.result;
  assert.equal(r.kind, 'ran');
  assert.deepEqual(s.calls, ['prepare', 'execute 1']);
  assert.ok(
    s.logged.some((l) => l.startsWith('fit check: local: device memory unknown')),
    s.logged.join('\n'),
  );
});

test('configs that fit, or any config with efficientllm.fitCheck off, reach the target as before', async () => {
  const fits = sweep([small], CPU);
  assert.equal((await fits.result).kind, 'ran');
  assert.deepEqual(fits.calls, ['prepare', 'execute 1']);
  assert.equal((await fits.runs.list()).length, 1);
  const off = sweep([tooLarge], CPU, false);
  assert.equal((await off.result).kind, 'ran');
  assert.deepEqual(off.calls, ['prepare', 'execute 1']);
});

test("the Launcher's answer to a refusal names the estimate and the setting (runService's not-started result)", async () => {
  const s = sweep([tooLarge], CPU);
  const refusal = await s.result.catch((e: unknown) => e);
  assert.ok(refusal instanceof FitError);
  // What Profiler.run (runService.ts) returns for a FitError: nothing started, nothing stored.
  const notStarted: SweepResult = {
    kind: 'not-started',
    records: [],
    tally: tallyOf([]),
    failure: { message: refusal.message, python: null },
  };
  const launch = launcherLaunch({
    resolveTarget: (name) => ({ name, spec: { kind: 'local', python: 'python3' }, pythonSetting: 'x' }),
    siteRef: () => undefined,
    profile: async () => notStarted,
  });
  await assert.rejects(launch([tooLarge], 'local', undefined), (e: Error) => {
    assert.match(e.message, /needs ≈ .* GiB .*local CPU has 8\.00 GiB.*set efficientllm\.fitCheck to false/);
    return true;
  });
});
