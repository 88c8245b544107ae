import * as tf from '@tensorflow/tfjs';
import { averagePoolInputGradient } from './average-pool-gradient.ts';
import { geometryOf, type Geometry } from './conv-geometry.ts';
import { depthwiseFilterGradient, depthwiseInputGradient } from './depthwise-loops.ts';
import {
  conv2dFilterGradientKernel,
  conv2dInputGradientKernel,
  gradientConvInfo,
  inputGradientByPhases,
  runWasmKernel,
  type Phase,
  type WasmBackend,
  type WasmKernel,
} from './wasm-conv-gradients.ts';

// Registers on tfjs's wasm backend the gradient kernels it lacks (Conv2DBackpropFilter, the depthwise
// gradients), a faster Conv2DBackpropInput than its loop kernel, pool gradients that agree with the forward
// pools, and forward convolutions that pass 'same' padding as explicit padding.

interface DepthwiseGradientAttrs {
  strides: number | [number, number];
  pad: tf.Conv2DAttrs['pad'];
  dimRoundingMode?: tf.Conv2DAttrs['dimRoundingMode'];
  dilations?: number | [number, number];
  filterShape?: number[];
  inputShape?: number[];
}

/**
 * A depthwise gradient computed by the project's JavaScript loops on the tensors' values in wasm memory:
 * depthwise layers cost a small share of a separable conv next to its pointwise (dense 1x1) part.
 */
function depthwiseByLoops(
  inputNames: [string, string],
  shapes: (a: tf.TensorInfo, b: tf.TensorInfo, attrs: DepthwiseGradientAttrs) => [number[], number[]],
  resultShape: 'inShape' | 'filterShape',
  compute: (a: Float32Array, b: Float32Array, g: Geometry) => Float32Array,
): WasmKernel {
  return ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as unknown as WasmBackend;
    const a = inputs[inputNames[0]] as tf.TensorInfo;
    const b = inputs[inputNames[1]] as tf.TensorInfo;
    const depthwiseAttrs = attrs as unknown as DepthwiseGradientAttrs;
    const [inShape, filterShape] = shapes(a, b, depthwiseAttrs);
    const info = gradientConvInfo(inShape, filterShape, depthwiseAttrs, true);
    const values = compute(backend.typedArrayFromHeap(a), backend.typedArrayFromHeap(b), geometryOf(info));
    return backend.makeOutput(info[resultShape], 'float32', undefined, values);
  };
}

/**
 * wasm's forward convolutions hand 'same' padding to XNNPACK as a flag, and XNNPACK then pads 1xN filters
 * at stride 2 wrongly (off by several units on every output, measured on 4.22). The padding tfjs
 * computes, passed explicitly, gives the right result at the same speed.
 */
function sameAsExplicitPadding(depthwise: boolean): WasmKernel {
  return ({ inputs, backend, attrs }, stock) => {
    const convAttrs = attrs as unknown as { pad: tf.Conv2DAttrs['pad']; dataFormat?: 'NHWC' | 'NCHW' };
    if (stock === undefined) throw new Error('wasm has no forward convolution kernel to wrap');
    if (convAttrs.pad !== 'same' || convAttrs.dataFormat === 'NCHW') return stock({ inputs, backend, attrs }) as tf.TensorInfo;
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, dilations, dimRoundingMode } = attrs as unknown as DepthwiseGradientAttrs;
    type Shape4 = [number, number, number, number];
    const { padInfo } = tf.backend_util.computeConv2DInfo(
      x.shape as Shape4,
      filter.shape as Shape4,
      strides,
      dilations ?? 1,
      'same',
      dimRoundingMode,
      depthwise,
    );
    const pad = [
      [0, 0],
      [padInfo.top, padInfo.bottom],
      [padInfo.left, padInfo.right],
      [0, 0],
    ];
    return stock({ inputs, backend, attrs: { ...attrs, pad } }) as tf.TensorInfo;
  };
}

/** The gradient of gather (the controller's embedding lookups): sums the rows of x into the segments their ids name. */
const unsortedSegmentSum: WasmKernel = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackend;
  const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  if (x.dtype !== 'float32') throw new Error(`UnsortedSegmentSum on wasm sums float32 only, got ${x.dtype}`);
  const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
  const sums = new Float32Array(numSegments * rowSize);
  const values = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds) as unknown as Int32Array;
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row];
    // Out-of-range ids are dropped, as the stock cpu kernel does.
    if (segment < 0 || segment >= numSegments) continue;
    for (let k = 0; k < rowSize; k++) sums[segment * rowSize + k] += values[row * rowSize + k];
  }
  return backend.makeOutput([numSegments, ...x.shape.slice(1)], 'float32', undefined, sums);
};

/** This phase's taps of a depthwise filter [h][w][C][1], flipped: [taps][taps][C][1]. */
function flippedDepthwisePhaseFilter(
  backend: WasmBackend,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  row: Phase,
  column: Phase,
) {
  const { filterWidth, inChannels: channels, strideHeight, strideWidth } = info;
  const w = backend.typedArrayFromHeap(filter);
  const flipped = new Float32Array(row.taps * column.taps * channels);
  for (let k = 0; k < row.taps; k++)
    for (let l = 0; l < column.taps; l++) {
      const a = row.tap + strideHeight * (row.taps - 1 - k);
      const b = column.tap + strideWidth * (column.taps - 1 - l);
      const from = (a * filterWidth + b) * channels;
      flipped.set(w.subarray(from, from + channels), (k * column.taps + l) * channels);
    }
  return backend.makeOutput([row.taps, column.taps, channels, 1], 'float32', undefined, flipped);
}

const depthwiseInputGradientByLoops = depthwiseByLoops(
  ['dy', 'filter'],
  (_dy, filter, attrs) => [attrs.inputShape!, filter.shape],
  'inShape',
  depthwiseInputGradient,
);

/** With multiplier 1 (separable convs), stride-1 XNNPACK depthwise convs of dy with the flipped filter, one per output phase. */
const depthwiseInputGradientKernel: WasmKernel = (args, stock) => {
  const backend = args.backend as unknown as WasmBackend;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const depthwiseAttrs = args.attrs as unknown as DepthwiseGradientAttrs;
  const info = gradientConvInfo(depthwiseAttrs.inputShape!, filter.shape, depthwiseAttrs, true);
  const dx =
    filter.shape[3] !== 1
      ? null
      : inputGradientByPhases(backend, dy, info, {
          phaseFilter: (row, column) => flippedDepthwisePhaseFilter(backend, filter, info, row, column),
          forward: (phaseDy, phaseFilter, pad) =>
            runWasmKernel(tf.DepthwiseConv2dNative, { x: phaseDy, filter: phaseFilter }, { strides: 1, pad, dilations: 1 }, backend),
        });
  return dx ?? depthwiseInputGradientByLoops(args, stock);
};

const depthwiseFilterGradientByLoops = depthwiseByLoops(
  ['x', 'dy'],
  (x, _dy, attrs) => [x.shape, attrs.filterShape!],
  'filterShape',
  depthwiseFilterGradient,
);

/**
 * With multiplier 1, one XNNPACK depthwise conv: x seen as one image of N*C channels [1, H, W, N*C], dy as
 * its filter [H', W', N*C, 1] dilated by the stride; the N images' sums then add up per channel.
 */
const depthwiseFilterGradientKernel: WasmKernel = (args, stock) => {
  const backend = args.backend as unknown as WasmBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const depthwiseAttrs = args.attrs as unknown as DepthwiseGradientAttrs;
  const info = gradientConvInfo(x.shape, depthwiseAttrs.filterShape!, depthwiseAttrs, true);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, filterHeight, filterWidth, padInfo } = info;
  if (info.outChannels !== channels) return depthwiseFilterGradientByLoops(args, stock);
  const bottom = Math.max(0, filterHeight + (outHeight - 1) * info.strideHeight - inHeight - padInfo.top);
  const right = Math.max(0, filterWidth + (outWidth - 1) * info.strideWidth - inWidth - padInfo.left);
  const imagesAsChannels = runWasmKernel(tf.Transpose, { x }, { perm: [1, 2, 0, 3] }, backend);
  const dyAsFilter = runWasmKernel(tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] }, backend);
  const sums = runWasmKernel(
    tf.DepthwiseConv2dNative,
    {
      x: { ...imagesAsChannels, shape: [1, inHeight, inWidth, batchSize * channels] },
      filter: { ...dyAsFilter, shape: [outHeight, outWidth, batchSize * channels, 1] },
    },
    {
      strides: 1,
      pad: [
        [0, 0],
        [padInfo.top, bottom],
        [padInfo.left, right],
        [0, 0],
      ],
      dilations: [info.strideHeight, info.strideWidth],
    },
    backend,
  );
  backend.disposeData(imagesAsChannels.dataId);
  backend.disposeData(dyAsFilter.dataId);
  const result = backend.makeOutput([filterHeight, filterWidth, channels, 1], 'float32');
  const from = backend.typedArrayFromHeap(sums);
  const to = backend.typedArrayFromHeap(result);
  const gotWidth = sums.shape[2];
  const row = batchSize * channels;
  to.fill(0);
  for (let a = 0; a < filterHeight; a++)
    for (let b = 0; b < filterWidth; b++) {
      const source = (a * gotWidth + b) * row;
      const target = (a * filterWidth + b) * channels;
      for (let n = 0; n < batchSize; n++) for (let c = 0; c < channels; c++) to[target + c] += from[source + n * channels + c];
    }
  backend.disposeData(sums.dataId);
  return result;
};

/**
 * wasm's MaxPoolGrad sends some gradients to the wrong input where 3x3 windows overlap at stride 1 (measured
 * on 4.22, distinct values, batch 3): this routes each output's gradient to the first largest input of its
 * window, as the cpu backend does. A 1x1 pool at stride 1 (the cell space's identity) passes dy through.
 */
const maxPoolGradKernel: WasmKernel = (args) => {
  const backend = args.backend as unknown as WasmBackend;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  if (tf.backend_util.tupleValuesAreOne(filterSize) && tf.backend_util.tupleValuesAreOne(strides))
    return runWasmKernel(tf.Identity, { x: dy }, {}, backend);
  type Shape4 = [number, number, number, number];
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const dx = backend.makeOutput(input.shape, 'float32');
  const x = backend.typedArrayFromHeap(input);
  const gradient = backend.typedArrayFromHeap(dy);
  const sums = backend.typedArrayFromHeap(dx);
  sums.fill(0);
  const best = new Float32Array(channels);
  const at = new Int32Array(channels);
  let out = 0;
  for (let n = 0; n < batchSize; n++)
    for (let oh = 0; oh < outHeight; oh++)
      for (let ow = 0; ow < outWidth; ow++, out += channels) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let a = 0; a < info.effectiveFilterHeight; a++) {
          const r = oh * strideHeight - info.padInfo.top + a;
          if (r < 0 || r >= inHeight) continue;
          for (let b = 0; b < info.effectiveFilterWidth; b++) {
            const col = ow * strideWidth - info.padInfo.left + b;
            if (col < 0 || col >= inWidth) continue;
            const pixel = ((n * inHeight + r) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++)
              if (x[pixel + c] > best[c]) {
                best[c] = x[pixel + c];
                at[c] = pixel + c;
              }
          }
        }
        for (let c = 0; c < channels; c++) if (at[c] >= 0) sums[at[c]] += gradient[out + c];
      }
  return dx;
};

/** AvgPoolGrad by averagePoolInputGradient: wasm's own divides the border windows by their padded size. */
const averagePoolGradKernel: WasmKernel = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackend;
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const dx = averagePoolInputGradient(backend.typedArrayFromHeap(dy), input.shape, attrs as unknown as tf.AvgPoolGradAttrs);
  return backend.makeOutput(input.shape, 'float32', undefined, dx);
};

const WASM_KERNELS: ReadonlyArray<[string, WasmKernel]> = [
  [tf.MaxPoolGrad, maxPoolGradKernel],
  [tf.AvgPoolGrad, averagePoolGradKernel],
  [tf.UnsortedSegmentSum, unsortedSegmentSum],
  [tf.Conv2D, sameAsExplicitPadding(false)],
  [tf.FusedConv2D, sameAsExplicitPadding(false)],
  [tf.DepthwiseConv2dNative, sameAsExplicitPadding(true)],
  [tf.FusedDepthwiseConv2D, sameAsExplicitPadding(true)],
  [tf.Conv2DBackpropFilter, conv2dFilterGradientKernel],
  [tf.Conv2DBackpropInput, conv2dInputGradientKernel],
  [tf.DepthwiseConv2dNativeBackpropFilter, depthwiseFilterGradientKernel],
  [tf.DepthwiseConv2dNativeBackpropInput, depthwiseInputGradientKernel],
];

/** The kernels these replaced (undefined where wasm had none), kept so they can be put back. */
let replaced: Array<tf.KernelConfig | undefined> | null = null;

/** Registers the kernels on the wasm backend, once; the stock kernel, where there is one, is kept for geometries they leave to it. */
export function registerWasmGradientKernels(): void {
  if (replaced !== null) return;
  replaced = WASM_KERNELS.map(([kernelName, kernel]) => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (stock !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: (args) => kernel(args, stock?.kernelFunc) });
    return stock;
  });
}

/** Puts wasm's own kernels back (for measurements that compare them). */
export function unregisterWasmGradientKernels(): void {
  if (replaced === null) return;
  WASM_KERNELS.forEach(([kernelName], i) => {
    tf.unregisterKernel(kernelName, 'wasm');
    const stock = replaced![i];
    if (stock !== undefined) tf.registerKernel(stock);
  });
  replaced = null;
}
