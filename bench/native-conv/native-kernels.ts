// The moonshot prototype of issue 15, bench only: the AVX2 + FMA convolutions of native_conv.c registered on
// tfjs's 'cpu' backend over the project's own kernels (fast-cpu-kernels.ts), or on 'wasm' over the project's
// wasm kernels (wasm-kernels.ts). They fall back to those for what they do not handle (NCHW, dilation > 1), and
// those stay in place when the addon is not built or does not load. On wasm the addon reads and writes the
// tensors where they lie, in wasm memory: no copy either way.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CpuBackend, FastKernel } from '../../src/engine/kernels/cpu-backend.ts';
import type { WasmBackend } from '../../src/engine/kernels/wasm-conv-gradients.ts';
import { convInfoOrNull, geometryOf, type ConvGeometryAttrs, type Geometry } from '../../src/engine/kernels/conv-geometry.ts';
import { registerFastCpuKernels, unregisterFastCpuKernels } from '../../src/engine/kernels/fast-cpu-kernels.ts';

type NativePass = (a: Float32Array, b: Float32Array, result: Float32Array, geometry: Int32Array) => void;

export interface NativeConv {
  conv2dForward: NativePass;
  conv2dFilterGradient: NativePass;
  conv2dInputGradient: NativePass;
  /** Which kernels run from now on: 'avx2+fma' where the CPU has both and allowSimd, else 'portable'. */
  selectIsa(allowSimd: boolean): string;
}

const ADDON = join(__dirname, 'build', 'Release', 'native_conv.node');

/** The addon, or why it is not there. */
export function loadNativeConv(): { addon: NativeConv; isa: string } | { why: string } {
  if (!existsSync(ADDON)) return { why: `not built (npm run bench:native-build makes ${ADDON})` };
  try {
    const module = { exports: {} as NativeConv };
    process.dlopen(module, ADDON);
    return { addon: module.exports, isa: module.exports.selectIsa(true) };
  } catch (error) {
    return { why: `${ADDON} does not load: ${(error as Error).message}` };
  }
}

/** The fields of conv_geometry (conv_kernels.h), in its order. */
function geometryFields(g: Geometry): Int32Array {
  return Int32Array.from([
    g.batch,
    g.inHeight,
    g.inWidth,
    g.inChannels,
    g.outHeight,
    g.outWidth,
    g.outChannels,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padTop,
    g.padLeft,
    g.paddedHeight,
    g.paddedWidth,
  ]);
}

interface NativeKernelSpec {
  /** The kernel's two tensors, in the order the native pass takes them. */
  operands: [string, string];
  shapes(inputs: Record<string, tf.TensorInfo>, attrs: ConvGeometryAttrs): [inShape: number[], filterShape: number[]];
  resultShape: 'outShape' | 'filterShape' | 'inShape';
  pass(addon: NativeConv): NativePass;
}

const NATIVE_KERNELS: ReadonlyArray<[string, NativeKernelSpec]> = [
  [
    tf.Conv2D,
    {
      operands: ['x', 'filter'],
      shapes: ({ x, filter }) => [x.shape, filter.shape],
      resultShape: 'outShape',
      pass: (addon) => addon.conv2dForward,
    },
  ],
  [
    tf.Conv2DBackpropFilter,
    {
      operands: ['x', 'dy'],
      shapes: ({ x }, { filterShape }) => [x.shape, filterShape as number[]],
      resultShape: 'filterShape',
      pass: (addon) => addon.conv2dFilterGradient,
    },
  ],
  [
    tf.Conv2DBackpropInput,
    {
      operands: ['dy', 'filter'],
      shapes: ({ filter }, { inputShape }) => [inputShape as number[], filter.shape],
      resultShape: 'inShape',
      pass: (addon) => addon.conv2dInputGradient,
    },
  ],
];

export type NativeHost = 'cpu' | 'wasm';

/** Runs the pass on the host backend's tensors and returns its result tensor. */
function runOnHost(host: NativeHost, backend: unknown, operands: tf.TensorInfo[], shape: number[], run: NativePass, geometry: Int32Array) {
  if (host === 'cpu') {
    const cpu = backend as CpuBackend;
    const [a, b] = operands.map((t) => cpu.data.get(t.dataId).values as Float32Array);
    const result = new Float32Array(tf.util.sizeFromShape(shape));
    run(a, b, result, geometry);
    return cpu.makeTensorInfo(shape, 'float32', result);
  }
  const wasm = backend as WasmBackend;
  const out = wasm.makeOutput(shape, 'float32');
  // Views taken after the allocation, which may have grown (moved) the heap.
  const [a, b] = operands.map((t) => wasm.typedArrayFromHeap(t));
  run(a, b, wasm.typedArrayFromHeap(out), geometry);
  return out;
}

function nativeKernel(addon: NativeConv, spec: NativeKernelSpec, host: NativeHost): FastKernel {
  return ({ inputs, backend, attrs }, fallback) => {
    const tensors = inputs as Record<string, tf.TensorInfo>;
    const convAttrs = attrs as unknown as ConvGeometryAttrs;
    const [inShape, filterShape] = spec.shapes(tensors, convAttrs);
    const info = convInfoOrNull(inShape, filterShape, convAttrs, false);
    if (info === null || spec.operands.some((name) => tensors[name].dtype !== 'float32')) return fallback({ inputs, backend, attrs });
    const operands = spec.operands.map((name) => tensors[name]);
    return runOnHost(host, backend, operands, info[spec.resultShape], spec.pass(addon), geometryFields(geometryOf(info)));
  };
}

/** Registers the native kernels on the host over whatever is registered there now (the project's kernels), which they fall back to. */
export function registerNativeConvKernels(addon: NativeConv, host: NativeHost): void {
  for (const [kernelName, spec] of NATIVE_KERNELS) {
    const current = tf.getKernel(kernelName, host);
    if (current === undefined) throw new Error(`tfjs kernel ${kernelName} is not registered for backend '${host}'`);
    const native = nativeKernel(addon, spec, host);
    tf.unregisterKernel(kernelName, host);
    // wasm's stock kernels are not FastKernels, but take the same arguments.
    tf.registerKernel({ ...current, kernelFunc: (args) => native(args, current.kernelFunc as tf.KernelFunc) });
  }
}

interface CheckCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

// Odd shapes: stride 2, asymmetric 'same' padding, 1xN and Nx1 filters, 1 and 3 channels, batch 1, output
// channel counts that leave partial 16- and 8-wide blocks.
const CHECK_CASES: CheckCase[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 5], strides: [2, 2], pad: 'same' },
  { x: [1, 8, 8, 1], filter: [1, 3, 1, 8], strides: [1, 1], pad: 'same' },
  { x: [3, 6, 5, 16], filter: [5, 5, 16, 20], strides: [1, 1], pad: 'valid' },
  { x: [2, 9, 9, 4], filter: [3, 1, 4, 17], strides: [2, 1], pad: 'same' },
  { x: [4, 8, 8, 32], filter: [5, 5, 32, 32], strides: [1, 1], pad: 'same' },
];

/** The forward result and both gradients of one case, on whatever kernels are registered now (seed 0 would mean unseeded). */
function convAndGradients(c: CheckCase, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', seed);
    const filter = tf.randomNormal(c.filter, 0, 1, 'float32', seed + 1);
    const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.strides, c.pad);
    const dyWeights = tf.randomNormal(y.shape, 0, 1, 'float32', seed + 2);
    const [dx, dFilter] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad), dyWeights)),
    )([x, filter]);
    return [y, dFilter, dx].map((t) => t.dataSync() as Float32Array);
  });
}

/** max |a - b| over max |reference|: the error relative to the tensor's scale. */
function relativeError(reference: Float32Array, actual: Float32Array): number {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i]));
    error = Math.max(error, Math.abs(reference[i] - actual[i]));
  }
  return reference.length === actual.length ? error / (scale || 1) : Infinity;
}

export const CHECK_TOLERANCE = 1e-4;

/**
 * Registers the native kernels on the host after checking them (AVX2 and portable) against tfjs's stock cpu
 * kernels on CHECK_CASES; returns the worst relative error. Needs the host backend running with the project's
 * kernels registered, and leaves it running.
 */
export async function checkAndRegisterNativeConvKernels(
  addon: NativeConv,
  isa: string,
  host: NativeHost,
): Promise<{ worst: number; line: string }> {
  await tf.setBackend('cpu');
  unregisterFastCpuKernels();
  const references = CHECK_CASES.map((c, i) => convAndGradients(c, 10 * i + 1));
  // Puts back the state selectBackend left: the project's kernels on 'cpu' when that is the host.
  if (host === 'cpu') registerFastCpuKernels();
  await tf.setBackend(host);
  registerNativeConvKernels(addon, host);
  const names = ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'];
  const parts: string[] = [];
  let worst = 0;
  for (const [label, allowSimd] of [
    [isa, true],
    ['portable', false],
  ] as const) {
    addon.selectIsa(allowSimd);
    const errors = names.map(() => 0);
    CHECK_CASES.forEach((c, i) =>
      convAndGradients(c, 10 * i + 1).forEach((values, k) => (errors[k] = Math.max(errors[k], relativeError(references[i][k], values)))),
    );
    worst = Math.max(worst, ...errors);
    parts.push(`${label}: ${names.map((name, k) => `${name} ${errors[k].toExponential(1)}`).join(', ')}`);
  }
  addon.selectIsa(true);
  const verdict = worst <= CHECK_TOLERANCE ? 'pass' : 'FAIL';
  return { worst, line: `check vs stock tfjs cpu, ${CHECK_CASES.length} shapes, max relative error: ${parts.join('; ')} => ${verdict}` };
}
