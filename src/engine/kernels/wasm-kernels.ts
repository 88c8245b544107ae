import * as tf from '@tensorflow/tfjs';
import { geometryOf, type Geometry } from './conv-geometry.ts';
import { depthwiseFilterGradient, depthwiseInputGradient } from './depthwise-loops.ts';
import {
  conv2dFilterGradientKernel,
  conv2dInputGradientKernel,
  gradientConvInfo,
  type WasmBackend,
  type WasmKernel,
} from './wasm-conv-gradients.ts';

// Registers on tfjs's wasm backend the gradient kernels it lacks (Conv2DBackpropFilter, the depthwise
// gradients), a faster Conv2DBackpropInput than its loop kernel, and forward convolutions that pass
// 'same' padding as explicit padding.

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

const WASM_KERNELS: ReadonlyArray<[string, WasmKernel]> = [
  [tf.UnsortedSegmentSum, unsortedSegmentSum],
  [tf.Conv2D, sameAsExplicitPadding(false)],
  [tf.FusedConv2D, sameAsExplicitPadding(false)],
  [tf.DepthwiseConv2dNative, sameAsExplicitPadding(true)],
  [tf.FusedDepthwiseConv2D, sameAsExplicitPadding(true)],
  [tf.Conv2DBackpropFilter, conv2dFilterGradientKernel],
  [tf.Conv2DBackpropInput, conv2dInputGradientKernel],
  [
    tf.DepthwiseConv2dNativeBackpropFilter,
    depthwiseByLoops(['x', 'dy'], (x, _dy, attrs) => [x.shape, attrs.filterShape!], 'filterShape', depthwiseFilterGradient),
  ],
  [
    tf.DepthwiseConv2dNativeBackpropInput,
    depthwiseByLoops(['dy', 'filter'], (_dy, filter, attrs) => [attrs.inputShape!, filter.shape], 'inShape', depthwiseInputGradient),
  ],
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
