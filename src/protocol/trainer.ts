// Messages between the engine and its trainer processes (plain Node children that each train one child network at a time).

import type { BackendChoice, BackendName, DatasetConfig, SpaceConfig, TrainEvaluationConfig } from '../space/config.ts';
import type { ArchitectureGraph } from '../space/graph.ts';
import type { EpochVerdict } from '../engine/evaluators/evaluator.ts';
import type { EpochMetrics, TrialMeasurements } from './engine.ts';

/** What a training is for beyond the search's measurement: a final retraining, and where its weights go. */
export interface TrainingGoal {
  /** Retrain for good: on the training and validation examples together, measured on the test examples each epoch. */
  final?: boolean;
  /** Save the trained child as tfjs files (model.json, weights.bin) in this folder, unless it was pruned. */
  keepWeightsIn?: string;
}

/** The first command a trainer process receives. */
export interface TrainerSetup {
  backend: BackendChoice;
  dataset: DatasetConfig;
  /** Directory the dataset's relative paths resolve against. */
  baseDir: string;
}

export type TrainerCommand =
  /** `evaluation`: the recipe every child trains with; a text data set is checked against its windows once, here. */
  | { type: 'setup'; setup: TrainerSetup; evaluation: TrainEvaluationConfig }
  /** `maxLatencyMs`: strategy.reward.constraints.max_latency_ms, checked on the built child before its first batch. */
  | ({
      type: 'train';
      job: number;
      graph: ArchitectureGraph;
      space: SpaceConfig;
      evaluation: TrainEvaluationConfig;
      seed: number;
      maxLatencyMs?: number;
    } & TrainingGoal)
  | { type: 'cancel'; job: number }
  /** The answer to a job's epoch report: the trainer waits for it before the next epoch. */
  | { type: 'verdict'; job: number; verdict: EpochVerdict };

export type TrainerReply =
  /** `datasetNotes`: what loading the data set wants the run's log to show (files skipped, a cache not written). */
  | { type: 'ready'; backend: BackendName; backendDetail: string; tensorsAtRest: number; datasetNotes: string[] }
  | { type: 'setup-failed'; message: string }
  | { type: 'epoch'; job: number; metrics: EpochMetrics }
  | { type: 'trained'; job: number; measurements: TrialMeasurements; tensorsAfter: number }
  /** `latencyMs`: the child was measured and rejected before training (over max_latency_ms), never trained. */
  | { type: 'train-failed'; job: number; message: string; cancelled: boolean; latencyMs?: number };
