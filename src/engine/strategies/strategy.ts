// Strategies are ask/tell, as in Optuna and NNI: the search loop knows no strategy.

import type { Architecture, Decision } from '../../space/decisions.ts';
import type { SearchConfig } from '../../space/config.ts';
import { createRng } from '../../space/rng.ts';
import type { ControllerUpdate } from './controller.ts';
import { BayesianStrategy } from './bayesian.ts';
import { EvolutionStrategy } from './evolution.ts';
import { LocalSearchStrategy } from './local.ts';
import { ReinforceStrategy } from './reinforce.ts';
import { RandomStrategy } from './random.ts';

/** What a strategy learned from a tell, when it changed its policy. */
export interface PolicyUpdate extends ControllerUpdate {
  step: number;
  /** Each decision's distribution along the policy's most likely architecture, after the update. */
  probabilities: number[][];
}

export interface Strategy {
  /** True when what it is told changes what it proposes next (and so the order of asks and tells matters). */
  readonly adaptive: boolean;
  /** Proposes the next architecture to evaluate. Several may be asked before any is told. */
  ask(): Architecture;
  /** A controller's hidden state after it emitted the architecture just asked (what it encodes of it), for analysis. */
  lastHiddenState?(): number[] | undefined;
  /** Reports an evaluated architecture; `reward` is null when its evaluation failed. */
  tell(architecture: Architecture, reward: number | null): PolicyUpdate | undefined;
  /** Everything needed to continue exactly from here, as plain JSON. */
  getState(): Promise<unknown>;
  setState(state: unknown): Promise<void>;
  dispose(): void;
}

export function createStrategy(config: SearchConfig, decisions: readonly Decision[]): Strategy {
  const rng = createRng(config.runtime.seed);
  switch (config.strategy.kind) {
    case 'random':
    case 'random-ws':
      return new RandomStrategy(decisions, rng, config.runtime.seed);
    // ENAS's controller is the REINFORCE controller; only its rewards come from shared weights.
    case 'reinforce':
    case 'enas':
      return new ReinforceStrategy(decisions, config.strategy.controller, config.runtime.seed, rng);
    case 'darts':
      throw new Error('darts is a one-shot search, not ask/tell: runSearch hands it to runDarts');
    case 'evolution':
      return new EvolutionStrategy(decisions, config.strategy, config.runtime.seed, rng);
    case 'local':
      return new LocalSearchStrategy(decisions, config.strategy, config.runtime.seed, rng);
    case 'bayesian':
      return new BayesianStrategy(decisions, config.strategy, config.runtime.seed, rng);
  }
}
