// Trains a language model with truncated back-propagation through time: the training text is cut into
// `batch_size` contiguous streams, read window by window (`bptt` tokens); the cell's state is carried
// from one window to the next, the gradient is not. Validation and test perplexity are measured the same
// way, without dropout. The searched cells, the bench's tanh RNN and its LSTM all train through here.

import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import type { RecurrentSpaceConfig, TrainEvaluationConfig } from '../../space/config.ts';
import type { RecurrentGraph } from '../../space/graph.ts';
import { recurrentFlopsPerToken } from '../../space/kinds/spaces/recurrent.ts';
import type { TextCorpus } from '../data/text.ts';
import { exportWeights } from '../model/language-model-weights.ts';
import { LanguageModel, searchedCell } from '../model/recurrent.ts';
import { SharedOptimizer } from '../oneshot/shared-optimizer.ts';
import { scalarValues } from '../tensor-values.ts';
import type { EpochVerdict } from './evaluator.ts';
import { TrainingCancelled } from './train-from-scratch.ts';
import { learningRateAt } from './training-recipe.ts';

/** A text data set as a trainer holds it: its parts' token ids, and how ids read (kept with a trained model, to sample from it). */
export type LanguageData = Pick<TextCorpus, 'tokens' | 'vocabulary' | 'unknownId' | 'train' | 'validation' | 'test'>;

export type LanguageRecipe = Pick<
  TrainEvaluationConfig,
  | 'epochs'
  | 'batch_size'
  | 'bptt'
  | 'optimizer'
  | 'learning_rate'
  | 'nesterov'
  | 'weight_decay'
  | 'lr_schedule'
  | 'warmup_epochs'
  | 'reward_epochs'
  | 'clip_norm'
  | 'dropout'
>;

/** `tokens` cut into `batch` equal contiguous streams (the remainder dropped), stream-major. */
export class TokenStreams {
  readonly length: number;
  private readonly streams: Int32Array;

  constructor(
    tokens: Int32Array,
    readonly batch: number,
  ) {
    this.length = Math.floor(tokens.length / batch);
    if (this.length < 2) throw new Error(`${tokens.length} tokens make no window of ${batch} streams with their targets`);
    this.streams = tokens.subarray(0, this.length * batch);
  }

  /** The starts of the windows of at most `bptt` inputs (each input's target is the token after it). */
  windowStarts(bptt: number): number[] {
    const starts: number[] = [];
    for (let start = 0; start < this.length - 1; start += bptt) starts.push(start);
    return starts;
  }

  /** Inputs [B, T] and the targets time-major [T·B], as the model's logits are ordered. */
  window(start: number, bptt: number): { inputs: tf.Tensor2D; targets: tf.Tensor1D } {
    const steps = Math.min(bptt, this.length - 1 - start);
    const inputs = new Int32Array(this.batch * steps);
    const targets = new Int32Array(this.batch * steps);
    for (let b = 0; b < this.batch; b++) {
      const row = b * this.length + start;
      for (let t = 0; t < steps; t++) {
        inputs[b * steps + t] = this.streams[row + t];
        targets[t * this.batch + b] = this.streams[row + t + 1];
      }
    }
    return { inputs: tf.tensor2d(inputs, [this.batch, steps], 'int32'), targets: tf.tensor1d(targets, 'int32') };
  }
}

/** Summed cross-entropy (nats) and correct next-token guesses of a window's logits. */
export function windowLoss(logits: tf.Tensor2D, targets: tf.Tensor1D): { loss: tf.Scalar; hits: tf.Scalar } {
  const logProbabilities = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(targets, logits.shape[1])), 1);
  return { loss: tf.neg(tf.sum<tf.Scalar>(picked)), hits: tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), targets), 'int32')) };
}

function joinTokens(first: Int32Array, second: Int32Array): Int32Array {
  const joined = new Int32Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

/** Mean cross-entropy per token, perplexity and next-token accuracy over a part, state carried through it. */
export async function measureLanguageModel(
  model: LanguageModel,
  tokens: Int32Array,
  batch: number,
  bptt: number,
): Promise<{ loss: number; perplexity: number; accuracy: number }> {
  const streams = new TokenStreams(tokens, Math.max(1, Math.min(batch, Math.floor(tokens.length / (bptt + 1)))));
  let state = model.initialState(streams.batch);
  let lossSum = 0;
  let hitSum = 0;
  let count = 0;
  try {
    for (const start of streams.windowStarts(bptt)) {
      const [loss, hits, next] = tf.tidy(() => {
        const { inputs, targets } = streams.window(start, bptt);
        const out = model.window(inputs, state);
        const measured = windowLoss(out.logits, targets);
        count += targets.size;
        return [measured.loss, measured.hits, out.state] as const;
      });
      tf.dispose(state);
      state = next;
      const [lossValue, hitValue] = await scalarValues([loss, hits]);
      lossSum += lossValue;
      hitSum += hitValue;
    }
  } finally {
    tf.dispose(state);
  }
  const loss = lossSum / count;
  return { loss, perplexity: Math.exp(loss), accuracy: hitSum / count };
}

/** Scales the gradients down so that their global L2 norm is at most `clipNorm` (on the device: nothing is read). */
export function clipByGlobalNorm(gradients: tf.Tensor[], clipNorm: number): tf.Tensor[] {
  if (clipNorm <= 0) return gradients;
  const norm = tf.sqrt(tf.addN(gradients.map((g) => tf.sum(tf.square(g)))));
  const scale = tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6)) as tf.Scalar);
  return gradients.map((g) => tf.mul(g, scale));
}

/**
 * Trains `model` for the recipe's epochs, or fewer when `onEpoch` answers 'stop'. Epoch metrics are per
 * token: losses in nats, accuracies of the next-token guess. The reward's perplexity is the lowest of the
 * last `reward_epochs` epochs'. `flopsPerToken` is recorded as the trial's FLOPs, where the caller knows them.
 * A `final` retraining trains on the training and validation text together and holds the test text out,
 * measured after every epoch: its result is the last epoch's.
 */
export async function trainLanguageModel(
  model: LanguageModel,
  recipe: LanguageRecipe,
  data: LanguageData,
  seed: number,
  onEpoch: (metrics: EpochMetrics) => EpochVerdict | void | Promise<EpochVerdict | void>,
  isCancelled: () => boolean,
  options: { flopsPerToken?: number | null; final?: boolean } = {},
): Promise<TrialMeasurements> {
  const started = performance.now();
  const final = options.final === true;
  const train = final ? joinTokens(data.train, data.validation) : data.train;
  const heldOut = final ? data.test : data.validation;
  const optimizer = new SharedOptimizer(recipe.optimizer, recipe.learning_rate, {
    nesterov: recipe.nesterov,
    weightDecay: recipe.weight_decay,
  });
  const variables = model.variables;
  const streams = new TokenStreams(train, recipe.batch_size);
  const starts = streams.windowStarts(recipe.bptt);
  const curve: EpochMetrics[] = [];
  let pruned = false;
  try {
    for (let epoch = 1, step = 0; epoch <= recipe.epochs && !pruned; epoch++) {
      const epochStarted = performance.now();
      let state = model.initialState(streams.batch);
      let lossSum = 0;
      let hitSum = 0;
      let count = 0;
      try {
        for (const [window, start] of starts.entries()) {
          await new Promise((resolve) => setImmediate(resolve));
          if (isCancelled()) throw new TrainingCancelled();
          optimizer.setLearningRate(learningRateAt(recipe, step, recipe.epochs * starts.length, starts.length));
          step++;
          let next: tf.Tensor2D[] = [];
          let hits: tf.Scalar | undefined;
          const loss = tf.tidy(() => {
            const { inputs, targets } = streams.window(start, recipe.bptt);
            count += targets.size;
            const { value, grads } = tf.variableGrads(() => {
              const out = model.window(inputs, state, { rate: recipe.dropout, seed: seed + step });
              next = out.state.map((t) => tf.keep(t));
              const measured = windowLoss(out.logits, targets);
              hits = tf.keep(measured.hits);
              return tf.div(measured.loss, targets.size) as tf.Scalar;
            }, variables);
            const clipped = clipByGlobalNorm(
              variables.map((variable) => grads[variable.name]),
              recipe.clip_norm,
            );
            optimizer.apply(variables.map((weight, i) => ({ name: weight.name, weight, gradient: clipped[i] })));
            return tf.mul(value, targets.size);
          });
          tf.dispose(state);
          state = next;
          const [windowLossSum, windowHits] = await scalarValues([loss, hits!]);
          if (!Number.isFinite(windowLossSum))
            throw new Error(`training loss became ${windowLossSum} at epoch ${epoch}, window ${window + 1}`);
          lossSum += windowLossSum;
          hitSum += windowHits;
        }
      } finally {
        tf.dispose(state);
      }
      const validation = await measureLanguageModel(model, heldOut, recipe.batch_size, recipe.bptt);
      if (!Number.isFinite(validation.loss)) throw new Error(`validation loss became ${validation.loss} at epoch ${epoch}`);
      const metrics: EpochMetrics = {
        epoch,
        trainLoss: lossSum / count,
        trainAccuracy: hitSum / count,
        valLoss: validation.loss,
        valAccuracy: validation.accuracy,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      curve.push(metrics);
      pruned = (await onEpoch(metrics)) === 'stop';
    }
    const lastEpochs = curve.slice(-Math.min(final ? 1 : recipe.reward_epochs, curve.length));
    const last = curve[curve.length - 1];
    const test = pruned
      ? null
      : final
        ? { accuracy: last.valAccuracy, perplexity: Math.exp(last.valLoss!) }
        : await measureLanguageModel(model, data.test, recipe.batch_size, recipe.bptt);
    return {
      valAccuracy: Math.max(...lastEpochs.map((m) => m.valAccuracy)),
      valPerplexity: Math.exp(Math.min(...lastEpochs.map((m) => m.valLoss ?? Infinity))),
      testAccuracy: test?.accuracy ?? null,
      testPerplexity: test?.perplexity ?? null,
      params: model.countParams(),
      flops: options.flopsPerToken ?? null,
      seconds: (performance.now() - started) / 1000,
      curve,
    };
  } finally {
    optimizer.dispose();
  }
}

/**
 * A search's child: the searched cell in a fresh language model, trained from the trial's seed. A child trained
 * in full (not stopped early) comes back with its weights, which the store keeps for sampling text.
 */
export async function trainRecurrentChild(
  request: { graph: RecurrentGraph; space: RecurrentSpaceConfig; evaluation: LanguageRecipe; seed: number; final?: boolean },
  data: LanguageData,
  onEpoch: (metrics: EpochMetrics) => EpochVerdict | void | Promise<EpochVerdict | void>,
  isCancelled: () => boolean,
): Promise<TrialMeasurements> {
  const { graph, space, seed } = request;
  const shape = { vocabulary: data.vocabulary.length, hidden: space.hidden, tieWeights: space.tie_weights };
  const model = new LanguageModel(searchedCell(graph, space, seed), shape, seed);
  let stopped = false;
  const hearEpoch = async (metrics: EpochMetrics) => {
    const verdict = await onEpoch(metrics);
    if (verdict === 'stop') stopped = true;
    return verdict;
  };
  try {
    const measurements = await trainLanguageModel(model, request.evaluation, data, seed, hearEpoch, isCancelled, {
      flopsPerToken: recurrentFlopsPerToken(space, data.vocabulary.length),
      final: request.final,
    });
    return stopped ? measurements : { ...measurements, weights: await exportWeights(model, data) };
  } finally {
    model.dispose();
  }
}
