// The ask/tell strategies, as the strategy kind modules (src/space/kinds/strategies) create them: a kind
// with `createAskTell` is ask/tell. One-shot kinds (enas, random-ws, darts) have a runner of their own
// instead, which may build one of these classes as its sampler.

import type { StrategyConfig } from '../../space/config.ts';
import type { Decision } from '../../space/decisions.ts';
import { strategyKind } from '../../space/kinds/strategies/registry.ts';
import type { Strategy } from './strategy.ts';

export function isAskTell(strategy: StrategyConfig): boolean {
  return strategyKind(strategy).createAskTell !== undefined;
}

export async function createAskTellStrategy(strategy: StrategyConfig, decisions: readonly Decision[], seed: number): Promise<Strategy> {
  const create = strategyKind(strategy).createAskTell;
  if (create === undefined) throw new Error(`strategy ${strategy.kind} is not an ask/tell strategy`);
  return create(strategy, decisions, seed);
}
