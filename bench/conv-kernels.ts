import * as tf from '@tensorflow/tfjs';
import { registerFastCpuKernels, unregisterFastCpuKernels } from '../src/engine/kernels/fast-cpu-kernels.ts';
import { buildModel } from '../src/engine/model/build.ts';
import type { MacroGraph, MacroLayer } from '../src/space/graph.ts';
import type { MacroSpaceConfig } from '../src/space/config.ts';
import { MACRO_SPACE } from './training-nets.ts';

/**
 * Stock tfjs 'cpu' convolution kernels against the project's (src/engine/kernels/cpu-conv.ts and
 * the tensor ops of cpu-tensor-ops.ts, registered by fast-cpu-kernels.ts), in one process: node --import tsx bench/conv-kernels.ts
 */

interface Timing {
  warmup: number;
  repeats: number;
}

// The stock filter gradient takes seconds per call, so the stock side gets few repeats.
const FAST_TIMING: Timing = { warmup: 3, repeats: 9 };
const STOCK_TIMING: Timing = { warmup: 1, repeats: 3 };
const STOCK_SLOW_TIMING: Timing = { warmup: 0, repeats: 2 };

function medianMs(run: () => void, { warmup, repeats }: Timing): number {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const middle = times.length >> 1;
  return times.length % 2 === 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
}

async function medianMsAsync(run: () => Promise<void>, { warmup, repeats }: Timing): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const middle = times.length >> 1;
  return times.length % 2 === 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
}

function useKernels(fast: boolean): void {
  if (fast) registerFastCpuKernels();
  else unregisterFastCpuKernels();
}

function report(name: string, stockMs: number, fastMs: number, extra = ''): void {
  console.log(`${name} stock_ms=${stockMs.toFixed(1)} fast_ms=${fastMs.toFixed(1)} speedup=${(stockMs / fastMs).toFixed(1)}x${extra}`);
}

/** Batch 32, 16x16x16 -> 16 filters, 3x3, same padding. */
function convLayerBench(): void {
  const x = tf.randomUniform([32, 16, 16, 16], -1, 1) as tf.Tensor4D;
  const filter = tf.randomUniform([3, 3, 16, 16], -1, 1) as tf.Tensor4D;
  const dy = tf.randomUniform([32, 16, 16, 16], -1, 1) as tf.Tensor4D;
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
  const forward = (): void =>
    tf.tidy(() => {
      tf.conv2d(x, filter, 1, 'same').dataSync();
    });
  const filterGrad = (): void =>
    tf.tidy(() => {
      (
        tf
          .engine()
          .runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
      ).dataSync();
    });
  const inputGrad = (): void =>
    tf.tidy(() => {
      (
        tf
          .engine()
          .runKernel(tf.Conv2DBackpropInput, { dy, filter }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor
      ).dataSync();
    });
  const trainStep = (): void =>
    tf.tidy(() => {
      const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), dy));
      tf.grads(loss)([x, filter]).forEach((g) => g.dataSync());
    });
  const flops = 2 * 32 * 16 * 16 * 3 * 3 * 16 * 16;

  const measureAll = (fast: boolean) => {
    useKernels(fast);
    const timing = fast ? FAST_TIMING : STOCK_TIMING;
    const slowTiming = fast ? FAST_TIMING : STOCK_SLOW_TIMING;
    return {
      forward: medianMs(forward, timing),
      filterGrad: medianMs(filterGrad, slowTiming),
      inputGrad: medianMs(inputGrad, timing),
      trainStep: medianMs(trainStep, slowTiming),
    };
  };
  const stock = measureAll(false);
  const fast = measureAll(true);
  useKernels(false);

  const gflops = (ms: number): string => (flops / ms / 1e6).toFixed(2);
  report('conv_forward', stock.forward, fast.forward, ` stock_gflops=${gflops(stock.forward)} fast_gflops=${gflops(fast.forward)}`);
  report('conv_filter_grad', stock.filterGrad, fast.filterGrad);
  report('conv_input_grad', stock.inputGrad, fast.inputGrad);
  report('conv_grads', stock.filterGrad + stock.inputGrad, fast.filterGrad + fast.inputGrad);
  const ratio = (t: typeof stock): string => ((t.filterGrad + t.inputGrad) / t.forward).toFixed(2);
  console.log(`conv_backward_forward_ratio stock=${ratio(stock)} fast=${ratio(fast)}`);
  report('conv_train_step', stock.trainStep, fast.trainStep);
  tf.dispose([x, filter, dy]);
}

function childModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({}));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return model;
}

/** One trainOnBatch (adam) of a small NAS child on 8x8x1 digits, batch 64. */
async function childTrainBench(): Promise<void> {
  const batch = 64;
  const xs = tf.randomUniform([batch, 8, 8, 1]);
  const ys = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
  const smallXs = xs.slice(0, 2);
  const smallYs = ys.slice(0, 2);

  const measure = async (fast: boolean): Promise<number> => {
    useKernels(fast);
    const model = childModel();
    // A tiny batch first compiles the training graph and JIT-warms the kernels cheaply.
    await model.trainOnBatch(smallXs, smallYs);
    const ms = await medianMsAsync(
      async () => {
        await model.trainOnBatch(xs, ys);
      },
      fast ? FAST_TIMING : STOCK_SLOW_TIMING,
    );
    model.dispose();
    return ms;
  };
  const stockMs = await measure(false);
  const fastMs = await measure(true);
  useKernels(false);
  const imagesPerSecond = (ms: number): string => ((batch / ms) * 1000).toFixed(0);
  report(
    'child_train_step',
    stockMs,
    fastMs,
    ` stock_images_per_s=${imagesPerSecond(stockMs)} fast_images_per_s=${imagesPerSecond(fastMs)}`,
  );
  tf.dispose([xs, ys, smallXs, smallYs]);
}

const macroLayer = (filterHeight: number, filterWidth: number, filters: number, inputs: number[]): MacroLayer => ({
  filterHeight,
  filterWidth,
  filters,
  stride: 1,
  inputs,
});

/** A macro child whose later layers read concatenated skip inputs, built as the search builds it. */
const SKIP_CHILD: MacroGraph = {
  kind: 'macro',
  layers: [macroLayer(3, 3, 16, []), macroLayer(3, 5, 32, [0]), macroLayer(1, 3, 8, [0, 1]), macroLayer(5, 5, 16, [1, 2])],
};
const SKIP_SPACE: MacroSpaceConfig = MACRO_SPACE;

/** One trainOnBatch (adam) of SKIP_CHILD on 8x8x1 digits, batch 64: the backward pass splits every concatenation. */
async function skipChildTrainBench(): Promise<void> {
  const batch = 64;
  const xs = tf.randomUniform([batch, 8, 8, 1]);
  const ys = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as tf.Tensor1D, 10);
  const smallXs = xs.slice(0, 2);
  const smallYs = ys.slice(0, 2);

  const measure = async (fast: boolean): Promise<number> => {
    useKernels(fast);
    const model = await buildModel(SKIP_CHILD, SKIP_SPACE, { inputShape: [8, 8, 1], classes: 10, seed: 1 });
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    await model.trainOnBatch(smallXs, smallYs);
    const ms = await medianMsAsync(
      async () => {
        await model.trainOnBatch(xs, ys);
      },
      fast ? FAST_TIMING : STOCK_SLOW_TIMING,
    );
    model.dispose();
    return ms;
  };
  const stockMs = await measure(false);
  const fastMs = await measure(true);
  useKernels(false);
  const imagesPerSecond = (ms: number): string => ((batch / ms) * 1000).toFixed(0);
  report(
    'skip_child_train_step',
    stockMs,
    fastMs,
    ` stock_images_per_s=${imagesPerSecond(stockMs)} fast_images_per_s=${imagesPerSecond(fastMs)}`,
  );
  tf.dispose([xs, ys, smallXs, smallYs]);
}

export async function runConvKernelBench(): Promise<void> {
  // Production mode, as the engine runs: no debug checks, no console banner.
  tf.enableProdMode();
  await tf.setBackend('cpu');
  convLayerBench();
  await childTrainBench();
  await skipChildTrainBench();
}

if (require.main === module) {
  runConvKernelBench().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
