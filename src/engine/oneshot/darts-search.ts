// DARTS' bilevel optimisation (Liu et al.): each step moves alpha on a validation minibatch, then the
// supernet weights w on a training minibatch. First order takes alpha's gradient at the current w;
// second order at the weights after one virtual SGD step, minus the learning rate times a
// finite-difference Hessian-vector product, as in the paper's code (the virtual step leaves out the
// momentum term).

import * as tf from '@tensorflow/tfjs';
import type { DartsConfig, CellSpaceConfig } from '../../space/config.ts';
import type { CellGraph } from '../../space/graph.ts';
import { batchOf, measure, type TensorPart, type TrainingData } from '../evaluators/train-from-scratch.ts';
import { saveTensor, savedValues, type SavedTensor } from '../strategies/saved-tensor.ts';
import { DartsSupernet, type CellMixing } from './darts-supernet.ts';
import { scalarValues } from '../tensor-values.ts';

/** The finite-difference step of the Hessian-vector product, over the norm of the vector (the paper's 0.01). */
const HESSIAN_STEP = 0.01;
/** Adam's betas and epsilon for alpha, as in the paper (PyTorch's Adam). */
const ALPHA_BETA1 = 0.5;
const ALPHA_BETA2 = 0.999;
const ALPHA_EPSILON = 1e-8;

export interface SavedOptimizer {
  iterations: number;
  slots: SavedTensor[];
}

/** Every tensor a DARTS search continues from: w, alpha and both optimizers' slots. */
export interface DartsTensors {
  weights: SavedTensor[];
  alphas: SavedTensor[];
  weightOptimizer: SavedOptimizer;
  alphaOptimizer: SavedOptimizer;
}

interface Batch {
  images: tf.Tensor4D;
  oneHot: tf.Tensor2D;
}

/** The weights' learning rate in an epoch (0-based): a cosine from w_learning_rate to w_learning_rate_min. */
export function weightLearningRate(config: DartsConfig, epoch: number): number {
  const { w_learning_rate: start, w_learning_rate_min: end } = config;
  return end + 0.5 * (start - end) * (1 + Math.cos((Math.PI * epoch) / config.epochs));
}

export class DartsDiverged extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
  ) {
    super(
      `DARTS diverged at epoch ${epoch}, step ${step}: its loss or architecture weights became NaN or infinite (try ` +
        `a smaller w_learning_rate or alpha_learning_rate)`,
    );
    this.name = 'DartsDiverged';
  }
}

export class DartsSearch {
  readonly supernet: DartsSupernet;
  private weightOptimizer: tf.MomentumOptimizer;
  private alphaOptimizer: AlphaAdam;

  constructor(
    readonly space: CellSpaceConfig,
    readonly config: DartsConfig,
    private readonly data: TrainingData,
    seed: number,
  ) {
    this.supernet = new DartsSupernet(space, data.shape, data.classes, seed);
    this.weightOptimizer = this.newWeightOptimizer();
    this.alphaOptimizer = new AlphaAdam(this.alphas, config.alpha_learning_rate);
  }

  private get alphas(): tf.Variable[] {
    return [this.supernet.alphas.normal, this.supernet.alphas.reduction];
  }

  /** One DARTS step. Returns the training minibatch's summed loss and correct predictions (before the weight update). */
  async step(train: Int32Array, validation: Int32Array, learningRate: number): Promise<{ loss: number; correct: number }> {
    this.weightOptimizer.setLearningRate(learningRate);
    tf.tidy(() => {
      const trainBatch = this.batch(this.data.train, train);
      const validationBatch = this.batch(this.data.validation, validation);
      const gradients = this.alphaGradients(trainBatch, validationBatch, learningRate);
      this.alphaOptimizer.apply(regularized(gradients, this.alphas, this.config.alpha_weight_decay, 0));
    });
    const [loss, correct, alphasFinite] = await scalarValues(
      tf.tidy(() => {
        const { images, oneHot } = this.batch(this.data.train, train);
        let hits: tf.Scalar | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const logits = this.supernet.logits(images, this.mixed());
          hits = tf.keep(tf.sum(tf.equal(tf.argMax(logits, 1), tf.argMax(oneHot, 1)))) as tf.Scalar;
          return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
        }, this.supernet.weights);
        const { w_weight_decay: decay, gradient_clip: clip } = this.config;
        this.weightOptimizer.applyGradients(regularized(grads, this.supernet.weights, decay, clip));
        return [value, hits!, tf.all(tf.stack(this.alphas.map((alpha) => tf.all(tf.isFinite(alpha)))))];
      }),
    );
    // Argmax of NaN alphas derives no operation at all; name the divergence instead.
    if (!Number.isFinite(loss) || alphasFinite !== 1) this.diverged();
    return { loss: loss * train.length, correct };
  }

  private diverged(): never {
    const stepsPerEpoch = Math.ceil(this.data.train.count / this.config.batch_size);
    const taken = this.alphaOptimizer.steps - 1;
    throw new DartsDiverged(Math.floor(taken / stepsPerEpoch) + 1, (taken % stepsPerEpoch) + 1);
  }

  /** The gradient of the validation loss with respect to alpha, of the configured order. Call inside tf.tidy. */
  alphaGradients(train: Batch, validation: Batch, learningRate: number): tf.NamedTensorMap {
    const validationLoss = () => this.supernet.loss(validation.images, validation.oneHot, this.mixed());
    if (this.config.order === 'first') return tf.variableGrads(validationLoss, this.alphas).grads;
    const trainLoss = () => this.supernet.loss(train.images, train.oneHot, this.mixed());
    const weights = this.supernet.weights;
    const original = weights.map((w) => w.clone());
    // w' = w - lr * (dL_train/dw + decay * w): one virtual step.
    const trainGradients = tf.variableGrads(trainLoss, weights).grads;
    weights.forEach((w) =>
      w.assign(tf.sub(w, tf.mul(tf.add(trainGradients[w.name], tf.mul(w, this.config.w_weight_decay)), learningRate))),
    );
    const unrolled = tf.variableGrads(validationLoss, [...weights, ...this.alphas]).grads;
    // The Hessian-vector product (d2 L_train / d alpha d w) * dL_val/dw', by central differences around w.
    // The radius stays a tensor: reading it would stall a GPU (and cannot be done synchronously on one).
    const radius = tf.div(HESSIAN_STEP, globalNorm(weights.map((w) => unrolled[w.name])));
    const alphaGradientsAt = (sign: 1 | -1) => {
      weights.forEach((w, i) => w.assign(tf.add(original[i], tf.mul(unrolled[w.name], tf.mul(radius, sign)))));
      return tf.variableGrads(trainLoss, this.alphas).grads;
    };
    const plus = alphaGradientsAt(1);
    const minus = alphaGradientsAt(-1);
    weights.forEach((w, i) => w.assign(original[i]));
    return Object.fromEntries(
      this.alphas.map((alpha) => [
        alpha.name,
        tf.sub(unrolled[alpha.name], tf.mul(tf.sub(plus[alpha.name], minus[alpha.name]), tf.div(learningRate / 2, radius))),
      ]),
    );
  }

  /** A derived cell's loss and accuracy on a part of the data, through the supernet's weights. */
  score(graph: CellGraph, part: TensorPart): Promise<{ loss: number; accuracy: number }> {
    return measure((images) => tf.softmax(this.supernet.logits(images, { kind: 'derived', graph })), part);
  }

  async getState(): Promise<DartsTensors> {
    return {
      weights: await Promise.all(this.supernet.weights.map((w, i) => saveTensor(`w${i}`, w))),
      alphas: await Promise.all(this.alphas.map((alpha, i) => saveTensor(`alpha${i}`, alpha))),
      weightOptimizer: await saveOptimizer(this.weightOptimizer),
      alphaOptimizer: await this.alphaOptimizer.getState(),
    };
  }

  /** Restores a state taken from a search on the same space; throws, before anything changes, if it does not fit. */
  async setState(state: DartsTensors): Promise<void> {
    const variables = [...this.supernet.weights, ...this.alphas];
    const saved = [...state.weights, ...state.alphas];
    const fits = saved.length === variables.length && saved.every((s, i) => sameShape(s.shape, variables[i].shape));
    if (!fits) throw new Error('the checkpoint was taken from a different supernet (weights or alphas do not match this space)');
    tf.tidy(() => saved.forEach((s, i) => variables[i].assign(tf.tensor(savedValues(s), s.shape))));
    this.weightOptimizer.dispose();
    this.weightOptimizer = await restoreOptimizer(this.newWeightOptimizer(), state.weightOptimizer);
    this.alphaOptimizer.setState(state.alphaOptimizer);
  }

  dispose(): void {
    this.supernet.dispose();
    this.weightOptimizer.dispose();
    this.alphaOptimizer.dispose();
  }

  private mixed(): CellMixing {
    const { normal, reduction } = this.supernet.alphas;
    return { kind: 'mixed', weights: { normal: tf.softmax(normal as tf.Tensor2D), reduction: tf.softmax(reduction as tf.Tensor2D) } };
  }

  private batch(part: TensorPart, indices: Int32Array): Batch {
    return batchOf(part, indices);
  }

  private newWeightOptimizer(): tf.MomentumOptimizer {
    return tf.train.momentum(this.config.w_learning_rate, this.config.w_momentum);
  }
}

/**
 * Adam on alpha, as PyTorch's. Not tfjs's: that one keeps beta^t as a running float32 product, which a
 * restore recomputes with pow, so a resumed search would drift from an uninterrupted one in the last bits.
 */
class AlphaAdam {
  /** Steps taken since the search began (restored with a checkpoint). */
  steps = 0;
  /** First then second moment of each alpha. */
  private readonly moments: tf.Variable[];

  constructor(
    private readonly alphas: tf.Variable[],
    private readonly learningRate: number,
  ) {
    this.moments = [...alphas, ...alphas].map((alpha) => tf.tidy(() => tf.variable(tf.zerosLike(alpha), false)));
  }

  apply(gradients: { name: string; tensor: tf.Tensor }[]): void {
    this.steps += 1;
    const firstCorrection = 1 - ALPHA_BETA1 ** this.steps;
    const secondCorrection = Math.sqrt(1 - ALPHA_BETA2 ** this.steps);
    tf.tidy(() =>
      this.alphas.forEach((alpha, i) => {
        const gradient = gradients[i].tensor;
        const [first, second] = [this.moments[i], this.moments[this.alphas.length + i]];
        first.assign(tf.add(tf.mul(first, ALPHA_BETA1), tf.mul(gradient, 1 - ALPHA_BETA1)));
        second.assign(tf.add(tf.mul(second, ALPHA_BETA2), tf.mul(tf.square(gradient), 1 - ALPHA_BETA2)));
        const denominator = tf.add(tf.div(tf.sqrt(second), secondCorrection), ALPHA_EPSILON);
        alpha.assign(tf.sub(alpha, tf.div(tf.mul(first, this.learningRate / firstCorrection), denominator)));
      }),
    );
  }

  async getState(): Promise<SavedOptimizer> {
    return { iterations: this.steps, slots: await Promise.all(this.moments.map((moment, i) => saveTensor(`moment${i}`, moment))) };
  }

  setState(saved: SavedOptimizer): void {
    if (saved.slots.length !== this.moments.length)
      throw new Error(`the checkpoint has ${saved.slots.length} alpha moments; expected ${this.moments.length}`);
    this.steps = saved.iterations;
    tf.tidy(() => saved.slots.forEach((slot, i) => this.moments[i].assign(tf.tensor(savedValues(slot), slot.shape))));
  }

  dispose(): void {
    tf.dispose(this.moments);
  }
}

/** Gradients plus L2 decay, scaled down to a global norm of `clip` when above it (0: no clipping), in the variables' order. */
function regularized(
  gradients: tf.NamedTensorMap,
  variables: tf.Variable[],
  decay: number,
  clip: number,
): { name: string; tensor: tf.Tensor }[] {
  const decayed = variables.map((v) => (decay > 0 ? tf.add(gradients[v.name], tf.mul(v, decay)) : gradients[v.name]));
  if (clip <= 0) return variables.map((v, i) => ({ name: v.name, tensor: decayed[i] }));
  // Computed on the device, not read: 1 when within the clip, so unclipped gradients are unchanged.
  const norm = globalNorm(decayed);
  const scale = tf.where(tf.greater(norm, clip), tf.div(clip, tf.add(norm, 1e-6)), tf.onesLike(norm));
  return variables.map((v, i) => ({ name: v.name, tensor: tf.mul(decayed[i], scale) }));
}

function globalNorm(tensors: tf.Tensor[]): tf.Scalar {
  return tf.sqrt(tf.addN(tensors.map((t) => tf.sum(tf.square(t))))) as tf.Scalar;
}

async function saveOptimizer(optimizer: tf.Optimizer): Promise<SavedOptimizer> {
  const [iterations, ...slots] = await optimizer.getWeights();
  const count = (await iterations.tensor.data())[0];
  iterations.tensor.dispose();
  return { iterations: count, slots: await Promise.all(slots.map((slot) => saveTensor(slot.name, slot.tensor))) };
}

async function restoreOptimizer<T extends tf.Optimizer>(optimizer: T, saved: SavedOptimizer): Promise<T> {
  const tensors = [
    { name: 'iter', tensor: tf.scalar(saved.iterations, 'int32') },
    ...saved.slots.map((slot) => ({ name: slot.name, tensor: tf.tensor(savedValues(slot), slot.shape) })),
  ];
  await optimizer.setWeights(tensors);
  // setWeights makes its own variables from these.
  tf.dispose(tensors.map((t) => t.tensor));
  return optimizer;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
