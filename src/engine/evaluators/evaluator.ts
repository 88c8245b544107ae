// What the search loop needs of an evaluator: turn an architecture into measurements, with several
// in flight at once when it has the capacity.

import type { EpochMetrics, TrialEvaluator, TrialMeasurements } from '../../protocol/engine.ts';
import type { BackendName, SearchConfig, SpaceConfig } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';

/** Plain data, so that it can be sent to an evaluator in another process or on another machine. */
export interface EvaluationRequest {
  /** The run and trial index it is for, when it is a recorded trial (a remote worker reports by them). */
  runId?: number;
  index?: number;
  architecture: Architecture;
  graph: ArchitectureGraph;
  space: SpaceConfig;
  seed: number;
}

export interface Evaluator {
  readonly backend: BackendName;
  readonly backendDetail: string;
  /** How many evaluations can run at once. */
  readonly size: number;
  /** How its trials are recorded; absent means trained from scratch. */
  readonly recordedAs?: TrialEvaluator;
  /** Trains or looks up `request`, reporting each finished epoch; an evaluator that can, ends training after an epoch answered 'stop'. */
  evaluate(request: EvaluationRequest, onEpoch: (metrics: EpochMetrics) => EpochVerdict | void): Promise<TrialMeasurements>;
  /** Stops every evaluation in progress; each then rejects with a cancelled EvaluationFailed. */
  cancelAll(): void;
  /** Stops the evaluation of this one request, which then rejects with a cancelled EvaluationFailed. */
  cancel?(request: EvaluationRequest): void;
  close(): Promise<void>;
}

/** What a trial's epoch report answers: carry on training, or stop after this epoch (early stopping). */
export type EpochVerdict = 'continue' | 'stop';

/** Starts the evaluator a search's `evaluation` section asks for; `baseDir` is the folder of its search file. */
export type StartEvaluator = (config: SearchConfig, baseDir: string, log: (message: string) => void) => Promise<Evaluator>;

/** One evaluator kind (a search file's `evaluation.kind`): what it is and how to start it for a search. */
export interface EvaluatorKind<Config> {
  /** One line on how it measures an architecture, for listings and errors. */
  readonly description: string;
  start(evaluation: Config, search: SearchConfig, baseDir: string, log: (message: string) => void): Promise<Evaluator>;
  /** Every architecture's validation accuracy without evaluating it, for a kind that looks them up; `source` says where from. */
  knownAccuracy?(evaluation: Config): { valAccuracy: (architecture: Architecture) => number; source: string };
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
