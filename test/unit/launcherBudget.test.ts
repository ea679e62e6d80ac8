// The launcher's training budget, data and seeds: parsed as the CLI parses --train-tokens, --data and
// --seeds, each problem naming its form field, and the configs carrying what resolveConfig accepts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultForm, launcherInit, launcherPlan, launcherPreview } from '../../src/views/launcherData';
import type { LauncherEnv } from '../../src/views/launcherData';
import { tokenCount } from '../../src/views/launcherBudget';
import { isLauncherForm, isLauncherInit } from '../../src/core/webviewProtocol/launcher';
import type { LauncherForm } from '../../src/core/webviewProtocol/launcher';
import { LAUNCHER_SETTINGS } from '../webview/launcherFixtures';

const ENV: LauncherEnv = { sites: [], targets: ['local'] };
const base = (): LauncherForm => ({ ...defaultForm(LAUNCHER_SETTINGS), attention: ['gqa', 'mla'] });
const withBudget = (budget: Partial<LauncherForm['budget']>, seeds = ''): LauncherForm => {
  const f = base();
  return { ...f, budget: { ...f.budget, ...budget }, seeds };
};

describe('launcher budget', () => {
  test('token counts as the CLI writes them', () => {
    assert.equal(tokenCount('150k'), 150_000);
    assert.equal(tokenCount('2M'), 2_000_000);
    assert.equal(tokenCount('1.5k'), 1_500);
    assert.equal(tokenCount(' 60000 '), 60_000);
    assert.equal(tokenCount('150_000'), 150_000);
    for (const bad of ['', 'k', '150kb', '-5', '0', '1.0001k', '1e5', 'lots']) assert.equal(tokenCount(bad), null, bad);
  });

  test('the default form is speed only, and says how to measure quality', () => {
    const f = defaultForm(LAUNCHER_SETTINGS);
    assert.deepEqual(f.budget, { trainTokens: '', evalEvery: '', data: 'synthetic', dataPath: '' });
    assert.equal(f.seeds, '');
    assert.ok(isLauncherForm(f));
    const p = launcherPlan(f, ENV);
    assert.ok(p.ok);
    assert.ok(p.configs.every((c) => c.trainTokens === undefined && c.seed === 0));
    assert.ok(p.notes.some((n) => /No training budget/.test(n) && /150k/.test(n)));
    const init = launcherInit({
      sites: [],
      defaults: LAUNCHER_SETTINGS,
      targets: [{ value: 'local', text: 'local' }],
      revision: 1,
      launchBlocked: null,
    });
    assert.ok(isLauncherInit(init));
    assert.deepEqual(
      init.options.data.map((d) => d.value),
      ['synthetic', 'text', 'tokens'],
    );
  });

  test('a budget with seeds: every config trained to it, once per seed, labelled by seed', () => {
    const p = launcherPlan(withBudget({ trainTokens: '150k' }, '0, 1'), ENV);
    assert.ok(p.ok, JSON.stringify(!p.ok && p.errors));
    assert.equal(p.configs.length, 4, 'gqa, mla × seeds 0, 1');
    for (const c of p.configs) {
      assert.equal(c.trainTokens, 150_000);
      assert.equal(c.data, 'synthetic');
      assert.equal(c.evalEvery, 37_500, 'a quarter of the budget by default');
    }
    assert.deepEqual(
      p.configs.map((c) => c.seed),
      [0, 1, 0, 1],
    );
    assert.equal(new Set(p.configs.map((c) => c.label)).size, 4);
    assert.ok(
      p.configs.every((c) => c.label.endsWith(`seed ${c.seed}`)),
      p.configs.map((c) => c.label).join(' | '),
    );
    assert.ok(p.notes.some((n) => /mean ± spread/.test(n)));
    const text = launcherPlan(
      withBudget({ trainTokens: '100k', evalEvery: '20k', data: 'text', dataPath: '/usr/share/common-licenses/GPL-3' }),
      ENV,
    );
    assert.ok(text.ok, JSON.stringify(!text.ok && text.errors));
    assert.equal(text.configs[0].data, 'text:/usr/share/common-licenses/GPL-3');
    assert.equal(text.configs[0].evalEvery, 20_000);
  });

  test('a bad budget, path or seed names its field', () => {
    const fieldsOf = (f: LauncherForm): string[] => {
      const p = launcherPreview(f, ENV);
      assert.equal(p.sweepSize, null);
      return p.errors.map((e) => e.field);
    };
    const bad = launcherPreview(withBudget({ trainTokens: '150 thousand' }), ENV);
    assert.deepEqual(
      bad.errors.map((e) => e.field),
      ['budget.trainTokens'],
    );
    assert.match(
      bad.errors[0].message,
      /"150 thousand" is not a token count; write a whole number such as 150000, 150k or 2M/,
    );
    assert.deepEqual(fieldsOf(withBudget({ trainTokens: '150k', evalEvery: '1M' })), ['budget.evalEvery']);
    assert.deepEqual(fieldsOf(withBudget({ evalEvery: '10k' })), ['budget.evalEvery'], 'no budget to evaluate');
    assert.deepEqual(fieldsOf(withBudget({ trainTokens: '150k', data: 'text' })), ['budget.dataPath']);
    assert.deepEqual(
      fieldsOf(withBudget({ data: 'tokens', dataPath: '/d/train.bin' })),
      ['budget.data'],
      'data needs a budget',
    );
    assert.deepEqual(fieldsOf(withBudget({ trainTokens: '150k', data: 'wiki' })), ['budget.data']);
    assert.deepEqual(fieldsOf(withBudget({ trainTokens: '5T' })), ['budget.trainTokens']);
    assert.deepEqual(fieldsOf(withBudget({}, '0, one')), ['seeds']);
    // resolveConfig's own check of the budget reaches the same field: text needs a byte vocabulary.
    const tiny = { ...withBudget({ trainTokens: '10k', data: 'text', dataPath: '/t.txt' }), preset: 'tiny' };
    const r = launcherPlan(tiny, ENV);
    if (!r.ok)
      assert.ok(
        r.errors.every((e) => e.field.startsWith('budget.')),
        JSON.stringify(r.errors),
      );
  });
});
