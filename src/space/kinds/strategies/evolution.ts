// Regularized evolution: a tournament draws from the population, a mutation changes decisions.

import type { RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { spaceKind } from '../spaces/registry.ts';
import { latencyMeasured, reportUnmeasuredLatency } from './latency.ts';

/** Regularized evolution (Real et al.). */
export interface EvolutionConfig {
  /** P: the most recently evaluated architectures kept; the first P are random. */
  population_size: number;
  /** S: members drawn for each tournament; the best one is mutated. At most P. */
  sample_size: number;
  /** Decisions a mutation changes, each to another of its options. */
  mutated_decisions: number;
  /** Pareto mode (NSGA-II): the reward is maximised and these costs minimised, as separate objectives. */
  pareto?: { minimise: ParetoCost[] };
}

/** A trial's measured cost that Pareto evolution can minimise beside the reward. */
export type ParetoCost = 'params' | 'flops' | 'latency';

export type EvolutionStrategyConfig = { kind: 'evolution'; reward: RewardConfig } & EvolutionConfig;

export const evolutionStrategy: StrategyKind<EvolutionStrategyConfig> = {
  kind: 'evolution',
  get description() {
    return kindDescription('strategy', 'evolution');
  },
  createAskTell: async (strategy, decisions, seed) =>
    (await import('../../../engine/strategies/evolution.ts')).evolutionKind.create(strategy, decisions, seed),
  // The dashboard's Pareto chart puts the first cost the front minimised on its axis.
  dashboard: async (strategy) => (strategy.pareto ? { pareto: { minimise: strategy.pareto.minimise[0] } } : {}),
  check(strategy, context) {
    if (strategy.sample_size > strategy.population_size) {
      const message =
        `strategy.sample_size: must be at most strategy.population_size (${strategy.population_size}), ` +
        `got ${strategy.sample_size}; a tournament draws ` +
        `distinct members of the population (rule: sample-size)`;
      context.report(['strategy', 'sample_size'], message, 'sample-size', { fallbackPath: ['strategy', 'population_size'] });
    }
    const { space } = context.config;
    const mutable = spaceKind(space)
      .compile(space)
      .filter((d) => d.options.length > 1).length;
    if (strategy.mutated_decisions > mutable) {
      const message =
        `strategy.mutated_decisions: must be at most ${mutable}, the decisions of this space that have more than ` +
        `one option, got ${strategy.mutated_decisions} (rule: mutated-decisions)`;
      context.report(['strategy', 'mutated_decisions'], message, 'mutated-decisions');
    }
    if (strategy.pareto?.minimise.includes('latency') && !latencyMeasured(context.config))
      reportUnmeasuredLatency(['strategy', 'pareto', 'minimise'], context);
  },
};
