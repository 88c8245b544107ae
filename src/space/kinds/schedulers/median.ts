// The median stopping rule (Golovin et al. 2017, Google Vizier).

import type { SchedulerKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { checkScheduler } from './common.ts';

export interface MedianSchedulerConfig {
  kind: 'median';
  grace_epochs: number;
  min_trials: number;
}

export const medianScheduler: SchedulerKind<MedianSchedulerConfig> = {
  kind: 'median',
  get description() {
    return kindDescription('scheduler', 'median');
  },
  check: (scheduler, context) => checkScheduler('median', 'grace_epochs', scheduler.grace_epochs, 'scheduler-grace', context),
  rule: async (scheduler) => (await import('../../../engine/schedulers/median.ts')).medianRule(scheduler),
};
