import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyPanelKind, MessageOf, RequestOf } from '../../src/extension/panel-kind.ts';
import { comparePanel } from '../../src/extension/panels/compare.ts';
import { dashboardPanel } from '../../src/extension/panels/dashboard.ts';
import { insightPanel } from '../../src/extension/panels/insight.ts';
import { trialPanel } from '../../src/extension/panels/trial.ts';

const kinds: Record<string, AnyPanelKind> = {
  dashboard: dashboardPanel,
  trial: trialPanel,
  compare: comparePanel,
  insight: insightPanel,
};
const isPanelRequest = (view: string, value: unknown) => kinds[view].isRequest(value);

test('each panel module is named after its view', () => {
  for (const [view, kind] of Object.entries(kinds)) assert.equal(kind.view, view);
});

test('only well-formed panel requests get through', () => {
  for (const [view, ok] of [
    ['dashboard', { type: 'ready' }],
    ['dashboard', { type: 'open-trial', runId: 1, index: 0 }],
    ['dashboard', { type: 'stop', runId: 3 }],
    ['dashboard', { type: 'resume', runId: 3 }],
    ['trial', { type: 'copy-architecture', runId: 1, index: 2, format: 'json' }],
    ['trial', { type: 'sample-text', prompt: 'ROMEO:', temperature: 0.8 }],
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
    { type: 'sample-text', prompt: 42, temperature: 0.8 },
    { type: 'sample-text', prompt: 'ROMEO:', temperature: '0.8' },
    { type: 'sample-text', prompt: 'ROMEO:', temperature: Number.NaN },
    { type: 'sample-text', prompt: 'x'.repeat(2001), temperature: 0.8 },
    { type: 'eval', code: 'process.exit()' },
  ])
    assert.equal(isPanelRequest('dashboard', bad) || isPanelRequest('trial', bad), false, JSON.stringify(bad));
});

test("a panel's requests are its own kind's: another kind's well-formed request is refused", () => {
  const refused: [string, unknown][] = [
    ['trial', { type: 'stop', runId: 3 }],
    ['insight', { type: 'resume', runId: 3 }],
    ['compare', { type: 'open-trial', runId: 1, index: 0 }],
    ['dashboard', { type: 'copy-architecture', runId: 1, index: 2, format: 'yaml' }],
  ];
  for (const [view, request] of refused) assert.equal(isPanelRequest(view, request), false, `${view}: ${JSON.stringify(request)}`);
});

// Type-level checks (`npm run typecheck` compiles this file): each panel kind has its own message unions.
test('panel messages and requests are typed per panel kind', () => {
  const failed = { type: 'insight-failed', message: 'no controller' } satisfies MessageOf<typeof insightPanel>;
  // @ts-expect-error: a trial panel is never sent a dashboard message
  const misrouted: MessageOf<typeof trialPanel> = { type: 'insight-failed', message: 'no controller' };
  // @ts-expect-error: an insight panel cannot ask to stop a run
  const stop: RequestOf<typeof insightPanel> = { type: 'stop', runId: 1 };
  // @ts-expect-error: a dashboard cannot copy an architecture
  const copy: RequestOf<typeof dashboardPanel> = { type: 'copy-architecture', runId: 1, index: 0, format: 'json' };
  const request: unknown = { type: 'stop', runId: 1 };
  if (dashboardPanel.isRequest(request)) {
    const narrowed: RequestOf<typeof dashboardPanel> = request;
    assert.equal(narrowed.type, 'stop');
  }
  assert.ok(failed && misrouted && stop && copy);
});
