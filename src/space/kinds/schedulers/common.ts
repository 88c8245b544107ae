// What every scheduler kind checks: that the search trains its trials in epochs, one trial at a time
// per architecture (an ask/tell strategy), so that there is an epoch to stop after.

import type { SearchConfig } from '../../config.ts';
import type { RuleContext } from '../rule-context.ts';
import { strategyKind } from '../strategies/registry.ts';

/** The epochs a trial trains in full, when its evaluation trains in epochs (train, command). */
export function fullEpochs(config: SearchConfig): number | undefined {
  const { evaluation } = config;
  return evaluation.kind === 'tabular' ? undefined : evaluation.epochs;
}

/** Reports a scheduler the search cannot use; true when it fits (then the kind's own rules apply). */
function checkSchedulerFits(kind: string, context: RuleContext): boolean {
  const { config } = context;
  if (fullEpochs(config) === undefined) {
    const message =
      `scheduler.kind: ${kind} stops trials after an epoch, but evaluation kind ${config.evaluation.kind} has no epochs ` +
      `(a table lookup has no learning curve); use evaluation kind train or command, or scheduler kind none (rule: scheduler-needs-epochs)`;
    context.report(['scheduler', 'kind'], message, 'scheduler-needs-epochs');
    return false;
  }
  if (strategyKind(config.strategy).createAskTell === undefined) {
    const message =
      `scheduler.kind: ${kind} stops trials that train on their own; strategy ${config.strategy.kind} scores its children ` +
      `with shared weights, so there is no trial to stop (rule: scheduler-needs-ask-tell)`;
    context.report(['scheduler', 'kind'], message, 'scheduler-needs-ask-tell');
    return false;
  }
  return true;
}

/**
 * The rules of every scheduler kind but none: the search must fit it, and its first decision (`key`,
 * counted in epochs) must leave at least one epoch after it, or it never decides.
 */
export function checkScheduler(kind: string, key: string, value: number, rule: string, context: RuleContext): void {
  if (!checkSchedulerFits(kind, context)) return;
  const epochs = fullEpochs(context.config)!;
  if (value < epochs) return;
  const message =
    `scheduler.${key}: must be below evaluation.epochs (${epochs}), got ${value}; ` +
    `${kind} decides only after ${key} and before the last epoch (rule: ${rule})`;
  context.report(['scheduler', key], message, rule, { fallbackPath: ['scheduler', 'kind'] });
}
