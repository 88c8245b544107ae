// Regularized evolution (Real et al., "Regularized evolution for image classifier architecture
// search", AAAI 2019): a population of the P most recently evaluated architectures. Each child is a
// mutation of the best of S members drawn at random (a tournament), and each tell retires the oldest
// member, whatever its reward: aging keeps the search from settling on lucky evaluations.

import type { EvolutionConfig } from '../../space/config.ts';
import type { Architecture, Decision } from '../../space/decisions.ts';
import { createRng, type Rng } from '../../space/rng.ts';
import { mutate, randomArchitecture } from './neighbourhood.ts';
import type { AskTellKind, Learned, Strategy } from './strategy.ts';

interface Member {
  architecture: Architecture;
  /** Null when its evaluation failed: it loses every tournament against a scored member. */
  reward: number | null;
}

interface EvolutionState {
  rng: number;
  asked: number;
  /** Oldest first. */
  population: Member[];
}

export class EvolutionStrategy implements Strategy {
  readonly adaptive = true;
  /** A pruned child joins the population with its value at the epoch reached, and loses the tournaments it would likely lose. */
  readonly learnsFromPruned = true;
  private asked = 0;
  private population: Member[] = [];

  constructor(
    private readonly decisions: readonly Decision[],
    private readonly config: EvolutionConfig,
    private readonly seed: number,
    private rng: Rng,
  ) {}

  ask(): Architecture {
    this.asked += 1;
    // The initial population is random; so is a child when nothing has been told yet (all in flight).
    if (this.asked <= this.config.population_size || this.population.length === 0) {
      return randomArchitecture(this.decisions, this.rng);
    }
    return mutate(this.decisions, this.tournamentWinner().architecture, this.rng, this.config.mutated_decisions);
  }

  tell(architecture: Architecture, reward: number | null): Learned | undefined {
    this.population.push({ architecture: [...architecture], reward });
    if (this.population.length > this.config.population_size) this.population.shift();
    return undefined;
  }

  /** The best of `sample_size` distinct members drawn uniformly; the first drawn wins a tie. */
  private tournamentWinner(): Member {
    const candidates = this.population.map((_, i) => i);
    let winner: Member | undefined;
    for (let drawn = 0; drawn < Math.min(this.config.sample_size, this.population.length); drawn++) {
      const pick = drawn + this.rng.int(candidates.length - drawn);
      [candidates[drawn], candidates[pick]] = [candidates[pick], candidates[drawn]];
      const member = this.population[candidates[drawn]];
      if (winner === undefined || (member.reward ?? -Infinity) > (winner.reward ?? -Infinity)) winner = member;
    }
    return winner!;
  }

  async getState(): Promise<EvolutionState> {
    return { rng: this.rng.state(), asked: this.asked, population: this.population };
  }

  async setState(state: unknown): Promise<void> {
    const saved = state as EvolutionState;
    this.rng = createRng(this.seed, saved.rng);
    this.asked = saved.asked;
    this.population = saved.population.map((member) => ({ architecture: [...member.architecture], reward: member.reward }));
  }

  dispose(): void {}
}

export const evolutionKind: AskTellKind<EvolutionConfig> = {
  description: 'regularised evolution: tournament selection, mutation, and the oldest member retired',
  create: (options, decisions, seed) => new EvolutionStrategy(decisions, options, seed, createRng(seed)),
};
