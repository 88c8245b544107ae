// Measured inference latency as an objective: trainers time a built child's batch-1 forward pass before
// training it, max_latency_ms stops a slower child before its first batch, penalty.latency takes λ per
// millisecond off the reward, and Pareto evolution can minimise it. Real trainer processes where a search runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { RejectedBeforeTraining } from '../../src/engine/evaluators/evaluator.ts';
import { prepareTrainingData, trainFromScratch } from '../../src/engine/evaluators/train-from-scratch.ts';
import { readTrialJob } from '../../src/engine/remote/trial-job.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { EvolutionStrategy } from '../../src/engine/strategies/evolution.ts';
import { Store } from '../../src/engine/store/store.ts';
import { applyReward } from '../../src/engine/trial-lifecycle.ts';
import { TRIAL_JOB_VERSION } from '../../src/protocol/queue.ts';
import type { RewardConfig, TrainEvaluationConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { createRng } from '../../src/space/rng.ts';
import { MACRO } from '../support/spaces.ts';
import { PLAIN_RECIPE, tinySearchText } from '../support/tiny.ts';

const ACCURACY: RewardConfig = { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 };

test('a latency penalty takes λ per millisecond off the transformed accuracy; a trial that measured none has no reward', () => {
  const measured = { valAccuracy: 0.9, params: 1000, flops: 2000, latencyMs: 3 };
  assert.ok(Math.abs(applyReward({ ...ACCURACY, penalty: { latency: 0.01 } }, measured) - (0.9 - 0.03)) < 1e-12);
  const all = applyReward({ ...ACCURACY, penalty: { params: 10, flops: 100, latency: 0.01 } }, measured);
  assert.ok(Math.abs(all - (0.9 - 0.01 - 0.0002 - 0.03)) < 1e-12);
  assert.throws(
    () => applyReward({ ...ACCURACY, penalty: { latency: 0.01 } }, { valAccuracy: 0.9, params: 1, flops: 1 }),
    /penalty\.latency.*measured none/,
  );
});

const EVALUATION: TrainEvaluationConfig = {
  kind: 'train',
  epochs: 1,
  batch_size: 32,
  optimizer: 'adam',
  learning_rate: 0.003,
  reward_epochs: 1,
  ...PLAIN_RECIPE,
};

test('a trained child reports a positive latency; one over max_latency_ms stops before its first batch, leaking nothing', async () => {
  await selectBackend('cpu');
  const data = prepareTrainingData(
    splitDataset(loadDigits(), { validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 128 }),
  );
  const graph = decodeArchitecture({ ...MACRO, strides: undefined }, Array(18).fill(1));
  const baseline = tf.memory().numTensors;
  const trained = await trainFromScratch(
    { graph, space: MACRO, evaluation: EVALUATION, seed: 3 },
    data,
    () => {},
    () => false,
  );
  assert.ok(trained.latencyMs! > 0, `latency ${trained.latencyMs}`);
  assert.equal(tf.memory().numTensors, baseline);
  const epochs: number[] = [];
  const rejection = trainFromScratch(
    { graph, space: MACRO, evaluation: EVALUATION, seed: 3, maxLatencyMs: 1e-6 },
    data,
    (metrics) => void epochs.push(metrics.epoch),
    () => false,
  );
  await assert.rejects(rejection, (error: unknown) => {
    assert.ok(error instanceof RejectedBeforeTraining);
    assert.ok(error.latencyMs > 1e-6);
    assert.match(error.message, /^rejected before training: \d+\.\d{3} ms latency > max_latency_ms 0\.000001$/);
    return true;
  });
  assert.deepEqual(epochs, []);
  assert.equal(tf.memory().numTensors, baseline);
});

/** The tiny digits search with `reward` (and `strategy` in place of random), run to its end by real trainer processes. */
async function search(reward: string, options: { strategy?: string; trials?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nas-latency-'));
  const file = join(dir, 'latency.nas.yaml');
  const text = tinySearchText({ strategy: 'random', trials: options.trials ?? 3 }).replace(
    'strategy: { kind: random }',
    `strategy: { kind: ${options.strategy ?? 'random'}, reward: ${reward} }`,
  );
  writeFileSync(file, text);
  const db = join(dir, 'runs.db');
  const store = new Store(db);
  try {
    const runId = createRunFromFile(store, file, {});
    const status = await runSearch(store, runId, { onEvent: () => {} });
    const trials = store.listTrials(runId);
    return { status, trials, epochs: trials.map((trial) => store.trialEpochs(runId, trial.index)), db };
  } finally {
    store.close();
  }
}

test('a trained trial stores its latency, and a latency penalty lowers its reward by λ times it', async () => {
  const { status, trials } = await search('{ penalty: { latency: 0.01 } }');
  assert.equal(status, 'done');
  assert.equal(trials.length, 3);
  for (const trial of trials) {
    assert.equal(trial.status, 'done', trial.error ?? '');
    const { valAccuracy, latencyMs } = trial.metrics!;
    assert.ok(latencyMs! > 0, `latency ${latencyMs}`);
    assert.ok(
      Math.abs(trial.reward! - (valAccuracy - 0.01 * latencyMs!)) < 1e-12,
      `${trial.reward} vs ${valAccuracy} - 0.01 * ${latencyMs}`,
    );
  }
});

test('max_latency_ms: each child over a tiny limit is recorded failed, untrained, with its latency; the search completes', async () => {
  const { status, trials, epochs, db } = await search('{ constraints: { max_latency_ms: 0.000001 } }');
  assert.equal(status, 'done');
  assert.equal(trials.length, 3);
  for (const trial of trials) {
    assert.equal(trial.status, 'failed');
    assert.equal(trial.reward, null);
    assert.match(trial.error ?? '', /^rejected before training: \d+\.\d{3} ms latency > max_latency_ms 0\.000001$/);
    assert.equal(trial.epochsTrained, 0);
  }
  assert.deepEqual(epochs, [[], [], []]);
  const stored = new Database(db, { readonly: true });
  try {
    const latencies = stored.prepare('SELECT latency_ms FROM trials ORDER BY idx').all() as { latency_ms: number | null }[];
    assert.equal(latencies.length, 3);
    for (const { latency_ms: latency } of latencies) assert.ok(latency !== null && latency > 0.000001, `stored ${latency}`);
  } finally {
    stored.close();
  }
});

test('Pareto evolution minimising latency searches to its end, and keeps the members the latency front holds', async () => {
  const { status, trials } = await search('{}', {
    strategy: 'evolution, population_size: 2, sample_size: 2, pareto: { minimise: [latency] }',
    trials: 4,
  });
  assert.equal(status, 'done');
  assert.deepEqual(
    trials.map((trial) => [trial.status, trial.metrics!.latencyMs! > 0]),
    Array(4).fill(['done', true]),
  );
  const decisions = [{ kind: 'categorical' as const, name: 'd', options: ['a', 'b', 'c', 'd'] }];
  const strategy = new EvolutionStrategy(
    decisions,
    { population_size: 2, sample_size: 2, mutated_decisions: 1, pareto: { minimise: ['latency'] } },
    1,
    createRng(1),
  );
  strategy.tell([0], 0.5, { params: 1, flops: 1, latencyMs: 4 });
  strategy.tell([1], 0.4, { params: 1, flops: 1, latencyMs: 2 });
  // Less accurate and slower than both: dominated, retired.
  strategy.tell([2], 0.3, { params: 1, flops: 1, latencyMs: 5 });
  assert.deepEqual(
    (await strategy.getState()).population.map((member) => member.architecture),
    [[0], [1]],
  );
});

test('latency objectives are refused where no trainer times an image classifier: tabular, command and text searches', () => {
  const problems = (text: string) => parseSearchText(text, 'latency.nas.yaml').problems.map((problem) => problem.rule);
  const tabular = 'name: t\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular, dataset: cifar10 }\n';
  assert.deepEqual(problems(`${tabular}strategy: { kind: random, reward: { penalty: { latency: 0.01 } } }\n`), [
    'reward-latency-unmeasured',
  ]);
  assert.deepEqual(problems(`${tabular}strategy: { kind: evolution, pareto: { minimise: [params, latency] } }\n`), [
    'reward-latency-unmeasured',
  ]);
  const command =
    'name: c\ndataset: { kind: digits }\nspace: { kind: macro, layers: 2 }\n' +
    'evaluation: { kind: command, command: [python3, -c, "print(1)"] }\n' +
    'strategy: { kind: random, reward: { penalty: { latency: 0.01 } } }\n';
  assert.deepEqual(problems(command), ['reward-latency-unmeasured']);
  const message = parseSearchText(command, 'latency.nas.yaml').problems[0].message;
  assert.match(message, /^strategy\.reward\.penalty\.latency: latency is measured by the trainer .* is evaluated by command; /);
  const text =
    'name: l\ndataset: { kind: text }\nspace: { kind: recurrent, nodes: 2, hidden: 8 }\n' +
    'strategy: { kind: random, reward: { constraints: { max_latency_ms: 5 } } }\n';
  assert.ok(problems(text).includes('reward-latency-unmeasured'), problems(text).join(', '));
  const enas = tinySearchText({ strategy: 'random' })
    .replace('strategy: { kind: random }', 'strategy: { kind: enas, reward: { penalty: { latency: 0.01 } } }')
    .replace(/^budget: .*\n/m, '');
  assert.deepEqual(problems(enas), ['reward-latency-unmeasured']);
  assert.match(parseSearchText(enas, 'latency.nas.yaml').problems[0].message, /strategy enas scores its children with shared weights/);
  // A trained image search takes all three.
  const images = tinySearchText({ strategy: 'random' }).replace(
    'strategy: { kind: random }',
    'strategy: { kind: evolution, pareto: { minimise: [latency] }, ' +
      'reward: { constraints: { max_latency_ms: 5 }, penalty: { latency: 0.01 } } }',
  );
  assert.deepEqual(problems(images), []);
});

test("a remote worker's request carries the search's max_latency_ms to its trainers", () => {
  const searchText = tinySearchText({ strategy: 'random' }).replace(
    'strategy: { kind: random }',
    'strategy: { kind: random, reward: { constraints: { max_latency_ms: 2.5 } } }',
  );
  const job = {
    version: TRIAL_JOB_VERSION,
    searchText,
    searchFile: '/searches/tiny.nas.yaml',
    runKey: '0b7c4a52-2f4e-4c55-9f0e-3c1d2a8b9e10',
    index: 0,
    runId: 1,
    architecture: compileSpace(parseSearchText(searchText, 'tiny.nas.yaml').config!.space).map(() => 0),
    seed: 1,
    verdicts: false,
  };
  const { request } = readTrialJob(job, '/data');
  assert.equal(request.maxLatencyMs, 2.5);
});
