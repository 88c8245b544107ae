// One net on one backend in a process of its own, as a trainer runs it: node --import tsx bench/training-child.ts <net index> <backend>.
// Prints one JSON line: images per second of CPU time and of wall time, forward FLOPs, parameters, peak RSS,
// the convolution kernels' time in a few profiled steps, and the model's description for PyTorch.
// Backends 'cpu+native' and 'wasm+native' are cpu and wasm with the native prototype's convolutions
// (bench/native-conv); without the addon the line says {"skipped": why}.

import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/engine/backend.ts';
import { buildModel, countFlops } from '../src/engine/model/build.ts';
import type { BackendName } from '../src/space/config.ts';
import { cpuSecondsSince, timeConvKernels } from './conv-op-timing.ts';
import { checkAndRegisterNativeConvKernels, CHECK_TOLERANCE, loadNativeConv } from './native-conv/native-kernels.ts';
import { BENCH_NETS, describeModel } from './training-nets.ts';

const BATCH = 64;
const CLASSES = 10;
/** CPU seconds of timed steps per net and backend, after the warm-up step (at least one timed step). */
const SECONDS = Number(process.env.BENCH_TRAINING_SECONDS ?? 4);
const MAX_STEPS = 40;
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
  const step = (): void =>
    tf.tidy(() => {
      const loss = optimizer.minimize(() => {
        const predicted = model.apply(images, { training: true }) as tf.Tensor2D;
        return tf.mean(tf.metrics.categoricalCrossentropy(oneHot, predicted)) as tf.Scalar;
      }, true) as tf.Scalar;
      loss.dataSync();
    });
  step();
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  let steps = 0;
  let cpuSeconds = 0;
  while (steps < 1 || (cpuSeconds < SECONDS && steps < MAX_STEPS)) {
    step();
    steps++;
    const used = process.cpuUsage(cpuStart);
    cpuSeconds = (used.user + used.system) / 1e6;
  }
  const wallSeconds = (performance.now() - wallStart) / 1000;
  const profileStart = process.cpuUsage();
  const convOps = timeConvKernels(tf.getBackend(), () => {
    for (let i = 0; i < PROFILED_STEPS; i++) step();
  });
  const profiledCpuSeconds = cpuSecondsSince(profileStart);
  const result = {
    net: net.name,
    backend: process.argv[3],
    detail: native ? `${backend.detail}, with the native prototype's convolutions` : backend.detail,
    nativeCheck,
    steps,
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
