import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPanelRequest, type PanelMessages, type PanelRequests, type PanelView } from '../../src/protocol/webview.ts';

test('only well-formed panel requests get through', () => {
  for (const [view, ok] of [
    ['dashboard', { type: 'ready' }],
    ['dashboard', { type: 'open-trial', runId: 1, index: 0 }],
    ['dashboard', { type: 'stop', runId: 3 }],
    ['dashboard', { type: 'resume', runId: 3 }],
    ['trial', { type: 'copy-architecture', runId: 1, index: 2, format: 'json' }],
    ['compare', { type: 'ready' }],
    ['insight', { type: 'ready' }],
  ] as const)
    assert.ok(isPanelRequest(view, ok), JSON.stringify(ok));
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
  ])
    assert.equal(isPanelRequest('dashboard', bad) || isPanelRequest('trial', bad), false, JSON.stringify(bad));
});

test("a panel's requests are its own kind's: another kind's well-formed request is refused", () => {
  const refused: [PanelView, unknown][] = [
    ['trial', { type: 'stop', runId: 3 }],
    ['insight', { type: 'resume', runId: 3 }],
    ['compare', { type: 'open-trial', runId: 1, index: 0 }],
    ['dashboard', { type: 'copy-architecture', runId: 1, index: 2, format: 'yaml' }],
  ];
  for (const [view, request] of refused) assert.equal(isPanelRequest(view, request), false, `${view}: ${JSON.stringify(request)}`);
});

// Type-level checks (`npm run typecheck` compiles this file): each panel kind has its own message unions.
test('panel messages and requests are typed per panel kind', () => {
  const failed = { type: 'insight-failed', message: 'no controller' } satisfies PanelMessages['insight'];
  // @ts-expect-error: a trial panel is never sent a dashboard message
  const misrouted: PanelMessages['trial'] = { type: 'insight-failed', message: 'no controller' };
  // @ts-expect-error: an insight panel cannot ask to stop a run
  const stop: PanelRequests['insight'] = { type: 'stop', runId: 1 };
  // @ts-expect-error: a dashboard cannot copy an architecture
  const copy: PanelRequests['dashboard'] = { type: 'copy-architecture', runId: 1, index: 0, format: 'json' };
  const request: unknown = { type: 'stop', runId: 1 };
  if (isPanelRequest('dashboard', request)) {
    const narrowed: PanelRequests['dashboard'] = request;
    assert.equal(narrowed.type, 'stop');
  }
  assert.ok(failed && misrouted && stop && copy);
});
