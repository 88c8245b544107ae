// ENAS (Pham et al.) and random search with weight sharing (Li & Talwalkar) on one supernet.
//
// Each epoch trains the shared weights for one pass over the training set, one sampled child per
// minibatch, then scores `children_per_epoch` children, each on the next validation minibatch with
// the shared weights: those are trials (evaluator 'shared-weights'), and ENAS's controller learns
// from them with REINFORCE (random-ws learns nothing). At the end `final_samples` children are
// scored on one fixed validation batch, and the best is retrained from scratch by the
// train-from-scratch evaluator, as one more trial. The strategy is the same ask/tell object as the
// ask/tell loop's: ENAS's is the REINFORCE controller, random-ws's the uniform sampler (`samplers`).
//
// The supernet trains in this (the engine) process, on the backend the run asks for; the retrained
// child trains in a trainer process like any other. Checkpoints (the supernet's weights, their
// optimizer's moments, the strategy with its controller and Adam state, where the run stands) are
// taken after each epoch's training, after each controller update, when the phases change and
// when stopped; a stopped run resumes exactly where it stopped.

import * as tf from '@tensorflow/tfjs';
import type { TrialMeasurements } from '../../protocol/engine.ts';
import { GPU_BACKENDS, weightSharingTrials, type SearchConfig, type StrategyConfig } from '../../space/config.ts';
import { log10SpaceSize, type Architecture, type Decision } from '../../space/decisions.ts';
import { compileSpace, decodeArchitecture, drawArchitecture, type ArchitectureGraph } from '../../space/graph.ts';
import { createRng, shuffledIndices } from '../../space/rng.ts';
import { batchOf, type TensorPart, type TrainingData } from '../evaluators/train-from-scratch.ts';
import type { RunSession, SearchRunner } from '../runners/runner.ts';
import type { Store } from '../store/store.ts';
import type { SavedTensor } from '../strategies/saved-tensor.ts';
import { throwIfGpuFault } from '../backends/webgpu.ts';
import { strategyOnCpu } from '../strategies/on-cpu.ts';
import { randomKind } from '../strategies/random.ts';
import { reinforceKind } from '../strategies/reinforce.ts';
import { controllerStepRecord, type AskTellKind, type Strategy } from '../strategies/strategy.ts';
import { evaluateTrial, scoreTrial, type TrialOutcome } from '../trial-lifecycle.ts';
import { scalarValues } from '../tensor-values.ts';
import { supernetBackend, withSupernetData } from './one-shot-run.ts';
import { SharedOptimizer, type SharedOptimizerState } from './shared-optimizer.ts';
import { Supernet } from './supernet.ts';

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
  /** Minibatches done in the epoch under way. */
  batch: number;
  /** Validation minibatches drawn so far (the controller's rewards walk through the validation set). */
  validationBatches: number;
  /** The trial index of the last child the strategy learned from. */
  toldThrough: number;
  /** The first trial index of the final samples, once training is over. */
  finalFrom: number | null;
}

export interface WeightSharingState {
  progress: WeightSharingProgress;
  strategy: unknown;
  supernet: SavedTensor[];
  optimizer: SharedOptimizerState;
}

/** A minibatch order per epoch (or per pass over the validation set), seeded by the run: a resume replays it. */
function order(seed: number, salt: number, pass: number, count: number): Int32Array {
  return shuffledIndices(count, createRng(seed * 1_000_003 + salt * 7_919 + pass));
}

/** Accuracy of a child with the shared weights on the given examples, with the child's size. */
export async function sharedWeightsAccuracy(
  supernet: Supernet,
  graph: ArchitectureGraph,
  part: TensorPart,
  indices: Int32Array,
): Promise<{ accuracy: number; params: number; flops: number }> {
  let size = { params: 0, flops: 0 };
  const [hits] = await scalarValues([
    tf.tidy(() => {
      const { images, oneHot } = batchOf(part, indices);
      const pass = supernet.forward(graph, images);
      size = { params: pass.params, flops: pass.flops };
      return tf.sum(tf.equal(tf.argMax(pass.logits, 1), tf.argMax(oneHot, 1)));
    }),
  ]);
  return { accuracy: hits / indices.length, ...size };
}

/** The first `size` examples of a part (the fixed batch the final samples, and every child's test figure, use). */
const firstBatch = (part: TensorPart, size: number) => Int32Array.from({ length: Math.min(size, part.count) }, (_, i) => i);

class WeightSharingRun {
  private readonly strategyConfig: WeightSharingStrategy;
  private readonly decisions;
  private readonly supernet: Supernet;
  private readonly optimizer: SharedOptimizer;
  private readonly strategy: Strategy;
  private readonly config: SearchConfig;
  progress: WeightSharingProgress = { epochsTrained: 0, batch: 0, validationBatches: 0, toldThrough: -1, finalFrom: null };

  constructor(
    private readonly context: RunSession,
    private readonly data: TrainingData,
  ) {
    const { config, runId } = context;
    if (!isWeightSharing(config.strategy)) throw new Error(`run ${runId} is not a weight-sharing search`);
    this.config = config;
    this.strategyConfig = config.strategy;
    this.decisions = compileSpace(config.space);
    this.supernet = new Supernet(config.space, { inputShape: data.shape, classes: data.classes, seed: config.runtime.seed });
    this.optimizer = new SharedOptimizer(this.strategyConfig.optimizer, this.strategyConfig.learning_rate);
    this.strategy = createSampler(this.strategyConfig, this.decisions, config.runtime.seed, GPU_BACKENDS.has(context.backend.name));
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
    this.supernet.setState(state.supernet);
    this.optimizer.setState(state.optimizer);
    await this.strategy.setState(state.strategy);
    this.progress = state.progress;
  }

  async state(): Promise<WeightSharingState> {
    return {
      progress: { ...this.progress },
      strategy: await this.strategy.getState(),
      supernet: await this.supernet.getState(),
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
    const { epochs, batch_size: batchSize, children_per_epoch: perEpoch } = this.strategyConfig;
    const batches = Math.ceil(this.data.train.count / batchSize);
    let scored = this.scoredDuringTraining();
    let epochLoss = 0;
    let epochHits = 0;
    let epochSeen = 0;
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
      const permutation = order(this.config.runtime.seed, 1, this.progress.epochsTrained, this.data.train.count);
      const start = this.progress.batch * batchSize;
      const indices = permutation.subarray(start, Math.min(start + batchSize, this.data.train.count));
      const { loss, hits } = await this.trainStep(indices);
      epochLoss += loss * indices.length;
      epochHits += hits;
      epochSeen += indices.length;
      this.progress.batch += 1;
      if (this.progress.batch === batches) {
        throwIfGpuFault();
        this.progress.epochsTrained += 1;
        this.progress.batch = 0;
        await this.checkpoint();
        const figures =
          epochSeen > 0
            ? `: loss ${(epochLoss / epochSeen).toFixed(4)}, accuracy of the sampled children ${(epochHits / epochSeen).toFixed(3)}`
            : '';
        this.context.emit({
          type: 'log',
          level: 'info',
          message: `shared weights, epoch ${this.progress.epochsTrained}/${epochs}${figures}`,
        });
        epochLoss = epochHits = epochSeen = 0;
      }
    }
    return true;
  }

  /** One step of the shared weights on a training minibatch, through a child the strategy samples. */
  private async trainStep(indices: Int32Array): Promise<{ loss: number; hits: number }> {
    const graph = decodeArchitecture(this.config.space, this.strategy.ask());
    const [loss, hits] = await scalarValues(
      tf.tidy(() => {
        const { images, oneHot } = batchOf(this.data.train, indices);
        let hits: tf.Scalar | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const { logits } = this.supernet.forward(graph, images);
          // Made inside the gradient's own scope: kept, and disposed with the loss.
          hits = tf.keep(tf.sum(tf.equal(tf.argMax(logits, 1), tf.argMax(oneHot, 1)))) as tf.Scalar;
          return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
        }, this.supernet.variables);
        const byName = new Map(this.supernet.variables.map((v) => [v.name, v]));
        this.optimizer.apply(
          Object.entries(grads).map(([name, gradient]) => ({
            name: this.supernet.localName(byName.get(name)!),
            weight: byName.get(name)!,
            gradient,
          })),
        );
        return [value, hits!];
      }),
    );
    return { loss, hits };
  }

  /** Scores one sampled child on the next validation minibatch, records it as a trial, and tells the strategy. */
  private async scoreChild(): Promise<void> {
    const { batch_size: batchSize } = this.strategyConfig;
    const count = this.data.validation.count;
    const perPass = Math.ceil(count / batchSize);
    const pass = Math.floor(this.progress.validationBatches / perPass);
    const start = (this.progress.validationBatches % perPass) * batchSize;
    const indices = order(this.config.runtime.seed, 2, pass, count).subarray(start, Math.min(start + batchSize, count));
    this.progress.validationBatches += 1;
    const architecture = this.strategy.ask();
    const { index, reward } = await this.scoreAsTrial(architecture, indices, this.strategy.lastHiddenState?.());
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

  /** Records a child scored with the shared weights on `indices` of the validation set as a 'shared-weights' trial. */
  private scoreAsTrial(architecture: Architecture, indices: Int32Array, hidden?: number[]): Promise<TrialOutcome> {
    const started = performance.now();
    const index = this.store.nextTrialIndex(this.runId);
    return scoreTrial(this.context, { index, architecture, hidden }, async (graph): Promise<TrialMeasurements> => {
      const validation = await sharedWeightsAccuracy(this.supernet, graph, this.data.validation, indices);
      const testBatch = firstBatch(this.data.test, this.strategyConfig.batch_size);
      const test = await sharedWeightsAccuracy(this.supernet, graph, this.data.test, testBatch);
      return {
        valAccuracy: validation.accuracy,
        testAccuracy: test.accuracy,
        params: validation.params,
        flops: validation.flops,
        seconds: (performance.now() - started) / 1000,
        curve: [],
      };
    });
  }

  /** Samples and scores the final K children on one fixed validation batch; returns the best's architecture. */
  async sampleFinal(stopped: () => boolean): Promise<Architecture | undefined> {
    if (this.progress.finalFrom === null) {
      this.progress.finalFrom = this.store.nextTrialIndex(this.runId);
      await this.checkpoint();
    }
    const finalFrom = this.progress.finalFrom;
    const finals = () =>
      this.store.listTrials(this.runId).filter((t) => t.index >= finalFrom && t.evaluator === 'shared-weights' && t.status === 'done');
    const batch = firstBatch(this.data.validation, this.strategyConfig.batch_size);
    for (let done = finals().length; done < this.strategyConfig.final_samples; done++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (stopped()) {
        await this.checkpoint();
        return undefined;
      }
      const architecture = this.strategy.ask();
      await this.scoreAsTrial(architecture, batch, this.strategy.lastHiddenState?.());
    }
    // Ties go to the earliest sample.
    const best = finals().reduce((a, b) => ((b.reward ?? -Infinity) > (a.reward ?? -Infinity) ? b : a));
    return best.architecture;
  }

  dispose(): void {
    this.supernet.dispose();
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
    let interruptedBecause: string | undefined;
    await withSupernetData(session, async (data) => {
      let search: WeightSharingRun | undefined = new WeightSharingRun(session, data);
      let best: Architecture | undefined;
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
        search = undefined;
      }
      const retrained = store.listTrials(runId).some((t) => t.evaluator === 'train-from-scratch' && t.status !== 'interrupted');
      if (best && !retrained && !stopped()) {
        log('info', `best of the final samples, retrained from scratch:\n${drawArchitecture(decodeArchitecture(config.space, best))}`);
        const retrain = await evaluateTrial(
          session,
          { index: store.nextTrialIndex(runId), architecture: best },
          await session.startEvaluator(),
        );
        interruptedBecause = retrain.noEvaluatorLeft;
      }
    });
    return { interruptedBecause };
  },
};
