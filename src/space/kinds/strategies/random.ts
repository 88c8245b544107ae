// Uniform random sampling: no settings of its own, no rules beyond the schema's.

import type { RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

export interface RandomStrategyConfig {
  kind: 'random';
  reward: RewardConfig;
}

export const randomStrategy: StrategyKind<RandomStrategyConfig> = {
  kind: 'random',
  get description() {
    return kindDescription('strategy', 'random');
  },
  createAskTell: async (_strategy, decisions, seed) =>
    (await import('../../../engine/strategies/random.ts')).randomKind.create(undefined, decisions, seed),
};
