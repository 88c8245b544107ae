// Learning-curve extrapolation (after Domhan et al. 2015).

import type { SchedulerKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { checkScheduler } from './common.ts';

export interface CurveSchedulerConfig {
  kind: 'curve';
  grace_epochs: number;
  confidence: number;
}

export const curveScheduler: SchedulerKind<CurveSchedulerConfig> = {
  kind: 'curve',
  get description() {
    return kindDescription('scheduler', 'curve');
  },
  check: (scheduler, context) => checkScheduler('curve', 'grace_epochs', scheduler.grace_epochs, 'scheduler-grace', context),
  rule: async (scheduler) => (await import('../../../engine/schedulers/curve.ts')).curveRule(scheduler),
};
