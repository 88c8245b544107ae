// Multi-objective searches: strategy.reward.constraints rejects a child over a cost limit before it is
// evaluated, and strategy.reward.penalty takes its cost off the reward (MONAS), through the real loop and store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shippedNasBench201Table } from '../../src/engine/data/nas-bench-201.ts';
import type { EvaluationRequest, Evaluator } from '../../src/engine/evaluators/evaluator.ts';
import { TabularEvaluator } from '../../src/engine/evaluators/tabular.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { applyReward } from '../../src/engine/trial-lifecycle.ts';
import type { TrialMeasurements } from '../../src/protocol/engine.ts';
import type { ImageDatasetConfig, RewardConfig } from '../../src/space/config.ts';
import { countParameters, estimateSpace, imageShapeOf } from '../../src/space/estimate.ts';
import { tabularImageShape } from '../../src/space/kinds/evaluations/tabular.ts';
import { NASBENCH201_OPERATIONS, nasBench201Cost } from '../../src/space/nasbench201.ts';
import { loadSearchFile } from '../../src/space/parse.ts';

const ACCURACY: RewardConfig = { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 };

test('a penalty takes λ per million parameters and per billion FLOPs off the transformed accuracy', () => {
  const measured = { valAccuracy: 0.9, params: 1_500_000, flops: 200_000_000 };
  assert.equal(applyReward(ACCURACY, measured), 0.9);
  assert.ok(Math.abs(applyReward({ ...ACCURACY, penalty: { params: 0.01 } }, measured) - (0.9 - 0.015)) < 1e-12);
  assert.ok(Math.abs(applyReward({ ...ACCURACY, penalty: { flops: 0.1 } }, measured) - (0.9 - 0.02)) < 1e-12);
  const both = applyReward({ ...ACCURACY, transform: 'cube', penalty: { params: 0.01, flops: 0.1 } }, measured);
  assert.ok(Math.abs(both - (0.9 ** 3 - 0.015 - 0.02)) < 1e-12);
  assert.throws(
    () => applyReward({ ...ACCURACY, penalty: { params: 0.01 } }, { valAccuracy: 0.9, params: null }),
    /penalty\.params.*measured none/,
  );
  assert.throws(
    () => applyReward({ ...ACCURACY, penalty: { flops: 0.1 } }, { valAccuracy: 0.9, params: 1 }),
    /penalty\.flops.*measured none/,
  );
});

function searchFile(reward: string, trials: number): string {
  const example = readFileSync(join(__dirname, '..', '..', 'examples', 'nasbench201.nas.yaml'), 'utf8');
  const file = join(mkdtempSync(join(tmpdir(), 'nas-reward-cost-')), 'search.nas.yaml');
  const strategy = `strategy: { kind: random, reward: ${reward} }\n`;
  writeFileSync(file, example.replace(/^strategy:\n( {2}.*\n)+/m, strategy).replace(/trials: \d+/, `trials: ${trials}`));
  return file;
}

/** The table's evaluator, counting what it is asked to evaluate; `measure` may change what it returns. */
class CountingEvaluator extends TabularEvaluator {
  readonly evaluated: number[] = [];
  constructor(private readonly measure: (measured: TrialMeasurements) => TrialMeasurements = (m) => m) {
    super(shippedNasBench201Table(), 'cifar10');
  }
  override async evaluate(request: EvaluationRequest): Promise<TrialMeasurements> {
    // Every request of a search is for a recorded trial, which has an index.
    this.evaluated.push(request.index ?? Number.NaN);
    return this.measure(await super.evaluate(request));
  }
}

async function search(reward: string, evaluator: CountingEvaluator, trials = 60) {
  const store = new Store(':memory:');
  try {
    const runId = createRunFromFile(store, searchFile(reward, trials), {});
    const status = await runSearch(store, runId, { onEvent: () => {}, startEvaluator: async () => evaluator });
    return { status, trials: store.listTrials(runId) };
  } finally {
    store.close();
  }
}

const costOf = (architecture: readonly number[]) =>
  nasBench201Cost(
    architecture.map((choice) => NASBENCH201_OPERATIONS[choice]),
    tabularImageShape('cifar10'),
  );

test('max_params: a child over it fails before training, is never evaluated, and counts in the budget', async () => {
  const evaluator = new CountingEvaluator();
  const { status, trials } = await search('{ constraints: { max_params: 500000 } }', evaluator);
  assert.equal(status, 'done');
  assert.equal(trials.length, 60);
  const over = trials.filter((trial) => costOf(trial.architecture).params > 500_000);
  assert.ok(over.length > 5 && over.length < 55, `${over.length} of 60 over the limit`);
  for (const trial of trials) {
    const { params } = costOf(trial.architecture);
    if (params > 500_000) {
      assert.equal(trial.status, 'failed');
      assert.equal(trial.error, `rejected before training: ${params} parameters > max_params 500000`);
      assert.equal(trial.reward, null);
    } else {
      assert.equal(trial.status, 'done');
      assert.equal(trial.metrics?.params, params);
    }
  }
  assert.deepEqual(
    evaluator.evaluated,
    trials.filter((trial) => trial.status === 'done').map((trial) => trial.index),
  );
});

test('max_flops: NAS-Bench-201 children are bounded by the benchmark FLOPs of their cell', async () => {
  const evaluator = new CountingEvaluator();
  const { trials } = await search('{ constraints: { max_flops: 60000000 } }', evaluator, 40);
  const over = trials.filter((trial) => costOf(trial.architecture).flops > 60e6);
  assert.ok(over.length > 0 && over.length < 40, `${over.length} of 40 over the limit`);
  for (const trial of over) assert.match(trial.error ?? '', /^rejected before training: \d+ FLOPs > max_flops 60000000$/);
  assert.equal(evaluator.evaluated.length, 40 - over.length);
});

test("a penalised search's rewards are the accuracy less its cost; a trial that measured no cost fails", async () => {
  const table = shippedNasBench201Table();
  const { trials } = await search('{ penalty: { params: 0.05, flops: 0.5 } }', new CountingEvaluator(), 20);
  for (const trial of trials) {
    const { params, flops } = costOf(trial.architecture);
    const expected = table.accuracies(trial.architecture, 'cifar10').valAccuracy - 0.05 * (params / 1e6) - 0.5 * (flops / 1e9);
    assert.equal(trial.status, 'done');
    assert.ok(Math.abs(trial.reward! - expected) < 1e-9, `${trial.reward} vs ${expected}`);
  }
  const uncounted = new CountingEvaluator((measured) => ({ ...measured, params: null }));
  const { status, trials: failed } = await search('{ penalty: { params: 0.05 } }', uncounted, 5);
  assert.equal(status, 'done');
  for (const trial of failed) {
    assert.equal(trial.status, 'failed');
    assert.equal(trial.reward, null);
    assert.match(trial.error ?? '', /no reward: .*penalty\.params.*measured none/);
    assert.notEqual(trial.metrics?.valAccuracy, undefined);
  }
});

test('max_params on a macro space: children are counted on the data set images, and those over it never reach the evaluator', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'nas-reward-cost-')), 'search.nas.yaml');
  const base = ['name: bounded-macro', 'dataset: { kind: digits }', 'space: { kind: macro, layers: 3, filters: [4, 32] }'];
  writeFileSync(file, [...base, 'strategy: { kind: random }', 'budget: { trials: 1 }', ''].join('\n'));
  const range = estimateSpace(loadSearchFile(file).config!).parameters!;
  const limit = Math.round((range.min + range.max) / 2);
  const reward = `{ constraints: { max_params: ${limit} } }`;
  writeFileSync(file, [...base, `strategy: { kind: random, reward: ${reward} }`, 'budget: { trials: 30 }', ''].join('\n'));
  const requested: number[] = [];
  const evaluator: Evaluator = {
    backend: 'cpu',
    backendDetail: 'counts what it is asked',
    size: 1,
    async evaluate(request) {
      requested.push(request.index ?? Number.NaN);
      return { valAccuracy: 0.5, testAccuracy: null, params: 1, flops: 1, seconds: 0, curve: [] };
    },
    cancelAll() {},
    async close() {},
  };
  const store = new Store(':memory:');
  try {
    const runId = createRunFromFile(store, file, {});
    const { config } = store.runConfig(runId);
    assert.equal(await runSearch(store, runId, { onEvent: () => {}, startEvaluator: async () => evaluator }), 'done');
    const trials = store.listTrials(runId);
    const image = imageShapeOf(config.dataset as ImageDatasetConfig);
    const over = trials.filter((trial) => countParameters(trial.graph, config.space, image) > limit);
    assert.ok(over.length > 0 && over.length < trials.length, `${over.length} of ${trials.length} over ${limit}`);
    for (const trial of over)
      assert.match(trial.error ?? '', new RegExp(`^rejected before training: \\d+ parameters > max_params ${limit}$`));
    assert.deepEqual(
      requested,
      trials.filter((trial) => !over.includes(trial)).map((trial) => trial.index),
    );
  } finally {
    store.close();
  }
});
