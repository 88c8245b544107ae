import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { registerFastCpuKernels, unregisterFastCpuKernels } from '../../src/engine/kernels/fast-cpu-kernels.ts';
import { createRng, type Rng } from '../../src/space/rng.ts';

const TOLERANCE = 1e-4;
const CASES = 60;

const between = (rng: Rng, low: number, high: number): number => low + Math.floor(rng.next() * (high - low + 1));

function randomShape(rng: Rng): number[] {
  return Array.from({ length: between(rng, 1, 4) }, () => between(rng, 1, 6));
}

function randomTensor(shape: number[], rng: Rng, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, () => (dtype === 'int32' ? between(rng, -50, 50) : rng.next() * 2 - 1));
  return tf.tensor(values, shape, dtype);
}

/** Random positive sizes summing to total. */
function randomSplit(rng: Rng, total: number): number[] {
  const sizes: number[] = [];
  for (let left = total; left > 0;) {
    const size = between(rng, 1, left);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

interface Result {
  shape: number[];
  values: number[];
}

function withKernels(fast: boolean, run: () => tf.Tensor | tf.Tensor[]): Result[] {
  if (fast) registerFastCpuKernels();
  else unregisterFastCpuKernels();
  try {
    return tf.tidy(() => {
      const out = run();
      return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
    });
  } finally {
    unregisterFastCpuKernels();
  }
}

/** Runs the same computation with stock and fast kernels and compares shapes and values. */
function assertMatchesStock(what: string, run: () => tf.Tensor | tf.Tensor[]): void {
  const stock = withKernels(false, run);
  const fast = withKernels(true, run);
  assert.equal(fast.length, stock.length, `${what}: output count`);
  stock.forEach((expected, i) => {
    const actual = fast[i];
    assert.deepEqual(actual.shape, expected.shape, `${what}: shape of output ${i}`);
    let worst = 0;
    for (let j = 0; j < expected.values.length; j++) worst = Math.max(worst, Math.abs(actual.values[j] - expected.values[j]));
    assert.ok(worst <= TOLERANCE, `${what}: output ${i} max abs diff ${worst}`);
  });
}

/** Runs the cases and checks that no tensor outlives them. */
function checkCases(seed: number, runCase: (rng: Rng, i: number) => void): void {
  const baseline = tf.memory().numTensors;
  const rng = createRng(seed);
  for (let i = 0; i < CASES; i++) runCase(rng, i);
  assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
}

before(async () => {
  await tf.setBackend('cpu');
});

after(() => unregisterFastCpuKernels());

test('register and unregister swap the tensor-op kernels too', () => {
  const names = [tf.SplitV, tf.Concat, tf.Slice, tf.Sum];
  const kernelFuncs = () => names.map((name) => tf.getKernel(name, 'cpu')?.kernelFunc);
  const stock = kernelFuncs();
  registerFastCpuKernels();
  kernelFuncs().forEach((fast, i) => assert.notEqual(fast, stock[i], names[i]));
  unregisterFastCpuKernels();
  assert.deepEqual(kernelFuncs(), stock);
});

test('split with uneven sizes on any axis matches the stock kernel', () => {
  checkCases(31, (rng, i) => {
    const shape = randomShape(rng);
    const axis = between(rng, -shape.length, shape.length - 1);
    const length = shape.at(axis) as number;
    const sizes = randomSplit(rng, length);
    // Some cases leave the last size (-1) for the kernel to infer, which tf.split does not accept (tfjs
    // resolves -1 right only after a positive size); others ask for equal parts.
    const splits = i % 3 === 0 && sizes.length > 1 ? sizes.map((s, k) => (k === sizes.length - 1 ? -1 : s)) : i % 3 === 1 ? sizes : length;
    const dtype = i % 5 === 0 ? 'int32' : 'float32';
    const x = randomTensor(shape, rng, dtype);
    // The kernel resolves -1 in place, so each run gets its own copy.
    const attrs = (): tf.NamedAttrMap =>
      ({ numOrSizeSplits: typeof splits === 'number' ? splits : splits.slice(), axis }) as unknown as tf.NamedAttrMap;
    assertMatchesStock(
      `split ${shape} axis ${axis} into ${splits} ${dtype}`,
      () => tf.engine().runKernel(tf.SplitV, { x }, attrs()) as tf.Tensor[],
    );
    x.dispose();
  });
});

test('concat of uneven inputs on any axis matches the stock kernel', () => {
  checkCases(32, (rng, i) => {
    const shape = randomShape(rng);
    const axis = between(rng, -shape.length, shape.length - 1);
    const dtype = i % 5 === 0 ? 'int32' : 'float32';
    const parts = Array.from({ length: between(rng, 2, 4) }, () => {
      const partShape = shape.slice();
      partShape[(axis + shape.length) % shape.length] = between(rng, i % 7 === 0 ? 0 : 1, 5);
      return randomTensor(partShape, rng, dtype);
    });
    assertMatchesStock(`concat ${parts.map((p) => `[${p.shape}]`).join(' ')} axis ${axis} ${dtype}`, () => tf.concat(parts, axis));
    tf.dispose(parts);
  });
});

test('the gradient of concat (a split) matches the stock kernels', () => {
  checkCases(33, (rng, i) => {
    const shape = randomShape(rng);
    // Half the cases concatenate on the last axis, as skip inputs are.
    const axis = i % 2 === 0 ? -1 : between(rng, 0, shape.length - 1);
    const parts = Array.from({ length: between(rng, 2, 3) }, () => {
      const partShape = shape.slice();
      partShape[(axis + shape.length) % shape.length] = between(rng, 1, 6);
      return randomTensor(partShape, rng);
    });
    const probe = (t: tf.Tensor): tf.Scalar => tf.sum(tf.mul(t, tf.reshape(tf.sin(tf.range(0, t.size)), t.shape)));
    assertMatchesStock(`grad of concat ${parts.map((p) => `[${p.shape}]`).join(' ')} axis ${axis}`, () =>
      tf.grads((...xs: tf.Tensor[]) => probe(tf.concat(xs, axis)))(parts),
    );
    tf.dispose(parts);
  });
});

test('non-contiguous and contiguous slices match the stock kernel', () => {
  checkCases(34, (rng, i) => {
    const shape = randomShape(rng);
    const begin = shape.map((dim) => between(rng, 0, dim - 1));
    // -1 takes the rest of a dimension.
    const size = shape.map((dim, d) => (rng.next() < 0.2 ? -1 : between(rng, 1, dim - begin[d])));
    const dtype = i % 5 === 0 ? 'int32' : 'float32';
    const x = randomTensor(shape, rng, dtype);
    assertMatchesStock(`slice ${shape} begin ${begin} size ${size} ${dtype}`, () => tf.slice(x, begin, size));
    x.dispose();
  });
});

test('sum over any axes, with and without kept dimensions, matches the stock kernel', () => {
  checkCases(35, (rng, i) => {
    const shape = randomShape(rng);
    // Contiguous axis ranges (the fast path, bias gradients included) and arbitrary sets (the stock fallback).
    const first = between(rng, 0, shape.length - 1);
    const last = i % 4 === 0 ? shape.length - 1 : between(rng, first, shape.length - 1);
    const range = Array.from({ length: last - first + 1 }, (_, k) => first + k);
    const axes = i % 5 === 0 ? shape.map((_, d) => d).filter(() => rng.next() < 0.5) : range;
    const keepDims = i % 2 === 0;
    const dtype = i % 7 === 0 ? 'int32' : 'float32';
    const x = randomTensor(shape, rng, dtype);
    assertMatchesStock(`sum ${shape} axes ${axes} keepDims ${keepDims} ${dtype}`, () => tf.sum(x, axes, keepDims));
    x.dispose();
  });
});

test('the bias gradient of a conv layer (sum over all axes but the last) matches the stock kernel', () => {
  const rng = createRng(36);
  const dy = randomTensor([64, 8, 8, 40], rng);
  assertMatchesStock('sum [64,8,8,40] axes 0,1,2', () => tf.sum(dy, [0, 1, 2]));
  dy.dispose();
});
