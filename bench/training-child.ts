// One net on one backend in a process of its own, as a trainer runs it: node --import tsx bench/training-child.ts <net index> <backend>.
// Prints one JSON line: images per second of CPU time and of wall time, forward FLOPs, parameters, peak RSS,
// and the model's description for PyTorch.

import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/engine/backend.ts';
import { buildModel, countFlops } from '../src/engine/model/build.ts';
import type { BackendName } from '../src/space/config.ts';
import { BENCH_NETS, describeModel } from './training-nets.ts';

const BATCH = 64;
const CLASSES = 10;
/** CPU seconds of timed steps per net and backend, after the warm-up step (at least one timed step). */
const SECONDS = Number(process.env.BENCH_TRAINING_SECONDS ?? 4);
const MAX_STEPS = 40;

async function main(): Promise<void> {
  const net = BENCH_NETS[Number(process.argv[2])];
  const backend = await selectBackend(process.argv[3] as BackendName);
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
  const result = {
    net: net.name,
    backend: backend.name,
    detail: backend.detail,
    steps,
    imagesPerCpuSecond: (steps * BATCH) / cpuSeconds,
    imagesPerSecond: (steps * BATCH) / wallSeconds,
    forwardFlops: countFlops(model),
    params: model.countParams(),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
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
