// The kernels NAS Studio registers on the wasm backend (wasm-kernels.ts) against tfjs's stock 'cpu'
// kernels, on the odd shapes children make: strides 2, asymmetric same padding, 1xN and Nx1 filters,
// 1 and 3 channels, batch 1, depthwise multipliers 1 and 2.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { createRng, type Rng } from '../../src/space/rng.ts';

/** Largest difference allowed, relative to the largest value of the expected result. */
const RELATIVE_TOLERANCE = 1e-4;

interface ConvCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const between = (rng: Rng, low: number, high: number): number => low + Math.floor(rng.next() * (high - low + 1));
const pick = <T>(rng: Rng, options: readonly T[]): T => options[Math.floor(rng.next() * options.length)];

const FILTER_SIDES: ReadonlyArray<[number, number]> = [
  [1, 1],
  [3, 3],
  [5, 5],
  [1, 3],
  [3, 1],
  [1, 5],
  [5, 1],
  [2, 2],
  [4, 4],
];

/** Every filter shape at strides 1 and 2, both paddings, on odd and even sides, batch 1 or 3, 1 or 3 channels. */
function shapeCases(depthwise: boolean): ConvCase[] {
  const cases: ConvCase[] = [];
  FILTER_SIDES.forEach(([kh, kw], i) => {
    for (const strides of [
      [1, 1],
      [2, 2],
      [2, 1],
    ] as Array<[number, number]>)
      for (const pad of ['same', 'valid'] as const) {
        const channels = i % 2 === 0 ? 1 : 3;
        const side = 6 + ((i + strides[0]) % 3);
        const last = depthwise ? 1 + (i % 2) : 1 + ((i * 3) % 5);
        cases.push({ xShape: [i % 3 === 0 ? 1 : 3, side, side + 1, channels], filterShape: [kh, kw, channels, last], strides, pad });
      }
  });
  return cases;
}

function randomCases(count: number, seed: number, depthwise: boolean): ConvCase[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => {
    const [kh, kw] = pick(rng, FILTER_SIDES);
    const pad = pick(rng, ['same', 'valid'] as const);
    const minSide = pad === 'valid' ? 5 : 1;
    const channels = between(rng, 1, 9);
    return {
      xShape: [between(rng, 1, 3), between(rng, minSide, 11), between(rng, minSide, 11), channels],
      filterShape: [kh, kw, channels, depthwise ? between(rng, 1, 3) : between(rng, 1, 12)],
      strides: [pick(rng, [1, 2, 3]), pick(rng, [1, 2])],
      pad,
    };
  });
}

/** 'ceil' rounding makes dy larger than the windows need: the input gradient hands it to wasm's stock kernel. */
const CEIL_CASE: ConvCase = { xShape: [2, 7, 7, 4], filterShape: [3, 3, 4, 5], strides: [2, 2], pad: 1, dimRoundingMode: 'ceil' };

const describe = (c: ConvCase): string =>
  `x ${c.xShape} filter ${c.filterShape} strides ${c.strides} pad ${c.pad}${c.dimRoundingMode ? ` ${c.dimRoundingMode}` : ''}`;

function randomValues(shape: number[], rng: Rng): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1);
}

/** The forward output and both gradients of sum(conv(x, filter) * probe), through the gradient kernels. */
function convOutputs(c: ConvCase, depthwise: boolean): Float32Array[] {
  return tf.tidy(() => {
    const rng = createRng(c.xShape[1] * 31 + c.filterShape[0] * 7 + c.strides[0]);
    const x = tf.tensor4d(randomValues(c.xShape, rng), c.xShape);
    const filter = tf.tensor4d(randomValues(c.filterShape, rng), c.filterShape);
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

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(worst <= RELATIVE_TOLERANCE * Math.max(scale, 1e-6), `${what}: max abs diff ${worst} (largest value ${scale})`);
}

async function compareWithCpu(cases: ConvCase[], depthwise: boolean): Promise<void> {
  await tf.setBackend('cpu');
  const expected = cases.map((c) => convOutputs(c, depthwise));
  await tf.setBackend('wasm');
  const baseline = tf.memory().numTensors;
  cases.forEach((c, i) => {
    const actual = convOutputs(c, depthwise);
    ['output', 'dx', 'dFilter'].forEach((what, k) => assertClose(actual[k], expected[i][k], `${describe(c)} ${what}`));
  });
  assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
}

before(async () => {
  const started = await selectBackend('wasm');
  assert.equal(started.name, 'wasm');
});

test('conv2d gradients on wasm match the cpu backend on odd shapes', async () => {
  await compareWithCpu([...shapeCases(false), ...randomCases(40, 31, false), CEIL_CASE], false);
});

test('depthwise conv2d gradients on wasm match the cpu backend on odd shapes', async () => {
  const ceilDepthwise: ConvCase = { ...CEIL_CASE, filterShape: [3, 3, 4, 2] };
  await compareWithCpu([...shapeCases(true), ...randomCases(30, 32, true), ceilDepthwise], true);
});

test('the wasm backend records what it runs on', async () => {
  const started = await selectBackend('wasm');
  assert.match(started.detail, /SIMD, one thread/);
});

test('auto falls to wasm, before cpu, when the native builds do not load, and says why', async (t) => {
  const started = await selectBackend('auto');
  if (started.name === 'tensorflow-gpu' || started.name === 'tensorflow') return t.skip(`a native build loads here (${started.name})`);
  assert.equal(started.name, 'wasm');
  assert.match(started.detail, /SIMD, one thread, \.wasm from (dist|node_modules); @tensorflow\/tfjs-node-gpu is not usable/);
});

test('unsorted segment sum (the gradient of gather) on wasm matches the cpu backend', async () => {
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor3d(randomValues([7, 3, 2], createRng(41)), [7, 3, 2]);
      const ids = tf.tensor1d([4, 0, 4, 2, 9, 0, -1], 'int32');
      return tf.unsortedSegmentSum(x, ids, 5).dataSync() as Float32Array;
    });
  await tf.setBackend('cpu');
  const expected = run();
  await tf.setBackend('wasm');
  assertClose(run(), expected, 'segment sums');
});

interface PoolCase {
  shape: [number, number, number, number];
  size: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

const POOL_CASES: readonly PoolCase[] = [
  { shape: [1, 7, 6, 3], size: [3, 3], strides: [2, 2], pad: 'same' },
  { shape: [3, 8, 8, 1], size: [3, 3], strides: [1, 1], pad: 'same' },
  { shape: [2, 8, 9, 3], size: [1, 3], strides: [2, 2], pad: 'same' },
  { shape: [2, 6, 5, 2], size: [1, 1], strides: [1, 1], pad: 'valid' },
  { shape: [1, 9, 7, 1], size: [3, 1], strides: [2, 1], pad: 'valid' },
];

/** The gradient of sum(pool(x) * sin(0..)) (a probe that weighs every output differently) at a seeded x. */
function poolGradient(c: PoolCase, pool: (t: tf.Tensor4D) => tf.Tensor4D): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomValues(c.shape, createRng(c.shape[1] * 13 + c.size[1])), c.shape);
    const probed = (t: tf.Tensor) => {
      const y = pool(t as tf.Tensor4D);
      return tf.sum(tf.mul(y, tf.reshape(tf.sin(tf.range(0, y.size)), y.shape)));
    };
    return tf.grad(probed)(x).dataSync() as Float32Array;
  });
}

test('max pool gradients on wasm (1x1 identity pools included) match the cpu backend', async () => {
  const run = () => POOL_CASES.map((c) => poolGradient(c, (t) => tf.maxPool(t, c.size, c.strides, c.pad)));
  await tf.setBackend('cpu');
  const expected = run();
  await tf.setBackend('wasm');
  run().forEach((actual, i) => assertClose(actual, expected[i], `max pool case ${i}`));
});

/**
 * The average tfjs's forward pools take, written without implicit padding: the window sums over the
 * zero-padded input divided by the pixels each window covers inside the image. Its gradient is plain
 * arithmetic, which no backend's AvgPoolGrad takes part in at 'valid' padding.
 */
function averageOverInsidePixels(x: tf.Tensor4D, c: PoolCase): tf.Tensor4D {
  const { padInfo } = tf.backend_util.computePool2DInfo(x.shape, c.size, c.strides, 1, c.pad);
  const padded = tf.pad(x, [
    [0, 0],
    [padInfo.top, padInfo.bottom],
    [padInfo.left, padInfo.right],
    [0, 0],
  ]);
  const sums = tf.mul(tf.avgPool(padded, c.size, c.strides, 'valid'), c.size[0] * c.size[1]);
  const inside = tf.conv2d(
    tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D,
    tf.ones([...c.size, 1, 1]) as tf.Tensor4D,
    c.strides,
    c.pad,
  );
  return tf.div(sums, inside);
}

test('average pool gradients on wasm and cpu are those of their forward pools (borders divide by the pixels inside)', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend(backend);
    POOL_CASES.forEach((c, i) => {
      const forward = tf.tidy(() => {
        const x = tf.tensor4d(randomValues(c.shape, createRng(i)), c.shape);
        return [tf.avgPool(x, c.size, c.strides, c.pad), averageOverInsidePixels(x, c)].map((y) => y.dataSync() as Float32Array);
      });
      assertClose(forward[0], forward[1], `${backend} average pool case ${i} forward`);
      const actual = poolGradient(c, (t) => tf.avgPool(t, c.size, c.strides, c.pad));
      assertClose(
        actual,
        poolGradient(c, (t) => averageOverInsidePixels(t, c)),
        `${backend} average pool case ${i} gradient`,
      );
    });
  }
});
