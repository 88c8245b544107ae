// REINFORCE (NAS-RL): an LSTM controller learns once per batch of trials, optionally with a memory buffer.

import type { ControllerConfig, MemoryBufferConfig, RewardConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { kindDescription, type RuleContext } from '../rule-context.ts';

export interface ReinforceStrategyConfig {
  kind: 'reinforce';
  controller: ControllerConfig;
  reward: RewardConfig;
}

export const reinforceStrategy: StrategyKind<ReinforceStrategyConfig> = {
  kind: 'reinforce',
  get description() {
    return kindDescription('strategy', 'reinforce');
  },
  controllerState: (state) => state,
  createAskTell: async (strategy, decisions, seed) =>
    (await import('../../../engine/strategies/reinforce.ts')).reinforceKind.create(strategy, decisions, seed),
  check(strategy, context) {
    const { budget } = context.config;
    // The controller learns once per batch_size evaluated trials: a smaller budget never trains it.
    if (strategy.controller.batch_size > budget.trials) {
      const message =
        `strategy.controller.batch_size: the controller updates once every batch_size trials, so a ` +
        `budget of ${budget.trials} trials (budget.trials) never updates it with batch_size ${strategy.controller.batch_size} ` +
        `(rule: budget-batch); ` +
        `allowed: 1 to ${budget.trials}, or more budget.trials`;
      context.report(['strategy', 'controller', 'batch_size'], message, 'budget-batch');
    }
    if (strategy.controller.memory_buffer) memoryBufferRules(strategy.controller.memory_buffer, context);
  },
};

/** The buffer's counts relate to its size, and its loss needs the buffer to have started filling. */
export function memoryBufferRules(buffer: MemoryBufferConfig, context: RuleContext): void {
  const path = ['strategy', 'controller', 'memory_buffer'];
  const report = (key: string, message: string, rule: string) =>
    context.report([...path, key], `${path.join('.')}.${key}: ${message} (rule: ${rule})`, rule, { fallbackPath: path });
  for (const key of ['add_per_step', 'replace', 'batch_size'] as const) {
    if (buffer[key] > buffer.size)
      report(
        key,
        `must be at most memory_buffer.size (${buffer.size}), got ${buffer[key]}; the buffer never holds more than size architectures`,
        `buffer-${key.replace(/_/g, '-')}`,
      );
  }
  if (buffer.loss_start_step < buffer.start_step) {
    report(
      'loss_start_step',
      `must be at least memory_buffer.start_step (${buffer.start_step}), got ${buffer.loss_start_step}; ` +
        `the supervised loss is taken on buffer ` +
        `architectures, and the buffer starts filling at start_step`,
      'buffer-loss-start',
    );
  }
}
