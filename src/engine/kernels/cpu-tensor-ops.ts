import * as tf from '@tensorflow/tfjs';
import type { CpuBackend, FastKernel } from './cpu-backend.ts';

/**
 * Faster replacements for tensor-shuffling kernels of tfjs's pure-JavaScript 'cpu' backend that
 * dominate a child's training step once the convolutions are fast (registered with them by
 * registerFastCpuKernels in fast-cpu-kernels.ts).
 *
 * The stock SplitV (the gradient of Concat, so of every concatenated skip input), non-contiguous
 * Slice and Sum over leading axes (bias gradients) go through per-element index arithmetic or a
 * full transpose; these view the tensor as [outer, axis, inner] and copy or add contiguous runs.
 * Results are bit-identical to the stock kernels: copies move the same values and sums add in the
 * same order. Strings and complex numbers run the stock kernel.
 */

type NumericArray = Float32Array | Int32Array | Uint8Array;

const isNumeric = (dtype: tf.DataType): boolean => dtype === 'float32' || dtype === 'int32' || dtype === 'bool';

function numericValues(backend: CpuBackend, tensor: tf.TensorInfo): NumericArray {
  return backend.data.get(tensor.dataId).values as NumericArray;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** Runs this short are copied element by element: a subarray view per run would cost more than the copy. */
const SHORT_RUN = 64;

function copyRun(from: NumericArray, fromStart: number, to: NumericArray, toStart: number, length: number): void {
  if (length < SHORT_RUN) {
    for (let i = 0; i < length; i++) to[toStart + i] = from[fromStart + i];
  } else {
    to.set(from.subarray(fromStart, fromStart + length), toStart);
  }
}

/** Splits along one axis: per outer index, output i takes the next size_i * inner contiguous values. */
const splitV: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x } = inputs as tf.SplitVInputs as unknown as { x: tf.TensorInfo };
  if (!isNumeric(x.dtype)) return stock({ inputs, backend, attrs });
  const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
  const splitAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, splitAxis);
  const cpu = backend as unknown as CpuBackend;
  const source = numericValues(cpu, x);
  const outer = product(x.shape.slice(0, splitAxis));
  const inner = product(x.shape.slice(splitAxis + 1));
  const sourceRow = x.shape[splitAxis] * inner;
  let offset = 0;
  return sizes.map((size) => {
    const run = size * inner;
    const values = tf.util.getTypedArrayFromDType(x.dtype as 'float32', outer * run);
    for (let o = 0; o < outer; o++) copyRun(source, o * sourceRow + offset, values, o * run, run);
    offset += run;
    const shape = x.shape.slice();
    shape[splitAxis] = size;
    return cpu.makeTensorInfo(shape, x.dtype, values as Float32Array);
  });
};

/** Concatenates along one axis: per outer index, each input contributes its size_i * inner contiguous values. */
const concat: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const all = Object.values(inputs) as tf.TensorInfo[];
  const nonEmpty = all.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  const dtype = all[0].dtype;
  // One non-empty input is an identity, which the stock kernel does without copying.
  if (nonEmpty.length < 2 || !isNumeric(dtype) || all.some((t) => t.dtype !== dtype)) return stock({ inputs, backend, attrs });
  const { axis } = attrs as unknown as tf.ConcatAttrs;
  const concatAxis = tf.util.parseAxisParam(axis, all[0].shape)[0];
  tf.backend_util.assertParamsConsistent(
    all.map((t) => t.shape),
    concatAxis,
  );
  const outShape = tf.backend_util.computeOutShape(
    all.map((t) => t.shape),
    concatAxis,
  );
  const cpu = backend as unknown as CpuBackend;
  const outer = product(outShape.slice(0, concatAxis));
  const outRow = product(outShape.slice(concatAxis));
  const values = tf.util.getTypedArrayFromDType(dtype as 'float32', outer * outRow);
  let offset = 0;
  for (const t of nonEmpty) {
    const source = numericValues(cpu, t);
    const run = source.length / outer;
    for (let o = 0; o < outer; o++) copyRun(source, o * run, values, o * outRow + offset, run);
    offset += run;
  }
  return cpu.makeTensorInfo(outShape, dtype, values as Float32Array);
};

/** Non-contiguous slices copy one run of the last dimension per index of the others. */
const slice: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x } = inputs as unknown as { x: tf.TensorInfo };
  const { begin, size } = attrs as unknown as tf.SliceAttrs;
  if (!isNumeric(x.dtype) || x.shape.length === 0) return stock({ inputs, backend, attrs });
  const [start, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  // A contiguous slice is a view in the stock kernel: nothing to gain.
  if (tf.slice_util.isSliceContinous(x.shape, start, extent) || extent.includes(0)) return stock({ inputs, backend, attrs });
  tf.slice_util.assertParamsValid(x as tf.Tensor, start, extent);
  const cpu = backend as unknown as CpuBackend;
  const source = numericValues(cpu, x);
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const rank = x.shape.length;
  const run = extent[rank - 1];
  const values = tf.util.getTypedArrayFromDType(x.dtype as 'float32', product(extent));
  // An odometer over all dimensions but the last, tracking the source offset of the current run.
  const index = new Array<number>(rank - 1).fill(0);
  let from = start.reduce((sum, b, d) => sum + b * strides[d], 0);
  for (let to = 0; to < values.length; to += run) {
    copyRun(source, from, values, to, run);
    for (let d = rank - 2; d >= 0; d--) {
      from += strides[d];
      if (++index[d] < extent[d]) break;
      from -= extent[d] * strides[d];
      index[d] = 0;
    }
  }
  return cpu.makeTensorInfo(extent, x.dtype, values as Float32Array);
};

/**
 * Sum over one contiguous range of axes, seen as [outer, reduced, inner]: with inner > 1 (bias
 * gradients reduce every axis but the last) the stock kernel transposes the whole tensor first.
 * Each output adds its terms in the stock order, in doubles, so the result is bit-identical.
 */
const sum: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x } = inputs as unknown as { x: tf.TensorInfo };
  const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
  const axes = [...new Set(tf.util.parseAxisParam(axis, x.shape))].sort((a, b) => a - b);
  const contiguousAxes = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
  if (x.dtype !== 'float32' || axes.length === 0 || !contiguousAxes || tf.util.sizeFromShape(x.shape) === 0) {
    return stock({ inputs, backend, attrs });
  }
  const first = axes[0];
  const last = axes[axes.length - 1];
  const outer = product(x.shape.slice(0, first));
  const reduced = product(x.shape.slice(first, last + 1));
  const inner = product(x.shape.slice(last + 1));
  const cpu = backend as unknown as CpuBackend;
  const source = numericValues(cpu, x);
  const values = new Float32Array(outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let total = 0;
      for (let r = o * reduced, end = r + reduced; r < end; r++) total += source[r];
      values[o] = total;
    }
  } else {
    const totals = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      totals.fill(0);
      for (let r = 0, at = o * reduced * inner; r < reduced; r++) {
        for (let i = 0; i < inner; i++, at++) totals[i] += source[at];
      }
      values.set(totals, o * inner);
    }
  }
  const shape = keepDims ? x.shape.map((dim, d) => (axes.includes(d) ? 1 : dim)) : x.shape.filter((_, d) => !axes.includes(d));
  return cpu.makeTensorInfo(shape, 'float32', values);
};

export const TENSOR_OP_KERNELS: ReadonlyArray<[string, FastKernel]> = [
  [tf.SplitV, splitV],
  [tf.Concat, concat],
  [tf.Slice, slice],
  [tf.Sum, sum],
];
