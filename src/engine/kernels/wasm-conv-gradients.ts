import * as tf from '@tensorflow/tfjs';
import { convInfoOrNull, type ConvGeometryAttrs } from './conv-geometry.ts';

// The dense convolution gradients on the wasm backend, built from its fast XNNPACK forward Conv2D:
// - the filter gradient is a forward conv of x seen as [C_in, H, W, N] with dy seen as the filter
//   [H', W', N, C_out], dilated by the stride;
// - the input gradient is a forward conv of dy with the flipped, transposed filter; at stride s it splits
//   into s*s stride-1 convs, one per output phase, each with the filter taps that reach that phase.

/** The part of tfjs's wasm backend these kernels use. */
export interface WasmBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
  /** A view of the tensor in wasm memory: take it again after any allocation, which may move the heap. */
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId): boolean;
}

export type WasmKernel = (args: Parameters<tf.KernelFunc>[0], stock: tf.KernelFunc | undefined) => tf.TensorInfo;

export type ExplicitPad = [[0, 0], [number, number], [number, number], [0, 0]];

export function runWasmKernel(name: string, inputs: tf.NamedTensorInfoMap, attrs: object, backend: WasmBackend): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`tfjs kernel ${name} is not registered for backend 'wasm'`);
  return kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: backend as unknown as tf.KernelBackend }) as tf.TensorInfo;
}

const transpose = (x: tf.TensorInfo, perm: number[], backend: WasmBackend) => runWasmKernel(tf.Transpose, { x }, { perm }, backend);

function forwardConv(x: tf.TensorInfo, filter: tf.TensorInfo, pad: ExplicitPad, dilations: [number, number], backend: WasmBackend) {
  return runWasmKernel(tf.Conv2D, { x, filter }, { strides: 1, pad, dilations, dataFormat: 'NHWC' }, backend);
}

/** The stock geometry of the convolution, refusing what the gradients of tfjs never ask for here (NCHW, dilation). */
export function gradientConvInfo(inShape: number[], filterShape: number[], attrs: ConvGeometryAttrs, depthwise: boolean) {
  const info = convInfoOrNull(inShape, filterShape, attrs, depthwise);
  if (info === null) throw new Error('wasm convolution gradients support NHWC with dilation 1 only');
  return info;
}

export const conv2dFilterGradientKernel: WasmKernel = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as WasmBackend;
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const info = gradientConvInfo(
    x.shape,
    (attrs as unknown as ConvGeometryAttrs).filterShape!,
    attrs as unknown as ConvGeometryAttrs,
    false,
  );
  const { filterHeight, filterWidth, inChannels, outChannels, strideHeight, strideWidth, padInfo } = info;
  // Pad x just enough (bottom/right) that the dilated dy spans filterHeight x filterWidth positions; rows
  // that no window reaches make the result larger, and the copy below leaves them out.
  const bottom = Math.max(0, filterHeight + (info.outHeight - 1) * strideHeight - info.inHeight - padInfo.top);
  const right = Math.max(0, filterWidth + (info.outWidth - 1) * strideWidth - info.inWidth - padInfo.left);
  const xByChannel = transpose(x, [3, 1, 2, 0], backend);
  const dyAsFilter = transpose(dy, [1, 2, 0, 3], backend);
  const pad: ExplicitPad = [
    [0, 0],
    [padInfo.top, bottom],
    [padInfo.left, right],
    [0, 0],
  ];
  const byChannel = forwardConv(xByChannel, dyAsFilter, pad, [strideHeight, strideWidth], backend);
  backend.disposeData(xByChannel.dataId);
  backend.disposeData(dyAsFilter.dataId);
  const result = backend.makeOutput([filterHeight, filterWidth, inChannels, outChannels], 'float32');
  const from = backend.typedArrayFromHeap(byChannel);
  const to = backend.typedArrayFromHeap(result);
  const [, gotHeight, gotWidth] = byChannel.shape;
  // [C_in][gotHeight][gotWidth][C_out] -> [filterHeight][filterWidth][C_in][C_out]
  for (let a = 0; a < filterHeight; a++)
    for (let b = 0; b < filterWidth; b++)
      for (let c = 0; c < inChannels; c++) {
        const source = ((c * gotHeight + a) * gotWidth + b) * outChannels;
        to.set(from.subarray(source, source + outChannels), ((a * filterWidth + b) * inChannels + c) * outChannels);
      }
  backend.disposeData(byChannel.dataId);
  return result;
};

/** One output phase of the input gradient: the rows (or columns) it covers and the stride-1 conv that computes them. */
export interface Phase {
  /** Filter taps offset, first output row, how many rows, filter taps in this phase, the conv's padding before and after. */
  tap: number;
  first: number;
  count: number;
  taps: number;
  before: number;
  after: number;
}

function phasesOf(size: number, outSize: number, filterSize: number, stride: number, padBefore: number): Phase[] {
  const phases: Phase[] = [];
  for (let tap = 0; tap < stride; tap++) {
    const taps = Math.max(0, Math.ceil((filterSize - tap) / stride));
    const first = (((tap - padBefore) % stride) + stride) % stride;
    const count = first < size ? Math.floor((size - 1 - first) / stride) + 1 : 0;
    const firstDyRow = (first + padBefore - tap) / stride;
    const before = taps - 1 - firstDyRow;
    phases.push({ tap, first, count, taps, before, after: count - outSize - before + taps - 1 });
  }
  return phases;
}

/** How one phase of an input gradient is computed: its filter taps, and the stride-1 forward conv of dy with them. */
export interface PhaseConv {
  phaseFilter(row: Phase, column: Phase): tf.TensorInfo;
  forward(dy: tf.TensorInfo, phaseFilter: tf.TensorInfo, pad: ExplicitPad): tf.TensorInfo;
}

/**
 * The input gradient as stride-1 forward convs of dy, one per output phase (one in all at stride 1), or null
 * where dy is larger than the windows need ('ceil' rounding), which would need negative padding.
 */
export function inputGradientByPhases(
  backend: WasmBackend,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  conv: PhaseConv,
): tf.TensorInfo | null {
  const { batchSize, inHeight, inWidth, inChannels, filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const rows = phasesOf(inHeight, info.outHeight, filterHeight, strideHeight, info.padInfo.top);
  const columns = phasesOf(inWidth, info.outWidth, filterWidth, strideWidth, info.padInfo.left);
  if ([...rows, ...columns].some((p) => p.count > 0 && p.taps > 0 && (p.before < 0 || p.after < 0))) return null;
  const single = rows.length === 1 && columns.length === 1;
  const dx = single ? undefined : backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  if (dx !== undefined) backend.typedArrayFromHeap(dx).fill(0);
  for (const row of rows)
    for (const column of columns) {
      if (row.count === 0 || column.count === 0 || row.taps === 0 || column.taps === 0) continue;
      const phaseFilter = conv.phaseFilter(row, column);
      const pad: ExplicitPad = [
        [0, 0],
        [row.before, row.after],
        [column.before, column.after],
        [0, 0],
      ];
      const phase = conv.forward(dy, phaseFilter, pad);
      backend.disposeData(phaseFilter.dataId);
      if (dx === undefined) return phase;
      scatterPhase(backend.typedArrayFromHeap(phase), backend.typedArrayFromHeap(dx), info, row, column);
      backend.disposeData(phase.dataId);
    }
  if (dx === undefined) throw new Error('input gradient: a stride-1 convolution without output rows');
  return dx;
}

export const conv2dInputGradientKernel: WasmKernel = ({ inputs, backend: anyBackend, attrs }, stock) => {
  const backend = anyBackend as unknown as WasmBackend;
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const convAttrs = attrs as unknown as ConvGeometryAttrs;
  const info = gradientConvInfo(convAttrs.inputShape!, filter.shape, convAttrs, false);
  const dx = inputGradientByPhases(backend, dy, info, {
    phaseFilter: (row, column) => flippedPhaseFilter(backend, filter, info, row, column),
    forward: (phaseDy, phaseFilter, pad) => forwardConv(phaseDy, phaseFilter, pad, [1, 1], backend),
  });
  if (dx !== null) return dx;
  if (stock === undefined) throw new Error('Conv2DBackpropInput: no stock wasm kernel for this geometry');
  return stock({ inputs, backend: anyBackend, attrs }) as tf.TensorInfo;
};

/** The taps of this phase, flipped and transposed: [taps][taps][C_out][C_in]. */
function flippedPhaseFilter(
  backend: WasmBackend,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  row: Phase,
  column: Phase,
): tf.TensorInfo {
  const { filterWidth, inChannels, outChannels, strideHeight, strideWidth } = info;
  const w = backend.typedArrayFromHeap(filter);
  const flipped = new Float32Array(row.taps * column.taps * outChannels * inChannels);
  let at = 0;
  for (let k = 0; k < row.taps; k++)
    for (let l = 0; l < column.taps; l++) {
      const a = row.tap + strideHeight * (row.taps - 1 - k);
      const b = column.tap + strideWidth * (column.taps - 1 - l);
      const tapStart = (a * filterWidth + b) * inChannels * outChannels;
      for (let co = 0; co < outChannels; co++) for (let ci = 0; ci < inChannels; ci++) flipped[at++] = w[tapStart + ci * outChannels + co];
    }
  return backend.makeOutput([row.taps, column.taps, outChannels, inChannels], 'float32', undefined, flipped);
}

function scatterPhase(phase: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo, row: Phase, column: Phase): void {
  const { batchSize, inHeight, inWidth, inChannels, strideHeight, strideWidth } = info;
  let from = 0;
  for (let n = 0; n < batchSize; n++)
    for (let t = 0; t < row.count; t++) {
      const y = row.first + t * strideHeight;
      for (let u = 0; u < column.count; u++, from += inChannels) {
        const to = ((n * inHeight + y) * inWidth + column.first + u * strideWidth) * inChannels;
        dx.set(phase.subarray(from, from + inChannels), to);
      }
    }
}
