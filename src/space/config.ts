// The resolved form of a `*.nas.yaml` search file: every default filled in.
// schemas/nas-search.schema.json is the source of truth for the file format; these types mirror it.

import type { BayesianStrategyConfig } from './kinds/strategies/bayesian.ts';
import type { Cifar10DatasetConfig } from './kinds/datasets/cifar10.ts';
import type { CsvDatasetConfig } from './kinds/datasets/csv.ts';
import type { DigitsDatasetConfig } from './kinds/datasets/digits.ts';
import type { ImageFolderDatasetConfig } from './kinds/datasets/image-folder.ts';
import type { MnistDatasetConfig } from './kinds/datasets/mnist.ts';
import type { TextDatasetConfig } from './kinds/datasets/text.ts';
import type { CellSpaceConfig } from './kinds/spaces/cell.ts';
import type { MacroSpaceConfig } from './kinds/spaces/macro.ts';
import type { NasBench201SpaceConfig } from './kinds/spaces/nasbench201.ts';
import type { RecurrentSpaceConfig } from './kinds/spaces/recurrent.ts';
import type { DartsStrategyConfig } from './kinds/strategies/darts.ts';
import type { EnasStrategyConfig } from './kinds/strategies/enas.ts';
import type { EvolutionStrategyConfig } from './kinds/strategies/evolution.ts';
import type { LocalStrategyConfig } from './kinds/strategies/local.ts';
import type { RandomWsStrategyConfig } from './kinds/strategies/random-ws.ts';
import type { RandomStrategyConfig } from './kinds/strategies/random.ts';
import type { ReinforceStrategyConfig } from './kinds/strategies/reinforce.ts';
import type { CommandEvaluationConfig } from './kinds/evaluations/command.ts';
import type { TabularEvaluationConfig } from './kinds/evaluations/tabular.ts';
import type { TrainEvaluationConfig } from './kinds/evaluations/train.ts';
import type { DATASET_KINDS } from './kinds/datasets/registry.ts';
import type { EVALUATION_KINDS } from './kinds/evaluations/registry.ts';
import type { ConfigOf } from './kinds/kind-module.ts';
import type { SCHEDULER_KINDS } from './kinds/schedulers/registry.ts';
import type { AshaSchedulerConfig } from './kinds/schedulers/asha.ts';
import type { CurveSchedulerConfig } from './kinds/schedulers/curve.ts';
import type { HyperbandSchedulerConfig } from './kinds/schedulers/hyperband.ts';
import type { MedianSchedulerConfig } from './kinds/schedulers/median.ts';
import type { NoSchedulerConfig } from './kinds/schedulers/none.ts';
import type { SPACE_KINDS } from './kinds/spaces/registry.ts';
import type { STRATEGY_KINDS } from './kinds/strategies/registry.ts';

// Each kind's config type lives in its kind module (kinds/<family>/<kind>.ts); these re-exports keep the paths engine code imports.
export type {
  Cifar10DatasetConfig,
  CsvDatasetConfig,
  DigitsDatasetConfig,
  ImageFolderDatasetConfig,
  MnistDatasetConfig,
  TextDatasetConfig,
};
export type { CellSpaceConfig, MacroSpaceConfig, NasBench201SpaceConfig, RecurrentSpaceConfig };
export type {
  BayesianStrategyConfig,
  DartsStrategyConfig,
  EnasStrategyConfig,
  EvolutionStrategyConfig,
  LocalStrategyConfig,
  RandomStrategyConfig,
  RandomWsStrategyConfig,
  ReinforceStrategyConfig,
};
export type { CommandEvaluationConfig, TabularEvaluationConfig, TrainEvaluationConfig };
export type { AshaSchedulerConfig, CurveSchedulerConfig, HyperbandSchedulerConfig, MedianSchedulerConfig, NoSchedulerConfig };
export type { BayesianConfig } from './kinds/strategies/bayesian.ts';
export type { DartsConfig } from './kinds/strategies/darts.ts';
export type { EvolutionConfig, ParetoCost } from './kinds/strategies/evolution.ts';
export type { LocalSearchConfig } from './kinds/strategies/local.ts';
export { weightSharingTrials, type WeightSharingConfig } from './kinds/strategies/weight-sharing.ts';
export { TABULAR_DATASETS, type TabularDataset } from './kinds/evaluations/tabular.ts';

export const CELL_OPERATIONS = ['conv3x3', 'conv5x5', 'sep_conv3x3', 'sep_conv5x5', 'max_pool', 'avg_pool', 'identity'] as const;
export type CellOperation = (typeof CELL_OPERATIONS)[number];

export const BACKENDS = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface DatasetSplits {
  /** Fraction of the examples held out for validation (the reward signal). */
  validation_split: number;
  /** Fraction held out for the final test; never seen by a strategy. */
  test_split: number;
  /** Seed of the shuffle that makes the splits. */
  seed: number;
  /** Keep at most this many training examples (after the split); omitted means all. */
  max_train_examples?: number;
}

type DatasetModule = (typeof DATASET_KINDS)[keyof typeof DATASET_KINDS];
/** One member per module of the data-set registry (kinds/datasets/registry.ts). */
export type DatasetConfig = ConfigOf<DatasetModule>;
/** The data sets of images (for image classifiers), and of text (for language models): the kinds' `modality`. */
export type ImageDatasetConfig = ConfigOf<Extract<DatasetModule, { modality: 'image' }>>;
export type TextCorpusDatasetConfig = ConfigOf<Extract<DatasetModule, { modality: 'text' }>>;

/** One member per module of the space registry (kinds/spaces/registry.ts). */
export type SpaceConfig = ConfigOf<(typeof SPACE_KINDS)[keyof typeof SPACE_KINDS]>;

export interface RewardConfig {
  /** val_perplexity: a language model's (a text data set), lower is better. */
  metric: 'val_accuracy' | 'val_perplexity';
  /** Of accuracy: identity, or NAS-RL's accuracy^3. Of perplexity: NAS-RL's c / perplexity^k, or -log perplexity. */
  transform: 'identity' | 'cube' | 'inverse_power' | 'neg_log';
  /** inverse_power's c and k (absent in runs stored before language models, whose metric never reads them). */
  c: number;
  k: number;
  /** Cost limits checked before a child is evaluated: one over a limit is recorded failed, never trained. */
  constraints?: RewardConstraints;
  /** MONAS' cost penalty: subtracted from the transformed metric. */
  penalty?: RewardPenalty;
}

/**
 * Counts, not millions: parameters, and FLOPs of one example's forward pass; milliseconds of one example's
 * forward pass, measured by the trainer on the built child before it trains.
 */
export interface RewardConstraints {
  max_params?: number;
  max_flops?: number;
  max_latency_ms?: number;
}

/** reward = transform(metric) - params * (parameters / 1e6) - flops * (FLOPs / 1e9) - latency * (latency in ms). */
export interface RewardPenalty {
  params?: number;
  flops?: number;
  latency?: number;
}

export interface ControllerConfig {
  hidden: number;
  learning_rate: number;
  entropy_weight: number;
  baseline_decay: number;
  /** Softmax temperature applied to the logits. */
  temperature: number;
  /** C in C*tanh(logits); 0 turns the clipping off. */
  tanh_constant: number;
  /** M: architectures sampled per controller update. */
  batch_size: number;
  /** Absent: the policy gradient alone trains the controller. */
  memory_buffer?: MemoryBufferConfig;
}

/**
 * Memory-buffer regularization (Adam & Lorraine): the controller is also trained to reproduce
 * architectures it sampled earlier. Every count of time is in controller updates (steps).
 */
export interface MemoryBufferConfig {
  /** Updates before the buffer starts filling. */
  start_step: number;
  /** Architectures the buffer holds once full. */
  size: number;
  /** Architectures sampled into the buffer after each update while it is not full. */
  add_per_step: number;
  /** Once full: architectures sampled after each update that replace the oldest ones. */
  replace: number;
  /** Updates before the supervised loss joins the policy-gradient loss. */
  loss_start_step: number;
  /** Buffer architectures per supervised loss, drawn without replacement. */
  batch_size: number;
}

/** One member per module of the strategy registry (kinds/strategies/registry.ts). */
export type StrategyConfig = ConfigOf<(typeof STRATEGY_KINDS)[keyof typeof STRATEGY_KINDS]>;

/** One member per module of the evaluation registry (kinds/evaluations/registry.ts). */
export type EvaluationConfig = ConfigOf<(typeof EVALUATION_KINDS)[keyof typeof EVALUATION_KINDS]>;

/** One member per module of the scheduler registry (kinds/schedulers/registry.ts). */
export type SchedulerConfig = ConfigOf<(typeof SCHEDULER_KINDS)[keyof typeof SCHEDULER_KINDS]>;

export interface BudgetConfig {
  trials: number;
}

export interface RuntimeConfig {
  backend: BackendChoice;
  seed: number;
  /** Children training on one GPU at once; 1 when absent (and in runs stored before it existed). */
  children_per_gpu?: number;
  /** A Redis URL: trials go onto its BullMQ queue for `nas-studio worker` processes; absent, they train here. */
  queue?: string;
  /** With a queue, how many trials are queued or training at once; 16 when absent. */
  in_flight?: number;
  /** An adaptive strategy learns from results as they arrive, not in trial order: faster, not reproducible. */
  asynchronous?: boolean;
  /** How many of the search's best trials keep their trained weights as files beside the database; 0 (none) when absent. */
  keep_weights?: number;
}

export interface SearchConfig {
  name: string;
  /** The images or the text children train on; absent with a tabular evaluation, whose table names its own data set. */
  dataset?: DatasetConfig;
  space: SpaceConfig;
  strategy: StrategyConfig;
  evaluation: EvaluationConfig;
  scheduler: SchedulerConfig;
  budget: BudgetConfig;
  runtime: RuntimeConfig;
}

/** A backend actually in use ('auto' resolves to one of these). */
export type BackendName = Exclude<BackendChoice, 'auto'>;

/** Backends that compute on a GPU: a pool runs as many trainers as children share a GPU, not one per core. */
export const GPU_BACKENDS: ReadonlySet<BackendName> = new Set(['tensorflow-gpu', 'webgpu']);

/** What a search that trains its architectures has: a data set and a train evaluation (the validator guarantees both). */
export function trainingSetup(config: SearchConfig): { dataset: DatasetConfig; evaluation: TrainEvaluationConfig } {
  const { dataset, evaluation } = config;
  if (evaluation.kind !== 'train' || dataset === undefined)
    throw new Error(`strategy ${config.strategy.kind} trains its architectures: it needs a dataset and evaluation kind train`);
  return { dataset, evaluation };
}
