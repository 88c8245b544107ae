// Where a child's latency exists: the trainer times the image classifier it builds, before training it.
// A table, a program of one's own and a language model have none, so a latency objective there is refused.
// Apart from reward.ts so that evolution's rules can use it without importing the strategy registry back.

import type { SearchConfig } from '../../config.ts';
import { isImageDataset } from '../datasets/registry.ts';
import type { RuleContext } from '../rule-context.ts';

/** Latency is timed by the trainer on the image classifier it builds; a table, a program and a language model have none. */
export function latencyMeasured(config: SearchConfig): boolean {
  return config.evaluation.kind === 'train' && config.dataset !== undefined && isImageDataset(config.dataset);
}

/** Reports a latency objective (`path`) in a search whose children have no measured latency (rule: reward-latency-unmeasured). */
export function reportUnmeasuredLatency(path: readonly string[], context: RuleContext): void {
  const { config } = context;
  const evaluated =
    config.evaluation.kind === 'train' ? `trains on ${config.dataset?.kind ?? 'no'} data` : `is evaluated by ${config.evaluation.kind}`;
  const message =
    `${path.join('.')}: latency is measured by the trainer on a built image classifier, before it trains, and this ` +
    `search ${evaluated}; use evaluation kind train on an image data set, or weigh params or flops instead ` +
    `(rule: reward-latency-unmeasured)`;
  context.report(path, message, 'reward-latency-unmeasured', { atKey: true });
}
