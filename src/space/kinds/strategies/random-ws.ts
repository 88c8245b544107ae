// Random search with weight sharing: children sampled uniformly train one supernet.

import type { RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { weightSharingRules, weightSharingTrials, type WeightSharingConfig } from './weight-sharing.ts';

export type RandomWsStrategyConfig = { kind: 'random-ws'; reward: RewardConfig } & WeightSharingConfig;

export const randomWsStrategy: StrategyKind<RandomWsStrategyConfig> = {
  kind: 'random-ws',
  get description() {
    return kindDescription('strategy', 'random-ws');
  },
  runner: async () => (await import('../../../engine/oneshot/weight-sharing.ts')).weightSharingRunner,
  check: (strategy, context) => weightSharingRules('random-ws', strategy, context),
  derivedTrials: weightSharingTrials,
};
