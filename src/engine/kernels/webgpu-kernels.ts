import * as tf from '@tensorflow/tfjs';

// Two of tfjs-backend-webgpu's stock kernels replaced by wrappers around themselves, on the GPU:
// - AddN binds one storage buffer per input, and over the device's limit the pipeline is invalid and the
//   sum silently wrong (addN of 8 gave 28 instead of 36): longer sums are added in chunks.
// - AvgPoolGrad divides every window by its whole size, while the forward pool divides by the pixels
//   inside the image, as on cpu and wasm (average-pool-gradient.ts): dy is first scaled, per output, by
//   window size / pixels covered, so the stock kernel's division comes out right.

type Shape4 = [number, number, number, number];

interface WebGpuDevice {
  readonly limits: Record<string, number>;
}

const REPLACED = Symbol('nas-studio replaced');

/** Replaces a stock webgpu kernel by `wrap(stock)`, once per process. */
function replaceKernel(name: string, wrap: (stock: tf.KernelFunc) => tf.KernelFunc): void {
  const stock = tf.getKernel(name, 'webgpu');
  if (!stock) throw new Error(`tfjs-backend-webgpu has no ${name} kernel to replace`);
  if (REPLACED in stock) return;
  tf.unregisterKernel(name, 'webgpu');
  tf.registerKernel({ ...stock, kernelFunc: wrap(stock.kernelFunc), [REPLACED]: true } as tf.KernelConfig);
}

const chunkedAddN = (addN: tf.KernelFunc): tf.KernelFunc => {
  // tf.addN hands the kernel its tensors as an array, and the stock kernel reads them as one.
  const sumOf = (terms: tf.TensorInfo[], backend: object, attrs?: tf.NamedAttrMap) =>
    addN({ inputs: terms as unknown as tf.NamedTensorInfoMap, backend, attrs }) as tf.TensorInfo;
  return ({ inputs, backend, attrs }) => {
    let terms = inputs as unknown as tf.TensorInfo[];
    // One storage buffer per input, and one for the output.
    const perShader = (backend as { device: WebGpuDevice }).device.limits.maxStorageBuffersPerShaderStage - 1;
    const intermediate: tf.TensorInfo[] = [];
    while (terms.length > perShader) {
      const sums: tf.TensorInfo[] = [];
      for (let start = 0; start < terms.length; start += perShader) {
        const chunk = terms.slice(start, start + perShader);
        const sum = chunk.length === 1 ? chunk[0] : sumOf(chunk, backend, attrs);
        if (chunk.length > 1) intermediate.push(sum);
        sums.push(sum);
      }
      terms = sums;
    }
    const total = sumOf(terms, backend, attrs);
    for (const info of intermediate) (backend as tf.KernelBackend).disposeData(info.dataId);
    return total;
  };
};

/** Per output position, window size / pixels of the window inside the image: 1 inside, more at the border. */
function borderScale(inputShape: number[], attrs: tf.AvgPoolGradAttrs): { shape: Shape4; values: Float32Array } {
  const info = tf.backend_util.computePool2DInfo(inputShape as Shape4, attrs.filterSize, attrs.strides, 1, attrs.pad);
  const { inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const values = new Float32Array(outHeight * outWidth);
  for (let oh = 0; oh < outHeight; oh++) {
    const top = oh * strideHeight - info.padInfo.top;
    const rows = Math.min(top + filterHeight, inHeight) - Math.max(top, 0);
    for (let ow = 0; ow < outWidth; ow++) {
      const left = ow * strideWidth - info.padInfo.left;
      const columns = Math.min(left + filterWidth, inWidth) - Math.max(left, 0);
      values[oh * outWidth + ow] = (filterHeight * filterWidth) / (rows * columns);
    }
  }
  return { shape: [1, outHeight, outWidth, 1], values };
}

const borderCorrectedAveragePoolGradient = (averagePoolGrad: tf.KernelFunc): tf.KernelFunc => {
  const multiply = tf.getKernel(tf.Multiply, 'webgpu')!.kernelFunc;
  return ({ inputs, backend, attrs }) => {
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const gpu = backend as tf.KernelBackend & { makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
    const { shape, values } = borderScale(input.shape, attrs as unknown as tf.AvgPoolGradAttrs);
    const scale = gpu.makeTensorInfo(shape, 'float32', values);
    const scaled = multiply({ inputs: { a: dy, b: scale }, backend }) as tf.TensorInfo;
    const dx = averagePoolGrad({ inputs: { dy: scaled, input }, backend, attrs }) as tf.TensorInfo;
    gpu.disposeData(scale.dataId);
    gpu.disposeData(scaled.dataId);
    return dx;
  };
};

/** Registers the replacements on the webgpu backend (call once it is registered). */
export function registerWebGpuKernels(): void {
  replaceKernel(tf.AddN, chunkedAddN);
  replaceKernel(tf.AvgPoolGrad, borderCorrectedAveragePoolGradient);
}
