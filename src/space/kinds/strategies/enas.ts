// ENAS: a controller samples the children that train one supernet, and learns from their scores.

import type { ControllerConfig, RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { memoryBufferRules } from './reinforce.ts';
import { weightSharingRules, weightSharingTrials, type WeightSharingConfig } from './weight-sharing.ts';

// ENAS's controller may keep a memory buffer (Adam & Lorraine measured it on ENAS), as REINFORCE's does.
export type EnasStrategyConfig = {
  kind: 'enas';
  controller: ControllerConfig;
  reward: RewardConfig;
} & WeightSharingConfig;

export const enasStrategy: StrategyKind<EnasStrategyConfig> = {
  kind: 'enas',
  get description() {
    return kindDescription('strategy', 'enas');
  },
  // An enas checkpoint keeps the controller's strategy beside the supernet.
  controllerState: (state) => (state as { strategy: unknown }).strategy,
  runner: async () => (await import('../../../engine/oneshot/weight-sharing.ts')).weightSharingRunner,
  check(strategy, context) {
    weightSharingRules('enas', strategy, context);
    if (strategy.controller.memory_buffer) memoryBufferRules(strategy.controller.memory_buffer, context);
    // ENAS's controller must get to learn from the children scored during training.
    const scored = strategy.epochs * strategy.children_per_epoch;
    if (strategy.controller.batch_size > scored) {
      const message =
        `strategy.controller.batch_size: the controller updates once every batch_size scored children, ` +
        `and this search scores ${scored} (strategy.epochs × strategy.children_per_epoch), so it would never ` +
        `update with batch_size ${strategy.controller.batch_size} (rule: budget-batch); ` +
        `allowed: 1 to ${scored}, or more epochs or children_per_epoch`;
      context.report(['strategy', 'controller', 'batch_size'], message, 'budget-batch');
    }
  },
  derivedTrials: weightSharingTrials,
};
