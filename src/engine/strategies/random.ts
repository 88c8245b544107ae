// Random search: each decision uniform and independent. The baseline every strategy must beat.

import type { Architecture, Decision } from '../../space/decisions.ts';
import { createRng, type Rng } from '../../space/rng.ts';
import { randomArchitecture } from './neighbourhood.ts';
import type { AskTellKind, Learned, Strategy } from './strategy.ts';

export class RandomStrategy implements Strategy {
  readonly adaptive = false;
  readonly learnsFromPruned = false;
  constructor(
    private readonly decisions: readonly Decision[],
    private rng: Rng,
    private readonly seed = 0,
  ) {}

  ask(): Architecture {
    return randomArchitecture(this.decisions, this.rng);
  }

  tell(): Learned | undefined {
    return undefined;
  }

  async getState(): Promise<unknown> {
    return { rng: this.rng.state() };
  }

  async setState(state: unknown): Promise<void> {
    this.rng = createRng(this.seed, (state as { rng: number }).rng);
  }

  dispose(): void {}
}

export const randomKind: AskTellKind<unknown> = {
  description: 'random search: every decision uniform and independent',
  create: (_options, decisions, seed) => new RandomStrategy(decisions, createRng(seed), seed),
};
