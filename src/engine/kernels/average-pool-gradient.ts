import * as tf from '@tensorflow/tfjs';
import type { CpuBackend, FastKernel } from './cpu-backend.ts';

// The gradient of average pooling, for the cpu and wasm backends. Their forward kernels divide each
// window by the pixels it covers inside the image ('same' padding's cells left out, as TensorFlow does),
// but their stock AvgPoolGrad divides by the whole window: at the border the gradient came out too small
// (4/9 of it at a 3x3 window's corner), so a cell's avg_pool trained on a gradient its output never had.

type Shape4 = [number, number, number, number];

/** dx for AvgPoolGrad's attributes: each output's gradient shared equally among the pixels its window covers inside the image. */
export function averagePoolInputGradient(dy: Float32Array, inputShape: number[], attrs: tf.AvgPoolGradAttrs): Float32Array {
  const { filterSize, strides, pad } = attrs;
  const info = tf.backend_util.computePool2DInfo(inputShape as Shape4, filterSize, strides, 1, pad);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const dx = new Float32Array(batchSize * inHeight * inWidth * channels);
  let out = 0;
  for (let n = 0; n < batchSize; n++)
    for (let oh = 0; oh < outHeight; oh++) {
      const top = oh * strideHeight - info.padInfo.top;
      const [rowFrom, rowTo] = [Math.max(top, 0), Math.min(top + info.filterHeight, inHeight)];
      for (let ow = 0; ow < outWidth; ow++, out += channels) {
        const left = ow * strideWidth - info.padInfo.left;
        const [columnFrom, columnTo] = [Math.max(left, 0), Math.min(left + info.filterWidth, inWidth)];
        const share = 1 / ((rowTo - rowFrom) * (columnTo - columnFrom));
        for (let r = rowFrom; r < rowTo; r++)
          for (let column = columnFrom; column < columnTo; column++) {
            const pixel = ((n * inHeight + r) * inWidth + column) * channels;
            for (let c = 0; c < channels; c++) dx[pixel + c] += dy[out + c] * share;
          }
      }
    }
  return dx;
}

/** The 'cpu' backend's AvgPoolGrad (registered by registerFastCpuKernels). */
export const cpuAveragePoolGradient: FastKernel = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as unknown as CpuBackend;
  const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const dyValues = backend.data.get(dy.dataId).values as Float32Array;
  return backend.makeTensorInfo(
    input.shape,
    'float32',
    averagePoolInputGradient(dyValues, input.shape, attrs as unknown as tf.AvgPoolGradAttrs),
  );
};
