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

/** DARTS' search: the supernet's training and how many derived cells are retrained. */
export interface DartsConfig {
  epochs: number;
  batch_size: number;
  /** SGD with momentum on the supernet weights, cosine-annealed from w_learning_rate to w_learning_rate_min. */
  w_learning_rate: number;
  w_learning_rate_min: number;
  w_momentum: number;
  w_weight_decay: number;
  /** Global-norm clip of the weights' gradient; 0 turns it off. */
  gradient_clip: number;
  /** Adam on alpha. */
  alpha_learning_rate: number;
  alpha_weight_decay: number;
  order: 'first' | 'second';
  /** Derived cells retrained from scratch: the final one, then the best earlier ones by shared-weights accuracy. */
  retrain: number;
}

/** ENAS and random search with weight sharing: how the shared supernet trains, and how many children are scored. */
export interface WeightSharingConfig {
  /** Passes over the training set; each minibatch trains the shared weights through one sampled child. */
  epochs: number;
  /** Examples per minibatch, for training the shared weights and for scoring a child alike. */
  batch_size: number;
  optimizer: 'adam' | 'sgd' | 'rmsprop';
  learning_rate: number;
  /** Children scored on one validation minibatch after each epoch (ENAS trains its controller on them). */
  children_per_epoch: number;
  /** K: children sampled at the end and scored on one validation batch; the best is retrained from scratch. */
  final_samples: number;
}

/** The trial records of an enas or random-ws search: the children scored during training, the final K, and the retrained one. */
export function weightSharingTrials(strategy: WeightSharingConfig): number {
  return strategy.epochs * strategy.children_per_epoch + strategy.final_samples + 1;
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
  | ({ kind: 'enas'; controller: ControllerConfig; reward: RewardConfig } & WeightSharingConfig)
  | ({ kind: 'random-ws'; reward: RewardConfig } & WeightSharingConfig)
  | ({ kind: 'darts'; reward: RewardConfig } & DartsConfig)
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

/** What a search that trains its architectures has: a data set and a train evaluation (the validator guarantees both). */
export function trainingSetup(config: SearchConfig): { dataset: DatasetConfig; evaluation: TrainEvaluationConfig } {
  const { dataset, evaluation } = config;
  if (evaluation.kind !== 'train' || dataset === undefined) throw new Error(`strategy ${config.strategy.kind} trains its architectures: it needs a dataset and evaluation kind train`);
  return { dataset, evaluation };
}
