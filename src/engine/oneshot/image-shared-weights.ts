// The shared weights of an image supernet (cell and macro spaces): one training step per minibatch of a
// shuffled pass over the training set, a child scored on the next minibatch of a shuffled pass over the
// validation set (the final samples on its first minibatch).

import * as tf from '@tensorflow/tfjs';
import type { SpaceConfig } from '../../space/config.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import { createRng, shuffledIndices } from '../../space/rng.ts';
import { batchOf, type TensorPart, type TrainingData } from '../evaluators/train-from-scratch.ts';
import { scalarValues } from '../tensor-values.ts';
import type { SharedOptimizer } from './shared-optimizer.ts';
import type { SharedScore, SharedStep, SharedWeightsState, SharedWeightsTask } from './shared-weights.ts';
import { Supernet } from './supernet.ts';

/** A minibatch order per epoch (or per pass over the validation set), seeded by the run: a resume replays it. */
function order(seed: number, salt: number, pass: number, count: number): Int32Array {
  return shuffledIndices(count, createRng(seed * 1_000_003 + salt * 7_919 + pass));
}

/** Accuracy of a child with the shared weights on the given examples, with the child's size. */
export async function sharedWeightsAccuracy(
  supernet: Supernet,
  graph: ArchitectureGraph,
  part: TensorPart,
  indices: Int32Array,
): Promise<{ accuracy: number; params: number; flops: number }> {
  let size = { params: 0, flops: 0 };
  const [hits] = await scalarValues([
    tf.tidy(() => {
      const { images, oneHot } = batchOf(part, indices);
      const pass = supernet.forward(graph, images);
      size = { params: pass.params, flops: pass.flops };
      return tf.sum(tf.equal(tf.argMax(pass.logits, 1), tf.argMax(oneHot, 1)));
    }),
  ]);
  return { accuracy: hits / indices.length, ...size };
}

/** The first `size` examples of a part (the fixed batch the final samples, and every child's test figure, use). */
const firstBatch = (part: TensorPart, size: number) => Int32Array.from({ length: Math.min(size, part.count) }, (_, i) => i);

export class ImageSharedWeights implements SharedWeightsTask {
  private readonly supernet: Supernet;
  readonly stepsPerEpoch: number;

  constructor(
    space: SpaceConfig,
    private readonly data: TrainingData,
    private readonly optimizer: SharedOptimizer,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.supernet = new Supernet(space, { inputShape: data.shape, classes: data.classes, seed });
    this.stepsPerEpoch = Math.ceil(data.train.count / batchSize);
  }

  async trainStep(graph: ArchitectureGraph, epoch: number, step: number): Promise<SharedStep> {
    const count = this.data.train.count;
    const start = step * this.batchSize;
    const indices = order(this.seed, 1, epoch, count).subarray(start, Math.min(start + this.batchSize, count));
    const [meanLoss, hits] = await scalarValues(
      tf.tidy(() => {
        const { images, oneHot } = batchOf(this.data.train, indices);
        let hits: tf.Scalar | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const { logits } = this.supernet.forward(graph, images);
          // Made inside the gradient's own scope: kept, and disposed with the loss.
          hits = tf.keep(tf.sum(tf.equal(tf.argMax(logits, 1), tf.argMax(oneHot, 1)))) as tf.Scalar;
          return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
        }, this.supernet.variables);
        const byName = new Map(this.supernet.variables.map((v) => [v.name, v]));
        this.optimizer.apply(
          Object.entries(grads).map(([name, gradient]) => ({
            name: this.supernet.localName(byName.get(name)!),
            weight: byName.get(name)!,
            gradient,
          })),
        );
        return [value, hits!];
      }),
    );
    return { loss: meanLoss * indices.length, hits, count: indices.length };
  }

  async score(graph: ArchitectureGraph, batch: number | 'final'): Promise<SharedScore> {
    const validation = await sharedWeightsAccuracy(this.supernet, graph, this.data.validation, this.validationBatch(batch));
    const test = await sharedWeightsAccuracy(this.supernet, graph, this.data.test, firstBatch(this.data.test, this.batchSize));
    return { valAccuracy: validation.accuracy, testAccuracy: test.accuracy, params: validation.params, flops: validation.flops };
  }

  private validationBatch(batch: number | 'final'): Int32Array {
    const part = this.data.validation;
    if (batch === 'final') return firstBatch(part, this.batchSize);
    const perPass = Math.ceil(part.count / this.batchSize);
    const start = (batch % perPass) * this.batchSize;
    return order(this.seed, 2, Math.floor(batch / perPass), part.count).subarray(start, Math.min(start + this.batchSize, part.count));
  }

  describeEpoch({ loss, hits, count }: SharedStep): string {
    return count > 0 ? `: loss ${(loss / count).toFixed(4)}, accuracy of the sampled children ${(hits / count).toFixed(3)}` : '';
  }

  async getState(): Promise<SharedWeightsState> {
    return { supernet: await this.supernet.getState() };
  }

  setState(state: SharedWeightsState): void {
    this.supernet.setState(state.supernet);
  }

  dispose(): void {
    this.supernet.dispose();
  }
}
