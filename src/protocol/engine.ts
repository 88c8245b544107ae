// Every message between a front end (the CLI, later the VS Code host) and the engine, and the
// records they carry. Both sides import these types; nothing else crosses the boundary.

import type { BackendName } from '../space/config.ts';
import type { CompareData, DashboardData, IntermediateValues, TrialData } from './webview.ts';
import type { Architecture } from '../space/decisions.ts';
import type { ArchitectureGraph } from '../space/graph.ts';
import type { ControllerInsight } from './insight.ts';

export type RunStatus = 'running' | 'done' | 'failed' | 'stopped' | 'interrupted';
/** pruned: a scheduler stopped it early (its curve and the epoch it reached are kept); it counts in the budget like done. */
export type TrialStatus = 'running' | 'done' | 'pruned' | 'failed' | 'interrupted';

/** Whether a finished trial counts in its run's budget: every evaluated one (done, pruned, failed), not an interrupted one. */
export function countsInBudget(status: TrialStatus): boolean {
  return status === 'done' || status === 'pruned' || status === 'failed';
}

/**
 * Whether a finished trial counts in its run's progress (the store's trials_done, src/engine/store/rows.ts, says
 * the same in SQL): an evaluated search trial, or a one-shot search's own retraining (within its budget), not a
 * retraining the user asked for (which would take a trial from the budget of a search resumed after it).
 */
export function countsInProgress(
  trial: Pick<TrialRecord, 'status' | 'retrainedFrom' | 'index'>,
  run: Pick<RunRecord, 'budgetTrials' | 'oneShot'>,
): boolean {
  return countsInBudget(trial.status) && (trial.retrainedFrom === null || (run.oneShot && trial.index < run.budgetTrials));
}

/**
 * Whether a trial's reward may be its run's best: only a trial trained in full, as the store's best
 * reward (a pruned trial's was measured at fewer epochs).
 */
export function rewardCountsForBest(trial: { status: TrialStatus; reward: number | null }): boolean {
  return trial.status === 'done' && trial.reward !== null && Number.isFinite(trial.reward);
}

export interface EpochMetrics {
  epoch: number;
  /** Null: the trainer did not report it (a user's own training script may report val accuracy alone). */
  trainLoss: number | null;
  trainAccuracy: number | null;
  valLoss: number | null;
  valAccuracy: number;
  seconds: number;
  /** Any other numbers the trial reported for this epoch, by name. */
  extra?: Record<string, number>;
}

/** What an evaluator measured of one child. */
export interface TrialMeasurements {
  /** Best validation accuracy of the last k epochs: the signal strategies see. */
  valAccuracy: number;
  /** For reporting only; no strategy reads it. Null when the trial did not report it. */
  testAccuracy: number | null;
  /**
   * Language models: the perplexity of the epoch whose validation loss was lowest among the last k, and on the
   * test part (reporting only).
   */
  valPerplexity?: number | null;
  testPerplexity?: number | null;
  /** Null when the evaluator does not know them (a command's program that does not report them). */
  params: number | null;
  flops: number | null;
  /** Median milliseconds of one forward pass at batch 1 on the trial's backend; absent where it was not measured. */
  latencyMs?: number | null;
  seconds: number;
  curve: EpochMetrics[];
  /** The trial's own output (a command evaluator's training script), already cut to a size by the evaluator. */
  log?: string;
  /** A language model trained in full: its final weights, kept so that text can be sampled from it. */
  weights?: LanguageModelWeights;
  /** The folder its trained weights were saved in (an absolute path; the store records it relative to the database). */
  savedWeights?: string;
}

/**
 * A trained language model's weights and how its tokens read, as they cross process boundaries (Node's IPC
 * is JSON): every variable's shape in the model's variable order, and their values as one base64 string of
 * little-endian float32s.
 */
export interface LanguageModelWeights {
  format: 'float32-base64';
  shapes: number[][];
  data: string;
  tokens: 'char' | 'word';
  /** Token strings by id. */
  vocabulary: string[];
  /** Word vocabularies: the id of '<unk>'. */
  unknownId?: number;
}

/**
 * How a trial was scored: trained on its own, with a one-shot search's shared supernet weights, looked
 * up in a table, or by the user's own training command.
 */
export type TrialEvaluator = 'train-from-scratch' | 'shared-weights' | 'tabular' | 'command';

/** A trial as listings carry it: its log, which may be long, is read on its own (`Store.trialLog`). */
export interface TrialRecord {
  runId: number;
  index: number;
  status: TrialStatus;
  architecture: Architecture;
  key: string;
  graph: ArchitectureGraph;
  reward: number | null;
  metrics: Omit<TrialMeasurements, 'curve' | 'log' | 'weights'> | null;
  error: string | null;
  evaluator: TrialEvaluator;
  /** Epochs of its stored learning curve: where a pruned trial stopped, where a failed one got to. */
  epochsTrained: number;
  /** The remote worker that ran it ("host pid 123, backend wasm"); null when it ran on the search's machine. */
  worker: string | null;
  /** How many times a remote worker started it (more than 1 after a worker died or failed under it); null when local. */
  attempts: number | null;
  /** A retrained trial (trained again from scratch with the final recipe): the index of the trial it retrains; null for a search trial. */
  retrainedFrom: number | null;
  /** Its kept weights' folder, relative to the database's folder (tfjs files: model.json, weights.bin); null when none were kept. */
  weightsPath: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface RunRecord {
  id: number;
  name: string;
  spaceFile: string;
  strategy: string;
  spaceKind: string;
  backend: string | null;
  seed: number;
  status: RunStatus;
  budgetTrials: number;
  /** A one-shot search (its trials follow from its strategy): its own retraining is part of its budget. */
  oneShot: boolean;
  trialsDone: number;
  bestReward: number | null;
  createdAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ControllerStepRecord {
  runId: number;
  step: number;
  loss: number;
  meanReward: number;
  baseline: number;
  entropy: number;
  advantage: number;
  /** Each decision's probability vector, for the architecture the step sampled last. */
  probabilities: number[][];
}

/** The softmax over the operations of every edge of a DARTS cell, at one alpha step. */
export interface AlphaSnapshotRecord {
  runId: number;
  /** Alpha updates made so far. */
  step: number;
  /** The search epoch the step belongs to (1-based). */
  epoch: number;
  weights: AlphaWeights;
}

/** Per cell type, per edge (in `dartsEdges` order), the weight of each operation, `none` last. */
export interface AlphaWeights {
  normal: number[][];
  reduction: number[][];
}

/** A warning kept with a run, such as DARTS' collapse into identity operations. */
export interface RunNoteRecord {
  runId: number;
  seq: number;
  level: 'info' | 'warn';
  message: string;
  createdAt: string;
}

/** Events the engine emits while a search runs, in order. */
export type EngineEvent =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'run-started'; run: RunRecord; resumed: boolean; backend: EvaluatorBackend; backendDetail: string; log10SpaceSize: number }
  /** `retrainedFrom`: a retraining (its epochs are measured on the test examples), of that trial. */
  | { type: 'trial-started'; runId: number; index: number; architecture: Architecture; key: string; retrainedFrom?: number }
  | { type: 'epoch'; runId: number; trial: number; metrics: EpochMetrics }
  | { type: 'trial-finished'; trial: TrialRecord }
  | { type: 'controller-step'; step: ControllerStepRecord }
  | { type: 'alpha-snapshot'; snapshot: AlphaSnapshotRecord }
  | { type: 'run-note'; note: RunNoteRecord }
  | { type: 'run-finished'; run: RunRecord };

/** What a run's children compute on: a backend on the search's machine, or remote workers (each trial records its worker and backend). */
export type EvaluatorBackend = BackendName | 'workers';

export interface SearchOverrides {
  trials?: number;
  seed?: number;
  backend?: BackendName | 'auto';
  /** A Redis URL: the run's trials go to remote workers through it (`runtime.queue`). */
  queue?: string;
}

/** What `nas-studio doctor` says of one backend, without making it tfjs's backend. */
export interface BackendCheck {
  /** Whether `auto` would start it here. */
  usable: boolean;
  /** What it runs on (the GPU's name when there is one), or why it cannot. */
  detail: string;
  /** What to do about it, when something can be done. */
  hint?: string;
}

/** One backend's check as `nas-studio doctor` and NAS: Check Backends report it, in the order `auto` tries them. */
export interface BackendReport extends BackendCheck {
  name: BackendName;
  /** The one `auto` would start: the first usable. */
  pickedByAuto: boolean;
}

export type TrialOrder = 'index' | 'reward';

/** Reads (and the one repair) a front end asks of the store; the editor never opens SQLite itself. */
export type StoreQuery =
  | { kind: 'runs' }
  | { kind: 'trials'; runId: number; order: TrialOrder; offset: number; limit: number }
  | { kind: 'trial'; runId: number; index: number }
  /** After an engine process died: its run and unfinished trials are marked interrupted. */
  | { kind: 'mark-interrupted'; runId: number; reason: string }
  | { kind: 'dashboard'; runId: number }
  /** The dashboard's intermediate values alone, asked again as trials finish (the rungs move with them). */
  | { kind: 'intermediate'; runId: number }
  | { kind: 'trial-view'; runId: number; index: number }
  | { kind: 'compare'; runIds: number[] }
  /** What retraining a trial would train (an error saying why, for one that cannot be retrained). */
  | { kind: 'retrain-plan'; runId: number; index: number }
  /** The controller-insight analysis of a reinforce or enas run (tfjs, in the engine; seconds to a minute). */
  | { kind: 'controller-insight'; runId: number }
  /** Text sampled from a language-model trial's kept weights after `prompt`: `length` tokens at `temperature` (tfjs cpu, in the engine). */
  | { kind: 'sample-text'; runId: number; index: number; prompt: string; temperature: number; length: number };

export type StoreQueryKind = StoreQuery['kind'];

/** The result each query kind answers with, as optuna-dashboard's StorageWorkerResultMap. */
export interface StoreQueryResults {
  runs: RunRecord[];
  trials: { trials: TrialRecord[]; total: number };
  trial: { trial: TrialRecord; epochs: EpochMetrics[] } | null;
  'mark-interrupted': null;
  dashboard: DashboardData | null;
  /** null for a run that is not there or has no epochs to chart. */
  intermediate: IntermediateValues | null;
  'trial-view': TrialData | null;
  compare: CompareData;
  'controller-insight': ControllerInsight;
  /** The final recipe's epochs: what Retrain… proposes. */
  'retrain-plan': { epochs: number };
  /** The sampled continuation alone, without the prompt. */
  'sample-text': string;
}

/** Per query kind, its answer: the kind it answers and a result of that kind's type, never another's. */
export type StoreAnswers = { [K in StoreQueryKind]: { kind: K; result: StoreQueryResults[K] } };
export type StoreAnswer = StoreAnswers[StoreQueryKind];

/** Whether `answer` answers a query of `kind`; it then carries that kind's result type. */
export function answersKind<K extends StoreQueryKind>(
  kind: K,
  answer: { kind: StoreQueryKind; result: unknown },
): answer is StoreAnswers[K] {
  return answer.kind === kind;
}

/**
 * Commands a front end sends to an engine child process: at most one search, retraining, export or deletion (the
 * process's one job), any number of queries and backend checks.
 */
export type EngineCommand =
  | { type: 'search'; file: string; db: string; overrides: SearchOverrides }
  | { type: 'resume'; runId: number; db: string }
  | { type: 'stop' }
  /** Trains a done search trial again with the final recipe (`epochs` replaces the recipe's); the 'stop' command cancels it. */
  | { type: 'retrain'; db: string; runId: number; trial: number; epochs?: number }
  /**
   * Exports a trial as `nas-studio export` does: a model format (tfjs, …) writes its kept weights into the folder
   * `out`; json and svg write the file `out`. `force` replaces what is there.
   */
  | { type: 'export'; db: string; runId: number; trial: number; format: string; out: string; force: boolean }
  | { type: 'delete-run'; db: string; runId: number }
  | { type: 'query'; id: number; db: string; query: StoreQuery }
  | { type: 'check-backends' };

/**
 * What an engine child process sends back: a job's events then one final message (a search's 'done', a
 * retraining's 'retrained', an export's 'exported', a deletion's 'deleted', or 'failed'); an answer per query.
 */
export type EngineMessage =
  | { type: 'event'; event: EngineEvent }
  | { type: 'done'; runId: number; status: RunStatus }
  /** The retrained trial as recorded: done, or interrupted (stopped) or failed with its error. */
  | { type: 'retrained'; trial: TrialRecord }
  /** The files written: for a model, their names in its folder; for json and svg, the one file. */
  | { type: 'exported'; files: string[] }
  | { type: 'deleted'; runId: number }
  | { type: 'failed'; message: string; problems?: string[] }
  | ({ type: 'query-result'; id: number } & StoreAnswer)
  | { type: 'query-failed'; id: number; message: string }
  | { type: 'backend-checks'; backends: BackendReport[] };
