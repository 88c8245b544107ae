// Hyperband (Li et al. 2017): brackets of asynchronous successive halving.

import type { SchedulerKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { checkBelowEpochs, checkSchedulerFits } from './common.ts';

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
  check(scheduler, context) {
    if (checkSchedulerFits('hyperband', context))
      checkBelowEpochs('hyperband', 'min_epochs', scheduler.min_epochs, context, 'scheduler-min-epochs');
  },
  rule: async (scheduler, epochs) => (await import('../../../engine/schedulers/successive-halving.ts')).hyperbandRule(scheduler, epochs),
};
