// Every scheduler kind, found by its `kind`; the union of scheduler configs (config.ts) follows from it.

import type { SchedulerConfig } from '../../config.ts';
import type { SchedulerKind } from '../kind-module.ts';
import { ashaScheduler } from './asha.ts';
import { curveScheduler } from './curve.ts';
import { hyperbandScheduler } from './hyperband.ts';
import { medianScheduler } from './median.ts';
import { noScheduler } from './none.ts';

export const SCHEDULER_KINDS = {
  none: noScheduler,
  median: medianScheduler,
  asha: ashaScheduler,
  hyperband: hyperbandScheduler,
  curve: curveScheduler,
};

/** The module of the scheduler's kind, typed for that scheduler. */
export function schedulerKind<Config extends SchedulerConfig>(scheduler: Config): SchedulerKind<Config> {
  return SCHEDULER_KINDS[scheduler.kind] as unknown as SchedulerKind<Config>;
}
