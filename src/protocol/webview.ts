// What the webview panels show, as the engine's queries and live events give it to the host. Each panel
// kind's own state, messages and requests live with its host module (src/extension/panels/<kind>.ts).

import type { ParetoCost } from '../space/config.ts';
import type { AlphaSnapshotRecord, ControllerStepRecord, EpochMetrics, RunRecord, TrialRecord } from './engine.ts';

/** One trial as the charts need it: small, so 10,000 of them post quickly. */
export interface TrialPoint {
  index: number;
  status: TrialRecord['status'];
  reward: number | null;
  valAccuracy: number | null;
  /** Language models only (absent for image classifiers; test null for a pruned trial). */
  valPerplexity?: number;
  testPerplexity?: number | null;
  params: number | null;
  /** Absent where unknown; only what the Pareto chart may put on its axis. */
  flops?: number;
  latencyMs?: number;
  /** Its test accuracy, where it was measured: a retrained trial's result. */
  testAccuracy?: number;
  /** A retrained trial (the final recipe, measured on test; no reward): the trial it retrains. */
  retrainedFrom?: number;
  seconds: number | null;
  /** Milliseconds since the run was created, when the trial finished (for curves against time). */
  finishedMs: number | null;
  key: string;
  /** Epochs of its learning curve (a pruned trial's stop). */
  epochsTrained: number;
  /** The remote worker that ran it (a run on workers only; absent when it ran on the search's machine). */
  worker?: string;
  /** How many times a worker started it, when more than once (a worker died or failed under it). */
  attempts?: number;
}

/** What the scheduler of a run decides from, for the intermediate-values chart: every trial's validation curve and the rungs. */
export interface IntermediateValues {
  /** The scheduler's kind (none, median, asha, hyperband, curve). */
  scheduler: string;
  /** The epochs a trial trains in full. */
  epochs: number;
  /** Each finished or running trial's validation accuracy by epoch (index 0 is epoch 1); null where it reported none. */
  curves: { index: number; status: TrialRecord['status']; values: (number | null)[] }[];
  /** ASHA's and Hyperband's decision points: a trial at `epoch` below `threshold` stops (null: the rung has no values yet). */
  rungs: RungThreshold[];
}

/** One epoch of a trial in training, as a live run reports it to the intermediate-values chart. */
export interface EpochPoint {
  trial: number;
  epoch: number;
  /** null: not a number (a diverged value), or not reported. */
  valAccuracy: number | null;
}

export interface RungThreshold {
  epoch: number;
  /** Hyperband's bracket (0 the most aggressive); 0 for ASHA. */
  bracket: number;
  threshold: number | null;
  /** Trials that reached the rung. */
  reached: number;
}

/**
 * One controller step as the dashboard's charts need it (toStepPoint): per decision, only the
 * largest probability and the entropy of its vector, computed on the host, instead of the vectors
 * themselves; 5,000 steps post far faster as two short arrays each than as one array per decision.
 * A decision without a probability vector at that step has null in both arrays.
 */
export interface StepPoint {
  step: number;
  loss: number;
  meanReward: number;
  baseline: number;
  /** The controller's total entropy (summed over decisions, as the engine records it). */
  entropy: number;
  /** Per decision, the probability of its most likely option. */
  argmax: (number | null)[];
  /** Per decision, the entropy in nats of its probability vector. */
  decisionEntropy: (number | null)[];
}

/** One DARTS alpha snapshot as the dashboard charts it (toAlphaPoint): per mixed operation, its mean weight over a cell's edges. */
export interface AlphaPoint {
  step: number;
  epoch: number;
  normal: number[];
  reduction: number[];
}

/** A trial cost a Pareto search minimises beside the reward. */
export type ParetoObjective = ParetoCost;

export interface DashboardData {
  run: RunRecord;
  /** Names of the space's decisions, in order (for per-decision charts). */
  decisions: string[];
  trials: TrialPoint[];
  steps: StepPoint[];
  /** Warnings kept with the run (such as DARTS' collapse). */
  notes: string[];
  /** DARTS runs only: the mixed operations (`none` last) and alpha's softmax over time. */
  darts?: { operations: string[]; alphas: AlphaPoint[] };
  /** Runs whose trials train in epochs: their learning curves and the scheduler's rungs. */
  intermediate?: IntermediateValues;
  /** A Pareto search: the cost it minimised first, which the Pareto chart puts on its axis (parameters otherwise). */
  pareto?: { minimise: ParetoObjective };
}

export interface TrialData {
  run: RunRecord;
  trial: TrialRecord;
  epochs: EpochMetrics[];
  /** The decision names, to list each choice beside its name. */
  decisions: { name: string; options: string[] }[];
  /** The end of the trial's log (a command trial's output, once it finished); null when it keeps none. */
  log: LogTail | null;
  /** Whether the store keeps the trial's trained weights (a language model trained in full): text can be sampled from it. */
  hasWeights: boolean;
}

/** The last lines of a program's output, and how many lines came before them. */
export interface LogTail {
  text: string;
  earlierLines: number;
}

export interface CompareData {
  runs: { run: RunRecord; trials: TrialPoint[] }[];
}

export function toTrialPoint(trial: TrialRecord, runCreatedAt: string): TrialPoint {
  const finished = trial.finishedAt ? Date.parse(trial.finishedAt) - Date.parse(runCreatedAt) : null;
  return {
    index: trial.index,
    status: trial.status,
    reward: trial.reward,
    valAccuracy: trial.metrics?.valAccuracy ?? null,
    ...(typeof trial.metrics?.valPerplexity === 'number'
      ? { valPerplexity: trial.metrics.valPerplexity, testPerplexity: trial.metrics.testPerplexity ?? null }
      : {}),
    params: trial.metrics?.params ?? null,
    ...(typeof trial.metrics?.flops === 'number' ? { flops: trial.metrics.flops } : {}),
    ...(typeof trial.metrics?.latencyMs === 'number' ? { latencyMs: trial.metrics.latencyMs } : {}),
    ...(typeof trial.metrics?.testAccuracy === 'number' ? { testAccuracy: trial.metrics.testAccuracy } : {}),
    ...(trial.retrainedFrom !== null ? { retrainedFrom: trial.retrainedFrom } : {}),
    seconds: trial.metrics?.seconds ?? null,
    finishedMs: finished,
    key: trial.key,
    epochsTrained: trial.epochsTrained,
    ...(trial.worker !== null ? { worker: trial.worker } : {}),
    ...(trial.worker !== null && trial.attempts !== null && trial.attempts > 1 ? { attempts: trial.attempts } : {}),
  };
}

/** Shannon entropy in nats of one probability vector (zeros contribute nothing). */
export function entropy(probabilities: readonly number[]): number {
  let h = 0;
  for (const p of probabilities) if (p > 0) h -= p * Math.log(p);
  return h;
}

/** A controller step as the dashboard gets it, in the first load (the 'dashboard' query) and in live appends alike. */
export function toStepPoint(step: ControllerStepRecord): StepPoint {
  const argmax: (number | null)[] = [];
  const decisionEntropy: (number | null)[] = [];
  for (const probs of step.probabilities) {
    if (!probs || probs.length === 0) {
      argmax.push(null);
      decisionEntropy.push(null);
      continue;
    }
    let max = -Infinity;
    for (const p of probs) if (p > max) max = p;
    argmax.push(max);
    decisionEntropy.push(entropy(probs));
  }
  return {
    step: step.step,
    loss: step.loss,
    meanReward: step.meanReward,
    baseline: step.baseline,
    entropy: step.entropy,
    argmax,
    decisionEntropy,
  };
}

/** An alpha snapshot as the dashboard gets it: the edges' weights averaged per operation, in the first load and live appends alike. */
export function toAlphaPoint(snapshot: AlphaSnapshotRecord): AlphaPoint {
  const mean = (rows: number[][]) => (rows[0] ?? []).map((_, op) => rows.reduce((sum, row) => sum + row[op], 0) / rows.length);
  return { step: snapshot.step, epoch: snapshot.epoch, normal: mean(snapshot.weights.normal), reduction: mean(snapshot.weights.reduction) };
}
