// The dashboard's host side on a live run with a scheduler, against a fake host: epochs are batched into
// the appends, a finished trial asks the engine for the intermediate values again, and a pruned trial
// counts in the progress but not for the best reward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dashboardPanel, type DashboardMessage } from '../../src/extension/panels/dashboard.ts';
import type { PanelContext } from '../../src/extension/panel-kind.ts';
import type { EngineEvent, RunRecord, StoreQuery, TrialRecord } from '../../src/protocol/engine.ts';
import type { DashboardData, IntermediateValues } from '../../src/protocol/webview.ts';

const run: RunRecord = {
  id: 1,
  name: 'asha',
  spaceFile: 'asha.nas.yaml',
  strategy: 'random',
  spaceKind: 'macro',
  backend: 'cpu',
  seed: 7,
  status: 'running',
  budgetTrials: 8,
  oneShot: false,
  trialsDone: 1,
  bestReward: 0.5,
  createdAt: '2026-01-01T00:00:00.000Z',
  finishedAt: null,
  error: null,
};

const loaded: IntermediateValues = {
  scheduler: 'asha',
  epochs: 3,
  curves: [{ index: 0, status: 'done', values: [0.3, 0.4, 0.5] }],
  rungs: [{ epoch: 1, bracket: 0, threshold: 0.3, reached: 1 }],
};
const refreshed: IntermediateValues = {
  ...loaded,
  curves: [...loaded.curves, { index: 1, status: 'pruned', values: [0.2] }],
  rungs: [{ epoch: 1, bracket: 0, threshold: 0.3, reached: 2 }],
};

function prunedTrial(index: number, reward: number): TrialRecord {
  return {
    runId: 1,
    index,
    status: 'pruned',
    architecture: [0],
    key: `k${index}`,
    graph: { kind: 'macro', layers: [] } as unknown as TrialRecord['graph'],
    reward,
    metrics: { valAccuracy: reward, testAccuracy: null, params: 10, flops: 10, seconds: 1 },
    error: null,
    evaluator: 'train-from-scratch',
    epochsTrained: 1,
    worker: null,
    attempts: null,
    retrainedFrom: null,
    weightsPath: null,
    startedAt: run.createdAt,
    finishedAt: run.createdAt,
  };
}

/** The dashboard of run 1, answering its store queries with `queries` and keeping what it posts in `posted`. */
function openDashboard(queries: { query: (db: string, query: StoreQuery) => Promise<never> }, posted: DashboardMessage[]) {
  const context = {
    state: { view: 'dashboard', runId: 1 },
    post: (message: DashboardMessage) => posted.push(message),
    setTitle: () => undefined,
    queries,
    analyses: queries,
    db: () => 'runs.db',
  } as unknown as PanelContext<{ view: 'dashboard'; runId: number }, DashboardMessage>;
  return dashboardPanel.open(context);
}

test('a live run with intermediate values: epochs batched, the values asked again per finished trial, pruned trials counted', async () => {
  const posted: DashboardMessage[] = [];
  const asked: StoreQuery[] = [];
  const data: DashboardData = { run, decisions: [], trials: [], steps: [], notes: [], intermediate: loaded };
  const queries = {
    query: async (_db: string, query: StoreQuery) => {
      asked.push(query);
      return (query.kind === 'dashboard' ? data : refreshed) as never;
    },
  };
  const session = openDashboard(queries, posted);
  await session.handle({ type: 'ready' });
  assert.equal(posted[0].type, 'dashboard');

  const events: EngineEvent[] = [
    {
      type: 'epoch',
      runId: 1,
      trial: 1,
      metrics: { epoch: 1, trainLoss: 1, trainAccuracy: 0.1, valLoss: 1, valAccuracy: 0.2, seconds: 1 },
    },
    {
      type: 'epoch',
      runId: 2,
      trial: 0,
      metrics: { epoch: 1, trainLoss: 1, trainAccuracy: 0.1, valLoss: 1, valAccuracy: 0.9, seconds: 1 },
    },
    {
      type: 'epoch',
      runId: 1,
      trial: 2,
      metrics: { epoch: 1, trainLoss: 1, trainAccuracy: 0.1, valLoss: 1, valAccuracy: NaN, seconds: 1 },
    },
    { type: 'trial-finished', trial: prunedTrial(1, 0.9) },
  ];
  for (const event of events) session.onEngineEvent?.(event);
  await sleep(600);
  session.dispose?.();

  const appends = posted.filter((m) => m.type === 'dashboard-append');
  assert.deepEqual(
    appends.flatMap((m) => m.epochs),
    [
      { trial: 1, epoch: 1, valAccuracy: 0.2 },
      { trial: 2, epoch: 1, valAccuracy: null },
    ],
    "this run's epochs, a value that is not a number as null",
  );
  assert.deepEqual(
    asked.map((q) => q.kind),
    ['dashboard', 'intermediate'],
  );
  assert.deepEqual(appends.at(-1)?.intermediate, refreshed, 'the values asked again reach the page');
  const last = appends.at(-1)!.run;
  assert.equal(last.trialsDone, 2, 'a pruned trial counts in the progress');
  assert.equal(last.bestReward, 0.5, 'a pruned trial is never the best reward');
});

test('a live run on workers: each appended trial names its worker, and its attempt when a worker started it more than once', async () => {
  const posted: DashboardMessage[] = [];
  const data: DashboardData = { run: { ...run, backend: 'workers' }, decisions: [], trials: [], steps: [], notes: [] };
  const queries = { query: async () => data as never };
  const session = openDashboard(queries, posted);
  await session.handle({ type: 'ready' });
  const done = (index: number, worker: string | null, attempts: number | null): TrialRecord => ({
    ...prunedTrial(index, 0.4),
    status: 'done',
    worker,
    attempts,
  });
  session.onEngineEvent?.({ type: 'trial-finished', trial: done(0, 'vm pid 41, wasm', 1) });
  session.onEngineEvent?.({ type: 'trial-finished', trial: done(1, 'vm pid 42, wasm', 2) });
  session.onEngineEvent?.({ type: 'trial-finished', trial: done(2, null, null) });
  await sleep(400);
  session.dispose?.();
  const trials = posted.flatMap((m) => (m.type === 'dashboard-append' ? m.trials : []));
  assert.deepEqual(
    trials.map((t) => [t.index, t.worker, t.attempts]),
    [
      [0, 'vm pid 41, wasm', undefined],
      [1, 'vm pid 42, wasm', 2],
      [2, undefined, undefined],
    ],
  );
});

test('a retrained trial reaches the page with its test accuracy, off the progress, the best and the intermediate values', async () => {
  const posted: DashboardMessage[] = [];
  const done = { ...run, status: 'done' as const, trialsDone: 8 };
  const data: DashboardData = { run: done, decisions: [], trials: [], steps: [], notes: [], intermediate: loaded };
  const session = openDashboard({ query: async (_db, query) => (query.kind === 'dashboard' ? data : loaded) as never }, posted);
  await session.handle({ type: 'ready' });
  session.onEngineEvent?.({ type: 'trial-started', runId: 1, index: 9, architecture: [0], key: 'k9', retrainedFrom: 3 });
  session.onEngineEvent?.({
    type: 'epoch',
    runId: 1,
    trial: 9,
    metrics: { epoch: 1, trainLoss: 1, trainAccuracy: 0.9, valLoss: 1, valAccuracy: 0.93, seconds: 1 },
  });
  const retrained: TrialRecord = {
    ...prunedTrial(9, 0),
    status: 'done',
    reward: null,
    metrics: { valAccuracy: 0.93, testAccuracy: 0.93, params: 10, flops: 10, seconds: 1 },
    retrainedFrom: 3,
    weightsPath: 'weights/run-1/trial-9',
  };
  session.onEngineEvent?.({ type: 'trial-finished', trial: retrained });
  await sleep(400);
  session.dispose?.();
  const appends = posted.filter((m) => m.type === 'dashboard-append');
  assert.deepEqual(
    appends.flatMap((m) => m.epochs),
    [],
    "a retraining's epochs are test accuracies: no intermediate values",
  );
  const append = appends.find((m) => m.trials.length > 0);
  assert.ok(append?.type === 'dashboard-append');
  assert.equal(append.run.trialsDone, 8);
  assert.equal(append.run.bestReward, 0.5);
  assert.equal(append.trials[0].retrainedFrom, 3);
  assert.equal(append.trials[0].testAccuracy, 0.93);
});
