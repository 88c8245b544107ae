import * as tf from '@tensorflow/tfjs';
import type { CpuBackend, FastKernel } from './cpu-backend.ts';
import { convInfoOrNull, geometryOf, type ConvGeometryAttrs, type Geometry } from './conv-geometry.ts';
import { conv2dFilterGradient, conv2dForward, conv2dInputGradient, conv2dInputGradientByForward } from './conv2d-loops.ts';
import { depthwiseFilterGradient, depthwiseForward, depthwiseInputGradient } from './depthwise-loops.ts';

/**
 * Faster replacements for the convolution kernels of tfjs's pure-JavaScript 'cpu' backend: the
 * dense passes of conv2d-loops.ts and the depthwise ones of depthwise-loops.ts.
 *
 * Only NHWC with dilation 1 is handled; anything else runs the stock kernel.
 */

/** The attributes every convolution kernel has or may have; gradients carry the shape of the input or filter they lack. */
interface ConvAttrs extends ConvGeometryAttrs {
  activation?: tf.FusedConv2DAttrs['activation'];
  leakyreluAlpha?: number;
}

interface ConvKernelSpec {
  depthwise: boolean;
  /** The shapes of the convolution's input and filter, from this kernel's tensors and attributes. */
  shapes(inputs: Record<string, tf.TensorInfo>, attrs: ConvAttrs): [inShape: number[], filterShape: number[]];
  /** Which of the convolution's shapes the result has. */
  resultShape: 'outShape' | 'filterShape' | 'inShape';
  /** The result's values, or null to leave this call to the stock kernel. */
  compute(
    values: (name: string) => Float32Array,
    g: Geometry,
    info: tf.backend_util.Conv2DInfo,
    inputs: Record<string, tf.TensorInfo>,
    attrs: ConvAttrs,
  ): Float32Array | null;
}

/** The wrapper every convolution kernel shares: geometry as the stock kernel computes it, stock fallback, result tensor. */
function convKernel(spec: ConvKernelSpec): FastKernel {
  return ({ inputs, backend, attrs }, stock) => {
    const tensors = inputs as Record<string, tf.TensorInfo>;
    const convAttrs = attrs as unknown as ConvAttrs;
    const [inShape, filterShape] = spec.shapes(tensors, convAttrs);
    const info = convInfoOrNull(inShape, filterShape, convAttrs, spec.depthwise);
    const cpu = backend as unknown as CpuBackend;
    const values = (name: string) => cpu.data.get(tensors[name].dataId).values as Float32Array;
    const result = info === null ? null : spec.compute(values, geometryOf(info), info, tensors, convAttrs);
    if (info === null || result === null) return stock({ inputs, backend, attrs });
    return cpu.makeTensorInfo(info[spec.resultShape], 'float32', result);
  };
}

const fromInputAndFilter = ({ x, filter }: Record<string, tf.TensorInfo>): [number[], number[]] => [x.shape, filter.shape];
const fromInputAndFilterShape = ({ x }: Record<string, tf.TensorInfo>, { filterShape }: ConvAttrs): [number[], number[]] => [
  x.shape,
  filterShape as number[],
];
const fromInputShapeAndFilter = ({ filter }: Record<string, tf.TensorInfo>, { inputShape }: ConvAttrs): [number[], number[]] => [
  inputShape as number[],
  filter.shape,
];

/** Adds a per-channel (or scalar) bias and applies the activation, in place. */
function applyBiasAndActivation(y: Float32Array, channels: number, bias: Float32Array | null, activate: (v: number) => number): void {
  for (let i = 0, c = 0; i < y.length; i++) {
    const biased = bias === null ? y[i] : y[i] + bias[bias.length === 1 ? 0 : c];
    y[i] = activate(biased);
    if (++c === channels) c = 0;
  }
}

function activationFunction(activation: ConvAttrs['activation'], leakyreluAlpha: number): ((v: number) => number) | null {
  switch (activation) {
    case undefined:
    case 'linear':
      return (v) => v;
    case 'relu':
      return (v) => (v > 0 ? v : 0);
    case 'relu6':
      return (v) => Math.min(Math.max(v, 0), 6);
    case 'elu':
      return (v) => (v >= 0 ? v : Math.exp(v) - 1);
    case 'leakyrelu':
      return (v) => (v < 0 ? leakyreluAlpha * v : v);
    case 'sigmoid':
      return (v) => 1 / (1 + Math.exp(-v));
    default:
      return null;
  }
}

export const CONV_KERNELS: ReadonlyArray<[string, FastKernel]> = [
  [
    tf.Conv2D,
    convKernel({
      depthwise: false,
      shapes: fromInputAndFilter,
      resultShape: 'outShape',
      compute: (values, g) => conv2dForward(values('x'), values('filter'), g),
    }),
  ],
  [
    tf.Conv2DBackpropFilter,
    convKernel({
      depthwise: false,
      shapes: fromInputAndFilterShape,
      resultShape: 'filterShape',
      compute: (values, g) => conv2dFilterGradient(values('x'), values('dy'), g),
    }),
  ],
  [
    tf.Conv2DBackpropInput,
    convKernel({
      depthwise: false,
      shapes: fromInputShapeAndFilter,
      resultShape: 'inShape',
      compute: (values, g) => {
        const dy = values('dy');
        const filter = values('filter');
        return conv2dInputGradientByForward(dy, filter, g) ?? conv2dInputGradient(dy, filter, g);
      },
    }),
  ],
  [
    tf.FusedConv2D,
    convKernel({
      depthwise: false,
      shapes: fromInputAndFilter,
      resultShape: 'outShape',
      compute: (values, g, info, { bias }, { activation, leakyreluAlpha }) => {
        // A missing alpha makes the stock leakyrelu give NaN for negatives; NaN keeps that behaviour.
        const activate = activationFunction(activation, leakyreluAlpha ?? NaN);
        // prelu (activate === null) and biases of rank > 1 are left to the stock kernel.
        const biasSize = bias == null ? 0 : tf.util.sizeFromShape(bias.shape);
        const perChannelBias = bias == null || (bias.shape.length <= 1 && (biasSize === 1 || biasSize === info.outChannels));
        if (activate === null || !perChannelBias) return null;
        const y = conv2dForward(values('x'), values('filter'), g);
        applyBiasAndActivation(y, info.outChannels, bias == null ? null : values('bias'), activate);
        return y;
      },
    }),
  ],
  [
    tf.DepthwiseConv2dNative,
    convKernel({
      depthwise: true,
      shapes: fromInputAndFilter,
      resultShape: 'outShape',
      compute: (values, g) => depthwiseForward(values('x'), values('filter'), g),
    }),
  ],
  [
    tf.DepthwiseConv2dNativeBackpropFilter,
    convKernel({
      depthwise: true,
      shapes: fromInputAndFilterShape,
      resultShape: 'filterShape',
      compute: (values, g) => depthwiseFilterGradient(values('x'), values('dy'), g),
    }),
  ],
  [
    tf.DepthwiseConv2dNativeBackpropInput,
    convKernel({
      depthwise: true,
      shapes: fromInputShapeAndFilter,
      resultShape: 'inShape',
      compute: (values, g) => depthwiseInputGradient(values('dy'), values('filter'), g),
    }),
  ],
];
