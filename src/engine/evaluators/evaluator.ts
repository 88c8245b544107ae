// What the search loop needs of an evaluator: turn an architecture into measurements, with several
// in flight at once when it has the capacity.

import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import type { BackendName, SearchConfig, SpaceConfig } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';

export interface EvaluationRequest {
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
  evaluate(request: EvaluationRequest, onEpoch: (metrics: EpochMetrics) => void): Promise<TrialMeasurements>;
  /** Stops every evaluation in progress; each then rejects with a cancelled EvaluationFailed. */
  cancelAll(): void;
  close(): Promise<void>;
}

/** Starts the evaluator a search's `evaluation` section asks for; `baseDir` is the folder of its search file. */
export type StartEvaluator = (config: SearchConfig, baseDir: string, log: (message: string) => void) => Promise<Evaluator>;

export class EvaluationFailed extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
    /** The machinery failed (a trainer process died), not the architecture: the caller may train it again. */
    readonly infrastructure = false,
  ) {
    super(message);
    this.name = 'EvaluationFailed';
  }
}
