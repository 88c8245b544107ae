// Every strategy kind, found by its `kind`. A new kind is its module and one line here: the union of
// strategy configs (config.ts) and the engine's runner for it follow from this registry.

import type { StrategyConfig } from '../../config.ts';
import type { StrategyKind } from '../kind-module.ts';
import { bayesianStrategy } from './bayesian.ts';
import { dartsStrategy } from './darts.ts';
import { enasStrategy } from './enas.ts';
import { evolutionStrategy } from './evolution.ts';
import { localStrategy } from './local.ts';
import { randomWsStrategy } from './random-ws.ts';
import { randomStrategy } from './random.ts';
import { reinforceStrategy } from './reinforce.ts';

export const STRATEGY_KINDS = {
  random: randomStrategy,
  reinforce: reinforceStrategy,
  evolution: evolutionStrategy,
  local: localStrategy,
  bayesian: bayesianStrategy,
  enas: enasStrategy,
  'random-ws': randomWsStrategy,
  darts: dartsStrategy,
};

/** The module of the strategy's kind, typed for that strategy. */
export function strategyKind<Config extends StrategyConfig>(strategy: Config): StrategyKind<Config> {
  return STRATEGY_KINDS[strategy.kind] as unknown as StrategyKind<Config>;
}

/** The strategy kinds with an LSTM controller, which controller insight analyses. */
export function controllerKinds(): string[] {
  return Object.values(STRATEGY_KINDS).flatMap((module) => ('controllerState' in module ? [module.kind] : []));
}
