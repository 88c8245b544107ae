import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { buildModel, countFlops } from '../../src/engine/model/build.ts';
import type { SpaceConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { createRng } from '../../src/space/rng.ts';
import { CELL, MACRO } from '../support/spaces.ts';

async function checkEverySampleBuilds(space: SpaceConfig, inputShape: [number, number, number], samples: number) {
  await selectBackend('cpu');
  const decisions = compileSpace(space);
  const rng = createRng(11);
  for (let i = 0; i < samples; i++) {
    const architecture = decisions.map((d) => rng.int(d.options.length));
    const model = await buildModel(decodeArchitecture(space, architecture), space, { inputShape, classes: 10, seed: i });
    try {
      assert.deepEqual(model.outputShape, [null, 10]);
      const out = tf.tidy(() => (model.predict(tf.zeros([2, ...inputShape])) as tf.Tensor).arraySync() as number[][]);
      assert.equal(out.length, 2);
      out.forEach((row) => assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'softmax rows sum to 1'));
      assert.ok(countFlops(model) > 0);
    } finally {
      model.dispose();
    }
  }
}

test('every sampled macro architecture (with strides and skips) builds into a model with 10 outputs', async () => {
  await checkEverySampleBuilds(MACRO, [8, 8, 1], 25);
});

test('every sampled cell architecture builds, on an odd image size too', async () => {
  await checkEverySampleBuilds(CELL, [8, 8, 1], 15);
  await checkEverySampleBuilds({ ...CELL, nodes: 2, stages: 3 }, [9, 7, 3], 10);
});

test('FLOPs count every multiply-add of a known small model twice', async () => {
  await selectBackend('cpu');
  const space = { ...MACRO, layers: 1, strides: undefined, batch_norm: false };
  const graph = decodeArchitecture(space, [1, 1, 0]);
  const model = await buildModel(graph, space, { inputShape: [8, 8, 1], classes: 10, seed: 1 });
  // conv 3x3x1x8 at 8x8 + dense 512x10.
  assert.equal(countFlops(model), 2 * 64 * 9 * 8 + 2 * 512 * 10);
  assert.equal(model.countParams(), 9 * 8 + 8 + 512 * 10 + 10);
  model.dispose();
});

test('batch norm replaces the bias, adds its scale, shift and statistics to params and 2 FLOPs per value', async () => {
  await selectBackend('cpu');
  const space = { ...MACRO, layers: 1, strides: undefined, batch_norm: true };
  const model = await buildModel(decodeArchitecture(space, [1, 1, 0]), space, { inputShape: [8, 8, 1], classes: 10, seed: 1 });
  assert.deepEqual(
    model.layers.map((layer) => layer.getClassName()),
    ['InputLayer', 'Conv2D', 'BatchNormalization', 'ReLU', 'Flatten', 'Dense'],
  );
  assert.equal(countFlops(model), 2 * 64 * 9 * 8 + 2 * 64 * 8 + 2 * 512 * 10);
  assert.equal(model.countParams(), 9 * 8 + 4 * 8 + 512 * 10 + 10);
  model.dispose();
});

test('batch norm uses the batch statistics when training and the running ones when predicting', async () => {
  await selectBackend('cpu');
  const space = { ...MACRO, layers: 1, strides: undefined, batch_norm: true };
  const model = await buildModel(decodeArchitecture(space, [1, 1, 0]), space, { inputShape: [8, 8, 1], classes: 10, seed: 1 });
  const images = tf.randomUniform([6, 8, 8, 1], 0, 1, 'float32', 2);
  const single = images.slice([0], [1]);
  // Predicting one image alone or among others gives the same answer only with the running statistics.
  const alone = tf.tidy(() => (model.predict(single) as tf.Tensor).arraySync() as number[][]);
  const among = tf.tidy(() => (model.predict(images) as tf.Tensor).arraySync() as number[][]);
  alone[0].forEach((p, i) => assert.ok(Math.abs(p - among[0][i]) < 1e-5));
  const trainingAmong = tf.tidy(() => (model.apply(images, { training: true }) as tf.Tensor).arraySync() as number[][]);
  assert.ok(
    trainingAmong[0].some((p, i) => Math.abs(p - among[0][i]) > 1e-4),
    'training mode normalises over the batch',
  );
  tf.dispose([images, single]);
  model.dispose();
});
