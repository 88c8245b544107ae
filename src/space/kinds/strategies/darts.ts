// DARTS relaxes the cell space's choices, and its trials are its search epochs and retrained cells.

import type { RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { oneShotEvaluationRule } from './one-shot.ts';

/** DARTS' search: the supernet's training and how many derived cells are retrained. */
export interface DartsConfig {
  epochs: number;
  batch_size: number;
  /** SGD with momentum on the supernet weights, cosine-annealed from w_learning_rate to w_learning_rate_min. */
  w_learning_rate: number;
  w_learning_rate_min: number;
  w_momentum: number;
  w_weight_decay: number;
  /** Global-norm clip of the weights' gradient; 0 turns it off. */
  gradient_clip: number;
  /** Adam on alpha. */
  alpha_learning_rate: number;
  alpha_weight_decay: number;
  order: 'first' | 'second';
  /** Derived cells retrained from scratch: the final one, then the best earlier ones by shared-weights accuracy. */
  retrain: number;
}

export type DartsStrategyConfig = { kind: 'darts'; reward: RewardConfig } & DartsConfig;

const dartsTrials = (strategy: DartsConfig) => strategy.epochs + strategy.retrain;

export const dartsStrategy: StrategyKind<DartsStrategyConfig> = {
  kind: 'darts',
  get description() {
    return kindDescription('strategy', 'darts');
  },
  // The alphas are charted for a cell space, the only one DARTS searches.
  dashboard: async (_strategy, space, store, runId) =>
    space.kind === 'cell' ? (await import('../../../engine/oneshot/darts-supernet.ts')).dartsDashboard(space, store, runId) : {},
  runner: async () => (await import('../../../engine/oneshot/darts.ts')).dartsRunner,
  check(strategy, context) {
    oneShotEvaluationRule('darts', context);
    const { space, budget } = context.config;
    if (space.kind !== 'cell') {
      // DARTS' recurrent search (a softmax over each node's inputs and activations) is not built: say what searches a recurrent cell.
      const elsewhere = space.kind === 'recurrent' ? '; a recurrent cell is searched by enas, random-ws or an ask/tell strategy' : '';
      const message = `space.kind: strategy darts searches a cell space, got ${space.kind} (rule: darts-space); allowed: cell${elsewhere}`;
      context.report(['space', 'kind'], message, 'darts-space');
      return;
    }
    const trials = dartsTrials(strategy);
    if (context.written(['budget', 'trials']) && budget.trials !== trials) {
      const message =
        `budget.trials: a darts search makes one trial per search epoch and one per retrained cell, ` +
        `strategy.epochs + strategy.retrain = ${trials}, got ${budget.trials} (rule: darts-budget); ` +
        `allowed: ${trials}, or leave budget.trials ` +
        `out`;
      context.report(['budget', 'trials'], message, 'darts-budget');
    }
  },
  derivedTrials: dartsTrials,
};
