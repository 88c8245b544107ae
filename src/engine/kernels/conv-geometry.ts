import * as tf from '@tensorflow/tfjs';

// The convolution geometry the loops of conv2d-loops.ts and depthwise-loops.ts share, and the
// buffers they read and write: the input copied once into a zero-padded buffer so the hot loops
// never test borders, and matrices widened to whole 4-wide blocks.

/** Convolution geometry, with the input seen through a zero-padded buffer. */
export interface Geometry {
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
/** The attributes every convolution kernel has or may have; gradients carry the shape of the input or filter they lack. */
export interface ConvGeometryAttrs {
  strides: number | [number, number];
  pad: tf.Conv2DAttrs['pad'];
  dimRoundingMode?: tf.Conv2DAttrs['dimRoundingMode'];
  dilations?: number | [number, number];
  dataFormat?: 'NHWC' | 'NCHW';
  filterShape?: number[];
  inputShape?: number[];
}

/** The geometry tfjs computes for this convolution, or null where the fast kernels do not apply (NCHW, dilation > 1). */
export function convInfoOrNull(
  inShape: number[],
  filterShape: number[],
  { strides, pad, dimRoundingMode, dilations, dataFormat }: ConvGeometryAttrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo | null {
  if (dataFormat === 'NCHW') return null;
  if (dilations !== undefined && !tf.backend_util.tupleValuesAreOne(dilations)) return null;
  // computeConv2DInfo is what the stock kernels use, so padding and output sizes match them exactly.
  return tf.backend_util.computeConv2DInfo(
    inShape as Shape4,
    filterShape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

export function geometryOf(info: tf.backend_util.Conv2DInfo): Geometry {
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

export function padInput(x: Float32Array, g: Geometry): Float32Array {
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

export function cropPadded(padded: Float32Array, g: Geometry): Float32Array {
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

export const roundUpTo4 = (n: number): number => (n + 3) & ~3;

/** Copies a [rows][columns] matrix into [rows][widened] with zero columns, so 4-wide blocks never read past a row. */
export function widenColumns(matrix: Float32Array, rows: number, columns: number, widened: number): Float32Array {
  if (widened === columns) return matrix;
  const out = new Float32Array(rows * widened);
  for (let r = 0; r < rows; r++) out.set(matrix.subarray(r * columns, (r + 1) * columns), r * widened);
  return out;
}

export function store4(target: Float32Array, at: number, count: number, v0: number, v1: number, v2: number, v3: number): void {
  target[at] = v0;
  if (count > 1) target[at + 1] = v1;
  if (count > 2) target[at + 2] = v2;
  if (count > 3) target[at + 3] = v3;
}

export function add4(target: Float32Array, at: number, count: number, v0: number, v1: number, v2: number, v3: number): void {
  target[at] += v0;
  if (count > 1) target[at + 1] += v1;
  if (count > 2) target[at + 2] += v2;
  if (count > 3) target[at + 3] += v3;
}
