// The resolved form of a `*.nas.yaml` search file: every default filled in.
// schemas/nas-search.schema.json is the source of truth for the file format; these types mirror it.

export const CELL_OPERATIONS = [
  'conv3x3',
  'conv5x5',
  'sep_conv3x3',
  'sep_conv5x5',
  'max_pool',
  'avg_pool',
  'identity',
] as const;
export type CellOperation = (typeof CELL_OPERATIONS)[number];

export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'cpu'] as const;
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

export type DatasetConfig =
  | ({ kind: 'digits' } & DatasetSplits)
  | ({ kind: 'cifar10'; path: string } & DatasetSplits)
  | ({ kind: 'mnist'; path: string } & DatasetSplits)
  | ({ kind: 'csv'; path: string; image_shape: [number, number, number]; pixel_scale: number } & DatasetSplits);

export interface MacroSpaceConfig {
  kind: 'macro';
  layers: number;
  filter_heights: number[];
  filter_widths: number[];
  filters: number[];
  /** When listed, each layer also picks a stride. */
  strides?: number[];
  skip_connections: boolean;
}

export interface CellSpaceConfig {
  kind: 'cell';
  /** B: nodes per cell. */
  nodes: number;
  operations: CellOperation[];
  /** N: normal cells per stage; a reduction cell sits between stages. */
  cells_per_stage: number;
  stages: number;
  /** Channels of the first stage; doubled at each reduction. */
  filters: number;
}

/** The fixed NAS-Bench-201 cell (see nasbench201.ts); its architectures are looked up, not trained. */
export interface NasBench201SpaceConfig {
  kind: 'nasbench201';
}

export type SpaceConfig = MacroSpaceConfig | CellSpaceConfig | NasBench201SpaceConfig;

export interface RewardConfig {
  metric: 'val_accuracy';
  /** identity, or NAS-RL's accuracy^3. */
  transform: 'identity' | 'cube';
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

/** Regularized evolution (Real et al.). */
export interface EvolutionConfig {
  /** P: the most recently evaluated architectures kept; the first P are random. */
  population_size: number;
  /** S: members drawn for each tournament; the best one is mutated. At most P. */
  sample_size: number;
  /** Decisions a mutation changes, each to another of its options. */
  mutated_decisions: number;
}

/** Local search (White et al. 2020). */
export interface LocalSearchConfig {
  /** Random architectures evaluated before the first climb, which starts from the best of them. */
  initial: number;
}

/** Bayesian optimisation with a Gaussian process. */
export interface BayesianConfig {
  /** Random architectures evaluated before the model proposes. */
  initial: number;
  /** Candidates are every one-decision neighbour of this many of the best architectures so far... */
  parents: number;
  /** ...and this many random architectures. */
  random_candidates: number;
}

export type StrategyConfig =
  | { kind: 'random'; reward: RewardConfig }
  | { kind: 'reinforce'; controller: ControllerConfig; reward: RewardConfig }
  | ({ kind: 'evolution'; reward: RewardConfig } & EvolutionConfig)
  | ({ kind: 'local'; reward: RewardConfig } & LocalSearchConfig)
  | ({ kind: 'bayesian'; reward: RewardConfig } & BayesianConfig);

/** Train each architecture from scratch. Runs stored before evaluation kinds existed have no `kind`. */
export interface TrainEvaluationConfig {
  kind: 'train';
  epochs: number;
  batch_size: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop';
  learning_rate: number;
  /** The reward is the best validation accuracy of the last k epochs (NAS-RL). */
  reward_epochs: number;
}

export const TABULAR_DATASETS = ['cifar10', 'cifar100', 'imagenet16'] as const;
export type TabularDataset = (typeof TABULAR_DATASETS)[number];

/** Look each architecture up in the NAS-Bench-201 table, measured on `dataset`. */
export interface TabularEvaluationConfig {
  kind: 'tabular';
  dataset: TabularDataset;
}

export type EvaluationConfig = TrainEvaluationConfig | TabularEvaluationConfig;

export interface BudgetConfig {
  trials: number;
}

export interface RuntimeConfig {
  backend: BackendChoice;
  seed: number;
}

export interface SearchConfig {
  name: string;
  /** The images children train on; absent with a tabular evaluation, whose table names its own data set. */
  dataset?: DatasetConfig;
  space: SpaceConfig;
  strategy: StrategyConfig;
  evaluation: EvaluationConfig;
  budget: BudgetConfig;
  runtime: RuntimeConfig;
}

/** A backend actually in use ('auto' resolves to one of these). */
export type BackendName = Exclude<BackendChoice, 'auto'>;
