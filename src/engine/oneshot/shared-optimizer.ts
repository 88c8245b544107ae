// The optimizer of a supernet's shared weights, and of a child trained from scratch (whose recipe needs
// a learning rate per step, Nesterov momentum and weight decay, which tfjs's optimizers cannot all do).
// Each supernet step trains one child, so only the weights that child uses have a gradient. tfjs's
// optimizers key their slots by the position of a gradient in the step's list, which shifts when the
// set of weights changes; this one keys them by weight name, and leaves the weights a step does not
// touch (and their moments) alone, as PyTorch's optimizers do.

import * as tf from '@tensorflow/tfjs';
import type { TrainEvaluationConfig } from '../../space/config.ts';
import { saveTensor, savedValues, type SavedTensor } from '../strategies/saved-tensor.ts';

export type SharedOptimizerKind = TrainEvaluationConfig['optimizer'];

const MOMENTUM = 0.9;
const BETA1 = 0.9;
const BETA2 = 0.999;
const RMS_DECAY = 0.9;
// tfjs's default epsilon, so a shared weight moves as a child's would under tf.train.*.
const EPSILON = 1e-7;

interface Slot {
  /** Steps this weight has taken (Adam's bias correction counts per weight). */
  steps: number;
  moments: tf.Variable[];
}

export interface SharedOptimizerState {
  slots: { name: string; steps: number; moments: SavedTensor[] }[];
}

export interface OptimizerRecipe {
  /** SGD only: step along the gradient plus the momentum ahead (PyTorch's `nesterov=True`). */
  nesterov?: boolean;
  /** Added to each gradient times its weight (PyTorch's coupled `weight_decay`, an L2 penalty). */
  weightDecay?: number;
}

export class SharedOptimizer {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly kind: SharedOptimizerKind,
    private learningRate: number,
    private readonly recipe: OptimizerRecipe = {},
  ) {}

  /** For a schedule: the rate of the steps from now on. */
  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  /** One step on the weights that have a gradient; `name` keys each weight's moments. */
  apply(updates: readonly { name: string; weight: tf.Variable; gradient: tf.Tensor }[]): void {
    for (const { name, weight, gradient } of updates) {
      const slot = this.slotOf(name, weight);
      slot.steps += 1;
      const decay = this.recipe.weightDecay ?? 0;
      tf.tidy(() => weight.assign(tf.sub(weight, this.delta(slot, decay > 0 ? tf.add(gradient, tf.mul(weight, decay)) : gradient))));
    }
  }

  private delta(slot: Slot, g: tf.Tensor): tf.Tensor {
    const lr = this.learningRate;
    switch (this.kind) {
      case 'sgd': {
        const [velocity] = slot.moments;
        velocity.assign(tf.add(tf.mul(velocity, MOMENTUM), g));
        return tf.mul(this.recipe.nesterov ? tf.add(g, tf.mul(velocity, MOMENTUM)) : velocity, lr);
      }
      case 'rmsprop': {
        const [meanSquare] = slot.moments;
        meanSquare.assign(tf.add(tf.mul(meanSquare, RMS_DECAY), tf.mul(tf.square(g), 1 - RMS_DECAY)));
        return tf.div(tf.mul(g, lr), tf.sqrt(tf.add(meanSquare, EPSILON)));
      }
      case 'adam': {
        const [first, second] = slot.moments;
        first.assign(tf.add(tf.mul(first, BETA1), tf.mul(g, 1 - BETA1)));
        second.assign(tf.add(tf.mul(second, BETA2), tf.mul(tf.square(g), 1 - BETA2)));
        const step = lr * (Math.sqrt(1 - BETA2 ** slot.steps) / (1 - BETA1 ** slot.steps));
        return tf.div(tf.mul(first, step), tf.add(tf.sqrt(second), EPSILON));
      }
    }
  }

  private slotOf(name: string, weight: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      const count = this.kind === 'adam' ? 2 : 1;
      slot = { steps: 0, moments: Array.from({ length: count }, () => tf.tidy(() => tf.variable(tf.zerosLike(weight), false))) };
      this.slots.set(name, slot);
    }
    return slot;
  }

  /** The moments of every weight trained so far, as plain JSON. */
  async getState(): Promise<SharedOptimizerState> {
    return {
      slots: await Promise.all(
        [...this.slots].map(async ([name, slot]) => ({
          name,
          steps: slot.steps,
          moments: await Promise.all(slot.moments.map((m, i) => saveTensor(`${name}/${i}`, m))),
        })),
      ),
    };
  }

  setState(state: SharedOptimizerState): void {
    this.dispose();
    for (const saved of state.slots) {
      const moments = saved.moments.map((m) => tf.tidy(() => tf.variable(tf.tensor(savedValues(m), m.shape), false)));
      this.slots.set(saved.name, { steps: saved.steps, moments });
    }
  }

  dispose(): void {
    this.slots.forEach((slot) => slot.moments.forEach((m) => m.dispose()));
    this.slots.clear();
  }
}
