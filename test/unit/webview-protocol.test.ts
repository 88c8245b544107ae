import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPanelRequest } from '../../src/protocol/webview.ts';

test('only well-formed panel requests get through', () => {
  for (const ok of [
    { type: 'ready' },
    { type: 'open-trial', runId: 1, index: 0 },
    { type: 'stop', runId: 3 },
    { type: 'resume', runId: 3 },
    { type: 'copy-architecture', runId: 1, index: 2, format: 'json' },
  ]) assert.ok(isPanelRequest(ok), JSON.stringify(ok));
  for (const bad of [
    null,
    'ready',
    [],
    { type: 'ready', extra: 1 },
    { type: 'open-trial', runId: '1', index: 0 },
    { type: 'open-trial', runId: 1, index: -1 },
    { type: 'open-trial', runId: 1.5, index: 0 },
    { type: 'stop' },
    { type: 'copy-architecture', runId: 1, index: 2, format: 'xml' },
    { type: 'eval', code: 'process.exit()' },
  ]) assert.equal(isPanelRequest(bad), false, JSON.stringify(bad));
});
