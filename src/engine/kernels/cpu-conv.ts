import * as tf from '@tensorflow/tfjs';
import { TENSOR_OP_KERNELS } from './cpu-tensor-ops.ts';

/**
 * Faster replacements for the convolution kernels of tfjs's pure-JavaScript 'cpu' backend.
 *
 * The stock kernels run at about 0.5 GFLOP/s forward and their filter gradient is ~70x slower
 * still. These run all passes at forward speed (several GFLOP/s): the input is copied once into
 * a zero-padded buffer so the hot loops never test borders, the filter taps of one filter row
 * (filterWidth * inChannels values) are then contiguous in memory, and each inner loop keeps a
 * 2x4 block of sums in locals (two output positions or taps by four channels), which measured
 * fastest in V8 among the 1x4, 2x4, 4x4, 2x8 and 4x2 blockings and im2col + matrix product.
 *
 * Only NHWC with dilation 1 is handled; anything else runs the stock kernel.
 */

const BACKEND = 'cpu';

export interface CpuBackend {
  data: { get(dataId: tf.DataId): { values?: tf.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

export type FastKernel = (args: Parameters<tf.KernelFunc>[0], stock: tf.KernelFunc) => tf.TensorInfo | tf.TensorInfo[];

/** Convolution geometry, with the input seen through a zero-padded buffer. */
interface Geometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  paddedHeight: number;
  paddedWidth: number;
}

type Shape4 = [number, number, number, number];
type Padding = tf.Conv2DAttrs['pad'];
type RoundingMode = tf.Conv2DAttrs['dimRoundingMode'];

function convInfoOrNull(
  inShape: number[], filterShape: number[], strides: number | [number, number],
  dilations: number | [number, number] | undefined, pad: Padding, dimRoundingMode: RoundingMode,
  depthwise: boolean, dataFormat: 'NHWC' | 'NCHW' | undefined,
): tf.backend_util.Conv2DInfo | null {
  if (dataFormat === 'NCHW') return null;
  if (dilations !== undefined && !tf.backend_util.tupleValuesAreOne(dilations)) return null;
  // computeConv2DInfo is what the stock kernels use, so padding and output sizes match them exactly.
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4, filterShape as Shape4, strides, 1, pad, dimRoundingMode, depthwise, 'channelsLast');
}

function geometryOf(info: tf.backend_util.Conv2DInfo): Geometry {
  const { padInfo } = info;
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: padInfo.top,
    padLeft: padInfo.left,
    // 'ceil' rounding can place the last window past the bottom/right padding: extend with zeros.
    paddedHeight: Math.max(info.inHeight + padInfo.top + padInfo.bottom, (info.outHeight - 1) * info.strideHeight + info.filterHeight),
    paddedWidth: Math.max(info.inWidth + padInfo.left + padInfo.right, (info.outWidth - 1) * info.strideWidth + info.filterWidth),
  };
}

function padInput(x: Float32Array, g: Geometry): Float32Array {
  const { batch, inHeight, inWidth, inChannels, paddedHeight, paddedWidth } = g;
  if (paddedHeight === inHeight && paddedWidth === inWidth) return x;
  const padded = new Float32Array(batch * paddedHeight * paddedWidth * inChannels);
  const rowLength = inWidth * inChannels;
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < inHeight; r++) {
      const from = (n * inHeight + r) * rowLength;
      padded.set(x.subarray(from, from + rowLength), ((n * paddedHeight + r + g.padTop) * paddedWidth + g.padLeft) * inChannels);
    }
  }
  return padded;
}

function cropPadded(padded: Float32Array, g: Geometry): Float32Array {
  const { batch, inHeight, inWidth, inChannels, paddedHeight, paddedWidth } = g;
  if (paddedHeight === inHeight && paddedWidth === inWidth) return padded;
  const cropped = new Float32Array(batch * inHeight * inWidth * inChannels);
  const rowLength = inWidth * inChannels;
  for (let n = 0; n < batch; n++) {
    for (let r = 0; r < inHeight; r++) {
      const from = ((n * paddedHeight + r + g.padTop) * paddedWidth + g.padLeft) * inChannels;
      cropped.set(padded.subarray(from, from + rowLength), (n * inHeight + r) * rowLength);
    }
  }
  return cropped;
}

const roundUpTo4 = (n: number): number => (n + 3) & ~3;

/** Copies a [rows][columns] matrix into [rows][widened] with zero columns, so 4-wide blocks never read past a row. */
function widenColumns(matrix: Float32Array, rows: number, columns: number, widened: number): Float32Array {
  if (widened === columns) return matrix;
  const out = new Float32Array(rows * widened);
  for (let r = 0; r < rows; r++) out.set(matrix.subarray(r * columns, (r + 1) * columns), r * widened);
  return out;
}

function store4(target: Float32Array, at: number, count: number, v0: number, v1: number, v2: number, v3: number): void {
  target[at] = v0;
  if (count > 1) target[at + 1] = v1;
  if (count > 2) target[at + 2] = v2;
  if (count > 3) target[at + 3] = v3;
}

function add4(target: Float32Array, at: number, count: number, v0: number, v1: number, v2: number, v3: number): void {
  target[at] += v0;
  if (count > 1) target[at + 1] += v1;
  if (count > 2) target[at + 2] += v2;
  if (count > 3) target[at + 3] += v3;
}

/** y[n,oh,ow,co] = sum over taps of xPadded * filter; two output positions by four output channels per block. */
function conv2dForward(x: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, paddedHeight, paddedWidth } = g;
  const padded = padInput(x, g);
  const tapsPerFilterRow = filterWidth * inChannels;
  const blockedOut = roundUpTo4(outChannels);
  const weights = widenColumns(filter, filterHeight * tapsPerFilterRow, outChannels, blockedOut);
  const y = new Float32Array(batch * outHeight * outWidth * outChannels);
  const paddedRow = paddedWidth * inChannels;
  const positionStep = strideWidth * inChannels;
  const filterRowStep = tapsPerFilterRow * blockedOut;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = (n * paddedHeight + oh * strideHeight) * paddedRow;
      for (let ow = 0; ow < outWidth; ow += 2) {
        const first = rowStart + ow * positionStep;
        const hasSecond = ow + 1 < outWidth;
        const secondDelta = hasSecond ? positionStep : 0;
        const out = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        for (let co = 0; co < outChannels; co += 4) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
          for (let kh = 0; kh < filterHeight; kh++) {
            const tapStart = first + kh * paddedRow;
            const tapEnd = tapStart + tapsPerFilterRow;
            let w = kh * filterRowStep + co;
            for (let t = tapStart; t < tapEnd; t++) {
              const u = padded[t], v = padded[t + secondDelta];
              const w0 = weights[w], w1 = weights[w + 1], w2 = weights[w + 2], w3 = weights[w + 3];
              a0 += u * w0; a1 += u * w1; a2 += u * w2; a3 += u * w3;
              b0 += v * w0; b1 += v * w1; b2 += v * w2; b3 += v * w3;
              w += blockedOut;
            }
          }
          const count = outChannels - co;
          store4(y, out + co, count, a0, a1, a2, a3);
          if (hasSecond) store4(y, out + outChannels + co, count, b0, b1, b2, b3);
        }
      }
    }
  }
  return y;
}

/** dW[kh,kw,ci,co] = sum over batch and output positions of xPadded shifted by (kh,kw) times dy; two taps by four channels per block. */
function conv2dFilterGradient(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, paddedHeight, paddedWidth } = g;
  const padded = padInput(x, g);
  const blockedOut = roundUpTo4(outChannels);
  const gradient = widenColumns(dy, batch * outHeight * outWidth, outChannels, blockedOut);
  const tapsPerFilterRow = filterWidth * inChannels;
  const dW = new Float32Array(filterHeight * tapsPerFilterRow * outChannels);
  const paddedRow = paddedWidth * inChannels;
  const positionStep = strideWidth * inChannels;
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let tap = 0; tap < tapsPerFilterRow; tap += 2) {
      const hasSecond = tap + 1 < tapsPerFilterRow;
      const secondDelta = hasSecond ? 1 : 0;
      const tapOffset = kh * paddedRow + tap;
      for (let co = 0; co < outChannels; co += 4) {
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        let d = co;
        for (let n = 0; n < batch; n++) {
          for (let oh = 0; oh < outHeight; oh++) {
            let t = (n * paddedHeight + oh * strideHeight) * paddedRow + tapOffset;
            for (let ow = 0; ow < outWidth; ow++) {
              const u = padded[t], v = padded[t + secondDelta];
              const d0 = gradient[d], d1 = gradient[d + 1], d2 = gradient[d + 2], d3 = gradient[d + 3];
              a0 += u * d0; a1 += u * d1; a2 += u * d2; a3 += u * d3;
              b0 += v * d0; b1 += v * d1; b2 += v * d2; b3 += v * d3;
              t += positionStep;
              d += blockedOut;
            }
          }
        }
        const count = outChannels - co;
        const out = (kh * tapsPerFilterRow + tap) * outChannels + co;
        store4(dW, out, count, a0, a1, a2, a3);
        if (hasSecond) store4(dW, out + outChannels, count, b0, b1, b2, b3);
      }
    }
  }
  return dW;
}

/**
 * dx: each output position scatters dy . filter back onto the taps it read; two positions by four
 * taps per block. A scatter, unlike a convolution with the flipped filter, wastes no work on strides > 1.
 */
function conv2dInputGradient(dy: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, paddedHeight, paddedWidth } = g;
  const tapsPerFilterRow = filterWidth * inChannels;
  // Three zero rows past the end let the last 4-tap block read whole rows.
  const weights = new Float32Array((filterHeight * tapsPerFilterRow + 3) * outChannels);
  weights.set(filter);
  const padded = new Float32Array(batch * paddedHeight * paddedWidth * inChannels);
  const paddedRow = paddedWidth * inChannels;
  const positionStep = strideWidth * inChannels;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const rowStart = (n * paddedHeight + oh * strideHeight) * paddedRow;
      for (let ow = 0; ow < outWidth; ow += 2) {
        const first = rowStart + ow * positionStep;
        const hasSecond = ow + 1 < outWidth;
        const d0 = ((n * outHeight + oh) * outWidth + ow) * outChannels;
        const d1 = hasSecond ? d0 + outChannels : d0;
        for (let kh = 0; kh < filterHeight; kh++) {
          const target = first + kh * paddedRow;
          for (let tap = 0; tap < tapsPerFilterRow; tap += 4) {
            const w0 = (kh * tapsPerFilterRow + tap) * outChannels;
            const w1 = w0 + outChannels, w2 = w1 + outChannels, w3 = w2 + outChannels;
            let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
            for (let c = 0; c < outChannels; c++) {
              const u = dy[d0 + c], v = dy[d1 + c];
              const f0 = weights[w0 + c], f1 = weights[w1 + c], f2 = weights[w2 + c], f3 = weights[w3 + c];
              a0 += u * f0; a1 += u * f1; a2 += u * f2; a3 += u * f3;
              b0 += v * f0; b1 += v * f1; b2 += v * f2; b3 += v * f3;
            }
            const count = tapsPerFilterRow - tap;
            add4(padded, target + tap, count, a0, a1, a2, a3);
            if (hasSecond) add4(padded, target + positionStep + tap, count, b0, b1, b2, b3);
          }
        }
      }
    }
  }
  return cropPadded(padded, g);
}

/**
 * With stride 1 the input gradient is a forward convolution of dy with the filter flipped in space
 * and transposed in channels; its tap loop (filterWidth * outChannels long) runs 10-20% faster than
 * the scatter's outChannels-long one. Null where that does not apply: strides, padding wider than
 * the filter or an output taller than the padded input, and fewer than 4 input channels (the
 * forward pass's 4-channel blocks would be mostly empty).
 */
function conv2dInputGradientByForward(dy: Float32Array, filter: Float32Array, g: Geometry): Float32Array | null {
  const { batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, padTop, padLeft } = g;
  const applies = g.strideHeight === 1 && g.strideWidth === 1 && inChannels >= 4
    && padTop < filterHeight && padLeft < filterWidth && outHeight <= inHeight + padTop && outWidth <= inWidth + padLeft;
  if (!applies) return null;
  const flipped = new Float32Array(filter.length);
  for (let kh = 0; kh < filterHeight; kh++) {
    for (let kw = 0; kw < filterWidth; kw++) {
      const from = ((filterHeight - 1 - kh) * filterWidth + (filterWidth - 1 - kw)) * inChannels * outChannels;
      const to = (kh * filterWidth + kw) * outChannels * inChannels;
      for (let ci = 0; ci < inChannels; ci++) {
        for (let co = 0; co < outChannels; co++) flipped[to + co * inChannels + ci] = filter[from + ci * outChannels + co];
      }
    }
  }
  return conv2dForward(dy, flipped, {
    batch,
    inHeight: outHeight,
    inWidth: outWidth,
    inChannels: outChannels,
    outHeight: inHeight,
    outWidth: inWidth,
    outChannels: inChannels,
    filterHeight,
    filterWidth,
    strideHeight: 1,
    strideWidth: 1,
    padTop: filterHeight - 1 - padTop,
    padLeft: filterWidth - 1 - padLeft,
    paddedHeight: inHeight + filterHeight - 1,
    paddedWidth: inWidth + filterWidth - 1,
  });
}

/** Depthwise: output channel c*multiplier+q reads input channel c only. Cheap next to dense convs, so plain loops. */
function depthwiseForward(x: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, paddedHeight, paddedWidth } = g;
  const padded = padInput(x, g);
  const multiplier = outChannels / inChannels;
  const y = new Float32Array(batch * outHeight * outWidth * outChannels);
  const paddedRow = paddedWidth * inChannels;
  let out = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const window = ((n * paddedHeight + oh * strideHeight) * paddedWidth + ow * strideWidth) * inChannels;
        for (let c = 0; c < inChannels; c++) {
          for (let q = 0; q < multiplier; q++) {
            let sum = 0;
            let w = c * multiplier + q;
            for (let kh = 0; kh < filterHeight; kh++) {
              let t = window + kh * paddedRow + c;
              for (let kw = 0; kw < filterWidth; kw++) {
                sum += padded[t] * filter[w];
                t += inChannels;
                w += outChannels;
              }
            }
            y[out++] = sum;
          }
        }
      }
    }
  }
  return y;
}

function depthwiseFilterGradient(x: Float32Array, dy: Float32Array, g: Geometry): Float32Array {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, paddedHeight, paddedWidth } = g;
  const padded = padInput(x, g);
  const multiplier = outChannels / inChannels;
  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const paddedRow = paddedWidth * inChannels;
  let d = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, d += outChannels) {
        const window = ((n * paddedHeight + oh * strideHeight) * paddedWidth + ow * strideWidth) * inChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          for (let kw = 0; kw < filterWidth; kw++) {
            const t = window + kh * paddedRow + kw * inChannels;
            const s = (kh * filterWidth + kw) * outChannels;
            for (let c = 0, o = 0; c < inChannels; c++) {
              const u = padded[t + c];
              for (let q = 0; q < multiplier; q++, o++) sums[s + o] += u * dy[d + o];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(sums);
}

function depthwiseInputGradient(dy: Float32Array, filter: Float32Array, g: Geometry): Float32Array {
  const { batch, outHeight, outWidth, inChannels, outChannels, filterHeight, filterWidth, strideHeight, strideWidth, paddedHeight, paddedWidth } = g;
  const multiplier = outChannels / inChannels;
  const padded = new Float32Array(batch * paddedHeight * paddedWidth * inChannels);
  const paddedRow = paddedWidth * inChannels;
  let d = 0;
  for (let n = 0; n < batch; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, d += outChannels) {
        const window = ((n * paddedHeight + oh * strideHeight) * paddedWidth + ow * strideWidth) * inChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          for (let kw = 0; kw < filterWidth; kw++) {
            const t = window + kh * paddedRow + kw * inChannels;
            const w = (kh * filterWidth + kw) * outChannels;
            for (let c = 0, o = 0; c < inChannels; c++) {
              let sum = 0;
              for (let q = 0; q < multiplier; q++, o++) sum += dy[d + o] * filter[w + o];
              padded[t + c] += sum;
            }
          }
        }
      }
    }
  }
  return cropPadded(padded, g);
}

type Activation = tf.FusedConv2DAttrs['activation'];

/** Adds a per-channel (or scalar) bias and applies the activation, in place. */
function applyBiasAndActivation(y: Float32Array, channels: number, bias: Float32Array | null, activate: (v: number) => number): void {
  for (let i = 0, c = 0; i < y.length; i++) {
    const biased = bias === null ? y[i] : y[i] + bias[bias.length === 1 ? 0 : c];
    y[i] = activate(biased);
    if (++c === channels) c = 0;
  }
}

function activationFunction(activation: Activation, leakyreluAlpha: number): ((v: number) => number) | null {
  switch (activation) {
    case undefined:
    case 'linear': return (v) => v;
    case 'relu': return (v) => (v > 0 ? v : 0);
    case 'relu6': return (v) => Math.min(Math.max(v, 0), 6);
    case 'elu': return (v) => (v >= 0 ? v : Math.exp(v) - 1);
    case 'leakyrelu': return (v) => (v < 0 ? leakyreluAlpha * v : v);
    case 'sigmoid': return (v) => 1 / (1 + Math.exp(-v));
    default: return null;
  }
}

function values(backend: CpuBackend, tensor: tf.TensorInfo): Float32Array {
  return backend.data.get(tensor.dataId).values as Float32Array;
}

const conv2d: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x, filter } = inputs as Record<'x' | 'filter', tf.TensorInfo>;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
  const info = convInfoOrNull(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false, dataFormat);
  if (info === null) return stock({ inputs, backend, attrs });
  const cpu = backend as unknown as CpuBackend;
  return cpu.makeTensorInfo(info.outShape, 'float32', conv2dForward(values(cpu, x), values(cpu, filter), geometryOf(info)));
};

const conv2dBackpropFilter: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x, dy } = inputs as Record<'x' | 'dy', tf.TensorInfo>;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = convInfoOrNull(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false, dataFormat);
  if (info === null) return stock({ inputs, backend, attrs });
  const cpu = backend as unknown as CpuBackend;
  return cpu.makeTensorInfo(info.filterShape, 'float32', conv2dFilterGradient(values(cpu, x), values(cpu, dy), geometryOf(info)));
};

const conv2dBackpropInput: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { dy, filter } = inputs as Record<'dy' | 'filter', tf.TensorInfo>;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = convInfoOrNull(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false, dataFormat);
  if (info === null) return stock({ inputs, backend, attrs });
  const cpu = backend as unknown as CpuBackend;
  const g = geometryOf(info);
  const dyValues = values(cpu, dy);
  const filterValues = values(cpu, filter);
  const dx = conv2dInputGradientByForward(dyValues, filterValues, g) ?? conv2dInputGradient(dyValues, filterValues, g);
  return cpu.makeTensorInfo(info.inShape, 'float32', dx);
};

const fusedConv2d: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x, filter, bias } = inputs as tf.FusedConv2DInputs;
  const { strides, pad, dataFormat, dilations, dimRoundingMode, activation, leakyreluAlpha } = attrs as unknown as tf.FusedConv2DAttrs;
  const info = convInfoOrNull(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, false, dataFormat);
  // A missing alpha makes the stock leakyrelu give NaN for negatives; NaN keeps that behaviour.
  const activate = activationFunction(activation, leakyreluAlpha ?? NaN);
  // prelu (activate === null) and biases of rank > 1 are left to the stock kernel.
  const biasSize = bias == null ? 0 : tf.util.sizeFromShape(bias.shape);
  const perChannelBias = bias == null || (bias.shape.length <= 1 && (biasSize === 1 || biasSize === info?.outChannels));
  if (info === null || activate === null || !perChannelBias) {
    return stock({ inputs, backend, attrs });
  }
  const cpu = backend as unknown as CpuBackend;
  const y = conv2dForward(values(cpu, x), values(cpu, filter), geometryOf(info));
  applyBiasAndActivation(y, info.outChannels, bias == null ? null : values(cpu, bias), activate);
  return cpu.makeTensorInfo(info.outShape, 'float32', y);
};

const depthwiseConv2d: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x, filter } = inputs as Record<'x' | 'filter', tf.TensorInfo>;
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeAttrs;
  const info = convInfoOrNull(x.shape, filter.shape, strides, dilations, pad, dimRoundingMode, true, dataFormat);
  if (info === null) return stock({ inputs, backend, attrs });
  const cpu = backend as unknown as CpuBackend;
  return cpu.makeTensorInfo(info.outShape, 'float32', depthwiseForward(values(cpu, x), values(cpu, filter), geometryOf(info)));
};

const depthwiseConv2dBackpropFilter: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { x, dy } = inputs as Record<'x' | 'dy', tf.TensorInfo>;
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = convInfoOrNull(x.shape, filterShape, strides, dilations, pad, dimRoundingMode, true, 'NHWC');
  if (info === null) return stock({ inputs, backend, attrs });
  const cpu = backend as unknown as CpuBackend;
  return cpu.makeTensorInfo(info.filterShape, 'float32', depthwiseFilterGradient(values(cpu, x), values(cpu, dy), geometryOf(info)));
};

const depthwiseConv2dBackpropInput: FastKernel = ({ inputs, backend, attrs }, stock) => {
  const { dy, filter } = inputs as Record<'dy' | 'filter', tf.TensorInfo>;
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = convInfoOrNull(inputShape, filter.shape, strides, dilations, pad, dimRoundingMode, true, 'NHWC');
  if (info === null) return stock({ inputs, backend, attrs });
  const cpu = backend as unknown as CpuBackend;
  return cpu.makeTensorInfo(info.inShape, 'float32', depthwiseInputGradient(values(cpu, dy), values(cpu, filter), geometryOf(info)));
};

const FAST_KERNELS: ReadonlyArray<[string, FastKernel]> = [
  [tf.Conv2D, conv2d],
  [tf.Conv2DBackpropFilter, conv2dBackpropFilter],
  [tf.Conv2DBackpropInput, conv2dBackpropInput],
  [tf.FusedConv2D, fusedConv2d],
  [tf.DepthwiseConv2dNative, depthwiseConv2d],
  [tf.DepthwiseConv2dNativeBackpropFilter, depthwiseConv2dBackpropFilter],
  [tf.DepthwiseConv2dNativeBackpropInput, depthwiseConv2dBackpropInput],
  ...TENSOR_OP_KERNELS,
];

/** The stock configs, kept while the fast kernels are registered so they can be restored. */
let stockConfigs: tf.KernelConfig[] | null = null;

function replaceKernel(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, BACKEND);
  tf.registerKernel(config);
}

/** Replaces the 'cpu' backend's convolution kernels (and the tensor ops of cpu-tensor-ops.ts) with the fast ones; a second call does nothing. */
export function registerFastCpuKernels(): void {
  if (stockConfigs !== null) return;
  const saved: tf.KernelConfig[] = [];
  for (const [kernelName] of FAST_KERNELS) {
    const stock = tf.getKernel(kernelName, BACKEND);
    if (stock === undefined) throw new Error(`tfjs kernel ${kernelName} is not registered for backend '${BACKEND}'`);
    saved.push(stock);
  }
  FAST_KERNELS.forEach(([, fast], i) => {
    const stock = saved[i];
    replaceKernel({ ...stock, kernelFunc: (args) => fast(args, stock.kernelFunc) });
  });
  stockConfigs = saved;
}

/** Puts the stock kernels back; a call while they are already in place does nothing. */
export function unregisterFastCpuKernels(): void {
  if (stockConfigs === null) return;
  for (const stock of stockConfigs) replaceKernel(stock);
  stockConfigs = null;
}
