// Local search (White, Nolen, Ahn & Bhatia 2020, "Local search is state of the art for NAS benchmarks"):
// climb from a random architecture by trying its one-decision neighbours in a seeded random order,
// moving to the first that scores better; at a local optimum, restart from a new random architecture.
// Nothing is evaluated twice: a neighbour whose score is already known costs no evaluation.

import type { LocalSearchConfig } from '../../space/config.ts';
import type { Architecture, Decision } from '../../space/decisions.ts';
import { createRng, shuffledIndices, type Rng } from '../../space/rng.ts';
import { choicesKey, hammingDistance, neighbours, randomUnknown } from './neighbourhood.ts';
import type { AskTellKind, Learned, Strategy } from './strategy.ts';

interface Scored {
  architecture: Architecture;
  reward: number;
}

interface LocalSearchState {
  rng: number;
  asked: number;
  /** Every told architecture's reward (null: its evaluation failed). */
  told: [string, number | null][];
  /** Where the climb stands: the best architecture since the last restart; null right after one. */
  current: Scored | null;
  /** The current architecture's neighbours not yet proposed, in the order they will be. */
  queue: Architecture[];
}

/**
 * Proposals in flight are left out of the state: on resume the search loop tells again those that
 * finished, and those it interrupted may be proposed again.
 */
export class LocalSearchStrategy implements Strategy {
  readonly adaptive = true;
  /** A pruned neighbour is recorded as visited, never climbed to. */
  readonly learnsFromPruned = false;
  private asked = 0;
  private told = new Map<string, number | null>();
  private pending = new Map<string, Architecture>();
  private current: Scored | null = null;
  private queue: Architecture[] = [];

  constructor(
    private readonly decisions: readonly Decision[],
    private readonly options: LocalSearchConfig,
    private readonly seed: number,
    private rng: Rng,
  ) {}

  ask(): Architecture {
    const proposal = this.propose();
    this.asked += 1;
    this.pending.set(choicesKey(proposal), proposal);
    return proposal;
  }

  tell(architecture: Architecture, reward: number | null): Learned | undefined {
    const key = choicesKey(architecture);
    this.pending.delete(key);
    this.told.set(key, reward);
    // Whatever was told, a better architecture moves the climb (asks may run ahead of tells, so a
    // result can arrive after the climb has moved on or restarted).
    if (reward !== null && (this.current === null || reward > this.current.reward)) this.moveTo({ architecture, reward });
    return undefined;
  }

  async getState(): Promise<LocalSearchState> {
    return {
      rng: this.rng.state(),
      asked: this.asked,
      told: [...this.told],
      current: this.current,
      queue: this.queue,
    };
  }

  async setState(state: unknown): Promise<void> {
    const saved = state as LocalSearchState;
    this.rng = createRng(this.seed, saved.rng);
    this.asked = saved.asked;
    this.told = new Map(saved.told);
    this.pending.clear();
    this.current = saved.current;
    this.queue = saved.queue;
  }

  dispose(): void {}

  private propose(): Architecture {
    if (this.asked < this.options.initial || this.current === null) return this.randomUnknown();
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      const key = choicesKey(next);
      if (this.pending.has(key)) continue;
      if (!this.told.has(key)) return next;
      const known = this.told.get(key) ?? null;
      if (known !== null && known > this.current.reward) this.moveTo({ architecture: next, reward: known });
    }
    // Every neighbour is proposed. While some are still in flight one of them may yet move the climb,
    // so this proposal explores at random; otherwise the climb is at a local optimum and restarts.
    const current = this.current.architecture;
    const waiting = [...this.pending.values()].some((architecture) => hammingDistance(architecture, current) === 1);
    if (!waiting) this.current = null;
    return this.randomUnknown();
  }

  private moveTo(scored: Scored): void {
    this.current = scored;
    const around = neighbours(this.decisions, scored.architecture);
    this.queue = Array.from(shuffledIndices(around.length, this.rng), (i) => around[i]);
  }

  private randomUnknown(): Architecture {
    return randomUnknown(this.decisions, this.rng, (key) => this.told.has(key) || this.pending.has(key));
  }
}

export const localKind: AskTellKind<LocalSearchConfig> = {
  description: 'local search: hill climbing over the neighbours of the best architecture so far',
  create: (options, decisions, seed) => new LocalSearchStrategy(decisions, options, seed, createRng(seed)),
};
