// Train each architecture from scratch; the reward is the best validation accuracy of the last epochs.

import type { EvaluationKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

/** Train each architecture from scratch. Runs stored before evaluation kinds existed have no `kind`. */
export interface TrainEvaluationConfig {
  kind: 'train';
  epochs: number;
  batch_size: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop';
  learning_rate: number;
  /** The reward is the best validation accuracy of the last k epochs (NAS-RL). */
  reward_epochs: number;
  /** SGD with Nesterov momentum (NAS-RL's children). */
  nesterov: boolean;
  /** constant, or cosine: annealed to 0 by the last step (SGDR without restarts, as ENAS and DARTS train). */
  lr_schedule: 'constant' | 'cosine';
  /** Epochs over which the rate rises linearly from near 0 to `learning_rate`. */
  warmup_epochs: number;
  /** L2 penalty on every weight, added to its gradient (PyTorch's `weight_decay`). */
  weight_decay: number;
  /** Mixes the one-hot targets with the uniform distribution by this much. */
  label_smoothing: number;
  augment: TrainingAugmentation;
  /** The final recipe a chosen architecture is retrained with; each setting replaces the search's (see finalRecipe). */
  retrain?: RetrainRecipe;
  /** Language models: tokens per truncated back-propagation window. Absent in runs stored before language models. */
  bptt: number;
  /** Language models: the gradients' global L2 norm is clipped to this; 0 is off. */
  clip_norm: number;
  /** Language models: dropout on embeddings and cell outputs while training. */
  dropout: number;
}

/** The settings a final retraining may change. */
export type RetrainRecipe = Partial<
  Pick<
    TrainEvaluationConfig,
    'epochs' | 'batch_size' | 'learning_rate' | 'lr_schedule' | 'warmup_epochs' | 'weight_decay' | 'label_smoothing' | 'augment'
  >
>;

/** Random changes to each training image, drawn from the trial's seed; validation and test images are never changed. */
export interface TrainingAugmentation {
  /** Zero-pad each side by this many pixels, then crop the image's size back at a random offset. */
  crop_padding: number;
  /** Mirror half of the images left to right (not for digits or text, whose meaning it changes). */
  horizontal_flip: boolean;
}

const REWARD_EPOCHS_PATH = ['evaluation', 'reward_epochs'];
const NESTEROV_PATH = ['evaluation', 'nesterov'];
const WARMUP_PATH = ['evaluation', 'warmup_epochs'];

export const trainEvaluation: EvaluationKind<TrainEvaluationConfig> = {
  kind: 'train',
  get description() {
    return kindDescription('evaluation', 'train');
  },
  evaluator: async () => (await import('../../../engine/evaluators/train.ts')).trainEvaluatorKind,
  check(evaluation, context) {
    if (context.written(REWARD_EPOCHS_PATH) && evaluation.reward_epochs > evaluation.epochs) {
      const message =
        `evaluation.reward_epochs: must be at most evaluation.epochs (${evaluation.epochs}), ` +
        `got ${evaluation.reward_epochs}; the reward is the best ` +
        `validation accuracy of the last reward_epochs epochs (rule: reward-epochs)`;
      context.report(REWARD_EPOCHS_PATH, message, 'reward-epochs');
    }
    if (evaluation.nesterov && evaluation.optimizer !== 'sgd') {
      const message =
        `evaluation.nesterov: Nesterov momentum is a form of SGD; set optimizer: sgd ` +
        `(it is ${evaluation.optimizer}) or leave nesterov out (rule: nesterov-needs-sgd)`;
      context.report(NESTEROV_PATH, message, 'nesterov-needs-sgd');
    }
    if (evaluation.warmup_epochs >= evaluation.epochs) {
      const message =
        `evaluation.warmup_epochs: must be below evaluation.epochs (${evaluation.epochs}), ` +
        `got ${evaluation.warmup_epochs}; training at the full rate needs at least part of an epoch (rule: warmup-epochs)`;
      context.report(WARMUP_PATH, message, 'warmup-epochs');
    }
  },
  complete(evaluation, written) {
    // "The best of the last 5 epochs" of a shorter training means all of its epochs.
    if (!written(REWARD_EPOCHS_PATH)) evaluation.reward_epochs = Math.min(evaluation.reward_epochs, evaluation.epochs);
  },
};
