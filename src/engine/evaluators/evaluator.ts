// What the search loop needs of an evaluator: turn an architecture into measurements, with several
// in flight at once when it has the capacity.

import type { EpochMetrics, EvaluatorBackend, TrialEvaluator, TrialMeasurements } from '../../protocol/engine.ts';
import type { SearchConfig, SpaceConfig } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import type { TrainingGoal } from '../../protocol/trainer.ts';

/** Plain data, so that it can be sent to an evaluator in another process or on another machine. */
export interface EvaluationRequest extends TrainingGoal {
  /** The run and trial index it is for, when it is a recorded trial (a remote worker reports by them). */
  runId?: number;
  index?: number;
  architecture: Architecture;
  graph: ArchitectureGraph;
  space: SpaceConfig;
  seed: number;
  /** strategy.reward.constraints.max_latency_ms: a trainer stops a child slower than this before its first batch. */
  maxLatencyMs?: number;
}

/** The request for a trial the run records: its run and index are known. */
export type TrialRequest = EvaluationRequest & Required<Pick<EvaluationRequest, 'runId' | 'index'>>;

export interface Evaluator {
  /** What its children compute on: a backend here, or 'workers' when they go to remote workers (each trial records its own). */
  readonly backend: EvaluatorBackend;
  readonly backendDetail: string;
  /** How many evaluations can run at once. */
  readonly size: number;
  /** How its trials are recorded; absent means trained from scratch. */
  readonly recordedAs?: TrialEvaluator;
  /** Trains or looks up `request`, reporting each finished epoch; an evaluator that can, ends training after an epoch answered 'stop'. */
  evaluate(request: EvaluationRequest, onEpoch: EpochListener): Promise<TrialMeasurements>;
  /** Stops every evaluation in progress; each then rejects with a cancelled EvaluationFailed. */
  cancelAll(): void;
  /** Stops the evaluation of this one request, which then rejects with a cancelled EvaluationFailed. */
  cancel?(request: EvaluationRequest): void;
  close(): Promise<void>;
}

/** What a trial's epoch report answers: carry on training, or stop after this epoch (early stopping). */
export type EpochVerdict = 'continue' | 'stop';

/** Hears a trial's finished epoch; a remote worker's answer comes later, from the engine, so it may be a promise. */
export type EpochListener = (metrics: EpochMetrics) => EpochVerdict | void | Promise<EpochVerdict | void>;

/** Acts on an epoch's verdict at once when it is known, or when it arrives; one that cannot be had is 'continue'. */
export function actOnVerdict(verdict: ReturnType<EpochListener>, act: (verdict: EpochVerdict) => void): void {
  if (verdict instanceof Promise)
    void verdict.then(
      (answer) => act(answer ?? 'continue'),
      () => act('continue'),
    );
  else act(verdict ?? 'continue');
}

/**
 * Starts the evaluator a search's `evaluation` section asks for; `baseDir` is the folder its relative paths start from (the
 * search file's, or a worker's --data-root). `capacity`, when given, is how many evaluations it runs at once (a worker's
 * --concurrency), instead of what the machine and the file suggest.
 */
export type StartEvaluator = (
  config: SearchConfig,
  baseDir: string,
  log: (message: string) => void,
  capacity?: number,
) => Promise<Evaluator>;

/** One evaluator kind (a search file's `evaluation.kind`): what it is and how to start it for a search. */
export interface EvaluatorKind<Config> {
  /** One line on how it measures an architecture, for listings and errors. */
  readonly description: string;
  start(evaluation: Config, search: SearchConfig, baseDir: string, log: (message: string) => void, capacity?: number): Promise<Evaluator>;
  /** Every architecture's validation accuracy without evaluating it, for a kind that looks them up; `source` says where from. */
  knownAccuracy?(evaluation: Config): {
    valAccuracy: (architecture: Architecture) => number;
    /** What the evaluator would measure of the architecture's cost, for a reward with a penalty. */
    cost: (architecture: Architecture) => Pick<TrialMeasurements, 'params' | 'flops'>;
    source: string;
  };
}

/**
 * Nothing can be evaluated now, through no fault of the run (the Redis of its queue does not answer, or
 * refuses it): the run ends interrupted, with the reason, and resumes once that is mended.
 */
export class EvaluatorUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluatorUnavailable';
  }
}

export class EvaluationFailed extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
    /** The machinery failed (a trainer process died), not the architecture: the caller may train it again. */
    readonly infrastructure = false,
    /**
     * Nothing more can be evaluated (no trainer process is left, and none could be started): the machine's
     * fault, and every trial after this one would fail alike, so the run stops, resumable, instead.
     */
    readonly noEvaluatorLeft = false,
    /** What the trial's program printed before it failed, kept as the trial's log. */
    readonly log?: string,
  ) {
    super(message);
    this.name = 'EvaluationFailed';
  }
}

/**
 * The child was built, measured and found over a limit of strategy.reward.constraints that only the built
 * child shows (its latency): it was never trained. Its trial is recorded failed, with the latency measured.
 */
export class RejectedBeforeTraining extends EvaluationFailed {
  constructor(
    /** "rejected before training: <n> ms latency > max_latency_ms <m>" */
    message: string,
    readonly latencyMs: number,
  ) {
    super(message, false);
    this.name = 'RejectedBeforeTraining';
  }
}
