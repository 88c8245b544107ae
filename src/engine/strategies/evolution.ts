// Regularized evolution (Real et al., "Regularized evolution for image classifier architecture
// search", AAAI 2019): a population of the P most recently evaluated architectures. Each child is a
// mutation of the best of S members drawn at random (a tournament), and each tell retires the oldest
// member, whatever its reward: aging keeps the search from settling on lucky evaluations.
//
// Pareto mode (steady-state NSGA-II, Deb et al. 2002) weighs the reward against measured costs
// (parameters, FLOPs) without folding them into one number: members are ranked by non-dominated
// sorting, then by crowding distance (spread along the front). The tournament's winner is the member
// best so ranked, and each tell beyond P retires the worst so ranked instead of the oldest: the front
// found so far is kept, as NSGA-II keeps it.

import type { EvolutionConfig, ParetoCost } from '../../space/config.ts';
import type { Architecture, Decision } from '../../space/decisions.ts';
import { createRng, type Rng } from '../../space/rng.ts';
import { crowdingDistances, nonDominatedSort, type Objectives } from '../analysis/pareto.ts';
import { mutate, randomArchitecture } from './neighbourhood.ts';
import { PARETO_COST_FIELDS } from '../../shared/pareto-cost.ts';
import { type AskTellKind, type Learned, type Strategy, type TrialCost } from './strategy.ts';

interface Member {
  architecture: Architecture;
  /** Null when its evaluation failed: it loses every tournament against a scored member. */
  reward: number | null;
  /** Pareto mode only: the costs it is judged on. */
  cost?: TrialCost;
}

/** A member's place by NSGA-II's crowded comparison: its front (0 the best), then its crowding distance (larger is better). */
interface ParetoRank {
  front: number;
  crowding: number;
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

  tell(architecture: Architecture, reward: number | null, cost?: TrialCost): Learned | undefined {
    const pareto = this.config.pareto !== undefined;
    this.population.push({
      architecture: [...architecture],
      reward,
      ...(pareto && { cost: { params: cost?.params ?? null, flops: cost?.flops ?? null, latencyMs: cost?.latencyMs ?? null } }),
    });
    if (this.population.length > this.config.population_size) {
      if (!pareto) this.population.shift();
      else {
        const ranks = this.paretoRanks();
        // The worst ranked; the oldest of equals.
        let worst = 0;
        for (let i = 1; i < ranks.length; i++) if (compareRanks(ranks[i], ranks[worst]) > 0) worst = i;
        this.population.splice(worst, 1);
      }
    }
    return undefined;
  }

  /** The best of `sample_size` distinct members drawn uniformly; the first drawn wins a tie. */
  private tournamentWinner(): Member {
    const ranks = this.config.pareto === undefined ? undefined : this.paretoRanks();
    const better = (a: number, b: number) =>
      ranks ? compareRanks(ranks[a], ranks[b]) < 0 : (this.population[a].reward ?? -Infinity) > (this.population[b].reward ?? -Infinity);
    const candidates = this.population.map((_, i) => i);
    let winner: number | undefined;
    for (let drawn = 0; drawn < Math.min(this.config.sample_size, this.population.length); drawn++) {
      const pick = drawn + this.rng.int(candidates.length - drawn);
      [candidates[drawn], candidates[pick]] = [candidates[pick], candidates[drawn]];
      if (winner === undefined || better(candidates[drawn], winner)) winner = candidates[drawn];
    }
    return this.population[winner!];
  }

  /**
   * Each member's rank in the population by NSGA-II's crowded comparison. A member without a reward or
   * without one of the costs (a failed trial, an evaluator that did not count them) ranks below every
   * measured one.
   */
  private paretoRanks(): ParetoRank[] {
    const costs = this.config.pareto!.minimise;
    const objectives = this.population.map((member) => memberObjectives(member, costs));
    const measured = objectives.flatMap((point, i) => (point === undefined ? [] : [i]));
    const fronts = nonDominatedSort(measured.map((i) => objectives[i]!)).map((front) => front.map((k) => measured[k]));
    const points = objectives.map((point) => point ?? []);
    const ranks: ParetoRank[] = this.population.map(() => ({ front: fronts.length, crowding: 0 }));
    fronts.forEach((front, level) => {
      const distances = crowdingDistances(points, front);
      front.forEach((i, k) => (ranks[i] = { front: level, crowding: distances[k] }));
    });
    return ranks;
  }

  async getState(): Promise<EvolutionState> {
    return { rng: this.rng.state(), asked: this.asked, population: this.population };
  }

  async setState(state: unknown): Promise<void> {
    const saved = state as EvolutionState;
    this.rng = createRng(this.seed, saved.rng);
    this.asked = saved.asked;
    this.population = saved.population.map((member) => ({
      architecture: [...member.architecture],
      reward: member.reward,
      ...(member.cost && { cost: { ...member.cost } }),
    }));
  }

  dispose(): void {}
}

/** Negative when `a` ranks better: a lower front, then a larger crowding distance. */
function compareRanks(a: ParetoRank, b: ParetoRank): number {
  if (a.front !== b.front) return a.front - b.front;
  if (a.crowding === b.crowding) return 0;
  return a.crowding > b.crowding ? -1 : 1;
}

/** What Pareto mode minimises for a member: the reward negated, then its costs; undefined when one is missing. */
function memberObjectives(member: Member, costs: readonly ParetoCost[]): Objectives | undefined {
  if (member.reward === null) return undefined;
  const values = costs.map((cost) => member.cost?.[PARETO_COST_FIELDS[cost]] ?? null);
  return values.every((value) => value !== null) ? [-member.reward, ...(values as number[])] : undefined;
}

export const evolutionKind: AskTellKind<EvolutionConfig> = {
  description: 'regularised evolution: tournament selection, mutation, and the oldest member retired',
  create: (options, decisions, seed) => new EvolutionStrategy(decisions, options, seed, createRng(seed)),
};
