// The stopping rules on hand-made curves (ties, a trial that failed mid-way, NaN), ASHA against a worked
// example of the paper's algorithm, Hyperband's brackets, and the scheduler rebuilt from stored curves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forecast, curveRule, normalCdf } from '../../src/engine/schedulers/curve.ts';
import { medianRule } from '../../src/engine/schedulers/median.ts';
import { Scheduler, type StoppingRule } from '../../src/engine/schedulers/scheduler.ts';
import { ashaRule, hyperbandBrackets, hyperbandRule, promotionThreshold } from '../../src/engine/schedulers/successive-halving.ts';
import type { EpochMetrics, TrialStatus } from '../../src/protocol/engine.ts';

const median = (graceEpochs = 1, minTrials = 3) => medianRule({ kind: 'median', grace_epochs: graceEpochs, min_trials: minTrials });

/** Reports `curve` of trial `index` epoch by epoch until a stop; finishes it as pruned or done. Returns the epoch it stopped after. */
function train(scheduler: Scheduler, index: number, curve: readonly number[]): number | undefined {
  for (let epoch = 1; epoch <= curve.length; epoch++) {
    if (scheduler.report(index, epoch, curve[epoch - 1]) === 'stop') {
      scheduler.finish(index, 'pruned');
      return epoch;
    }
  }
  scheduler.finish(index, 'done');
  return undefined;
}

test('median: a trial below the median of the others at the same epoch stops, after the grace epochs and enough trials', () => {
  const scheduler = new Scheduler(median(1, 3), 5);
  assert.equal(train(scheduler, 0, [0.5, 0.6, 0.7, 0.8, 0.85]), undefined);
  assert.equal(train(scheduler, 1, [0.4, 0.5, 0.6, 0.7, 0.75]), undefined, 'one earlier trial is too few');
  assert.equal(train(scheduler, 2, [0.6, 0.7, 0.8, 0.85, 0.9]), undefined, 'two are too few');
  // Best so far by epoch 2 of the others: 0.6, 0.5, 0.7: median 0.6. Epoch 1 is the grace epoch.
  assert.equal(train(scheduler, 3, [0.1, 0.55, 0.9, 0.9, 0.9]), 2);
  // A tie with the median goes on: by epoch 2 the others' best are 0.6, 0.5, 0.7, 0.55 -> median 0.575; by epoch 4
  // (trial 3 stopped at 2) 0.8, 0.7, 0.85 -> median 0.8.
  assert.equal(train(scheduler, 4, [0.2, 0.575, 0.75, 0.8, 0.86]), undefined);
  // The best value so far counts, not the last: a dip below the median after a high epoch goes on.
  assert.equal(train(scheduler, 5, [0.9, 0.1, 0.1, 0.9, 0.9]), undefined);
});

test('median: a trial that failed mid-way still counts with the epochs it reached; a NaN value stops a trial past its grace', () => {
  const scheduler = new Scheduler(median(1, 2), 4);
  train(scheduler, 0, [0.5, 0.6, 0.7, 0.8]);
  scheduler.report(1, 1, 0.9);
  scheduler.report(1, 2, 0.95);
  scheduler.finish(1, 'failed');
  // At epoch 2 the others' best are 0.6 and 0.95: median 0.775; at epoch 3 only trial 0 reached it (too few).
  assert.equal(train(scheduler, 2, [0.7, 0.7, 0.7, 0.7]), 2);
  assert.equal(scheduler.report(3, 1, Number.NaN), 'continue', 'grace epoch');
  assert.equal(scheduler.report(3, 2, Number.NaN), 'stop', 'nothing but NaN so far: diverged');
  // NaN in others' curves is left out of the median, not taken as a value.
  assert.equal(scheduler.report(4, 1, 0.65), 'continue');
  assert.equal(scheduler.report(4, 2, 0.8), 'continue', 'above the median of 0.6, 0.95 and 0.7 (trial 3 has no value)');
});

test('ASHA: the worked example of the paper (η = 3, rungs at epochs 1 and 3 of 9)', () => {
  const scheduler = new Scheduler(ashaRule({ kind: 'asha', min_epochs: 1, reduction_factor: 3 }, 9), 9);
  // Arrivals at rung 1 (epoch 1), one at a time. With n trials at the rung, the top max(1, ⌊n/3⌋) go on.
  const rung1 = [0.5, 0.6, 0.4, 0.55, 0.7, 0.65, 0.62, 0.3, 0.68];
  const expected = ['continue', 'continue', 'stop', 'stop', 'continue', 'continue', 'stop', 'stop', 'continue'];
  // n=1: 0.5 is the top 1. n=2: 0.6 is the top 1. n=3: top 1 is 0.6, 0.4 stops. n=4: 0.55 < 0.6 stops.
  // n=5: 0.7 is the new top. n=6: top 2 are 0.7 and 0.65. n=7: 0.62 < 0.65 stops. n=8: 0.3 stops.
  // n=9: top 3 are 0.7, 0.68, 0.65: 0.68 goes on.
  assert.deepEqual(
    rung1.map((value, index) => scheduler.report(index, 1, value)),
    expected,
  );
  // The paper's ASHA (promotion form) would by now have promoted from rung 1 the top ⌊9/3⌋ = 3: trials 4, 8, 5.
  // Each of those went on at once in the stopping form: it never stops a trial the paper would promote.
  for (const promoted of [4, 8, 5]) assert.equal(expected[promoted], 'continue');
  // Rung 2 (epoch 3) among those that went on: trials 0, 1, 4, 5, 8.
  for (const index of [0, 1, 4, 5, 8]) scheduler.report(index, 2, rung1[index] + 0.05);
  const rung2 = new Map([
    [0, 0.6],
    [1, 0.75],
    [4, 0.8],
    [5, 0.7],
    [8, 0.85],
  ]);
  assert.deepEqual(
    [...rung2].map(([index, value]) => scheduler.report(index, 3, value)),
    ['continue', 'continue', 'continue', 'stop', 'continue'],
  );
  // Past the last rung a trial trains to its end.
  for (let epoch = 4; epoch <= 9; epoch++) assert.equal(scheduler.report(8, epoch, 0.1), 'continue');
  assert.deepEqual(scheduler.rungs(), [
    { epoch: 1, bracket: 0, threshold: 0.65, reached: 9 },
    { epoch: 3, bracket: 0, threshold: 0.85, reached: 5 },
  ]);
});

test('ASHA: ties at the threshold go on; NaN at a rung stops; the threshold ignores NaN', () => {
  assert.equal(promotionThreshold([0.5, 0.5, 0.5], 2), 0.5);
  assert.equal(promotionThreshold([0.9, Number.NaN, 0.1, 0.2], 2), 0.9);
  assert.ok(Number.isNaN(promotionThreshold([Number.NaN], 2)));
  const scheduler = new Scheduler(ashaRule({ kind: 'asha', min_epochs: 2, reduction_factor: 2 }, 8), 8);
  assert.equal(scheduler.report(0, 1, 0.5), 'continue', 'not a rung');
  assert.equal(scheduler.report(0, 2, 0.5), 'continue');
  assert.equal(scheduler.report(1, 2, 0.5), 'continue', 'a tie with the top 1 of 2');
  assert.equal(scheduler.report(2, 2, Number.NaN), 'stop');
});

test("Hyperband: brackets skip the first rungs of the ladder, and trials are dealt in Hyperband's proportions", () => {
  // R = 9 epochs, r = 1, η = 3: ladder 1, 3; s_max = 2; brackets get ⌈3/3·9⌉ = 9, ⌈3/2·3⌉ = 5, ⌈3/1·1⌉ = 3.
  assert.deepEqual(hyperbandBrackets(1, 3, 9), { rungs: [[1, 3], [3], []], shares: [9, 5, 3] });
  const rule = hyperbandRule({ kind: 'hyperband', min_epochs: 1, reduction_factor: 3 }, 9);
  const scheduler = new Scheduler(rule, 9);
  // Which bracket each of the first 17 trials is in, seen by whether epoch 1 and epoch 3 are decisions for it.
  const brackets: number[] = [];
  for (let index = 0; index < 17; index++) {
    // A lone first arrival always goes on; a second, worse one stops only where the epoch is a rung of its bracket.
    scheduler.report(1000 + index, 1, 1);
    scheduler.report(1000 + index, 3, 1);
  }
  for (let index = 0; index < 17; index++) {
    const atOne = scheduler.report(index, 1, 0) === 'stop';
    const atThree = !atOne && scheduler.report(index, 3, 0) === 'stop';
    brackets.push(atOne ? 0 : atThree ? 1 : 2);
  }
  assert.deepEqual(
    [0, 1, 2].map((b) => brackets.filter((x) => x === b).length),
    [9, 5, 3],
  );
  // Each trial goes to the bracket furthest behind its share: interleaved, so a short search is spread over the brackets.
  assert.deepEqual(brackets, [0, 1, 0, 0, 2, 1, 0, 0, 1, 0, 2, 0, 1, 0, 0, 1, 2]);
});

test('curve: the fit recovers an exact power law, and a trial predicted below the best finished one stops', () => {
  const points = [1, 2, 3, 4].map((t): [number, number] => [t, 0.9 - 0.5 * t ** -1]);
  const { mean, sd } = forecast(points, 10);
  assert.ok(Math.abs(mean - (0.9 - 0.05)) < 1e-9, `mean ${mean}`);
  assert.ok(sd >= 0.01 && sd < 0.02, `sd ${sd}: the noise floor`);
  assert.ok(Math.abs(normalCdf(0) - 0.5) < 1e-7 && Math.abs(normalCdf(1.959964) - 0.975) < 1e-6);

  const scheduler = new Scheduler(curveRule({ kind: 'curve', grace_epochs: 3, confidence: 0.95 }), 10);
  assert.equal(train(scheduler, 0, [0.3, 0.3, 0.3, 0.3, 0.3]), undefined, 'no trial finished in full yet: nothing to compare with');
  train(scheduler, 1, [0.5, 0.7, 0.8, 0.85, 0.88, 0.9, 0.91, 0.92, 0.92, 0.93]);
  assert.equal(train(scheduler, 2, [0.3, 0.4, 0.45, 0.47, 0.48, 0.49, 0.5, 0.5, 0.5, 0.5]), 4, 'plateaus far below 0.93');
  assert.equal(train(scheduler, 3, [0.4, 0.6, 0.75, 0.85, 0.9, 0.93, 0.95, 0.96, 0.96, 0.97]), undefined, 'on course to beat it');
  assert.equal(scheduler.report(4, 4, Number.NaN), 'stop', 'a NaN past the grace epochs');
});

test('a trial trained again after its trainer died starts its curve over; an interrupted one is forgotten', () => {
  const scheduler = new Scheduler(median(0, 1), 4);
  train(scheduler, 0, [0.5, 0.5, 0.5, 0.5]);
  scheduler.report(1, 1, 0.9);
  scheduler.report(1, 2, 0.9);
  // Trained again from epoch 1: the earlier epochs 1 and 2 are gone.
  assert.equal(scheduler.report(1, 1, 0.1), 'stop');
  assert.deepEqual(scheduler.trials.get(1)!.values, [0.1]);
  scheduler.finish(1, 'interrupted');
  assert.equal(scheduler.trials.has(1), false);
});

test('every scheduler rebuilt from stored curves decides as the one that heard them live', () => {
  const rules: Record<string, StoppingRule> = {
    median: median(1, 2),
    asha: ashaRule({ kind: 'asha', min_epochs: 1, reduction_factor: 2 }, 6),
    hyperband: hyperbandRule({ kind: 'hyperband', min_epochs: 1, reduction_factor: 2 }, 6),
    curve: curveRule({ kind: 'curve', grace_epochs: 3, confidence: 0.9 }),
  };
  const curveOf = (index: number) => Array.from({ length: 6 }, (_, e) => ((index * 37) % 11) / 12 + 0.05 * Math.log(e + 1));
  for (const [name, rule] of Object.entries(rules)) {
    const live = new Scheduler(rule, 6);
    const stored: { index: number; status: TrialStatus; curve: EpochMetrics[] }[] = [];
    for (let index = 0; index < 12; index++) {
      const stop = train(live, index, curveOf(index));
      const values = curveOf(index).slice(0, stop ?? 6);
      const curve = values.map((valAccuracy, e) => ({
        epoch: e + 1,
        valAccuracy,
        trainLoss: null,
        trainAccuracy: null,
        valLoss: null,
        seconds: 1,
      }));
      stored.push({ index, status: stop === undefined ? 'done' : 'pruned', curve });
    }
    const rebuilt = new Scheduler(rule, 6);
    rebuilt.restore(stored);
    assert.deepEqual(rebuilt.trials, live.trials, name);
    for (let index = 12; index < 20; index++)
      assert.equal(train(rebuilt, index, curveOf(index)), train(live, index, curveOf(index)), `${name} ${index}`);
  }
});
