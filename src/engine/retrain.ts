// Retraining a chosen architecture for good: from scratch, with the final recipe (evaluation.retrain: a
// longer schedule, augmentation), on the training and validation examples together, measured on the test
// examples. It is a trial of the same run that names the trial it retrains, keeps its weights, and has no
// reward. `nas-studio retrain`, "Retrain…" in the Runs tree and a one-shot search's automatic retraining
// all train this way.

import type { EngineEvent, TrialRecord } from '../protocol/engine.ts';
import { trainingSetup, type SearchConfig, type TrainEvaluationConfig } from '../space/config.ts';
import { imageShapeOf } from '../space/estimate.ts';
import { isImageDataset } from '../space/kinds/datasets/registry.ts';
import type { RetrainRecipe } from '../space/kinds/evaluations/train.ts';
import { dirname } from 'node:path';
import { EvaluationFailed, type Evaluator } from './evaluators/evaluator.ts';
import { startConfiguredEvaluator } from './evaluators/start.ts';
import type { Store } from './store/store.ts';
import { evaluateTrial } from './trial-lifecycle.ts';
import { spaceKind } from '../space/kinds/spaces/registry.ts';

/**
 * The final recipe's default crop padding for images `size` pixels on their shorter side: an eighth of it,
 * as ENAS and DARTS pad CIFAR-10's 32 pixels by 4 (an 8-pixel digit gets 1).
 */
const defaultCropPadding = (size: number) => Math.round(size / 8);

/**
 * The recipe a chosen architecture is retrained with: the search's, with what `evaluation.retrain` and then
 * `overrides` say; by default twice the epochs, a cosine schedule, and random crops padded by an eighth of
 * the image (`imageSize`, its shorter side) when the search padded less.
 */
export function finalRecipe(evaluation: TrainEvaluationConfig, imageSize: number, overrides: RetrainRecipe = {}): TrainEvaluationConfig {
  const { retrain: written, ...search } = evaluation;
  const recipe: TrainEvaluationConfig = {
    ...search,
    epochs: 2 * search.epochs,
    lr_schedule: 'cosine',
    augment: { ...search.augment, crop_padding: Math.max(search.augment.crop_padding, defaultCropPadding(imageSize)) },
    ...written,
    ...overrides,
  };
  // The reward's last epochs do not apply: a retraining's result is its last epoch's test accuracy.
  return { ...recipe, reward_epochs: Math.min(recipe.reward_epochs, recipe.epochs) };
}

/** The search as its final retraining runs it: its evaluation replaced by the final recipe. */
export function finalSearchConfig(config: SearchConfig, overrides: RetrainRecipe = {}): SearchConfig {
  const { dataset, evaluation } = trainingSetup(config);
  const imageSize = isImageDataset(dataset) ? Math.min(...imageShapeOf(dataset).shape.slice(0, 2)) : 0;
  return { ...config, evaluation: finalRecipe(evaluation, imageSize, overrides) };
}

/**
 * Why this run's trials cannot be retrained here, or undefined when they can: NAS Studio retrains the networks
 * it builds itself (image classifiers and language models), not table lookups or a user's own program.
 */
function unretrainable(config: SearchConfig): string | undefined {
  if (config.evaluation.kind === 'tabular')
    return 'its accuracies come from the NAS-Bench-201 table; NAS Studio has no network of its own to train for a nasbench201 cell';
  if (config.evaluation.kind === 'command')
    return 'its trials train with your own program (evaluation kind command); run it on the architecture yourself';
  // A recurrent cell's language model is built by its trainer, not by the space's image network.
  if (config.space.kind !== 'recurrent' && spaceKind(config.space).network === undefined)
    return `NAS Studio builds no network for a ${config.space.kind} space`;
  return undefined;
}

/**
 * The trial `raw` names in the run (its index), or the run's best finished search trial; it must be done, and a
 * search trial (a retrained trial is retrained by retraining the trial it came from).
 */
export function trialToRetrain(store: Store, runId: number, raw?: number): TrialRecord {
  const { config } = store.runConfig(runId);
  const why = unretrainable(config);
  if (why !== undefined) throw new Error(`run ${runId} cannot be retrained: ${why}`);
  if (raw === undefined) {
    const best = store
      .listTrials(runId, 'reward')
      .find((trial) => trial.status === 'done' && trial.retrainedFrom === null && trial.reward !== null);
    if (!best) throw new Error(`run ${runId} has no done trial to retrain`);
    return best;
  }
  const trial = store.getTrial(runId, raw);
  if (!trial) throw new Error(`run ${runId} has no trial ${raw}`);
  if (trial.retrainedFrom !== null)
    throw new Error(
      `trial ${raw} of run ${runId} is itself a retraining (of trial ${trial.retrainedFrom}); retrain trial ${trial.retrainedFrom}`,
    );
  if (trial.status !== 'done') throw new Error(`trial ${raw} of run ${runId} is ${trial.status}, not done; retrain a done trial`);
  return trial;
}

/** A retraining stopped before its training began: no trial was recorded. */
export class RetrainingStopped extends Error {
  constructor(readonly trial: number) {
    super(`the retraining of trial ${trial} was stopped before its training began; nothing was recorded`);
    this.name = 'RetrainingStopped';
  }
}

export interface RetrainOptions {
  /** The trial to retrain; the run's best by default. */
  trial?: number;
  /** Settings that replace the final recipe's (the command line's --epochs and --recipe). */
  recipe?: RetrainRecipe;
  onEvent: (event: EngineEvent) => void;
  /** Aborting cancels the training; the retrained trial is then recorded interrupted. */
  signal?: AbortSignal;
  /** Starts the trainer (tests may start another); as the search file's evaluation says by default. */
  startEvaluator?: typeof startConfiguredEvaluator;
}

/** Retrains a trial of a finished (or stopped) run as a new trial of that run; returns the retrained trial as recorded. */
export async function retrainTrial(store: Store, runId: number, options: RetrainOptions): Promise<TrialRecord> {
  // Says "no run N" where there is none.
  const source = trialToRetrain(store, runId, options.trial);
  const { config, spaceFile } = store.runConfig(runId);
  const final = finalSearchConfig(config, options.recipe);
  const log = (message: string) => options.onEvent({ type: 'log', level: 'warn', message });
  // This process writes the run until the retraining ends: no search or other retraining meanwhile, and a
  // retraining killed leaves a dead writer, so that its trial reads as interrupted.
  store.claimRunForRetraining(runId);
  let evaluator: Evaluator | undefined;
  const cancel = () => evaluator?.cancelAll();
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    evaluator = await (options.startEvaluator ?? startConfiguredEvaluator)(final, dirname(spaceFile), log, 1);
    // A stop that came while the trainer started has no training to cancel yet: nothing is trained or recorded.
    if (options.signal?.aborted) throw new RetrainingStopped(source.index);
    const recipe = final.evaluation as TrainEvaluationConfig;
    options.onEvent({
      type: 'log',
      level: 'info',
      message:
        `retraining trial ${source.index} of run ${runId} on ${evaluator.backend}: ${recipe.epochs} epochs ` +
        'on the training and validation examples, measured on the test examples',
    });
    const index = store.nextTrialIndex(runId);
    const outcome = await evaluateTrial(
      { store, runId, config: final, emit: options.onEvent },
      { index, architecture: source.architecture, graph: source.graph, retrainedFrom: source.index },
      evaluator,
    );
    if (outcome.noEvaluatorLeft !== undefined) throw new EvaluationFailed(outcome.noEvaluatorLeft, false, true, true);
    return store.getTrial(runId, index)!;
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    await evaluator?.close();
    store.releaseRun(runId);
  }
}
