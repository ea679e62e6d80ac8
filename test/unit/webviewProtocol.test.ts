import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardData, sidebarData, compareData } from '../../src/views/webviewData';
import {
  isReadyMessage,
  isResponseMessage,
  readyMessage,
  responseError,
} from '../../src/core/webviewProtocol/envelope';
import {
  isCommandMessage,
  isNotificationMessage,
  isPageToHost,
  isRequestMessage,
  isRequestResult,
  notification,
  responseOk,
} from '../../src/core/webviewProtocol/panels';
import { sweep } from '../webview/fixtures';

test('ready handshake: built and recognised per panel', () => {
  const r = readyMessage('dashboard');
  assert.deepEqual(r, { kind: 'ready', panel: 'dashboard', protocol: 1 });
  assert.ok(isReadyMessage('dashboard', r));
  assert.ok(!isReadyMessage('compare', r), 'a ready for another panel is not this panel’s');
  assert.ok(!isReadyMessage('dashboard', { ...r, protocol: 2 }), 'another protocol version is refused');
  assert.ok(isPageToHost('dashboard', r));
});

test('commands: method names and params are checked', () => {
  assert.ok(
    isCommandMessage('dashboard', { kind: 'command', method: 'dashboard/compare', params: { runIds: ['a', 'b'] } }),
  );
  assert.ok(!isCommandMessage('dashboard', { kind: 'command', method: 'dashboard/compare', params: { runIds: 'a' } }));
  assert.ok(
    !isCommandMessage('dashboard', { kind: 'command', method: 'compare/openDashboard', params: { runIds: [] } }),
    'another panel’s method',
  );
  assert.ok(!isCommandMessage('dashboard', { kind: 'command', method: 'toString', params: {} }), 'no prototype keys');
  assert.ok(!isCommandMessage('dashboard', { kind: 'command', method: '__proto__', params: {} }));
  assert.ok(isCommandMessage('sidebar', { kind: 'command', method: 'sidebar/openDashboard', params: { runIds: [] } }));
});

test('requests: ids are non-negative integers; params are checked', () => {
  const ok = { kind: 'request', id: 3, method: 'dashboard/export', params: { format: 'csv', runIds: ['x'] } };
  assert.ok(isRequestMessage('dashboard', ok));
  assert.ok(isPageToHost('dashboard', ok));
  assert.ok(!isRequestMessage('dashboard', { ...ok, id: -1 }));
  assert.ok(!isRequestMessage('dashboard', { ...ok, id: 1.5 }));
  assert.ok(!isRequestMessage('dashboard', { ...ok, id: '3' }));
  assert.ok(!isRequestMessage('dashboard', { ...ok, params: { format: 'xlsx', runIds: [] } }));
  const png = {
    kind: 'request',
    id: 4,
    method: 'dashboard/savePng',
    params: { chart: 'bars', dataUrl: 'data:image/png;base64,iVBOR' },
  };
  assert.ok(isRequestMessage('dashboard', png));
  assert.ok(
    !isRequestMessage('dashboard', { ...png, params: { chart: 'bars', dataUrl: 'javascript:alert(1)' } }),
    'only a PNG data: URL',
  );
  assert.ok(isRequestMessage('dashboard', { kind: 'request', id: 5, method: 'dashboard/refresh', params: {} }));
});

test('responses answer a request id; results are checked per method', () => {
  const ok = responseOk<'dashboard', 'dashboard/export'>(
    { id: 7, method: 'dashboard/export' },
    { savedTo: '/tmp/x.csv' },
  );
  assert.deepEqual(ok, { kind: 'response', id: 7, ok: true, result: { savedTo: '/tmp/x.csv' } });
  assert.ok(isResponseMessage(ok));
  const err = responseError({ id: 8 }, 'cancelled');
  assert.ok(isResponseMessage(err));
  assert.ok(!isResponseMessage({ kind: 'response', id: 8, ok: false }), 'an error needs its text');
  assert.ok(isRequestResult('dashboard', 'dashboard/export', { savedTo: null }));
  assert.ok(!isRequestResult('dashboard', 'dashboard/export', { savedTo: 3 }));
  assert.ok(isRequestResult('dashboard', 'dashboard/refresh', dashboardData(sweep())));
});

test('notifications carry data that the page can index into', () => {
  const runs = sweep();
  const n = notification('dashboard', 'dashboard/data', dashboardData(runs));
  assert.ok(isNotificationMessage('dashboard', n));
  assert.ok(!isNotificationMessage('compare', n));
  assert.ok(!isNotificationMessage('dashboard', { ...n, params: { ...n.params, runs: [{ id: 1 }] } }));
  assert.ok(isNotificationMessage('compare', notification('compare', 'compare/data', compareData(runs))));
  assert.ok(isNotificationMessage('sidebar', notification('sidebar', 'sidebar/data', sidebarData(runs))));
  assert.ok(isNotificationMessage('sidebar', notification('sidebar', 'sidebar/data', sidebarData([]))));
  // The whole payload survives structured cloning (what postMessage does) as JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(n)), n);
});

test('data is checked whole, from the same declaration as its type', () => {
  const runs = sweep();
  const dash = dashboardData(runs);
  const { createdText: _dropped, ...partialRun } = dash.runs[0];
  assert.ok(
    !isNotificationMessage('dashboard', {
      kind: 'notification',
      method: 'dashboard/data',
      params: { ...dash, runs: [partialRun] },
    }),
    'a run without one of its fields',
  );
  const cmp = compareData(runs);
  const deltas = { [cmp.baselineId]: { [runs[1].id]: { notAMetric: null } } };
  assert.ok(
    !isNotificationMessage('compare', { kind: 'notification', method: 'compare/data', params: { ...cmp, deltas } }),
    'a delta under a metric that does not exist',
  );
  assert.ok(
    !isRequestMessage('dashboard', { kind: 'request', id: 1, method: 'dashboard/refresh', params: { all: true } }),
    'refresh takes no params',
  );
});
