// ENAS (Pham et al.) and random search with weight sharing (Li & Talwalkar) on one supernet.
//
// Each epoch trains the shared weights for one pass over the training set, one sampled child per
// minibatch (or BPTT window, for a recurrent cell's language model), then scores `children_per_epoch`
// children, each on the next validation minibatch (window) with the shared weights: those are trials
// (evaluator 'shared-weights'), and ENAS's controller learns from them with REINFORCE (random-ws learns
// nothing). At the end `final_samples` children are scored on one fixed validation batch, and the best
// is retrained from scratch by the run's evaluator, as one more trial. What depends on the data (images
// or text) is a `SharedWeightsTask` (shared-weights.ts). The strategy is the same ask/tell object as the
// ask/tell loop's: ENAS's is the REINFORCE controller, random-ws's the uniform sampler (`samplers`).
//
// The supernet trains in this (the engine) process, on the backend the run asks for; the retrained
// child trains in a trainer process like any other. Checkpoints (the supernet's weights, their
// optimizer's moments, the strategy with its controller and Adam state, where the run stands) are
// taken after each epoch's training, after each controller update, when the phases change and
// when stopped; a stopped run resumes exactly where it stopped.

import { finalSearchConfig } from '../retrain.ts';
import type { TrialRecord } from '../../protocol/engine.ts';
import type { TrialMeasurements } from '../../protocol/engine.ts';
import { GPU_BACKENDS, trainingSetup, weightSharingTrials, type SearchConfig, type StrategyConfig } from '../../space/config.ts';
import { log10SpaceSize, type Architecture, type Decision } from '../../space/decisions.ts';
import { compileSpace, decodeArchitecture, drawArchitecture } from '../../space/graph.ts';
import type { RunSession, SearchRunner } from '../runners/runner.ts';
import type { Store } from '../store/store.ts';
import { throwIfGpuFault } from '../backends/webgpu.ts';
import { strategyOnCpu } from '../strategies/on-cpu.ts';
import { randomKind } from '../strategies/random.ts';
import { reinforceKind } from '../strategies/reinforce.ts';
import { controllerStepRecord, type AskTellKind, type Strategy } from '../strategies/strategy.ts';
import { evaluateTrial, scoreTrial, type TrialOutcome } from '../trial-lifecycle.ts';
import { ImageSharedWeights } from './image-shared-weights.ts';
import { LanguageSharedWeights } from './language-shared-weights.ts';
import { loadSupernetImages, loadSupernetText, supernetBackend } from './one-shot-run.ts';
import { SharedOptimizer, type SharedOptimizerState } from './shared-optimizer.ts';
import type { SharedStep, SharedWeightsState, SharedWeightsTask } from './shared-weights.ts';

export type WeightSharingStrategy = Extract<StrategyConfig, { kind: 'enas' | 'random-ws' }>;

/** The ask/tell kind each weight-sharing kind samples its children with: ENAS's controller is REINFORCE's. */
const samplers: { readonly [Kind in WeightSharingStrategy['kind']]: AskTellKind<Extract<WeightSharingStrategy, { kind: Kind }>> } = {
  enas: reinforceKind,
  'random-ws': randomKind,
};

function isWeightSharing(strategy: StrategyConfig): strategy is WeightSharingStrategy {
  return Object.hasOwn(samplers, strategy.kind);
}

function createSampler(strategy: WeightSharingStrategy, decisions: readonly Decision[], seed: number, onGpu: boolean): Strategy {
  // The map's type pairs each kind with its own section; TypeScript cannot follow that pairing through the union.
  const sampler = samplers[strategy.kind] as AskTellKind<WeightSharingStrategy>;
  const create = () => sampler.create(strategy, decisions, seed);
  return onGpu ? strategyOnCpu(create) : create();
}

/** Where a run stands. */
export interface WeightSharingProgress {
  /** Epochs whose training pass is complete. */
  epochsTrained: number;
  /** Minibatches (windows) done in the epoch under way. */
  batch: number;
  /** Validation minibatches drawn so far (the controller's rewards walk through the validation set). */
  validationBatches: number;
  /** The trial index of the last child the strategy learned from. */
  toldThrough: number;
  /** The first trial index of the final samples, once training is over. */
  finalFrom: number | null;
}

export interface WeightSharingState extends SharedWeightsState {
  progress: WeightSharingProgress;
  strategy: unknown;
  optimizer: SharedOptimizerState;
}

/** The shared weights of the run's space, on its text (a recurrent cell) or its images (any other space). */
async function loadTask(session: RunSession, optimizer: SharedOptimizer, strategy: WeightSharingStrategy): Promise<SharedWeightsTask> {
  const { config } = session;
  const seed = config.runtime.seed;
  if (config.space.kind === 'recurrent') {
    const evaluation = trainingSetup(config).evaluation;
    const data = await loadSupernetText(session, evaluation.bptt, strategy.batch_size);
    return new LanguageSharedWeights(config.space, data, optimizer, evaluation, strategy.batch_size, seed);
  }
  return new ImageSharedWeights(config.space, await loadSupernetImages(session), optimizer, strategy.batch_size, seed);
}

class WeightSharingRun {
  private readonly decisions;
  private readonly strategy: Strategy;
  private readonly config: SearchConfig;
  progress: WeightSharingProgress = { epochsTrained: 0, batch: 0, validationBatches: 0, toldThrough: -1, finalFrom: null };

  constructor(
    private readonly context: RunSession,
    private readonly strategyConfig: WeightSharingStrategy,
    private readonly task: SharedWeightsTask,
    private readonly optimizer: SharedOptimizer,
  ) {
    const { config } = context;
    this.config = config;
    this.decisions = compileSpace(config.space);
    this.strategy = createSampler(strategyConfig, this.decisions, config.runtime.seed, GPU_BACKENDS.has(context.backend.name));
  }

  private get store(): Store {
    return this.context.store;
  }

  private get runId(): number {
    return this.context.runId;
  }

  get log10SpaceSize(): number {
    return log10SpaceSize(this.decisions);
  }

  async restore(state: WeightSharingState): Promise<void> {
    this.task.setState(state);
    this.optimizer.setState(state.optimizer);
    await this.strategy.setState(state.strategy);
    this.progress = state.progress;
  }

  async state(): Promise<WeightSharingState> {
    return {
      progress: { ...this.progress },
      strategy: await this.strategy.getState(),
      ...(await this.task.getState()),
      optimizer: await this.optimizer.getState(),
    };
  }

  private async checkpoint(): Promise<void> {
    this.store.checkpoint(this.runId, { toldThrough: this.progress.toldThrough, state: await this.state() });
  }

  /** Finished children the checkpoint had not learned from (the writer died between the two) are told again. */
  async retellSince(): Promise<void> {
    if (this.progress.finalFrom !== null) return;
    for (const trial of this.store.listTrials(this.runId)) {
      if (
        trial.index > this.progress.toldThrough &&
        trial.evaluator === 'shared-weights' &&
        (trial.status === 'done' || trial.status === 'failed')
      ) {
        await this.tell(trial.index, trial.architecture, trial.reward);
      }
    }
  }

  private scoredDuringTraining(): number {
    return this.store.listTrials(this.runId).filter((t) => t.evaluator === 'shared-weights' && t.status === 'done').length;
  }

  /** Trains and scores to the end of the training phase, or to a stop (checkpointed where it stopped). */
  async train(stopped: () => boolean): Promise<boolean> {
    const { epochs, children_per_epoch: perEpoch } = this.strategyConfig;
    const batches = this.task.stepsPerEpoch;
    let scored = this.scoredDuringTraining();
    let summed: SharedStep = { loss: 0, hits: 0, count: 0 };
    while (this.progress.epochsTrained < epochs || scored < epochs * perEpoch) {
      // Yield between steps so a stop request is seen promptly.
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped()) {
        await this.checkpoint();
        return false;
      }
      if (scored < this.progress.epochsTrained * perEpoch) {
        await this.scoreChild();
        scored += 1;
        if (scored === this.progress.epochsTrained * perEpoch) await this.checkpoint();
        continue;
      }
      const graph = decodeArchitecture(this.config.space, this.strategy.ask());
      const step = await this.task.trainStep(graph, this.progress.epochsTrained, this.progress.batch);
      summed = { loss: summed.loss + step.loss, hits: summed.hits + step.hits, count: summed.count + step.count };
      this.progress.batch += 1;
      if (this.progress.batch === batches) {
        throwIfGpuFault();
        this.progress.epochsTrained += 1;
        this.progress.batch = 0;
        await this.checkpoint();
        this.context.emit({
          type: 'log',
          level: 'info',
          message: `shared weights, epoch ${this.progress.epochsTrained}/${epochs}${this.task.describeEpoch(summed)}`,
        });
        summed = { loss: 0, hits: 0, count: 0 };
      }
    }
    return true;
  }

  /** Scores one sampled child on the next validation minibatch, records it as a trial, and tells the strategy. */
  private async scoreChild(): Promise<void> {
    const batch = this.progress.validationBatches;
    this.progress.validationBatches += 1;
    const architecture = this.strategy.ask();
    const { index, reward } = await this.scoreAsTrial(architecture, batch, this.strategy.lastHiddenState?.());
    await this.tell(index, architecture, reward);
  }

  private async tell(index: number, architecture: Architecture, reward: number | null): Promise<void> {
    const learned = this.strategy.tell(architecture, reward);
    this.progress.toldThrough = index;
    if (learned?.kind !== 'controller-step') return;
    const step = controllerStepRecord(this.runId, learned);
    this.context.emit({ type: 'controller-step', step });
    this.store.recordTell(this.runId, step, { toldThrough: index, state: await this.state() });
  }

  /** Records a child scored with the shared weights on validation batch `batch` as a 'shared-weights' trial. */
  private scoreAsTrial(architecture: Architecture, batch: number | 'final', hidden?: number[]): Promise<TrialOutcome> {
    const started = performance.now();
    const index = this.store.nextTrialIndex(this.runId);
    return scoreTrial(this.context, { index, architecture, hidden }, async (graph): Promise<TrialMeasurements> => {
      const score = await this.task.score(graph, batch);
      return { ...score, seconds: (performance.now() - started) / 1000, curve: [] };
    });
  }

  /** Samples and scores the final K children on one fixed validation batch; returns the best's trial. */
  async sampleFinal(stopped: () => boolean): Promise<TrialRecord | undefined> {
    if (this.progress.finalFrom === null) {
      this.progress.finalFrom = this.store.nextTrialIndex(this.runId);
      await this.checkpoint();
    }
    const finalFrom = this.progress.finalFrom;
    const finals = () =>
      this.store.listTrials(this.runId).filter((t) => t.index >= finalFrom && t.evaluator === 'shared-weights' && t.status === 'done');
    for (let done = finals().length; done < this.strategyConfig.final_samples; done++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped()) {
        await this.checkpoint();
        return undefined;
      }
      const architecture = this.strategy.ask();
      await this.scoreAsTrial(architecture, 'final', this.strategy.lastHiddenState?.());
    }
    // Ties go to the earliest sample.
    return finals().reduce((a, b) => ((b.reward ?? -Infinity) > (a.reward ?? -Infinity) ? b : a));
  }

  dispose(): void {
    this.task.dispose();
    this.optimizer.dispose();
    this.strategy.dispose();
  }
}

/** Runs (or resumes) an enas or random-ws run: training with shared weights, the final samples, then the best retrained from scratch. */
export const weightSharingRunner: SearchRunner = {
  oneShot: true,
  computeBackend: supernetBackend,
  async run(session) {
    const { store, runId, config, checkpoint, log, stopped } = session;
    const { strategy } = config;
    if (!isWeightSharing(strategy)) throw new Error(`run ${runId} is not an enas or random-ws search`);
    const optimizer = new SharedOptimizer(strategy.optimizer, strategy.learning_rate);
    const search = new WeightSharingRun(session, strategy, await loadTask(session, optimizer, strategy), optimizer);
    let best: TrialRecord | undefined;
    try {
      if (checkpoint) await search.restore(checkpoint.state as WeightSharingState);
      session.announce(
        session.backend,
        search.log10SpaceSize,
        `${strategy.kind}: ${strategy.epochs} epochs of shared weights, ${weightSharingTrials(strategy)} trials`,
      );
      await search.retellSince();
      const trained = await search.train(stopped);
      best = trained ? await search.sampleFinal(stopped) : undefined;
    } finally {
      // The supernet is freed before the retraining starts its trainer processes.
      search.dispose();
    }
    let interruptedBecause: string | undefined;
    // Retrained already (before a stop, or by the user while it was stopped): not again.
    const retrained = (pick: TrialRecord) =>
      store.listTrials(runId).some((t) => t.evaluator === 'train-from-scratch' && t.status !== 'interrupted' && t.key === pick.key);
    if (best && !retrained(best) && !stopped()) {
      log('info', `best of the final samples (trial ${best.index}), retrained from scratch:\n${drawArchitecture(best.graph)}`);
      const trial = { index: store.nextTrialIndex(runId), architecture: best.architecture, graph: best.graph };
      const retrain = await evaluateTrial(
        { ...session, config: finalSearchConfig(config) },
        { ...trial, retrainedFrom: best.index },
        await session.startEvaluator('final'),
      );
      interruptedBecause = retrain.noEvaluatorLeft;
    }
    return { interruptedBecause };
  },
};
