// The ask/tell strategy kinds, one module each. One-shot kinds (enas, random-ws, darts) are not here:
// they are search runners (src/engine/runners), which may build one of these as their sampler.

import type { StrategyConfig } from '../../space/config.ts';
import type { Decision } from '../../space/decisions.ts';
import { bayesianKind } from './bayesian.ts';
import { evolutionKind } from './evolution.ts';
import { localKind } from './local.ts';
import { randomKind } from './random.ts';
import { reinforceKind } from './reinforce.ts';
import type { AskTellKind, Strategy } from './strategy.ts';

export type AskTellStrategyName = 'random' | 'reinforce' | 'evolution' | 'local' | 'bayesian';
export type AskTellStrategyConfig = Extract<StrategyConfig, { kind: AskTellStrategyName }>;

export const askTellKinds: { readonly [Name in AskTellStrategyName]: AskTellKind<Extract<StrategyConfig, { kind: Name }>> } = {
  random: randomKind,
  reinforce: reinforceKind,
  evolution: evolutionKind,
  local: localKind,
  bayesian: bayesianKind,
};

export function isAskTell(strategy: StrategyConfig): strategy is AskTellStrategyConfig {
  return Object.hasOwn(askTellKinds, strategy.kind);
}

export function createAskTellStrategy(strategy: AskTellStrategyConfig, decisions: readonly Decision[], seed: number): Strategy {
  // The registry's type pairs each name with its own section; TypeScript cannot follow that pairing through the union.
  const kind = askTellKinds[strategy.kind] as AskTellKind<AskTellStrategyConfig>;
  return kind.create(strategy, decisions, seed);
}
