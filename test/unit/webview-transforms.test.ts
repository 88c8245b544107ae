import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControllerStepRecord, TrialRecord } from '../../src/protocol/engine.ts';
import { toStepPoint, toTrialPoint, type StepPoint, type TrialPoint } from '../../src/protocol/webview.ts';
import { trialWorkerLabel } from '../../src/shared/format.ts';
import {
  addEpoch,
  argmaxSeries,
  bestSoFar,
  bestSoFarOverTime,
  curveSeries,
  curvesByTrial,
  emaBaselineSeries,
  entropy,
  entropySeries,
  estimateRemainingMs,
  extendBestSoFar,
  filterAndSortTrials,
  formatCount,
  hasWorkers,
  learningCurves,
  mergeCurves,
  hasRetrained,
  paretoCandidates,
  paretoFront,
  perDecisionEntropy,
  rewardPoints,
  rungMarks,
  stepCorners,
  trialsPerStep,
} from '../../webview/transforms.ts';

function trial(index: number, fields: Partial<TrialPoint> = {}): TrialPoint {
  return {
    index,
    status: 'done',
    reward: null,
    valAccuracy: null,
    params: null,
    seconds: null,
    finishedMs: null,
    key: `k${index}`,
    epochsTrained: 0,
    ...fields,
  };
}

function step(n: number, probabilities: number[][], fields: Partial<ControllerStepRecord> = {}): StepPoint {
  return toStepPoint({ runId: 1, step: n, loss: 0, meanReward: 0, baseline: 0, entropy: 0, advantage: 0, probabilities, ...fields });
}

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);

test('bestSoFar: running max in index order, nulls skipped, ties kept', () => {
  const points = [
    trial(2, { reward: 0.5 }),
    trial(0, { reward: 0.2 }),
    trial(1, { reward: null }),
    trial(3, { reward: 0.5 }),
    trial(4, { reward: 0.1 }),
  ];
  assert.deepEqual(bestSoFar(points), [
    { x: 0, y: 0.2 },
    { x: 2, y: 0.5 },
    { x: 3, y: 0.5 },
    { x: 4, y: 0.5 },
  ]);
  assert.deepEqual(bestSoFar([]), []);
  assert.deepEqual(bestSoFar([trial(0), trial(1, { status: 'failed' })]), []);
  // negative rewards are rewards too
  assert.deepEqual(bestSoFar([trial(0, { reward: -2 }), trial(1, { reward: -3 })]), [
    { x: 0, y: -2 },
    { x: 1, y: -2 },
  ]);
});

test('extendBestSoFar continues from the last best', () => {
  assert.deepEqual(
    extendBestSoFar(
      [{ x: 0, y: 0.4 }],
      [
        { x: 1, y: 0.3 },
        { x: 2, y: 0.6 },
      ],
    ),
    [
      { x: 1, y: 0.4 },
      { x: 2, y: 0.6 },
    ],
  );
  assert.deepEqual(extendBestSoFar([], [{ x: 5, y: 0.1 }]), [{ x: 5, y: 0.1 }]);
});

test('bestSoFarOverTime: x is finishedMs, ordered by time, unfinished or unrewarded trials skipped', () => {
  const points = [
    trial(0, { reward: 0.3, finishedMs: 5000 }),
    trial(1, { reward: 0.6, finishedMs: 2000 }),
    trial(2, { reward: 0.9, finishedMs: null, status: 'running' }),
    trial(3, { reward: null, finishedMs: 1000, status: 'failed' }),
    trial(4, { reward: 0.7, finishedMs: 9000 }),
  ];
  assert.deepEqual(bestSoFarOverTime(points), [
    { x: 2000, y: 0.6 },
    { x: 5000, y: 0.6 },
    { x: 9000, y: 0.7 },
  ]);
  assert.deepEqual(bestSoFarOverTime([]), []);
});

test('paretoFront: maximise accuracy, minimise params, sorted by params', () => {
  const points = [
    trial(0, { valAccuracy: 0.8, params: 1000 }),
    trial(1, { valAccuracy: 0.9, params: 5000 }),
    trial(2, { valAccuracy: 0.7, params: 2000 }), // dominated by 0
    trial(3, { valAccuracy: 0.85, params: 3000 }),
    trial(4, { valAccuracy: 0.6, params: 500 }),
    trial(5, { valAccuracy: null, params: 100 }), // failed: no accuracy
    trial(6, { valAccuracy: 0.99, params: null }),
  ];
  assert.deepEqual(
    paretoFront(points).map((p) => p.index),
    [4, 0, 3, 1],
  );
  assert.deepEqual(paretoFront([]), []);
});

test('paretoFront against the cost a Pareto search minimised (FLOPs, latency); retrained trials and unmeasured costs are left out', () => {
  const points = [
    trial(0, { valAccuracy: 0.8, params: 1000, flops: 9e6, latencyMs: 3 }),
    trial(1, { valAccuracy: 0.9, params: 5000, flops: 2e6, latencyMs: 1 }), // fewest FLOPs and fastest, and most accurate
    trial(2, { valAccuracy: 0.7, params: 500, flops: 1e6, latencyMs: 2 }),
    trial(3, { valAccuracy: 0.99, params: 100, flops: 1e5, latencyMs: 0.5, retrainedFrom: 1, testAccuracy: 0.99 }),
    trial(4, { valAccuracy: 0.95, params: 200 }), // no FLOPs or latency measured
  ];
  assert.deepEqual(
    paretoFront(points, 'flops').map((p) => [p.index, p.cost]),
    [
      [2, 1e6],
      [1, 2e6],
    ],
  );
  assert.deepEqual(
    paretoFront(points, 'latency').map((p) => p.index),
    [1],
  );
  // Trial 4 is the smallest and the most accurate of the search's trials.
  assert.deepEqual(
    paretoFront(points).map((p) => p.index),
    [4],
  );
  assert.deepEqual(
    paretoCandidates(points, 'params').map((p) => p.index),
    [0, 1, 2, 4],
  );
  assert.equal(hasRetrained(points), true);
  assert.equal(hasRetrained(points.slice(0, 3)), false);
});

test("learningCurves name a retrained trial's held-out curves as test curves", () => {
  const epochs = [{ epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4, seconds: 1 }];
  assert.deepEqual(
    learningCurves(epochs, 'test').accuracy.map((c) => c.label),
    ['train accuracy', 'test accuracy'],
  );
  assert.deepEqual(
    learningCurves(epochs).loss.map((c) => c.label),
    ['train loss', 'validation loss'],
  );
});

test('paretoFront ties: same params keeps the most accurate; same accuracy keeps the smallest; exact duplicates both stay', () => {
  const points = [
    trial(0, { valAccuracy: 0.8, params: 1000 }),
    trial(1, { valAccuracy: 0.9, params: 1000 }), // same params, better: 0 is dominated
    trial(2, { valAccuracy: 0.9, params: 2000 }), // same accuracy, bigger: dominated by 1
    trial(3, { valAccuracy: 0.9, params: 1000 }), // exact duplicate of 1
    trial(4, { valAccuracy: 0.95, params: 4000 }),
  ];
  assert.deepEqual(
    paretoFront(points).map((p) => p.index),
    [1, 3, 4],
  );
  assert.deepEqual(paretoFront([trial(7, { valAccuracy: 0.5, params: 10 })]), [{ index: 7, valAccuracy: 0.5, cost: 10 }]);
});

test('argmaxSeries: per decision, per step, the max probability', () => {
  const steps = [
    step(1, [
      [0.2, 0.8],
      [0.5, 0.25, 0.25],
    ]),
    step(2, [
      [0.6, 0.4],
      [0.1, 0.1, 0.8],
    ]),
  ];
  assert.deepEqual(argmaxSeries(steps), [
    [
      { x: 1, y: 0.8 },
      { x: 2, y: 0.6 },
    ],
    [
      { x: 1, y: 0.5 },
      { x: 2, y: 0.8 },
    ],
  ]);
  assert.deepEqual(argmaxSeries([]), []);
  // a declared decision count gives a (possibly empty) series per decision
  assert.deepEqual(argmaxSeries([], 2), [[], []]);
});

test('entropySeries and perDecisionEntropy', () => {
  const steps = [
    step(
      1,
      [
        [0.5, 0.5],
        [1, 0, 0],
      ],
      { entropy: 0.7 },
    ),
    step(
      2,
      [
        [0.25, 0.25, 0.25, 0.25],
        [1 / 3, 1 / 3, 1 / 3],
      ],
      { entropy: 2.5 },
    ),
  ];
  assert.deepEqual(entropySeries(steps), [
    { x: 1, y: 0.7 },
    { x: 2, y: 2.5 },
  ]);
  const per = perDecisionEntropy(steps);
  assert.equal(per.length, 2);
  close(per[0][0].y, Math.log(2));
  close(per[1][0].y, 0); // a certain decision: zero entropy, no NaN from 0 * log 0
  close(per[0][1].y, Math.log(4));
  close(per[1][1].y, Math.log(3));
  assert.deepEqual(
    per[0].map((p) => p.x),
    [1, 2],
  );
  assert.equal(entropy([]), 0);
  assert.deepEqual(perDecisionEntropy([]), []);
});

test('trialsPerStep and emaBaselineSeries put step k at trial k*M - 1', () => {
  const points = Array.from({ length: 10 }, (_, i) => trial(i, { reward: 0.1, status: i === 9 ? 'running' : i === 3 ? 'failed' : 'done' }));
  const steps = [step(1, [], { baseline: 0.2 }), step(2, [], { baseline: 0.3 }), step(3, [], { baseline: 0.35 })];
  assert.equal(trialsPerStep(points, steps), 3); // 9 ended trials, 3 steps
  assert.equal(trialsPerStep(points, []), 1);
  assert.equal(trialsPerStep([], steps), 1);
  assert.deepEqual(emaBaselineSeries(steps, 3), [
    { x: 2, y: 0.2 },
    { x: 5, y: 0.3 },
    { x: 8, y: 0.35 },
  ]);
  assert.deepEqual(emaBaselineSeries([], 3), []);
  assert.deepEqual(emaBaselineSeries([step(1, [], { baseline: 1 })], 0), [{ x: 0, y: 1 }]);
});

test('filterAndSortTrials: status filter, sort keys, nulls last both ways, ties by index', () => {
  const points = [
    trial(0, { reward: 0.5, params: 300, seconds: 10 }),
    trial(1, { reward: null, params: null, seconds: 3, status: 'failed' }),
    trial(2, { reward: 0.9, params: 100, seconds: 30 }),
    trial(3, { reward: 0.5, params: 200, seconds: null, status: 'running' }),
  ];
  const order = (filter: Parameters<typeof filterAndSortTrials>[1]) => filterAndSortTrials(points, filter).map((p) => p.index);
  assert.deepEqual(order({ status: 'all', sortBy: 'reward', descending: true }), [2, 0, 3, 1]);
  assert.deepEqual(order({ status: 'all', sortBy: 'reward', descending: false }), [0, 3, 2, 1]);
  assert.deepEqual(order({ status: 'all', sortBy: 'params', descending: false }), [2, 3, 0, 1]);
  assert.deepEqual(order({ status: 'all', sortBy: 'time', descending: true }), [2, 0, 1, 3]);
  assert.deepEqual(order({ status: 'done', sortBy: 'reward', descending: true }), [2, 0]);
  assert.deepEqual(order({ status: 'failed', sortBy: 'params', descending: true }), [1]);
  assert.deepEqual(order({ status: 'interrupted', sortBy: 'reward', descending: true }), []);
  assert.deepEqual(order({ status: 'all', sortBy: 'index', descending: true }), [3, 2, 1, 0]);
  assert.deepEqual(filterAndSortTrials([], { status: 'all', sortBy: 'reward', descending: true }), []);
  // the input is not reordered
  assert.deepEqual(
    points.map((p) => p.index),
    [0, 1, 2, 3],
  );
});

test('formatting helpers', () => {
  assert.equal(formatCount(812), '812');
  assert.equal(formatCount(45_300), '45.3k');
  assert.equal(formatCount(1_204_000), '1.20M');
  assert.equal(formatCount(null), '–');
  assert.equal(estimateRemainingMs(1000, 10, 30), 2000);
  assert.equal(estimateRemainingMs(1000, 0, 30), null);
  assert.equal(estimateRemainingMs(1000, 30, 30), 0);
});

test('stepCorners keeps the rises and the last point', () => {
  assert.deepEqual(stepCorners([]), []);
  assert.deepEqual(stepCorners([{ x: 0, y: 1 }]), [{ x: 0, y: 1 }]);
  assert.deepEqual(
    stepCorners([
      { x: 0, y: 1 },
      { x: 1, y: 1 },
      { x: 2, y: 2 },
      { x: 3, y: 2 },
      { x: 4, y: 2 },
    ]),
    [
      { x: 0, y: 1 },
      { x: 2, y: 2 },
      { x: 4, y: 2 },
    ],
  );
});

test('toStepPoint: per decision, the max probability and the entropy; a missing vector is null and skipped by the series', () => {
  const point = toStepPoint({
    runId: 1,
    step: 4,
    loss: 0.1,
    meanReward: 0.5,
    baseline: 0.4,
    entropy: 1.2,
    advantage: 0.1,
    probabilities: [[0.5, 0.5], [], [0.1, 0.9]],
  });
  assert.deepEqual(point.argmax, [0.5, null, 0.9]);
  close(point.decisionEntropy[0] as number, Math.log(2));
  assert.equal(point.decisionEntropy[1], null);
  assert.deepEqual(
    { ...point, argmax: undefined, decisionEntropy: undefined },
    { step: 4, loss: 0.1, meanReward: 0.5, baseline: 0.4, entropy: 1.2, argmax: undefined, decisionEntropy: undefined },
  );
  // JSON (the engine's IPC, VS Code's postMessage) keeps the nulls
  assert.deepEqual(JSON.parse(JSON.stringify(point)), point);
  assert.deepEqual(argmaxSeries([point]), [[{ x: 4, y: 0.5 }], [], [{ x: 4, y: 0.9 }]]);
  assert.deepEqual(
    perDecisionEntropy([point]).map((s) => s.length),
    [1, 0, 1],
  );
});

test('learning curves: unreported values are gaps, a value never reported has no curve, epochs in order', () => {
  const curves = learningCurves([
    { epoch: 2, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: 0.7, seconds: 1, extra: { lr: 0.01 } },
    { epoch: 1, trainLoss: 0.9, trainAccuracy: null, valLoss: null, valAccuracy: 0.6, seconds: 1 },
  ]);
  assert.deepEqual(curves, {
    loss: [
      {
        label: 'train loss',
        data: [
          { x: 1, y: 0.9 },
          { x: 2, y: null },
        ],
      },
    ],
    accuracy: [
      {
        label: 'validation accuracy',
        data: [
          { x: 1, y: 0.6 },
          { x: 2, y: 0.7 },
        ],
      },
    ],
  });
  const onlyValidation = learningCurves([{ epoch: 1, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: 0.5, seconds: 1 }]);
  assert.deepEqual(onlyValidation.loss, [], 'no loss chart');
  const builtIn = learningCurves([{ epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1.1, valAccuracy: 0.45, seconds: 1 }]);
  assert.deepEqual(
    [...builtIn.loss, ...builtIn.accuracy].map((curve) => curve.label),
    ['train loss', 'validation loss', 'train accuracy', 'validation accuracy'],
  );
});

test('pruned trials: their reward is charted apart and never the best so far; they count as told to the controller', () => {
  const points = [
    trial(1, { status: 'pruned', reward: 0.9, epochsTrained: 1 }),
    trial(0, { reward: 0.5 }),
    trial(2, { reward: 0.6 }),
    trial(3, { status: 'failed' }),
    trial(4, { status: 'pruned', reward: 0.95, finishedMs: 10 }),
  ];
  assert.deepEqual(rewardPoints(points), {
    trained: [
      { x: 0, y: 0.5 },
      { x: 2, y: 0.6 },
    ],
    pruned: [
      { x: 1, y: 0.9 },
      { x: 4, y: 0.95 },
    ],
  });
  assert.deepEqual(bestSoFar(points), [
    { x: 0, y: 0.5 },
    { x: 2, y: 0.6 },
  ]);
  assert.deepEqual(bestSoFarOverTime(points), []);
  assert.equal(trialsPerStep(points, [step(1, []), step(2, [])]), 3);
  const pruned = filterAndSortTrials(points, { status: 'pruned', sortBy: 'index', descending: false });
  assert.deepEqual(
    pruned.map((p) => p.index),
    [1, 4],
  );
});

test('intermediate values: one dataset per group, each curve in epoch order and ended by a gap, unreported epochs as gaps', () => {
  const known = curvesByTrial([
    { index: 2, status: 'pruned', values: [0.3] },
    { index: 0, status: 'done', values: [0.4, null, 0.7] },
    { index: 1, status: 'done', values: [0.5, 0.6, 0.8] },
    { index: 3, status: 'failed', values: [0.2, 0.1] },
    { index: 4, status: 'running', values: [] },
    { index: 5, status: 'interrupted', values: [null] },
  ]);
  const series = curveSeries(known);
  assert.deepEqual(series.done, [
    { x: 1, y: 0.4, trial: 0 },
    { x: 2, y: null, trial: 0 },
    { x: 3, y: 0.7, trial: 0 },
    { x: 3, y: null, trial: 0 },
    { x: 1, y: 0.5, trial: 1 },
    { x: 2, y: 0.6, trial: 1 },
    { x: 3, y: 0.8, trial: 1 },
    { x: 3, y: null, trial: 1 },
  ]);
  assert.deepEqual(series.pruned, [
    { x: 1, y: 0.3, trial: 2 },
    { x: 1, y: null, trial: 2 },
  ]);
  // failed and interrupted trials share a group; a curve with no value at all draws nothing
  assert.deepEqual(series.ended, [
    { x: 1, y: 0.2, trial: 3 },
    { x: 2, y: 0.1, trial: 3 },
    { x: 2, y: null, trial: 3 },
  ]);
  assert.deepEqual(series.running, []);
});

test('intermediate values live: epochs grow a running curve, a repeated epoch starts it over, a fresh query keeps running curves', () => {
  const known = curvesByTrial([{ index: 0, status: 'done', values: [0.4, 0.6] }]);
  addEpoch(known, { trial: 1, epoch: 1, valAccuracy: 0.5 });
  addEpoch(known, { trial: 1, epoch: 3, valAccuracy: 0.7 });
  assert.deepEqual(known.get(1), { status: 'running', values: [0.5, null, 0.7] });
  // its trainer died and it trains again from epoch 1
  addEpoch(known, { trial: 1, epoch: 1, valAccuracy: 0.45 });
  assert.deepEqual(known.get(1), { status: 'running', values: [0.45] });
  addEpoch(known, { trial: 2, epoch: 1, valAccuracy: null });

  // The store has no epochs of trials in training: the query says running with none; trial 2 was pruned since.
  known.get(2)!.status = 'pruned';
  mergeCurves(known, [
    { index: 0, status: 'done', values: [0.4, 0.65] },
    { index: 1, status: 'running', values: [] },
    { index: 2, status: 'running', values: [] },
    { index: 3, status: 'pruned', values: [0.2] },
  ]);
  assert.deepEqual(known.get(0), { status: 'done', values: [0.4, 0.65] });
  assert.deepEqual(known.get(1), { status: 'running', values: [0.45] });
  assert.deepEqual(known.get(2), { status: 'pruned', values: [null] });
  assert.deepEqual(known.get(3), { status: 'pruned', values: [0.2] });
});

test('rung marks: per bracket, only the rungs with a threshold', () => {
  assert.deepEqual(
    rungMarks([
      { epoch: 1, bracket: 0, threshold: 0.5, reached: 4 },
      { epoch: 3, bracket: 0, threshold: null, reached: 0 },
      { epoch: 3, bracket: 1, threshold: 0.7, reached: 2 },
      { epoch: 9, bracket: 2, threshold: null, reached: 0 },
    ]),
    [[{ x: 1, y: 0.5, bracket: 0, reached: 4 }], [{ x: 3, y: 0.7, bracket: 1, reached: 2 }], []],
  );
  assert.deepEqual(rungMarks([]), []);
});

test('the worker column: only when some trial ran on a remote worker; the attempt only when one started it more than once', () => {
  const record = (index: number, worker: string | null, attempts: number | null): TrialRecord => ({
    runId: 1,
    index,
    status: 'done',
    architecture: [0],
    key: `k${index}`,
    graph: { kind: 'nasbench201', edges: [] } as unknown as TrialRecord['graph'],
    reward: 0.5,
    metrics: null,
    error: null,
    evaluator: 'tabular',
    epochsTrained: 0,
    worker,
    attempts,
    retrainedFrom: null,
    weightsPath: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
  });
  const created = '2026-01-01T00:00:00.000Z';
  const local = toTrialPoint(record(0, null, null), created);
  const once = toTrialPoint(record(1, 'vm pid 1234, wasm', 1), created);
  const retried = toTrialPoint(record(2, 'vm pid 1234, wasm', 3), created);
  assert.ok(!('worker' in local) && !('attempts' in local), 'a local trial carries no worker');
  assert.equal(once.worker, 'vm pid 1234, wasm');
  assert.ok(!('attempts' in once), 'a first attempt is not worth a word');
  assert.equal(retried.attempts, 3);

  assert.equal(hasWorkers([]), false);
  assert.equal(hasWorkers([local, trial(5)]), false, "a run on the search's machine has no worker column");
  assert.equal(hasWorkers([local, once]), true, 'one trial on a worker is enough (the others show a dash)');
  assert.equal(trialWorkerLabel(local), undefined);
  assert.equal(trialWorkerLabel(once), 'vm pid 1234, wasm');
  assert.equal(trialWorkerLabel(retried), 'vm pid 1234, wasm (attempt 3)');
  assert.equal(trialWorkerLabel({ worker: 'vm pid 9, cpu', attempts: 2 }), 'vm pid 9, cpu (attempt 2)', 'a TrialRecord reads the same');
});
