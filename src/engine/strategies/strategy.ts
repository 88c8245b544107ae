// Strategies are ask/tell, as in Optuna and NNI: the search loop knows no strategy.

import type { ControllerStepRecord, TrialMeasurements } from '../../protocol/engine.ts';
import type { Architecture, Decision } from '../../space/decisions.ts';
import type { ControllerUpdate } from './controller.ts';

/** A policy-gradient step of a controller (REINFORCE), taken on a batch of tells. */
export interface ControllerStepLearned extends ControllerUpdate {
  kind: 'controller-step';
  step: number;
  /** Each decision's distribution along the policy's most likely architecture, after the update. */
  probabilities: number[][];
}

/** A controller step as the store and the controller-step event record it. */
export function controllerStepRecord(runId: number, learned: ControllerStepLearned): ControllerStepRecord {
  const { step, loss, meanReward, baseline, entropy, advantage, probabilities } = learned;
  return { runId, step, loss, meanReward, baseline, entropy, advantage, probabilities };
}

/** What a strategy learned from a tell, when it changed its policy; one member per kind of learning. */
export type Learned = ControllerStepLearned;

/** What a told trial cost, as its evaluator measured it (null: not measured); read only by Pareto evolution. */
export type TrialCost = Pick<TrialMeasurements, 'params' | 'flops' | 'latencyMs'>;

export interface Strategy {
  /** True when what it is told changes what it proposes next (and so the order of asks and tells matters). */
  readonly adaptive: boolean;
  /**
   * How it hears of a trial a scheduler stopped early (pruned): true, it learns from the value at the
   * epoch the trial reached, as from any reward; false, the trial is told with reward null (recorded,
   * never proposed again, not learned from), so that a value at a lower fidelity never stands for a full one.
   */
  readonly learnsFromPruned: boolean;
  /** Proposes the next architecture to evaluate. Several may be asked before any is told. */
  ask(): Architecture;
  /** A controller's hidden state after it emitted the architecture just asked (what it encodes of it), for analysis. */
  lastHiddenState?(): number[] | undefined;
  /**
   * Reports an evaluated architecture; `reward` is null when its evaluation failed, `cost` undefined
   * when nothing was measured.
   */
  tell(architecture: Architecture, reward: number | null, cost?: TrialCost): Learned | undefined;
  /** Everything needed to continue exactly from here, as plain JSON. */
  getState(): Promise<unknown>;
  setState(state: unknown): Promise<void>;
  dispose(): void;
}

/**
 * One ask/tell strategy kind: what it is and how to build it from its part of a search file.
 * `Options` is the least of the file's strategy section it reads, so a one-shot runner can build it
 * from its own section (ENAS's controller is REINFORCE's).
 */
export interface AskTellKind<Options> {
  /** One line on what the strategy does, for listings and errors. */
  readonly description: string;
  /** A fresh strategy; all its randomness comes from `seed`. */
  create(options: Options, decisions: readonly Decision[], seed: number): Strategy;
}
