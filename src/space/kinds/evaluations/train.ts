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
}

const REWARD_EPOCHS_PATH = ['evaluation', 'reward_epochs'];

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
  },
  complete(evaluation, written) {
    // "The best of the last 5 epochs" of a shorter training means all of its epochs.
    if (!written(REWARD_EPOCHS_PATH)) evaluation.reward_epochs = Math.min(evaluation.reward_epochs, evaluation.epochs);
  },
};
