// Every trial a run records goes through here, whichever runner asks for it: recorded as started,
// measured, recorded as done, failed or interrupted with its reward, and announced. The ask/tell loop,
// the retraining after a one-shot search, ENAS/random-ws's children scored with shared weights and
// DARTS' epoch cells differ only in how the measurements come.

import type { EngineEvent, EpochMetrics, TrialEvaluator, TrialMeasurements, TrialStatus } from '../protocol/engine.ts';
import type { RewardConfig, RewardPenalty, SearchConfig } from '../space/config.ts';
import type { Architecture } from '../space/decisions.ts';
import { architectureKey, decodeArchitecture, type ArchitectureGraph } from '../space/graph.ts';
import { brokenConstraint } from './constraints.ts';
import { EvaluationFailed, RejectedBeforeTraining, type EpochVerdict, type Evaluator, type TrialRequest } from './evaluators/evaluator.ts';
import type { Store } from './store/store.ts';
import type { FinishedTrial } from './store/trials.ts';
import { PARETO_COST_FIELDS } from '../shared/pareto-cost.ts';
import type { TrialCost } from './strategies/strategy.ts';

/**
 * The reward of a trial's measurements; the search file's rules pair each metric with its transforms
 * (reward-transform). A penalty (MONAS) takes λ per million parameters, per billion FLOPs and per
 * millisecond of latency off it: a trial that measured no cost it is penalised by has no reward, and this throws.
 */
export function applyReward(
  reward: RewardConfig,
  measured: Pick<TrialMeasurements, 'valAccuracy' | 'valPerplexity'> & Partial<TrialCost>,
): number {
  if (reward.metric === 'val_perplexity') {
    const perplexity = measured.valPerplexity;
    if (perplexity === undefined || perplexity === null)
      throw new Error('the reward is validation perplexity, and the trial measured none');
    return reward.transform === 'neg_log' ? -Math.log(perplexity) : reward.c / perplexity ** reward.k;
  }
  const transformed = reward.transform === 'cube' ? measured.valAccuracy ** 3 : measured.valAccuracy;
  return transformed - costPenalty(reward, measured);
}

/** What one unit of each penalised cost is: λ is taken off per million parameters, per billion FLOPs, per millisecond. */
const PENALTY_UNITS: Record<keyof RewardPenalty, { size: number; name: string }> = {
  params: { size: 1e6, name: 'parameters' },
  flops: { size: 1e9, name: 'FLOPs' },
  latency: { size: 1, name: 'latency' },
};

function costPenalty(reward: RewardConfig, measured: Partial<TrialCost>): number {
  let penalty = 0;
  for (const [cost, weight] of Object.entries(reward.penalty ?? {}) as [keyof RewardPenalty, number | undefined][]) {
    if (weight === undefined) continue;
    const value = measured[PARETO_COST_FIELDS[cost]];
    const { size, name } = PENALTY_UNITS[cost];
    if (value === undefined || value === null)
      throw new Error(`the reward is penalised by ${name} (strategy.reward.penalty.${cost}), and the trial measured none`);
    penalty += weight * (value / size);
  }
  return penalty;
}

/** The run a trial belongs to, and where its events go. */
export interface TrialContext {
  store: Store;
  runId: number;
  config: SearchConfig;
  emit: (event: EngineEvent) => void;
}

/** What a trial evaluates. */
export interface TrialSubject {
  index: number;
  architecture: Architecture;
  /** The architecture's graph when the runner already has it (a derived DARTS cell); otherwise it is decoded. */
  graph?: ArchitectureGraph;
  /** The controller's hidden state once it emitted this architecture, for the controller-insight analysis. */
  hidden?: number[];
  /**
   * Set for a final retraining: the index of the trial whose architecture it trains again. It trains with the
   * final recipe on the training and validation examples, keeps its weights, and has no reward (it chooses nothing).
   */
  retrainedFrom?: number;
}

export type FinishedStatus = Exclude<TrialStatus, 'running'>;

export interface TrialOutcome {
  index: number;
  status: FinishedStatus;
  reward: number | null;
  /** What it was measured to cost (absent when nothing was measured), for a strategy that weighs it. */
  cost?: TrialCost;
  /**
   * Why nothing more can be evaluated, when the evaluator said so (`EvaluationFailed.noEvaluatorLeft`):
   * the trial is then interrupted, not failed (its architecture was never measured), and the runner stops.
   */
  noEvaluatorLeft?: string;
}

/** What a runner may ask of one trial an evaluator trains. */
export interface TrialHooks {
  /**
   * Hears each finished epoch (after its event); answering 'stop' ends the training after it (early
   * stopping), and the trial is recorded pruned with what it measured by then.
   */
  onEpoch?: (metrics: EpochMetrics, index: number) => EpochVerdict;
  /** Cancels this trial alone; it is then recorded interrupted. */
  signal?: AbortSignal;
}

/**
 * The evaluation request for a trial: plain data (run, index, architecture, graph, space, seed, the latency limit), so a worker
 * elsewhere can take it.
 */
export function evaluationRequest(
  context: TrialContext,
  index: number,
  architecture: Architecture,
  graph: ArchitectureGraph,
): TrialRequest {
  const { config, runId } = context;
  const maxLatencyMs = config.strategy.reward.constraints?.max_latency_ms;
  return {
    runId,
    index,
    architecture,
    graph,
    space: config.space,
    seed: config.runtime.seed * 100003 + index,
    ...(maxLatencyMs === undefined ? {} : { maxLatencyMs }),
  };
}

function graphOf(context: TrialContext, trial: TrialSubject): ArchitectureGraph {
  return trial.graph ?? decodeArchitecture(context.config.space, trial.architecture);
}

function start(context: TrialContext, trial: TrialSubject, graph: ArchitectureGraph, evaluator: TrialEvaluator): void {
  const { store, runId } = context;
  store.startTrial(runId, trial.index, trial.architecture, architectureKey(graph), graph, evaluator, trial.retrainedFrom ?? null);
  if (trial.hidden) store.recordHiddenState(runId, trial.index, trial.hidden);
}

function announceStarted(context: TrialContext, trial: TrialSubject, graph: ArchitectureGraph): void {
  context.emit({
    type: 'trial-started',
    runId: context.runId,
    index: trial.index,
    architecture: trial.architecture,
    key: architectureKey(graph),
    ...(trial.retrainedFrom !== undefined ? { retrainedFrom: trial.retrainedFrom } : {}),
  });
}

function announceFinished(context: TrialContext, index: number): void {
  const trial = context.store.getTrial(context.runId, index);
  if (trial) context.emit({ type: 'trial-finished', trial });
}

function finish(
  context: TrialContext,
  index: number,
  status: FinishedStatus,
  measurements: TrialMeasurements | null,
  error: string | null,
  failure: Pick<FinishedTrial, 'failureLog' | 'failureCurve' | 'failureLatencyMs'> = {},
  rewarded = true,
): TrialOutcome {
  let reward: number | null = null;
  try {
    reward = measurements && rewarded ? applyReward(context.config.strategy.reward, measurements) : null;
  } catch (rewardError) {
    // Measured, but without what the reward needs (a program that reports no parameter count): the trial fails, kept as measured.
    status = 'failed';
    error = `it has no reward: ${rewardError instanceof Error ? rewardError.message : String(rewardError)}`;
  }
  try {
    context.store.finishTrial({ runId: context.runId, index, status, reward, measurements, error, ...failure });
    const cost = measurements && { params: measurements.params, flops: measurements.flops, latencyMs: measurements.latencyMs ?? null };
    return { index, status, reward, ...(cost ? { cost } : {}) };
  } catch (storeError) {
    // What one trial measured must not end the search: the trial is recorded failed, with the reason.
    const reason = `its result could not be recorded: ${storeError instanceof Error ? storeError.message : String(storeError)}`;
    context.store.finishTrial({ runId: context.runId, index, status: 'failed', reward: null, measurements: null, error: reason });
    return { index, status: 'failed', reward: null };
  }
}

/** Why the child may not be evaluated (strategy.reward.constraints); a count that fails is the trial's fault, not the search's. */
function rejection(context: TrialContext, graph: ArchitectureGraph): string | undefined {
  try {
    const broken = brokenConstraint(context.config, graph);
    return broken === undefined ? undefined : `rejected before training: ${broken}`;
  } catch (error) {
    return `rejected before training: its cost could not be counted: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * A trial an evaluator trains from scratch (or looks up). Its failures are the trial's: recorded
 * failed, or interrupted when the evaluation was cancelled or no evaluator is left to run it. A child
 * over a limit of strategy.reward.constraints is recorded failed without being evaluated.
 */
export async function evaluateTrial(
  context: TrialContext,
  trial: TrialSubject,
  evaluator: Evaluator,
  hooks: TrialHooks = {},
): Promise<TrialOutcome> {
  const graph = graphOf(context, trial);
  start(context, trial, graph, evaluator.recordedAs ?? 'train-from-scratch');
  announceStarted(context, trial, graph);
  const rejected = rejection(context, graph);
  if (rejected !== undefined) {
    const outcome = finish(context, trial.index, 'failed', null, rejected);
    announceFinished(context, trial.index);
    return outcome;
  }
  const retrained = trial.retrainedFrom !== undefined;
  const searchRequest = evaluationRequest(context, trial.index, trial.architecture, graph);
  const keepWeightsIn = context.store.weightsFolder(context.runId, trial.index);
  const keepsBest = !retrained && keepsWeights(context, evaluator);
  // A retraining of a chosen child is not rejected again by a latency measured under another load.
  const request = retrained
    ? { ...searchRequest, maxLatencyMs: undefined, final: true, keepWeightsIn }
    : { ...searchRequest, ...(keepsBest ? { keepWeightsIn } : {}) };
  const cancel = () => evaluator.cancel?.(request);
  hooks.signal?.addEventListener('abort', cancel, { once: true });
  try {
    const outcome = await measureTrial(context, trial.index, (onEpoch) => evaluator.evaluate(request, onEpoch), hooks.onEpoch, !retrained);
    if (keepsBest) keepBestWeights(context);
    return outcome;
  } finally {
    hooks.signal?.removeEventListener('abort', cancel);
  }
}

/** Whether the search's own trials keep their weights (runtime.keep_weights): trained here, where their files can be written. */
function keepsWeights(context: TrialContext, evaluator: Evaluator): boolean {
  return (context.config.runtime.keep_weights ?? 0) > 0 && evaluator.recordedAs === undefined && evaluator.backend !== 'workers';
}

/** Keeps the weights of the runtime.keep_weights best trials of the search (by reward) and removes the others'. */
function keepBestWeights(context: TrialContext): void {
  const { store, runId, config } = context;
  for (const trial of store.searchTrialsWithWeights(runId).slice(config.runtime.keep_weights)) store.dropTrialWeights(trial);
}

/**
 * A trial started earlier whose evaluation is `evaluation` (a remote worker's, which a killed engine
 * left on the queue): measured, then recorded as evaluateTrial records it.
 */
export function finishStartedTrial(
  context: TrialContext,
  index: number,
  evaluation: (onEpoch: (metrics: EpochMetrics) => EpochVerdict) => Promise<TrialMeasurements>,
): Promise<TrialOutcome> {
  return measureTrial(context, index, evaluation);
}

async function measureTrial(
  context: TrialContext,
  index: number,
  evaluation: (onEpoch: (metrics: EpochMetrics) => EpochVerdict) => Promise<TrialMeasurements>,
  onEpochHook?: TrialHooks['onEpoch'],
  rewarded = true,
): Promise<TrialOutcome> {
  const { runId, emit } = context;
  let measurements: TrialMeasurements | null = null;
  let error: string | null = null;
  let status: FinishedStatus = 'done';
  let noEvaluatorLeft: string | undefined;
  let failureLog: string | undefined;
  let failureLatencyMs: number | undefined;
  // The epochs as reported, kept for a trial that fails; one trained again after its trainer died reports from epoch 1 anew.
  const reported: EpochMetrics[] = [];
  // The epoch after which the trial was told to stop. A program may report more epochs before it ends:
  // the scheduler hears them, but the trial stays stopped (it is answered 'stop' again).
  let stoppedAfter: number | undefined;
  try {
    measurements = await evaluation((metrics) => {
      if (reported.length > 0 && reported[reported.length - 1].epoch >= metrics.epoch) {
        // Trained again from the start (its trainer died): what the first attempt reported and was told is void.
        while (reported.length > 0 && reported[reported.length - 1].epoch >= metrics.epoch) reported.pop();
        stoppedAfter = undefined;
      }
      reported.push(metrics);
      emit({ type: 'epoch', runId, trial: index, metrics });
      const verdict = onEpochHook?.(metrics, index) ?? 'continue';
      if (verdict === 'stop') stoppedAfter ??= metrics.epoch;
      return stoppedAfter === undefined ? 'continue' : 'stop';
    });
    if (stoppedAfter !== undefined) status = 'pruned';
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure);
    if (failure instanceof EvaluationFailed && failure.noEvaluatorLeft) noEvaluatorLeft = error;
    if (failure instanceof EvaluationFailed) failureLog = failure.log;
    if (failure instanceof RejectedBeforeTraining) failureLatencyMs = failure.latencyMs;
    status = failure instanceof EvaluationFailed && (failure.cancelled || failure.noEvaluatorLeft) ? 'interrupted' : 'failed';
  }
  const failureCurve = status === 'failed' ? reported : undefined;
  const outcome = finish(context, index, status, measurements, error, { failureLog, failureCurve, failureLatencyMs }, rewarded);
  announceFinished(context, index);
  return noEvaluatorLeft === undefined ? outcome : { ...outcome, noEvaluatorLeft };
}

/**
 * A child scored in this process with a supernet's shared weights, as a 'shared-weights' trial.
 * Scoring cannot fail the way training can: an error there is the run's, and propagates.
 */
export async function scoreTrial(
  context: TrialContext,
  trial: TrialSubject,
  score: (graph: ArchitectureGraph) => Promise<TrialMeasurements>,
): Promise<TrialOutcome> {
  const graph = graphOf(context, trial);
  start(context, trial, graph, 'shared-weights');
  announceStarted(context, trial, graph);
  const outcome = finish(context, trial.index, 'done', await score(graph), null);
  announceFinished(context, trial.index);
  return outcome;
}

/**
 * A 'shared-weights' trial measured before it is recorded (a DARTS epoch's derived cell), written in
 * one transaction with `alongside` (the checkpoint that has learned from it), so that a resume sees
 * both or neither. Its events, with one per epoch of its curve, follow the write.
 */
export function recordMeasuredTrial<T>(
  context: TrialContext,
  trial: TrialSubject,
  measurements: TrialMeasurements,
  alongside: () => T,
): { outcome: TrialOutcome; alongside: T } {
  const { store, runId, emit } = context;
  const graph = graphOf(context, trial);
  const written = store.atomically(() => {
    start(context, trial, graph, 'shared-weights');
    return { outcome: finish(context, trial.index, 'done', measurements, null), alongside: alongside() };
  });
  announceStarted(context, trial, graph);
  for (const metrics of measurements.curve) emit({ type: 'epoch', runId, trial: trial.index, metrics });
  announceFinished(context, trial.index);
  return written;
}
