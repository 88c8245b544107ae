import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerFastCpuKernels, unregisterFastCpuKernels } from '../../src/engine/kernels/fast-cpu-kernels.ts';
import { createRng, type Rng } from '../../src/space/rng.ts';

const TOLERANCE = 1e-4;
type Padding = 'same' | 'valid' | number;

interface ConvCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: Padding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  seed: number;
}

const pick = <T>(rng: Rng, options: readonly T[]): T => options[Math.floor(rng.next() * options.length)];
const between = (rng: Rng, low: number, high: number): number => low + Math.floor(rng.next() * (high - low + 1));

function randomTensor(shape: number[], rng: Rng): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => rng.next() * 2 - 1),
    shape,
  );
}

/** Random cases; 'valid' padding keeps the input at least as large as the filter. */
function randomCases(count: number, seed: number, depthwise: boolean): ConvCase[] {
  const rng = createRng(seed);
  const kernels: ReadonlyArray<[number, number]> = [
    [1, 1],
    [3, 3],
    [5, 5],
    [3, 5],
  ];
  return Array.from({ length: count }, (_, i) => {
    const [kh, kw] = pick(rng, kernels);
    const pad = pick(rng, ['same', 'valid'] as const);
    const minSide = pad === 'valid' ? 5 : 1;
    const inChannels = between(rng, 1, 9);
    const lastFilterDim = depthwise ? between(rng, 1, 3) : between(rng, 1, 9);
    return {
      xShape: [between(rng, 1, 3), between(rng, minSide, 9), between(rng, minSide, 9), inChannels],
      filterShape: [kh, kw, inChannels, lastFilterDim],
      strides: [pick(rng, [1, 2]), pick(rng, [1, 2])],
      pad,
      seed: seed * 1000 + i,
    };
  });
}

const fixedCases: ConvCase[] = [
  { xShape: [2, 7, 5, 3], filterShape: [3, 3, 3, 4], strides: [1, 1], pad: 'same', seed: 1 },
  { xShape: [3, 7, 5, 2], filterShape: [5, 5, 2, 9], strides: [2, 2], pad: 'same', seed: 2 },
  { xShape: [1, 7, 5, 5], filterShape: [3, 5, 5, 6], strides: [2, 1], pad: 'valid', seed: 3 },
  { xShape: [2, 8, 8, 1], filterShape: [3, 3, 1, 16], strides: [1, 1], pad: 'same', seed: 4 },
  { xShape: [2, 7, 7, 4], filterShape: [3, 3, 4, 5], strides: [2, 2], pad: 1, dimRoundingMode: 'ceil', seed: 5 },
];

/** Forward output and both gradients of sum(conv(x, filter) * probe), as plain arrays. */
function convOutputs(c: ConvCase, depthwise: boolean): Float32Array[] {
  return tf.tidy(() => {
    const rng = createRng(c.seed);
    const x = randomTensor(c.xShape, rng) as tf.Tensor4D;
    const filter = randomTensor(c.filterShape, rng) as tf.Tensor4D;
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      depthwise
        ? tf.depthwiseConv2d(a, b, c.strides, c.pad, 'NHWC', 1, c.dimRoundingMode)
        : tf.conv2d(a, b, c.strides, c.pad, 'NHWC', 1, c.dimRoundingMode);
    const probed = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => {
      const y = conv(a as tf.Tensor4D, b as tf.Tensor4D);
      return tf.sum(tf.mul(y, tf.reshape(tf.sin(tf.range(0, y.size)), y.shape)));
    };
    const [dx, dFilter] = tf.grads(probed)([x, filter]);
    return [conv(x, filter), dx, dFilter].map((t) => t.dataSync() as Float32Array);
  });
}

function fusedOutputs(c: ConvCase, activation: 'relu' | 'elu' | 'sigmoid' | 'leakyrelu' | 'relu6'): Float32Array {
  return tf.tidy(() => {
    const rng = createRng(c.seed);
    const x = randomTensor(c.xShape, rng) as tf.Tensor4D;
    const filter = randomTensor(c.filterShape, rng) as tf.Tensor4D;
    const bias = randomTensor([c.filterShape[3]], rng);
    const y = tf.fused.conv2d({
      x,
      filter,
      strides: c.strides,
      pad: c.pad,
      bias,
      activation,
      leakyreluAlpha: 0.3,
      dimRoundingMode: c.dimRoundingMode,
    });
    return y.dataSync() as Float32Array;
  });
}

function withKernels<T>(fast: boolean, run: () => T): T {
  if (fast) registerFastCpuKernels();
  else unregisterFastCpuKernels();
  try {
    return run();
  } finally {
    unregisterFastCpuKernels();
  }
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= TOLERANCE, `${what}: max abs diff ${worst}`);
}

const describe = (c: ConvCase): string =>
  `x ${c.xShape} filter ${c.filterShape} strides ${c.strides} pad ${c.pad}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;

function compareWithStock(cases: ConvCase[], depthwise: boolean): void {
  const baseline = tf.memory().numTensors;
  for (const c of cases) {
    const stock = withKernels(false, () => convOutputs(c, depthwise));
    const fast = withKernels(true, () => convOutputs(c, depthwise));
    ['output', 'dx', 'dFilter'].forEach((what, i) => assertClose(fast[i], stock[i], `${describe(c)} ${what}`));
  }
  assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
}

before(async () => {
  await tf.setBackend('cpu');
});

after(() => unregisterFastCpuKernels());

test('register and unregister swap the kernels, and both are idempotent', () => {
  const stockConv = tf.getKernel('Conv2D', 'cpu')?.kernelFunc;
  registerFastCpuKernels();
  const fastConv = tf.getKernel('Conv2D', 'cpu')?.kernelFunc;
  registerFastCpuKernels();
  assert.notEqual(fastConv, stockConv);
  assert.equal(tf.getKernel('Conv2D', 'cpu')?.kernelFunc, fastConv);
  unregisterFastCpuKernels();
  unregisterFastCpuKernels();
  assert.equal(tf.getKernel('Conv2D', 'cpu')?.kernelFunc, stockConv);
});

test('conv2d forward and both gradients match the stock kernels', () => {
  compareWithStock([...fixedCases, ...randomCases(60, 11, false)], false);
});

test('depthwise conv2d forward and both gradients match the stock kernels', () => {
  const depthwiseFixed = fixedCases.map((c) => ({
    ...c,
    filterShape: [c.filterShape[0], c.filterShape[1], c.xShape[3], 2] as ConvCase['filterShape'],
  }));
  compareWithStock([...depthwiseFixed, ...randomCases(40, 12, true)], true);
});

test('fused conv2d with bias and activation matches the stock kernel', () => {
  const baseline = tf.memory().numTensors;
  const activations = ['relu', 'elu', 'sigmoid', 'leakyrelu', 'relu6'] as const;
  [...fixedCases, ...randomCases(10, 13, false)].forEach((c, i) => {
    const activation = activations[i % activations.length];
    const stock = withKernels(false, () => fusedOutputs(c, activation));
    const fast = withKernels(true, () => fusedOutputs(c, activation));
    assertClose(fast, stock, `${describe(c)} ${activation}`);
  });
  assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
});

test('dilated convolutions fall back to the stock kernel', () => {
  const c: ConvCase = { xShape: [1, 9, 9, 2], filterShape: [3, 3, 2, 3], strides: [1, 1], pad: 'same', seed: 9 };
  const dilated = (): Float32Array =>
    tf.tidy(() => {
      const rng = createRng(c.seed);
      const x = randomTensor(c.xShape, rng) as tf.Tensor4D;
      const filter = randomTensor(c.filterShape, rng) as tf.Tensor4D;
      return tf.conv2d(x, filter, 1, 'same', 'NHWC', 2).dataSync() as Float32Array;
    });
  assertClose(withKernels(true, dilated), withKernels(false, dilated), 'dilation 2');
});

function childModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.conv2d({ filters: 8, kernelSize: 5, strides: 2, padding: 'same' }));
  model.add(tf.layers.separableConv2d({ filters: 5, kernelSize: 3, padding: 'valid', activation: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return model;
}

test('a small conv model trains the same with the fast kernels as with the stock ones', async () => {
  const rng = createRng(21);
  const xs = randomTensor([6, 8, 8, 1], rng);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
  const model = childModel();
  const initial = model.getWeights().map((w) => w.clone());
  const trainTwoSteps = async (fast: boolean): Promise<number[]> => {
    if (fast) registerFastCpuKernels();
    else unregisterFastCpuKernels();
    model.setWeights(initial);
    const losses = [await model.trainOnBatch(xs, ys), await model.trainOnBatch(xs, ys)] as number[];
    const predictions = tf.tidy(() => Array.from((model.predict(xs) as tf.Tensor).dataSync()));
    unregisterFastCpuKernels();
    return [...losses, ...predictions];
  };
  const stock = await trainTwoSteps(false);
  const fast = await trainTwoSteps(true);
  assertClose(Float32Array.from(fast), Float32Array.from(stock), 'losses of two steps and predictions after them');
  tf.dispose([xs, ys, ...initial]);
  model.dispose();
});
