// The closed-form batch-norm layer (model/batch-norm.ts) against tfjs's own BatchNormalization on the same
// weights and batches: outputs, gradients, running statistics, inference and what a saved model holds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchNormalization, normalizeInTraining } from '../../src/engine/model/batch-norm.ts';

const SHAPE = [5, 6, 4, 3];
const SETTINGS = { momentum: 0.9, epsilon: 1e-5 };

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string, tolerance = 1e-5): void {
  assert.deepEqual(actual.shape, expected.shape, what);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - e[i]) <= tolerance * Math.max(1, Math.abs(e[i])), `${what}[${i}]: ${a[i]} against ${e[i]}`);
  }
}

/** The layer built on SHAPE (by applying it, which names its weights) with every weight set to unequal values. */
function builtLayer(layer: tf.layers.Layer): tf.layers.Layer {
  layer.apply(tf.input({ shape: SHAPE.slice(1) }));
  layer.setWeights([
    tf.tensor1d([1.5, 0.5, -1]),
    tf.tensor1d([0.1, -0.2, 0.3]),
    tf.tensor1d([0.05, 0.1, -0.1]),
    tf.tensor1d([1.2, 0.8, 1.1]),
  ]);
  return layer;
}

/** Output, and gradients of a weighted sum of it with respect to input, scale and shift, in training mode. */
function trainingStep(layer: tf.layers.Layer, input: tf.Variable, weights: tf.Tensor) {
  const variables = [input, ...layer.trainableWeights.map((weight) => weight.read() as tf.Variable)];
  let output: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    output = tf.keep(layer.apply(input, { training: true }) as tf.Tensor);
    return tf.sum(tf.mul(output, weights)) as tf.Scalar;
  }, variables);
  value.dispose();
  return { output: output!, gradients: variables.map((variable) => grads[variable.name]) };
}

test('in training the closed-form layer gives tfjs’s outputs, gradients and running statistics', async () => {
  await tf.setBackend('cpu');
  const stock = builtLayer(tf.layers.batchNormalization({ axis: -1, ...SETTINGS }));
  const closedForm = builtLayer(batchNormalization(SETTINGS));
  const input = tf.variable(tf.randomNormal(SHAPE, 2, 3, 'float32', 1));
  const weights = tf.randomNormal(SHAPE, 0, 1, 'float32', 2);
  // Two steps, so that the running statistics move from values set, not from their initial zeros and ones.
  for (let step = 1; step <= 2; step++) {
    const expected = trainingStep(stock, input, weights);
    const actual = trainingStep(closedForm, input, weights);
    assertClose(actual.output, expected.output, `step ${step}: output`);
    ['input', 'gamma', 'beta'].forEach((name, i) =>
      assertClose(actual.gradients[i], expected.gradients[i], `step ${step}: d/d${name}`, 1e-4),
    );
    ['moving mean', 'moving variance'].forEach((name, i) =>
      assertClose(closedForm.getWeights()[2 + i], stock.getWeights()[2 + i], `step ${step}: ${name}`),
    );
  }
  assertClose(closedForm.apply(input) as tf.Tensor, stock.apply(input) as tf.Tensor, 'inference on the running statistics');

  // A training step leaves no tensor behind but its output and gradients.
  const before = tf.memory().numTensors;
  const step = trainingStep(closedForm, input, weights);
  tf.dispose([step.output, ...step.gradients]);
  assert.equal(tf.memory().numTensors, before);
});

test('a model with the closed-form layer saves as a standard BatchNormalization and loads with tfjs alone', async () => {
  await tf.setBackend('cpu');
  const image = tf.input({ shape: SHAPE.slice(1) });
  const model = tf.model({ inputs: image, outputs: builtLayer(batchNormalization(SETTINGS)).apply(image) as tf.SymbolicTensor });
  const json = model.toJSON(undefined, false) as { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } };
  const saved = json.config.layers[1];
  assert.equal(saved.class_name, 'BatchNormalization');
  assert.equal(saved.config.momentum, 0.9);
  assert.equal(saved.config.epsilon, 1e-5);

  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })),
  );
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
  const batch = tf.randomNormal(SHAPE, 0, 1, 'float32', 3);
  assertClose(loaded.predict(batch) as tf.Tensor, model.predict(batch) as tf.Tensor, 'the loaded model’s inference');
});

test('without scale and shift (the supernets’) it gives the spelled-out normalisation’s values, gradient and statistics', async () => {
  await tf.setBackend('cpu');
  const x = tf.randomNormal(SHAPE, 1, 2, 'float32', 4);
  const weights = tf.randomNormal(SHAPE, 0, 1, 'float32', 5);
  const spelledOut = (input: tf.Tensor) => {
    const { mean, variance } = tf.moments(input, [0, 1, 2]);
    return tf.mul(tf.sub(input, mean), tf.rsqrt(tf.add(variance, SETTINGS.epsilon)));
  };
  const closedForm = (input: tf.Tensor) => normalizeInTraining(input, SETTINGS.epsilon).normalized;
  assertClose(closedForm(x), spelledOut(x), 'values');
  const gradientOf = (f: (t: tf.Tensor) => tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(f(u), weights)))(x);
  assertClose(gradientOf(closedForm), gradientOf(spelledOut), 'd/dx', 1e-4);
  const { statistics } = normalizeInTraining(x, SETTINGS.epsilon);
  const moments = tf.moments(x, [0, 1, 2]);
  assertClose(statistics.mean, moments.mean, 'mean');
  assertClose(statistics.variance, moments.variance, 'variance');
});
