// One net on one backend in a process of its own, as a trainer runs it: node --import tsx bench/training-child.ts <net index> <backend>.
// Prints one JSON line: images per second of CPU time and of wall time, forward FLOPs, parameters, peak RSS,
// the convolution kernels' time in a few profiled steps, and the model's description for PyTorch.
// Backends 'cpu+native' and 'wasm+native' are cpu and wasm with the native prototype's convolutions
// (bench/native-conv); without the addon the line says {"skipped": why}. On 'webgpu' the steps are timed by
// the wall clock (the GPU's work is not this process's CPU time) and the kernels are not profiled.

import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/engine/backend.ts';
import { throwIfGpuFault } from '../src/engine/backends/webgpu.ts';
import { buildModel, countFlops } from '../src/engine/model/build.ts';
import type { BackendName } from '../src/space/config.ts';
import { scalarValues } from '../src/engine/tensor-values.ts';
import { cpuSecondsSince, timeConvKernels } from './conv-op-timing.ts';
import { checkAndRegisterNativeConvKernels, CHECK_TOLERANCE, loadNativeConv } from './native-conv/native-kernels.ts';
import { BENCH_NETS, describeModel } from './training-nets.ts';

const BATCH = 64;
const CLASSES = 10;
/** Seconds of timed steps per net and backend, after the warm-up (at least one timed step): CPU seconds, wall seconds on a GPU. */
const SECONDS = Number(process.env.BENCH_TRAINING_SECONDS ?? 4);
const MAX_STEPS = 40;
/** A GPU's step is short and its first steps compile shader pipelines: more steps, and a longer warm-up. */
const GPU_MAX_STEPS = 400;
const GPU_WARM_UP_STEPS = 3;
/** Steps run again with the convolution kernels timed, after the timed ones, so the timers never touch the figure. */
const PROFILED_STEPS = 2;
const NATIVE_SUFFIX = '+native';

async function main(): Promise<void> {
  const net = BENCH_NETS[Number(process.argv[2])];
  const native = process.argv[3].endsWith(NATIVE_SUFFIX);
  const backend = await selectBackend(process.argv[3].replace(NATIVE_SUFFIX, '') as BackendName);
  let nativeCheck: string | undefined;
  if (native) {
    const loaded = loadNativeConv();
    if ('why' in loaded) return console.log(JSON.stringify({ skipped: loaded.why }));
    const check = await checkAndRegisterNativeConvKernels(loaded.addon, loaded.isa, backend.name === 'wasm' ? 'wasm' : 'cpu');
    if (!(check.worst <= CHECK_TOLERANCE)) return console.log(JSON.stringify({ skipped: `check failed: ${check.line}` }));
    nativeCheck = check.line;
  }
  const model = await buildModel(net.graph, net.space, { inputShape: net.inputShape, classes: CLASSES, seed: 1 });
  // The trainer's step (train-from-scratch.ts): Adam, mean cross-entropy of the softmax outputs.
  const optimizer = tf.train.adam(1e-3);
  const images = tf.randomUniform([BATCH, ...net.inputShape]);
  const oneHot = tf.oneHot(tf.randomUniform([BATCH], 0, CLASSES, 'int32') as tf.Tensor1D, CLASSES);
  // The loss is read every step, asynchronously, as the trainer reads it: a GPU tensor has no synchronous read in Node.
  let loss = NaN;
  const step = async (): Promise<void> => {
    [loss] = await scalarValues([
      tf.tidy(
        () =>
          optimizer.minimize(() => {
            const predicted = model.apply(images, { training: true }) as tf.Tensor2D;
            return tf.mean(tf.metrics.categoricalCrossentropy(oneHot, predicted)) as tf.Scalar;
          }, true) as tf.Scalar,
      ),
    ]);
  };
  const onGpu = backend.name === 'webgpu';
  for (let i = 0; i < (onGpu ? GPU_WARM_UP_STEPS : 1); i++) await step();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const wallSecondsSince = (): number => (performance.now() - wallStart) / 1000;
  const timedSeconds = onGpu ? wallSecondsSince : () => cpuSecondsSince(cpuStart);
  let steps = 0;
  while (steps < 1 || (timedSeconds() < SECONDS && steps < (onGpu ? GPU_MAX_STEPS : MAX_STEPS))) {
    await step();
    steps++;
  }
  const cpuSeconds = cpuSecondsSince(cpuStart);
  const wallSeconds = wallSecondsSince();
  const profileStart = process.cpuUsage();
  // A GPU kernel call only queues work: its CPU time says nothing of the kernel's.
  const convOps = onGpu
    ? undefined
    : await timeConvKernels(tf.getBackend(), async () => {
        for (let i = 0; i < PROFILED_STEPS; i++) await step();
      });
  const profiledCpuSeconds = cpuSecondsSince(profileStart);
  // Work Dawn rejected computed nothing: its speed is no figure.
  throwIfGpuFault();
  const result = {
    net: net.name,
    backend: process.argv[3],
    detail: native ? `${backend.detail}, with the native prototype's convolutions` : backend.detail,
    nativeCheck,
    steps,
    loss,
    imagesPerCpuSecond: (steps * BATCH) / cpuSeconds,
    imagesPerSecond: (steps * BATCH) / wallSeconds,
    forwardFlops: countFlops(model),
    params: model.countParams(),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    convOps,
    profiledCpuSeconds,
    layers: describeModel(model),
    batch: BATCH,
    inputShape: net.inputShape,
  };
  console.log(JSON.stringify(result));
}

// Exits explicitly: Dawn, loaded by the webgpu backend, keeps Node alive.
main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
