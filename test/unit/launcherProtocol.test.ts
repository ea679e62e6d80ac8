import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultForm, launcherInit, launcherPreview, targetChoices } from '../../src/views/launcherData';
import { isReadyMessage, readyMessage } from '../../src/core/webviewProtocol/envelope';
import { isLauncherForm } from '../../src/core/webviewProtocol/launcher';
import {
  isNotificationMessage,
  isPageToHost,
  isPanelKind,
  isRequestResult,
  notification,
} from '../../src/core/webviewProtocol/panels';

const form = defaultForm({ preset: 'tiny' });

test('the launcher is a panel with its own ready', () => {
  assert.ok(isPanelKind('launcher'));
  assert.deepEqual(readyMessage('launcher'), { kind: 'ready', panel: 'launcher', protocol: 1 });
  assert.ok(isReadyMessage('launcher', readyMessage('launcher')));
  assert.ok(!isReadyMessage('dashboard', readyMessage('launcher')));
});

test('preview and launch requests carry a whole form; anything else is refused', () => {
  const preview = { kind: 'request', id: 1, method: 'launcher/preview', params: { form } };
  assert.ok(isPageToHost('launcher', preview));
  assert.ok(isPageToHost('launcher', { ...preview, method: 'launcher/launch' }));
  assert.ok(!isPageToHost('dashboard', preview), 'another panel’s method');
  assert.ok(
    !isPageToHost('launcher', { ...preview, params: { form, configs: [] } }),
    'no extra params (the page never sends configs)',
  );
  assert.ok(!isPageToHost('launcher', { ...preview, params: {} }));
  assert.ok(!isPageToHost('launcher', { ...preview, method: 'launcher/run' }));
  assert.ok(
    isPageToHost('launcher', {
      kind: 'command',
      method: 'launcher/openSite',
      params: { siteId: 'attention:a.py:1:A' },
    }),
  );
  assert.ok(!isPageToHost('launcher', { kind: 'command', method: 'launcher/openSite', params: { siteId: 3 } }));
});

test('a form is checked field by field, with bounded text and lists', () => {
  assert.ok(isLauncherForm(form));
  assert.ok(isLauncherForm({ ...form, source: { kind: 'site', siteId: 'x' } }));
  assert.ok(!isLauncherForm({ ...form, source: { kind: 'site' } }));
  assert.ok(!isLauncherForm({ ...form, source: { kind: 'path', path: '/etc' } }));
  assert.ok(!isLauncherForm({ ...form, attention: 'mha' }));
  assert.ok(!isLauncherForm({ ...form, attention: Array(17).fill('mha') }), 'at most 16 values');
  assert.ok(!isLauncherForm({ ...form, kvHeads: '1,'.repeat(150) }), 'at most 200 characters');
  assert.ok(!isLauncherForm({ ...form, dense: 'yes' }));
  assert.ok(!isLauncherForm({ ...form, workload: { ...form.workload, steps: 5 } }), 'numbers arrive as typed text');
  assert.ok(!isLauncherForm({ ...form, mla: { kvRank: '' } }));
});

test('init, preview and results pass their checks; malformed ones do not', () => {
  const init = launcherInit({ sites: [], defaults: {}, targets: targetChoices([]), revision: 1, launchBlocked: null });
  assert.ok(isNotificationMessage('launcher', notification('launcher', 'launcher/init', init)));
  assert.ok(
    !isNotificationMessage(
      'launcher',
      notification('launcher', 'launcher/init', { ...init, form: { ...init.form, preset: 1 } } as never),
    ),
  );
  assert.ok(
    isNotificationMessage('launcher', notification('launcher', 'launcher/launchResult', { ok: true, message: 'done' })),
  );
  assert.ok(
    !isNotificationMessage('launcher', {
      kind: 'notification',
      method: 'launcher/launchResult',
      params: { ok: 'yes', message: 'x' },
    }),
  );
  const preview = launcherPreview(form, { sites: [], targets: ['local'] });
  assert.ok(isRequestResult('launcher', 'launcher/preview', preview));
  assert.ok(
    !isRequestResult('launcher', 'launcher/preview', { ...preview, errors: [{ field: 'nope', message: 'x' }] }),
    'errors name known fields only',
  );
  assert.ok(isRequestResult('launcher', 'launcher/launch', { launched: 3, target: 'local' }));
  assert.ok(!isRequestResult('launcher', 'launcher/launch', { launched: '3', target: 'local' }));
  assert.deepEqual(JSON.parse(JSON.stringify(init)), init, 'survives structured cloning as JSON');
});
