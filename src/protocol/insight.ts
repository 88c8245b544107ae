// The controller-insight analysis of a REINFORCE run (Adam & Lorraine, "Understanding Neural
// Architecture Search Techniques"), as the engine computes it and the CLI and the panel show it.

import type { RunRecord } from './engine.ts';

/**
 * Spearman correlations, over every pair of sampled architectures, between the L2 distance of
 * their controller hidden states and each similarity measure. Null when undefined (a constant measure).
 */
export interface SpearmanRow {
  /** Against the number of operations the two share. */
  common_ops: number | null;
  /** Against the number of connections the two share. */
  common_connections: number | null;
  /** Against their graph edit distance. */
  ged: number | null;
  /** Against the absolute difference of their rewards, over the pairs whose rewards are both known. */
  reward_gap: number | null;
  /** Pairs compared. */
  pairs: number;
  /** Pairs with both rewards known (the reward_gap column's sample). */
  reward_pairs: number;
  /**
   * Distinct architectures among those sampled. A controller that has collapsed onto a few samples
   * them again and again: identical pairs (distance 0, everything shared) then dominate the ranks.
   */
  distinct_architectures: number;
}

export type ControllerRow = 'random' | 'unsupervised' | 'supervised';

/** The paper's Table 1 (ENAS on its recurrent cells: its common_ops are common activations), in the column order of SpearmanRow. */
export const PAPER_TABLE1: Record<ControllerRow, [number, number, number, number]> = {
  random: [-0.09, -0.13, -0.064, 0.004],
  supervised: [-0.404, -0.16, 0.1, 0.163],
  unsupervised: [-0.315, -0.072, -0.028, -0.001],
};

export const SPEARMAN_COLUMNS = ['common_ops', 'common_connections', 'ged', 'reward_gap'] as const;

/** What common_ops counts in a space: a recurrent cell's nodes differ only by their activations (the paper's "common activations"). */
export const sharedOperations = (spaceKind: string): 'activations' | 'operations' =>
  spaceKind === 'recurrent' ? 'activations' : 'operations';

/** Per decision, over the sampled architectures: the mean probability of the most likely option, and the mean entropy (nats). */
export interface DecisionProfile {
  argmax: number[];
  entropy: number[];
}

export interface ControllerInsight {
  run: RunRecord;
  decisions: string[];
  /** Architectures sampled from each controller. */
  samples: number;
  /** Updates the trained controller took (its latest checkpoint). */
  controllerSteps: number;
  /** Which row the run's trained controller is: supervised when the run used a memory buffer. */
  trainedAs: Exclude<ControllerRow, 'random'>;
  trained: DecisionProfile;
  /** A freshly initialised controller: the run's own before its first update (same seed). */
  fresh: DecisionProfile;
  /** The trained controller's final hidden state for each sampled architecture (rows), and each unit's variance over them. */
  hiddenStates: number[][];
  hiddenVariance: number[];
  /** Table 1 for this run; the row of the variant the run did not train is null. */
  spearman: Record<ControllerRow, SpearmanRow | null>;
  /**
   * The same over each controller's distinct architectures only (a controller's hidden state is a
   * function of the architecture, so repeats add nothing but identical pairs): compares controllers
   * that sample with different diversity.
   */
  spearmanDistinct: Record<ControllerRow, SpearmanRow | null>;
  /** The hidden states recorded during the search for its last trials, against their measured rewards. */
  recorded: SpearmanRow | null;
  gedMethod: 'exact' | 'bipartite-approximation';
  /** Where the sampled architectures' rewards came from. */
  rewardSource: string;
}
