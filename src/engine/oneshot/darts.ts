// A DARTS run (Liu et al.) on a cell space: search epochs on the supernet, each ending with the cell
// derived so far as a 'shared-weights' trial, then the derived cell (and the best earlier ones, if
// asked) retrained from scratch as 'train-from-scratch' trials. Alpha's softmax is stored over time
// for the dashboard; a checkpoint (w, alpha, both optimizers) is kept per epoch and when stopped.

import { finalSearchConfig } from '../retrain.ts';
import type { AlphaWeights, EpochMetrics, TrialMeasurements, TrialRecord } from '../../protocol/engine.ts';
import type { CellSpaceConfig, StrategyConfig } from '../../space/config.ts';
import { compileSpace, drawArchitecture, encodeGraph, type CellGraph } from '../../space/graph.ts';
import { log10SpaceSize } from '../../space/decisions.ts';
import { createRng, shuffledIndices } from '../../space/rng.ts';
import type { Evaluator } from '../evaluators/evaluator.ts';
import type { TrainingData } from '../evaluators/train-from-scratch.ts';
import { buildModel, countFlops } from '../model/build.ts';
import type { RunSession, SearchRunner } from '../runners/runner.ts';
import { evaluateTrial, recordMeasuredTrial, type TrialContext } from '../trial-lifecycle.ts';
import { throwIfGpuFault } from '../backends/webgpu.ts';
import { loadSupernetImages, supernetBackend } from './one-shot-run.ts';
import { DartsSearch, weightLearningRate, type DartsTensors } from './darts-search.ts';
import { dartsEdges, deriveCell } from './darts-supernet.ts';

type DartsStrategy = Extract<StrategyConfig, { kind: 'darts' }>;

/** Alpha snapshots per search epoch (the last at the epoch's end): enough for smooth curves, few rows. */
const SNAPSHOTS_PER_EPOCH = 10;

/** Where a DARTS run stands; with the tensors, everything a resume continues from. */
export interface DartsProgress {
  phase: 'search' | 'retrain';
  /** Search epochs finished. */
  epoch: number;
  /** Steps done in the epoch under way (a stop checkpoints between steps). */
  step: number;
  alphaSteps: number;
  /** The epoch under way so far, so a resumed epoch reports the same training figures. */
  epochTrain: { loss: number; correct: number; seen: number; seconds: number };
  collapseWarned: boolean;
}

export interface DartsState {
  progress: DartsProgress;
  tensors: DartsTensors;
}

/**
 * DARTS' known failure (Zela et al.; Chen & Hsieh): parameter-free skip connections win the softmax
 * and the derived cell degenerates. Flagged when identity is at least half of the derived normal
 * cell's operations and, on the edges it keeps, weighs on average at least twice a uniform share
 * (so the near-uniform alphas of the first steps do not count).
 */
export function collapseWarning(space: CellSpaceConfig, weights: AlphaWeights, graph: CellGraph, epoch: number): string | undefined {
  const identity = space.operations.indexOf('identity');
  if (identity < 0) return undefined;
  const edges = dartsEdges(space.nodes);
  const kept = graph.normal.flatMap((node, j) =>
    node.inputs.map((input) => weights.normal[edges.findIndex((e) => e.node === j && e.input === input)][identity]),
  );
  const operations = graph.normal.flatMap((node) => node.operations);
  const identities = operations.filter((operation) => operation === 'identity').length;
  const meanWeight = kept.reduce((sum, w) => sum + w, 0) / kept.length;
  const uniform = 1 / (space.operations.length + 1);
  if (identities * 2 < operations.length || meanWeight < 2 * uniform) return undefined;
  return (
    `DARTS collapse: identity is ${identities} of the ${operations.length} operations of the normal cell derived at epoch ${epoch}, ` +
    `with a mean weight of ${meanWeight.toFixed(2)} on its edges (uniform ${uniform.toFixed(2)}): skip connections are taking over. ` +
    'Fewer search epochs, a larger alpha_weight_decay or order: second usually help.'
  );
}

/** The search's minibatch orders for an epoch (0-based): both seeded by the run's seed and the epoch, so a resume replays them. */
function epochOrders(seed: number, epoch: number, data: TrainingData): { train: Int32Array; validation: Int32Array } {
  const rng = createRng(seed * 1_000_003 + epoch);
  return { train: shuffledIndices(data.train.count, rng), validation: shuffledIndices(data.validation.count, rng) };
}

/** The validation minibatch paired with training minibatch `step`: the validation order, read cyclically when it is shorter. */
function validationBatch(order: Int32Array, step: number, size: number): Int32Array {
  return Int32Array.from({ length: size }, (_, k) => order[(step * size + k) % order.length]);
}

/** Parameters and FLOPs of the standalone child a derived cell stands for. */
async function childSize(graph: CellGraph, space: CellSpaceConfig, data: TrainingData): Promise<{ params: number; flops: number }> {
  const model = await buildModel(graph, space, { inputShape: data.shape, classes: data.classes, seed: 0 });
  try {
    return { params: model.countParams(), flops: countFlops(model) };
  } finally {
    model.dispose();
  }
}

/**
 * The cells to retrain: the final derived cell first, then the distinct cells of earlier epochs that
 * scored best with the supernet's weights.
 */
export function retrainCandidates(trials: readonly TrialRecord[], count: number): TrialRecord[] {
  const searched = trials.filter((t) => t.evaluator === 'shared-weights' && t.status === 'done');
  if (searched.length === 0) return [];
  const final = searched.reduce((latest, t) => (t.index > latest.index ? t : latest));
  const chosen = [final];
  const ranked = [...searched].sort((a, b) => (b.reward ?? -Infinity) - (a.reward ?? -Infinity) || b.index - a.index);
  for (const trial of ranked) {
    if (chosen.length >= count) break;
    if (!chosen.some((c) => c.key === trial.key)) chosen.push(trial);
  }
  return chosen;
}

/** Runs (or resumes) a DARTS run: its search epochs, then the retraining of the derived cells. */
export const dartsRunner: SearchRunner = {
  oneShot: true,
  computeBackend: supernetBackend,
  async run(session) {
    const { runId, config, checkpoint, stopped } = session;
    const { strategy, space } = config;
    if (strategy.kind !== 'darts' || space.kind !== 'cell') throw new Error(`run ${runId} is not a DARTS search on a cell space`);
    let interruptedBecause: string | undefined;
    const data = await loadSupernetImages(session);
    let search: DartsSearch | undefined = new DartsSearch(space, strategy, data, config.runtime.seed);
    try {
      let progress: DartsProgress = {
        phase: 'search',
        epoch: 0,
        step: 0,
        alphaSteps: 0,
        epochTrain: { loss: 0, correct: 0, seen: 0, seconds: 0 },
        collapseWarned: false,
      };
      if (checkpoint) {
        const saved = checkpoint.state as DartsState;
        await search.setState(saved.tensors);
        progress = saved.progress;
      }
      session.announce(
        session.backend,
        log10SpaceSize(compileSpace(space)),
        `DARTS ${strategy.order} order, ${strategy.epochs} search epochs`,
      );
      if (progress.phase === 'search') {
        const searching = new DartsEpochs(session, strategy, space, search, data);
        progress = await searching.run(progress, stopped);
      }
      if (progress.phase === 'retrain' && !stopped()) {
        // The supernet is freed before the retraining starts its trainer processes.
        search.dispose();
        search = undefined;
        interruptedBecause = await retrain(session, strategy, await session.startEvaluator('final'));
      }
    } finally {
      search?.dispose();
    }
    return { interruptedBecause };
  },
};

/** The search phase: epochs of DARTS steps, each ending with a 'shared-weights' trial and a checkpoint. */
class DartsEpochs {
  constructor(
    private readonly context: TrialContext,
    private readonly strategy: DartsStrategy,
    private readonly space: CellSpaceConfig,
    private readonly search: DartsSearch,
    private readonly data: TrainingData,
  ) {}

  private get runId(): number {
    return this.context.runId;
  }

  /** Continues from `progress` to the end of the search (phase 'retrain'), or to a stop (checkpointed where it stopped). */
  async run(start: DartsProgress, stopped: () => boolean): Promise<DartsProgress> {
    const progress: DartsProgress = structuredClone(start);
    const { batch_size: batchSize, epochs } = this.strategy;
    const stepsPerEpoch = Math.ceil(this.data.train.count / batchSize);
    const snapshotEvery = Math.max(1, Math.ceil(stepsPerEpoch / SNAPSHOTS_PER_EPOCH));
    if (progress.alphaSteps === 0) this.snapshot(0, 1);
    while (progress.epoch < epochs) {
      const orders = epochOrders(this.context.config.runtime.seed, progress.epoch, this.data);
      const learningRate = weightLearningRate(this.strategy, progress.epoch);
      let clock = performance.now();
      const lap = () => {
        const now = performance.now();
        progress.epochTrain.seconds += (now - clock) / 1000;
        clock = now;
      };
      while (progress.step < stepsPerEpoch) {
        // Yield between steps so a stop request is seen promptly.
        await new Promise((resolve) => setImmediate(resolve));
        if (stopped()) {
          lap();
          await this.checkpoint(progress);
          return progress;
        }
        const start = progress.step * batchSize;
        const train = orders.train.subarray(start, Math.min(start + batchSize, this.data.train.count));
        const result = await this.search.step(train, validationBatch(orders.validation, progress.step, train.length), learningRate);
        progress.epochTrain.loss += result.loss;
        progress.epochTrain.correct += result.correct;
        progress.epochTrain.seen += train.length;
        progress.alphaSteps += 1;
        progress.step += 1;
        const snapshotDue = progress.step % snapshotEvery === 0 || progress.step === stepsPerEpoch;
        if (snapshotDue) await this.snapshot(progress.alphaSteps, progress.epoch + 1);
      }
      lap();
      await this.finishEpoch(progress);
    }
    progress.phase = 'retrain';
    await this.checkpoint(progress);
    return progress;
  }

  private async snapshot(step: number, epoch: number): Promise<void> {
    const snapshot = { runId: this.runId, step, epoch, weights: await this.search.supernet.alphaWeights() };
    this.context.store.recordAlphaSnapshot(snapshot);
    this.context.emit({ type: 'alpha-snapshot', snapshot });
  }

  /** Records the epoch's derived cell as a 'shared-weights' trial, with the checkpoint after it, in one transaction. */
  private async finishEpoch(progress: DartsProgress): Promise<void> {
    const epoch = progress.epoch + 1;
    const weights = await this.search.supernet.alphaWeights();
    const graph = deriveCell(this.space, weights);
    const architecture = encodeGraph(this.space, graph);
    const validation = await this.search.score(graph, this.data.validation);
    const { loss, correct, seen, seconds } = progress.epochTrain;
    const trainAccuracy = correct / seen;
    const metrics: EpochMetrics = {
      epoch,
      trainLoss: loss / seen,
      trainAccuracy,
      valLoss: validation.loss,
      valAccuracy: validation.accuracy,
      seconds,
    };
    const measurements: TrialMeasurements = {
      valAccuracy: validation.accuracy,
      testAccuracy: (await this.search.score(graph, this.data.test)).accuracy,
      ...(await childSize(graph, this.space, this.data)),
      seconds,
      curve: [metrics],
    };
    const collapse = progress.collapseWarned ? undefined : collapseWarning(this.space, weights, graph, epoch);
    Object.assign(progress, {
      epoch,
      step: 0,
      epochTrain: { loss: 0, correct: 0, seen: 0, seconds: 0 },
      collapseWarned: progress.collapseWarned || collapse !== undefined,
    });
    throwIfGpuFault();
    const tensors = await this.search.getState();
    const { store, emit } = this.context;
    const index = store.nextTrialIndex(this.runId);
    const { alongside: note } = recordMeasuredTrial(this.context, { index, architecture, graph }, measurements, () => {
      store.checkpoint(this.runId, { toldThrough: index, state: { progress, tensors } satisfies DartsState });
      return collapse === undefined ? undefined : store.addRunNote(this.runId, 'warn', collapse);
    });
    emit({
      type: 'log',
      level: 'info',
      message:
        `epoch ${epoch}: supernet train accuracy ${trainAccuracy.toFixed(3)}, derived ` +
        `cell ${validation.accuracy.toFixed(3)} on validation with shared weights`,
    });
    if (note) {
      emit({ type: 'run-note', note });
      emit({ type: 'log', level: 'warn', message: note.message });
    }
  }

  private async checkpoint(progress: DartsProgress): Promise<void> {
    const state: DartsState = { progress, tensors: await this.search.getState() };
    this.context.store.checkpoint(this.runId, { toldThrough: this.context.store.nextTrialIndex(this.runId) - 1, state });
  }
}

/**
 * Retrains the derived cells not yet retrained, as many at once as the evaluator takes; stops early, saying
 * why, when no trainer is left to retrain them.
 */
async function retrain(session: RunSession, strategy: DartsStrategy, evaluator: Evaluator): Promise<string | undefined> {
  const { store, runId, emit, stopped } = session;
  const trials = store.listTrials(runId);
  const candidates = retrainCandidates(trials, strategy.retrain);
  if (candidates.length > 0) emit({ type: 'log', level: 'info', message: `derived cell:\n${drawArchitecture(candidates[0].graph)}` });
  const retrained = new Set(trials.filter((t) => t.evaluator === 'train-from-scratch' && t.status !== 'interrupted').map((t) => t.key));
  const queue = candidates.filter((candidate) => !retrained.has(candidate.key));
  const final = { ...session, config: finalSearchConfig(session.config) };
  let nextIndex = store.nextTrialIndex(runId);
  let noEvaluatorLeft: string | undefined;
  const worker = async () => {
    for (let candidate = queue.shift(); candidate && !stopped() && !noEvaluatorLeft; candidate = queue.shift()) {
      const { architecture, graph, index: retrainedFrom } = candidate;
      const trial = { index: nextIndex++, architecture, graph, retrainedFrom };
      noEvaluatorLeft ??= (await evaluateTrial(final, trial, evaluator)).noEvaluatorLeft;
    }
  };
  await Promise.all(Array.from({ length: Math.min(evaluator.size, queue.length) }, worker));
  return noEvaluatorLeft;
}
