// The reward every strategy kind's `reward` section sets: which metric, through which transform, and
// what a child's cost (parameters, FLOPs, latency) bounds or takes off it. A language model (a text data set) is
// scored by its validation perplexity, where lower is better, so the transforms that suit accuracy
// would reward the worst models.

import type { RewardConfig } from '../../config.ts';
import type { RuleContext } from '../rule-context.ts';
import { spaceKind } from '../spaces/registry.ts';
import { latencyMeasured, reportUnmeasuredLatency } from './latency.ts';
import { strategyKind } from './registry.ts';

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
  costRules(reward, context);
  latencyRules(reward, context);
}

/**
 * Latency objectives need children a trainer builds; a shared-weights strategy's children are scored in the
 * supernet, untimed (its max_latency_ms is refused by reward-constraints-strategy already).
 */
function latencyRules(reward: RewardConfig, context: RuleContext): void {
  const { config } = context;
  if (!latencyMeasured(config)) {
    if (reward.constraints?.max_latency_ms !== undefined) reportUnmeasuredLatency([...REWARD, 'constraints', 'max_latency_ms'], context);
    if (reward.penalty?.latency !== undefined) reportUnmeasuredLatency([...REWARD, 'penalty', 'latency'], context);
  } else if (reward.penalty?.latency !== undefined && strategyKind(config.strategy).createAskTell === undefined) {
    const message =
      `strategy.reward.penalty.latency: strategy ${config.strategy.kind} scores its children with shared weights, in ` +
      `the supernet, where no child is built and timed; use an ask/tell strategy (random, evolution, local, bayesian, ` +
      `reinforce), or penalise params or flops (rule: reward-latency-unmeasured)`;
    context.report([...REWARD, 'penalty', 'latency'], message, 'reward-latency-unmeasured', { atKey: true });
  }
}

/**
 * Constraints are checked on counts made from shapes before a child is evaluated, which only the ask/tell
 * loop does, for the networks NAS Studio builds or the benchmark's; a penalty is taken off the accuracy's
 * scale (a perplexity's transforms have scales of their own).
 */
function costRules(reward: RewardConfig, context: RuleContext): void {
  const { config } = context;
  for (const section of ['constraints', 'penalty'] as const) {
    if (reward[section] === undefined || reward.metric === 'val_accuracy') continue;
    const message =
      `strategy.reward.${section}: a cost ${section === 'penalty' ? 'penalty' : 'constraint'} applies to a ` +
      `val_accuracy reward, and this search's metric is ${reward.metric} (rule: reward-cost-metric)`;
    context.report([...REWARD, section], message, 'reward-cost-metric', { atKey: true });
  }
  const constraints = reward.constraints;
  if (constraints === undefined) return;
  const where = [...REWARD, 'constraints'];
  if (strategyKind(config.strategy).createAskTell === undefined) {
    const message =
      `strategy.reward.constraints: strategy ${config.strategy.kind} scores its children with shared weights, ` +
      `so no child is checked before it is evaluated; use an ask/tell strategy (random, evolution, local, bayesian, ` +
      `reinforce), or strategy.reward.penalty (rule: reward-constraints-strategy)`;
    context.report(where, message, 'reward-constraints-strategy', { atKey: true });
  }
  if (config.evaluation.kind === 'command') {
    const message =
      `strategy.reward.constraints: evaluation kind command trains a network of your own program, whose size ` +
      `NAS Studio cannot count before it runs; use evaluation kind train or tabular, or strategy.reward.penalty ` +
      `with the params and flops your program reports (rule: reward-constraints-evaluation)`;
    context.report(where, message, 'reward-constraints-evaluation', { atKey: true });
  }
  // Latency has no counter: the trainer measures it on the built child (latencyRules).
  const counters = { max_params: spaceKind(config.space).countParameters, max_flops: spaceKind(config.space).countFlops };
  for (const limit of ['max_params', 'max_flops'] as const) {
    if (constraints[limit] === undefined || counters[limit] !== undefined) continue;
    const instead =
      limit === 'max_flops'
        ? 'bound its size with max_params, or weigh FLOPs with strategy.reward.penalty.flops'
        : 'use strategy.reward.penalty.params';
    const message =
      `strategy.reward.constraints.${limit}: the ${limit === 'max_flops' ? 'FLOPs' : 'parameters'} of a ${config.space.kind} ` +
      `child are counted on the built model, while it trains, not before; ${instead} (rule: reward-constraint-uncountable)`;
    context.report([...where, limit], message, 'reward-constraint-uncountable', { atKey: true });
  }
}

/** A language model's search that names no metric is scored by NAS-RL's c / perplexity^k. */
export function completeReward(reward: RewardConfig, text: boolean, written: (path: readonly string[]) => boolean): void {
  if (!text || written([...REWARD, 'metric'])) return;
  reward.metric = 'val_perplexity';
  if (!written([...REWARD, 'transform'])) reward.transform = 'inverse_power';
}
