// Asynchronous successive halving (Li et al. 2020), in its stopping form.

import type { SchedulerKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { checkScheduler } from './common.ts';

export interface AshaSchedulerConfig {
  kind: 'asha';
  min_epochs: number;
  reduction_factor: number;
}

export const ashaScheduler: SchedulerKind<AshaSchedulerConfig> = {
  kind: 'asha',
  get description() {
    return kindDescription('scheduler', 'asha');
  },
  check: (scheduler, context) => checkScheduler('asha', 'min_epochs', scheduler.min_epochs, 'scheduler-min-epochs', context),
  rule: async (scheduler, epochs) => (await import('../../../engine/schedulers/successive-halving.ts')).ashaRule(scheduler, epochs),
};
