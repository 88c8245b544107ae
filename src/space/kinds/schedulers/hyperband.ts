// Hyperband (Li et al. 2017): brackets of asynchronous successive halving.

import type { SchedulerKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { checkScheduler } from './common.ts';

export interface HyperbandSchedulerConfig {
  kind: 'hyperband';
  min_epochs: number;
  reduction_factor: number;
}

export const hyperbandScheduler: SchedulerKind<HyperbandSchedulerConfig> = {
  kind: 'hyperband',
  get description() {
    return kindDescription('scheduler', 'hyperband');
  },
  check: (scheduler, context) => checkScheduler('hyperband', 'min_epochs', scheduler.min_epochs, 'scheduler-min-epochs', context),
  rule: async (scheduler, epochs) => (await import('../../../engine/schedulers/successive-halving.ts')).hyperbandRule(scheduler, epochs),
};
