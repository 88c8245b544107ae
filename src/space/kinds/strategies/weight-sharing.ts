// What enas and random-ws share: a supernet trained through sampled children, and a trial count
// fixed by the settings.

import type { RuleContext } from '../rule-context.ts';
import { oneShotEvaluationRule } from './one-shot.ts';

/** ENAS and random search with weight sharing: how the shared supernet trains, and how many children are scored. */
export interface WeightSharingConfig {
  /** Passes over the training set; each minibatch (text: BPTT window) trains the shared weights through one sampled child. */
  epochs: number;
  /** Examples per minibatch, for training the shared weights and for scoring a child alike. */
  batch_size: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop';
  learning_rate: number;
  /** Children scored on one validation minibatch after each epoch (ENAS trains its controller on them). */
  children_per_epoch: number;
  /** K: children sampled at the end and scored on one validation batch; the best is retrained from scratch. */
  final_samples: number;
}

/** The trial records of an enas or random-ws search: the children scored during training, the final K, and the retrained one. */
export function weightSharingTrials(strategy: WeightSharingConfig): number {
  return strategy.epochs * strategy.children_per_epoch + strategy.final_samples + 1;
}

/** An enas or random-ws search makes a known number of trials, and trains shared weights on its data set. */
export function weightSharingRules(strategyKind: string, strategy: WeightSharingConfig, context: RuleContext): void {
  oneShotEvaluationRule(strategyKind, context);
  const { budget } = context.config;
  const trials = weightSharingTrials(strategy);
  if (context.written(['budget', 'trials']) && budget.trials !== trials) {
    const message =
      `budget.trials: a ${strategyKind} search makes one trial per scored child and one for the retrained architecture, ` +
      `strategy.epochs × strategy.children_per_epoch + strategy.final_samples + 1 = ${trials}, got ${budget.trials} (rule: ` +
      `oneshot-budget); allowed: ${trials}, or leave budget.trials out`;
    context.report(['budget', 'trials'], message, 'oneshot-budget');
  }
}
