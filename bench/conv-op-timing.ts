// CPU time and FLOPs of the three dense convolution kernels on a backend, while a few profiled training steps run:
// the per-op GFLOP/s the training bench prints next to the sgemm limit. CPU time, not wall time, because the bench
// machine is shared: the same measure as the bench's images per CPU-second.

import * as tf from '@tensorflow/tfjs';

export const TIMED_CONV_KERNELS = [tf.Conv2D, tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput] as const;

export interface OpTime {
  calls: number;
  seconds: number;
  flops: number;
}

/** 2 x (output or dy elements) x filter taps: every kernel of a convolution does the forward pass's multiply-adds. */
function convFlops(kernelName: string, inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>): number {
  const filterShape = kernelName === tf.Conv2DBackpropFilter ? (attrs.filterShape as number[]) : inputs.filter.shape;
  const outputs = kernelName === tf.Conv2D ? undefined : inputs.dy.shape;
  const taps = filterShape[0] * filterShape[1] * filterShape[2];
  const outElements = (shape: number[]) => tf.util.sizeFromShape(shape);
  if (outputs) return 2 * outElements(outputs) * taps;
  const info = tf.backend_util.computeConv2DInfo(
    inputs.x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    attrs.pad as tf.Conv2DAttrs['pad'],
    attrs.dimRoundingMode as tf.Conv2DAttrs['dimRoundingMode'],
  );
  return 2 * outElements(info.outShape) * taps;
}

export function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/**
 * Wraps the backend's convolution kernels with timers while `run` runs, then puts them back. Only outermost calls
 * count: wasm's gradients call its Conv2D kernel from inside. CPU backends run a kernel when it is called, so
 * awaiting `run` (a training step reads its loss asynchronously) times the same work.
 */
export async function timeConvKernels(backendName: string, run: () => Promise<void>): Promise<Record<string, OpTime>> {
  const times: Record<string, OpTime> = {};
  const originals: tf.KernelConfig[] = [];
  let depth = 0;
  for (const kernelName of TIMED_CONV_KERNELS) {
    const original = tf.getKernel(kernelName, backendName);
    if (original === undefined) continue;
    originals.push(original);
    const time: OpTime = (times[kernelName] = { calls: 0, seconds: 0, flops: 0 });
    tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      ...original,
      kernelFunc: (args) => {
        if (depth > 0) return original.kernelFunc(args);
        depth++;
        const started = process.cpuUsage();
        try {
          return original.kernelFunc(args);
        } finally {
          time.seconds += cpuSecondsSince(started);
          time.calls++;
          time.flops += convFlops(kernelName, args.inputs as Record<string, tf.TensorInfo>, args.attrs as Record<string, unknown>);
          depth--;
        }
      },
    });
  }
  try {
    await run();
  } finally {
    for (const original of originals) {
      tf.unregisterKernel(original.kernelName, backendName);
      tf.registerKernel(original);
    }
  }
  return times;
}
