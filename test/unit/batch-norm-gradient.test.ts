// The broadcasting gradient of FusedBatchNorm (batch-norm-gradient.ts) against tfjs's stock one, which it
// replaces in the gradient registry: the same values for every input, with per-channel statistics (as the
// BatchNormalization layer passes them) and full-shape ones. (Neither differentiates a batch norm without a
// scale: tfjs saves the scale for the backward pass, and fails when there is none.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerBatchNormGradient } from '../../src/engine/kernels/batch-norm-gradient.ts';

interface Case {
  name: string;
  statisticShape: number[];
}

const X_SHAPE = [3, 5, 4, 6];
const CASES: Case[] = [
  { name: 'per-channel statistics with scale and offset', statisticShape: [6] },
  { name: 'full-shape statistics', statisticShape: X_SHAPE },
];

const INPUTS = ['x', 'mean', 'variance', 'offset', 'scale'];

/** Gradients of sum(batchNorm(...) * weights) with respect to each of INPUTS. */
function gradients(c: Case): number[][] {
  return tf.tidy(() => {
    const x = tf.randomNormal(X_SHAPE, 0, 2, 'float32', 1);
    const mean = tf.randomNormal(c.statisticShape, 0, 1, 'float32', 2);
    const variance = tf.randomUniform(c.statisticShape, 0.5, 2, 'float32', 3);
    const offset = tf.randomNormal(c.statisticShape, 0, 0.3, 'float32', 4);
    const scale = tf.randomNormal(c.statisticShape, 1, 0.3, 'float32', 5);
    // Unequal weights on the outputs, so that every element's gradient differs.
    const weights = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 6);
    const f = (...inputs: tf.Tensor[]) => {
      const [xs, m, v, o, s] = inputs;
      return tf.sum(tf.mul(tf.batchNorm(xs, m, v, o, s, 1e-3), weights));
    };
    return tf
      .grads(f)([x, mean, variance, offset, scale])
      .map((g) => Array.from(g.dataSync()));
  });
}

test('the broadcasting FusedBatchNorm gradient gives the stock gradient, input by input', async () => {
  await tf.setBackend('cpu');
  const stock = CASES.map(gradients);
  registerBatchNormGradient();
  CASES.forEach((c, i) => {
    const replaced = gradients(c);
    INPUTS.forEach((input, k) => {
      assert.equal(replaced[k].length, stock[i][k].length, `${c.name}: ${input}`);
      for (let j = 0; j < replaced[k].length; j++) {
        assert.ok(
          Math.abs(replaced[k][j] - stock[i][k][j]) <= 1e-5 * Math.max(1, Math.abs(stock[i][k][j])),
          `${c.name}: d/d${input}[${j}] ${replaced[k][j]} against ${stock[i][k][j]}`,
        );
      }
    });
  });
});

test('the registered gradient tiles nothing: no Tile kernel runs in a batch-normalised layer’s backward pass', async () => {
  await tf.setBackend('cpu');
  registerBatchNormGradient();
  const layer = tf.layers.batchNormalization({ axis: -1 });
  // A variable input, as the output of the layer below is: its gradient is the one tfjs tiled for.
  const x = tf.variable(tf.randomNormal([4, 6, 6, 3], 0, 1, 'float32', 7));
  layer.build(x.shape);
  const weights = [x, ...layer.trainableWeights.map((weight) => weight.read() as tf.Variable)];
  const profile = await tf.profile(() => {
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar, weights);
    return Object.values(grads);
  });
  const kernels = profile.kernelNames;
  assert.ok(kernels.includes(tf.FusedBatchNorm), `the layer ran FusedBatchNorm (${kernels.join(', ')})`);
  assert.ok(!kernels.includes(tf.Tile), `no Tile in ${kernels.join(', ')}`);
});
