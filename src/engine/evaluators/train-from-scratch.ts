// The train-from-scratch evaluator: build the child network, train it for the configured epochs,
// and measure it. Runs inside a trainer worker (see trainer-pool.ts), one child at a time.

import * as tf from '@tensorflow/tfjs';
import type { SpaceConfig, TrainEvaluationConfig } from '../../space/config.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import { createRng, shuffledIndices } from '../../space/rng.ts';
import type { DatasetSplit, ImageDataset } from '../data/dataset.ts';
import { buildModel, countFlops } from '../model/build.ts';
import { saveModelFiles } from '../model/model-files.ts';
import type { TrainingGoal } from '../../protocol/trainer.ts';
import { SharedOptimizer } from '../oneshot/shared-optimizer.ts';
import { augmentBatch, learningRateAt, smoothedTargets } from './training-recipe.ts';
import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import { scalarValues } from '../tensor-values.ts';
import type { EpochVerdict } from './evaluator.ts';
import { checkLatency, measureLatency } from './latency.ts';

/**
 * A part of the data as a trainer holds it: the stored pixels (bytes for 8-bit images), made into float32
 * tensors one batch at a time by batchOf, so that no full float copy of the data set is ever held.
 */
export type TensorPart = Pick<ImageDataset, 'images' | 'pixelScale' | 'labels' | 'shape' | 'classes' | 'count'>;

/** The data a worker keeps for every child it trains. */
export interface TrainingData {
  train: TensorPart;
  validation: TensorPart;
  test: TensorPart;
  shape: [number, number, number];
  classes: number;
}

export function prepareTrainingData(split: DatasetSplit): TrainingData {
  const { train, validation, test } = split;
  return { train, validation, test, shape: train.shape, classes: train.classes };
}

/** Two parts of one data set as one: `first`'s examples, then `second`'s. */
function joinParts(first: TensorPart, second: TensorPart): TensorPart {
  if (first.pixelScale !== second.pixelScale) throw new Error('the parts of one data set store their pixels alike');
  const images =
    first.images instanceof Uint8Array
      ? new Uint8Array(first.images.length + second.images.length)
      : new Float32Array(first.images.length + second.images.length);
  images.set(first.images);
  images.set(second.images, first.images.length);
  const labels = new Int32Array(first.count + second.count);
  labels.set(first.labels);
  labels.set(second.labels, first.count);
  return { ...first, images, labels, count: first.count + second.count };
}

/**
 * The data a final retraining sees: it trains on the training and validation examples together (nothing is
 * chosen by it any more), and the test examples are what it holds out, measured after every epoch.
 */
function finalTrainingData(data: TrainingData): TrainingData {
  return { ...data, train: joinParts(data.train, data.validation), validation: data.test };
}

/** The examples at `indices` as float32 images in [0, 1] and one-hot labels: the one way every trainer makes a batch. */
export function batchOf(part: TensorPart, indices: Int32Array): { images: tf.Tensor4D; oneHot: tf.Tensor2D } {
  const imageSize = part.shape[0] * part.shape[1] * part.shape[2];
  const pixels = new Float32Array(indices.length * imageSize);
  const labels = new Int32Array(indices.length);
  indices.forEach((example, row) => {
    const from = example * imageSize;
    const to = row * imageSize;
    // Divided (not multiplied by the reciprocal) so each value is exactly the float a [0, 1] float store held.
    for (let i = 0; i < imageSize; i++) pixels[to + i] = part.images[from + i] / part.pixelScale;
    labels[row] = part.labels[example];
  });
  return tf.tidy(() => ({
    images: tf.tensor4d(pixels, [indices.length, ...part.shape]),
    oneHot: tf.oneHot(tf.tensor1d(labels, 'int32'), part.classes).toFloat() as tf.Tensor2D,
  }));
}

/** The `size` examples from `start` on, as batchOf makes them. */
export const rangeBatchOf = (part: TensorPart, start: number, size: number) =>
  batchOf(
    part,
    Int32Array.from({ length: size }, (_, i) => start + i),
  );

export class TrainingCancelled extends Error {
  constructor() {
    super('training was cancelled');
    this.name = 'TrainingCancelled';
  }
}

const EVALUATION_BATCH = 256;

/** Mean cross-entropy of the softmax outputs against one-hot labels. */
function crossEntropy(oneHot: tf.Tensor2D, predicted: tf.Tensor2D): tf.Scalar {
  return tf.mean(tf.metrics.categoricalCrossentropy(oneHot, predicted)) as tf.Scalar;
}

/** Mean loss and accuracy over a whole part, in batches; `predict` gives class probabilities. */
export async function measure(
  predict: (images: tf.Tensor4D) => tf.Tensor2D,
  part: TensorPart,
): Promise<{ loss: number; accuracy: number }> {
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < part.count; start += EVALUATION_BATCH) {
    const size = Math.min(EVALUATION_BATCH, part.count - start);
    const [batchLoss, batchCorrect] = await scalarValues(
      tf.tidy(() => {
        const { images, oneHot } = rangeBatchOf(part, start, size);
        const predicted = predict(images);
        return [tf.mul(crossEntropy(oneHot, predicted), size), tf.equal(tf.argMax(predicted, 1), tf.argMax(oneHot, 1)).sum()];
      }),
    );
    lossSum += batchLoss;
    correct += batchCorrect;
  }
  return { loss: lossSum / part.count, accuracy: correct / part.count };
}

const predictWith = (model: tf.LayersModel) => (images: tf.Tensor4D) => model.predict(images) as tf.Tensor2D;

/**
 * One training step's loss (mean cross-entropy against the smoothed targets), its gradients with respect
 * to `weights` (keyed by their names) and the batch's correct predictions; batch norm runs in training mode.
 * `hits` outlives an enclosing tidy (it is made inside the gradient's own scope): the caller disposes it.
 */
export function trainingGradients(
  model: tf.LayersModel,
  weights: tf.Variable[],
  images: tf.Tensor4D,
  oneHot: tf.Tensor2D,
  labelSmoothing: number,
): { loss: tf.Scalar; grads: tf.NamedTensorMap; hits: tf.Scalar } {
  const targets = smoothedTargets(oneHot, labelSmoothing);
  let hits: tf.Scalar | undefined;
  const { value: loss, grads } = tf.variableGrads(() => {
    const predicted = model.apply(images, { training: true }) as tf.Tensor2D;
    hits = tf.keep(tf.equal(tf.argMax(predicted, 1), tf.argMax(oneHot, 1)).sum()) as tf.Scalar;
    return crossEntropy(targets, predicted);
  }, weights);
  return { loss, grads, hits: hits! };
}

export interface TrainRequest {
  graph: ArchitectureGraph;
  space: SpaceConfig;
  evaluation: TrainEvaluationConfig;
  /** Seeds the initial weights and the minibatch order. */
  seed: number;
  /** A child whose latency is over it is not trained (RejectedBeforeTraining). */
  maxLatencyMs?: number;
}

/**
 * Trains the child for its epochs, or fewer: after each epoch `onEpoch` may answer 'stop' (a scheduler
 * pruned it). A pruned child is not measured on the test split: no search returns it, and on a large
 * test split that would cost a pruned child more than the epochs it saved.
 */
export async function trainFromScratch(
  request: TrainRequest & TrainingGoal,
  searchData: TrainingData,
  onEpoch: (metrics: EpochMetrics) => EpochVerdict | void | Promise<EpochVerdict | void>,
  isCancelled: () => boolean,
): Promise<TrialMeasurements> {
  const started = performance.now();
  const { evaluation } = request;
  const data = request.final ? finalTrainingData(searchData) : searchData;
  const model = await buildModel(request.graph, request.space, { inputShape: data.shape, classes: data.classes, seed: request.seed });
  const optimizer = new SharedOptimizer(evaluation.optimizer, evaluation.learning_rate, {
    nesterov: evaluation.nesterov,
    weightDecay: evaluation.weight_decay,
  });
  const weights = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  try {
    const example = rangeBatchOf(data.train, 0, 1);
    const latencyMs = await measureLatency(model, example.images).finally(() => tf.dispose(example));
    checkLatency(latencyMs, request.maxLatencyMs);
    const order = createRng(request.seed);
    // Its own stream, so that turning augmentation on leaves the minibatch order as it was.
    const augmentation = createRng(request.seed ^ 0x5bd1e995);
    const stepsPerEpoch = Math.ceil(data.train.count / evaluation.batch_size);
    const curve: EpochMetrics[] = [];
    let pruned = false;
    for (let epoch = 1, step = 0; epoch <= evaluation.epochs && !pruned; epoch++) {
      const epochStarted = performance.now();
      const permutation = shuffledIndices(data.train.count, order);
      let lossSum = 0;
      let correct = 0;
      // A batch's loss is read while the next batch is queued: on a GPU a read waits for the device, which
      // would then sit idle. So a diverged batch is caught one batch late.
      let unread: { batch: number; values: Promise<number[]> } | undefined;
      const count = async (read: typeof unread) => {
        if (!read) return;
        const [batchLoss, batchCorrect] = await read.values;
        // A diverged child (too high a learning rate) would train on in NaN and store metrics SQLite cannot hold.
        if (!Number.isFinite(batchLoss)) throw new Error(`training loss became ${batchLoss} at epoch ${epoch}, batch ${read.batch}`);
        lossSum += batchLoss;
        correct += batchCorrect;
      };
      try {
        for (let start = 0, batch = 1; start < data.train.count; start += evaluation.batch_size, batch++, step++) {
          // Yield between batches so a stop request is seen promptly.
          await new Promise((resolve) => setImmediate(resolve));
          if (isCancelled()) throw new TrainingCancelled();
          const indices = permutation.subarray(start, Math.min(start + evaluation.batch_size, data.train.count));
          optimizer.setLearningRate(learningRateAt(evaluation, step, evaluation.epochs * stepsPerEpoch, stepsPerEpoch));
          const previous = unread;
          unread = {
            batch,
            values: scalarValues(
              tf.tidy(() => {
                const batch = batchOf(data.train, indices);
                const images = augmentBatch(batch.images, evaluation.augment, augmentation);
                const { loss, grads, hits } = trainingGradients(model, weights, images, batch.oneHot, evaluation.label_smoothing);
                optimizer.apply(weights.map((weight) => ({ name: weight.name, weight, gradient: grads[weight.name] })));
                return [tf.mul(loss, indices.length), hits];
              }),
            ),
          };
          await count(previous);
        }
        const last = unread;
        unread = undefined;
        await count(last);
      } finally {
        // Leaving early (a stop, a diverged batch): the read under way still ends, and frees its tensors.
        await unread?.values.catch(() => undefined);
      }
      const validation = await measure(predictWith(model), data.validation);
      if (!Number.isFinite(validation.loss)) throw new Error(`validation loss became ${validation.loss} at epoch ${epoch}`);
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: lossSum / data.train.count,
        trainAccuracy: correct / data.train.count,
        valLoss: validation.loss,
        valAccuracy: validation.accuracy,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      curve.push(metrics);
      pruned = (await onEpoch(metrics)) === 'stop';
    }
    const lastEpochs = curve.slice(-Math.min(evaluation.reward_epochs, curve.length));
    // A final retraining held the test examples out: its last epoch measured them already.
    const testAccuracy = pruned
      ? null
      : request.final
        ? curve[curve.length - 1].valAccuracy
        : (await measure(predictWith(model), data.test)).accuracy;
    if (request.keepWeightsIn !== undefined && !pruned) await saveModelFiles(model, request.keepWeightsIn);
    return {
      valAccuracy: request.final ? curve[curve.length - 1].valAccuracy : Math.max(...lastEpochs.map((m) => m.valAccuracy)),
      testAccuracy,
      params: model.countParams(),
      flops: countFlops(model),
      latencyMs,
      seconds: (performance.now() - started) / 1000,
      curve,
      ...(request.keepWeightsIn !== undefined && !pruned ? { savedWeights: request.keepWeightsIn } : {}),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
