// What the search loop needs of an evaluator: turn an architecture into measurements, with several
// in flight at once when it has the capacity.

import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import type { TrainerSetup } from '../../protocol/trainer.ts';
import type { BackendName, EvaluationConfig, SpaceConfig } from '../../space/config.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';

export interface EvaluationRequest {
  graph: ArchitectureGraph;
  space: SpaceConfig;
  evaluation: EvaluationConfig;
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

export type StartEvaluator = (setup: TrainerSetup, log: (message: string) => void) => Promise<Evaluator>;

export class EvaluationFailed extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
  ) {
    super(message);
    this.name = 'EvaluationFailed';
  }
}
