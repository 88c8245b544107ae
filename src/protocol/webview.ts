// Messages between the VS Code host and the webview panels (run dashboard, trial view, run
// comparison). The host validates every message a webview sends (isPanelRequest) before using it.

import type { AlphaSnapshotRecord, ControllerStepRecord, EpochMetrics, RunRecord, TrialRecord } from './engine.ts';
import type { ControllerInsight } from './insight.ts';

/** One trial as the charts need it: small, so 10,000 of them post quickly. */
export interface TrialPoint {
  index: number;
  status: TrialRecord['status'];
  reward: number | null;
  valAccuracy: number | null;
  params: number | null;
  seconds: number | null;
  /** Milliseconds since the run was created, when the trial finished (for curves against time). */
  finishedMs: number | null;
  key: string;
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
}

export interface TrialData {
  run: RunRecord;
  trial: TrialRecord;
  epochs: EpochMetrics[];
  /** The decision names, to list each choice beside its name. */
  decisions: { name: string; options: string[] }[];
}

export interface CompareData {
  runs: { run: RunRecord; trials: TrialPoint[] }[];
}

/** Per panel kind, the state VS Code keeps across a window reload (the serializer restores the panel from it). */
export interface PanelStates {
  dashboard: { view: 'dashboard'; runId: number };
  trial: { view: 'trial'; runId: number; index: number };
  compare: { view: 'compare'; runIds: number[] };
  insight: { view: 'insight'; runId: number };
}

export type PanelView = keyof PanelStates;
export type PanelState = PanelStates[PanelView];

/** Host to webview, per panel kind: a panel is sent only its own kind's messages. */
export interface PanelMessages {
  dashboard:
    | { type: 'dashboard'; data: DashboardData }
    /** A live run: what happened since the last message; the charts append, they are not rebuilt. */
    | { type: 'dashboard-append'; run: RunRecord; trials: TrialPoint[]; steps: StepPoint[]; alphas: AlphaPoint[]; notes: string[] };
  trial: { type: 'trial'; data: TrialData };
  compare: { type: 'compare'; data: CompareData };
  insight:
    | { type: 'insight'; data: ControllerInsight }
    /** The analysis could not be made (not a reinforce run, no checkpoint yet): the panel says why. */
    | { type: 'insight-failed'; message: string };
}

/** The page has loaded and waits for its content. */
type Ready = { type: 'ready' };

/** Webview to host, per panel kind: what each panel may ask. */
export interface PanelRequests {
  dashboard:
    Ready | { type: 'open-trial'; runId: number; index: number } | { type: 'stop'; runId: number } | { type: 'resume'; runId: number };
  trial: Ready | { type: 'copy-architecture'; runId: number; index: number; format: 'yaml' | 'json' };
  compare: Ready;
  insight: Ready;
}

export type PanelRequest = PanelRequests[PanelView];

const REQUEST_TYPES: { [V in PanelView]: readonly PanelRequests[V]['type'][] } = {
  dashboard: ['ready', 'open-trial', 'stop', 'resume'],
  trial: ['ready', 'copy-architecture'],
  compare: ['ready'],
  insight: ['ready'],
};

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** A webview is untrusted input: only well-formed requests that a panel of `view` may send get through. */
export function isPanelRequest<V extends PanelView>(view: V, value: unknown): value is PanelRequests[V] {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  if (!(REQUEST_TYPES[view] as readonly unknown[]).includes(message.type)) return false;
  switch (message.type) {
    case 'ready':
      return Object.keys(message).length === 1;
    case 'open-trial':
      return isId(message.runId) && isId(message.index);
    case 'stop':
    case 'resume':
      return isId(message.runId);
    case 'copy-architecture':
      return isId(message.runId) && isId(message.index) && (message.format === 'yaml' || message.format === 'json');
    default:
      return false;
  }
}

export function toTrialPoint(trial: TrialRecord, runCreatedAt: string): TrialPoint {
  const finished = trial.finishedAt ? Date.parse(trial.finishedAt) - Date.parse(runCreatedAt) : null;
  return {
    index: trial.index,
    status: trial.status,
    reward: trial.reward,
    valAccuracy: trial.metrics?.valAccuracy ?? null,
    params: trial.metrics?.params ?? null,
    seconds: trial.metrics?.seconds ?? null,
    finishedMs: finished,
    key: trial.key,
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
