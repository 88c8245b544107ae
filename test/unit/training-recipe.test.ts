import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { prepareTrainingData, trainFromScratch } from '../../src/engine/evaluators/train-from-scratch.ts';
import { augmentBatch, learningRateAt, smoothedTargets } from '../../src/engine/evaluators/training-recipe.ts';
import { SharedOptimizer } from '../../src/engine/oneshot/shared-optimizer.ts';
import type { TrainEvaluationConfig } from '../../src/space/config.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { createRng } from '../../src/space/rng.ts';
import { MACRO } from '../support/spaces.ts';
import { PLAIN_RECIPE } from '../support/tiny.ts';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} vs ${expected}`);

test('the learning rate warms up linearly, then stays or follows a half cosine to 0', () => {
  const schedule = { learning_rate: 0.1, lr_schedule: 'cosine' as const, warmup_epochs: 1 };
  // 10 steps an epoch, 5 epochs: 10 warm-up steps, then 40 annealed.
  close(learningRateAt(schedule, 0, 50, 10), 0.01, 'first warm-up step');
  close(learningRateAt(schedule, 9, 50, 10), 0.1, 'last warm-up step');
  close(learningRateAt(schedule, 10, 50, 10), 0.1, 'first annealed step');
  close(learningRateAt(schedule, 30, 50, 10), 0.05, 'halfway through the cosine');
  assert.ok(learningRateAt(schedule, 49, 50, 10) < 0.001, 'near 0 at the last step');
  const constant = { ...schedule, lr_schedule: 'constant' as const, warmup_epochs: 0 };
  for (const step of [0, 25, 49]) close(learningRateAt(constant, step, 50, 10), 0.1, `constant at ${step}`);
});

test('smoothed targets keep their sum and give every class its share', () => {
  const smoothed = smoothedTargets(tf.oneHot([2, 0], 4).toFloat() as tf.Tensor2D, 0.2);
  const values = smoothed.arraySync();
  assert.deepEqual(
    values.map((row) => row.map((v) => Math.round(v * 1000) / 1000)),
    [
      [0.05, 0.05, 0.85, 0.05],
      [0.85, 0.05, 0.05, 0.05],
    ],
  );
});

for (const backend of ['cpu', 'wasm'] as const)
  test(`augmentation on ${backend} crops the padded image at the offsets it draws, mirrors some, and repeats with its seed`, async () => {
    await selectBackend(backend);
    // 64 images: wasm's crop-and-resize put some of a batch this size at the wrong offset.
    const [count, size, pad] = [64, 5, 2];
    const values = Float32Array.from({ length: count * size * size }, (_, i) => (i % 97) + 1);
    const images = tf.tensor4d(values, [count, size, size, 1]);
    const augment = { crop_padding: pad, horizontal_flip: true };
    const first = augmentBatch(images, augment, createRng(3)).arraySync();
    const again = augmentBatch(images, augment, createRng(3)).arraySync();
    assert.deepEqual(first, again, 'the same seed gives the same batch');
    const padded = tf
      .pad(images, [
        [0, 0],
        [pad, pad],
        [pad, pad],
        [0, 0],
      ])
      .arraySync();
    // The draws augmentBatch makes, in its order: top, left, then the coin for the mirror.
    const draws = createRng(3);
    let mirrored = 0;
    let shifted = 0;
    for (let n = 0; n < count; n++) {
      const [top, left] = [draws.int(2 * pad + 1), draws.int(2 * pad + 1)];
      const flip = draws.next() < 0.5;
      const crop = Array.from({ length: size }, (_, y) =>
        Array.from({ length: size }, (_, x) => [padded[n][top + y][flip ? left + size - 1 - x : left + x][0]]),
      );
      assert.deepEqual(first[n], crop, `image ${n}: the crop at ${top},${left}${flip ? ', mirrored' : ''}`);
      if (flip) mirrored++;
      if (top !== pad || left !== pad) shifted++;
    }
    assert.ok(mirrored > 0 && mirrored < count, `some images mirrored, not all (${mirrored} of ${count})`);
    assert.ok(shifted > 0, 'some crops are off-centre');
  });

test('Nesterov SGD and weight decay take the steps PyTorch takes', async () => {
  await selectBackend('cpu');
  // Loss w^2/2 at w = 1: gradient w. PyTorch, lr 0.1, momentum 0.9, nesterov, weight_decay 0.5:
  // g = w + 0.5 w; v = 0.9 v + g; w -= 0.1 (g + 0.9 v).
  const weight = tf.variable(tf.scalar(1));
  const optimizer = new SharedOptimizer('sgd', 0.1, { nesterov: true, weightDecay: 0.5 });
  let [w, v] = [1, 0];
  for (let step = 0; step < 3; step++) {
    optimizer.apply([{ name: 'w', weight, gradient: weight.clone() }]);
    const g = w + 0.5 * w;
    v = 0.9 * v + g;
    w -= 0.1 * (g + 0.9 * v);
    assert.ok(Math.abs(weight.dataSync()[0] - w) < 1e-6, `step ${step}: ${weight.dataSync()[0]} vs ${w}`);
  }
  optimizer.dispose();
  weight.dispose();
});

test('a child trains with the whole recipe, reproducibly, and leaks no tensor', async () => {
  await selectBackend('cpu');
  const data = prepareTrainingData(
    splitDataset(loadDigits(), { validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 256 }),
  );
  const evaluation: TrainEvaluationConfig = {
    kind: 'train',
    epochs: 2,
    batch_size: 32,
    optimizer: 'sgd',
    learning_rate: 0.05,
    reward_epochs: 2,
    ...PLAIN_RECIPE,
    nesterov: true,
    lr_schedule: 'cosine',
    warmup_epochs: 0.5,
    weight_decay: 0.0005,
    label_smoothing: 0.1,
    augment: { crop_padding: 1, horizontal_flip: false },
  };
  const graph = decodeArchitecture({ ...MACRO, strides: undefined }, Array(18).fill(1));
  const baseline = tf.memory().numTensors;
  const run = () =>
    trainFromScratch(
      { graph, space: MACRO, evaluation, seed: 5 },
      data,
      () => {},
      () => false,
    );
  const first = await run();
  const second = await run();
  assert.equal(tf.memory().numTensors, baseline, 'no tensor leaks after a trial');
  assert.deepEqual(
    first.curve.map((m) => [m.trainLoss, m.valAccuracy]),
    second.curve.map((m) => [m.trainLoss, m.valAccuracy]),
  );
  assert.ok(first.valAccuracy > 0.3, `it learns digits (got ${first.valAccuracy})`);
});
