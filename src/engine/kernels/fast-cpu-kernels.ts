import * as tf from '@tensorflow/tfjs';
import { cpuAveragePoolGradient } from './average-pool-gradient.ts';
import type { FastKernel } from './cpu-backend.ts';
import { CONV_KERNELS } from './cpu-conv.ts';
import { TENSOR_OP_KERNELS } from './cpu-tensor-ops.ts';

// Registers the fast kernels of cpu-conv.ts and cpu-tensor-ops.ts, and the average pool gradient of
// average-pool-gradient.ts, in place of the 'cpu' backend's stock ones, and puts the stock ones back.

const BACKEND = 'cpu';

const FAST_KERNELS: ReadonlyArray<[string, FastKernel]> = [...CONV_KERNELS, ...TENSOR_OP_KERNELS, [tf.AvgPoolGrad, cpuAveragePoolGradient]];

/** The stock configs, kept while the fast kernels are registered so they can be restored. */
let stockConfigs: tf.KernelConfig[] | null = null;

function replaceKernel(config: tf.KernelConfig): void {
  tf.unregisterKernel(config.kernelName, BACKEND);
  tf.registerKernel(config);
}

/**
 * Replaces the 'cpu' backend's convolution kernels (and the tensor ops of cpu-tensor-ops.ts) with the fast ones; a second call does
 * nothing.
 */
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
