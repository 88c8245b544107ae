// Bayesian optimisation: no rules beyond the schema's.

import type { RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

/** Bayesian optimisation with a Gaussian process. */
export interface BayesianConfig {
  /** Random architectures evaluated before the model proposes. */
  initial: number;
  /** Candidates are every one-decision neighbour of this many of the best architectures so far... */
  parents: number;
  /** ...and this many random architectures. */
  random_candidates: number;
}

export type BayesianStrategyConfig = { kind: 'bayesian'; reward: RewardConfig } & BayesianConfig;

export const bayesianStrategy: StrategyKind<BayesianStrategyConfig> = {
  kind: 'bayesian',
  get description() {
    return kindDescription('strategy', 'bayesian');
  },
  createAskTell: async (strategy, decisions, seed) =>
    (await import('../../../engine/strategies/bayesian.ts')).bayesianKind.create(strategy, decisions, seed),
};
