// The reward every strategy kind's `reward` section sets: which metric, through which transform. A
// language model (a text data set) is scored by its validation perplexity, where lower is better, so
// the transforms that suit accuracy would reward the worst models.

import type { RewardConfig } from '../../config.ts';
import type { RuleContext } from '../rule-context.ts';

const REWARD = ['strategy', 'reward'];
const TRANSFORMS: Record<RewardConfig['metric'], RewardConfig['transform'][]> = {
  val_accuracy: ['identity', 'cube'],
  val_perplexity: ['inverse_power', 'neg_log'],
};

export function rewardRules(reward: RewardConfig, context: RuleContext): void {
  const text = context.config.dataset?.kind === 'text';
  if (reward.metric === 'val_perplexity' && !text && context.config.evaluation.kind !== 'command') {
    const message =
      `strategy.reward.metric: val_perplexity is a language model's measure, and this search trains on images; ` +
      `use val_accuracy, or dataset: { kind: text } (rule: reward-metric)`;
    context.report([...REWARD, 'metric'], message, 'reward-metric');
  }
  const allowed = TRANSFORMS[reward.metric];
  if (!allowed.includes(reward.transform)) {
    const message =
      `strategy.reward.transform: ${reward.transform} does not apply to ${reward.metric} (rule: reward-transform); ` +
      `allowed: ${allowed.join(', ')}`;
    context.report([...REWARD, 'transform'], message, 'reward-transform', { fallbackPath: [...REWARD, 'metric'] });
  }
}

/** A language model's search that names no metric is scored by NAS-RL's c / perplexity^k. */
export function completeReward(reward: RewardConfig, text: boolean, written: (path: readonly string[]) => boolean): void {
  if (!text || written([...REWARD, 'metric'])) return;
  reward.metric = 'val_perplexity';
  if (!written([...REWARD, 'transform'])) reward.transform = 'inverse_power';
}
