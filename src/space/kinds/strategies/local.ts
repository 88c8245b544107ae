// Local search: no rules beyond the schema's.

import type { RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

/** Local search (White et al. 2020). */
export interface LocalSearchConfig {
  /** Random architectures evaluated before the first climb, which starts from the best of them. */
  initial: number;
}

export type LocalStrategyConfig = { kind: 'local'; reward: RewardConfig } & LocalSearchConfig;

export const localStrategy: StrategyKind<LocalStrategyConfig> = {
  kind: 'local',
  get description() {
    return kindDescription('strategy', 'local');
  },
  createAskTell: async (strategy, decisions, seed) =>
    (await import('../../../engine/strategies/local.ts')).localKind.create(strategy, decisions, seed),
};
