// No scheduler: every trial trains for all its epochs.

import type { SchedulerKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

export interface NoSchedulerConfig {
  kind: 'none';
}

export const noScheduler: SchedulerKind<NoSchedulerConfig> = {
  kind: 'none',
  get description() {
    return kindDescription('scheduler', 'none');
  },
  rule: async () => undefined,
};
