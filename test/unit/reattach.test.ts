import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyticFor } from '../../src/core/analytic';
import { newRunState } from '../../src/core/assemble';
import { openRuns, type RunRecord } from '../../src/core/record';
import { hooksSavingOnce } from '../../src/run/profile';
import { makeRunRecord } from './helpers';

test('reattach stores each open run exactly once, however often the target reports it', async () => {
  const running = { ...makeRunRecord('r1'), status: 'running' as const, target: { kind: 'ssh' as const, name: 'gpu' } };
  const done = { ...makeRunRecord('r2'), target: { kind: 'ssh' as const, name: 'gpu' } };
  const open = openRuns([running, done], 'ssh');
  assert.deepEqual(
    open.map((r) => r.id),
    ['r1'],
    'completed runs are not followed again',
  );
  const saved: RunRecord[] = [];
  const hooks = hooksSavingOnce(open, analyticFor, async (r) => void saved.push(r));
  const outcome = {
    id: 'r1',
    state: newRunState(),
    ending: { status: 'failed' as const, message: 'process vanished' },
    stderrTail: 'boom',
  };
  await hooks.onRunEnd(outcome);
  await hooks.onRunEnd(outcome);
  await hooks.onRunEnd({ ...outcome, id: 'elsewhere' });
  assert.equal(saved.length, 1);
  assert.equal(saved[0].id, 'r1');
  assert.equal(saved[0].status, 'failed');
  assert.equal(saved[0].error?.stderrTail, 'boom');
  assert.deepEqual(saved[0].target, running.target);
});
