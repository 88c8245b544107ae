import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { prepareTrainingData, trainFromScratch, TrainingCancelled } from '../../src/engine/evaluators/train-from-scratch.ts';
import type { TrainEvaluationConfig } from '../../src/space/config.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { CELL, MACRO } from '../support/spaces.ts';
import { PLAIN_RECIPE } from '../support/tiny.ts';

const EVALUATION: TrainEvaluationConfig = {
  kind: 'train',
  epochs: 2,
  batch_size: 32,
  optimizer: 'adam',
  learning_rate: 0.003,
  reward_epochs: 2,
  ...PLAIN_RECIPE,
};

async function setup() {
  await selectBackend('cpu');
  return prepareTrainingData(splitDataset(loadDigits(), { validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 256 }));
}

test('training a child leaves the tensor count at its baseline, and the same seed gives the same result', async () => {
  const data = await setup();
  const graph = decodeArchitecture({ ...MACRO, strides: undefined }, Array(18).fill(1));
  const baseline = tf.memory().numTensors;
  const epochs: number[] = [];
  const first = await trainFromScratch(
    { graph, space: MACRO, evaluation: EVALUATION, seed: 5 },
    data,
    (m) => void epochs.push(m.epoch),
    () => false,
  );
  assert.equal(tf.memory().numTensors, baseline, 'no tensor leaks after a trial');
  const second = await trainFromScratch(
    { graph, space: MACRO, evaluation: EVALUATION, seed: 5 },
    data,
    () => {},
    () => false,
  );
  assert.equal(tf.memory().numTensors, baseline);
  assert.deepEqual(epochs, [1, 2]);
  assert.equal(first.curve.length, 2);
  assert.equal(first.valAccuracy, second.valAccuracy);
  assert.equal(first.curve[1].trainLoss, second.curve[1].trainLoss);
  assert.equal(first.valAccuracy, Math.max(...first.curve.map((m) => m.valAccuracy)));
  assert.ok(first.valAccuracy > 0.3, `a small conv net learns digits (got ${first.valAccuracy})`);
  assert.ok(first.params! > 0 && first.flops! > 0 && first.seconds > 0);
});

test('a cell child trains, and a cancelled one stops without leaking', async () => {
  const data = await setup();
  const graph = decodeArchitecture(
    CELL,
    Array(32)
      .fill(0)
      .map((_, i) => (i % 2 === 0 ? 1 : 2)),
  );
  const baseline = tf.memory().numTensors;
  const result = await trainFromScratch(
    { graph, space: CELL, evaluation: { ...EVALUATION, epochs: 1 }, seed: 1 },
    data,
    () => {},
    () => false,
  );
  assert.ok(result.valAccuracy >= 0 && result.valAccuracy <= 1);
  let batches = 0;
  await assert.rejects(
    trainFromScratch(
      { graph, space: CELL, evaluation: EVALUATION, seed: 1 },
      data,
      () => {},
      () => ++batches > 2,
    ),
    TrainingCancelled,
  );
  assert.equal(tf.memory().numTensors, baseline);
});

test('sgd training leaks no tensor, and a diverging child fails with the epoch and batch its loss became NaN', async () => {
  const data = await setup();
  const graph = decodeArchitecture({ ...MACRO, strides: undefined }, Array(18).fill(1));
  const sgd: TrainEvaluationConfig = { ...EVALUATION, epochs: 1, optimizer: 'sgd' };
  const baseline = tf.memory().numTensors;
  await trainFromScratch(
    { graph, space: MACRO, evaluation: sgd, seed: 2 },
    data,
    () => {},
    () => false,
  );
  assert.equal(tf.memory().numTensors, baseline, 'the momentum optimizer leaves nothing behind');
  await assert.rejects(
    trainFromScratch(
      { graph, space: MACRO, evaluation: { ...sgd, learning_rate: 1e30 }, seed: 2 },
      data,
      () => {},
      () => false,
    ),
    /^Error: training loss became NaN at epoch 1, batch \d+$/,
  );
  assert.equal(tf.memory().numTensors, baseline);
});
