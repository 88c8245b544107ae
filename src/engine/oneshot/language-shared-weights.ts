// The shared weights of a recurrent cell's language model, trained as ENAS trains them: the training text
// cut into `batch_size` streams, read window by window (evaluation.bptt tokens), one sampled child per
// window, the state carried from window to window through whichever children read them (the gradient
// is not), gradients clipped to evaluation.clip_norm, dropout as evaluation.dropout. A
// child is scored on the next window of the validation streams from a zero state (the final samples
// on the first), so that a score depends on that child alone.

import * as tf from '@tensorflow/tfjs';
import type { RecurrentSpaceConfig } from '../../space/config.ts';
import type { ArchitectureGraph, RecurrentGraph } from '../../space/graph.ts';
import { recurrentFlopsPerToken, recurrentParameters } from '../../space/kinds/spaces/recurrent.ts';
import { clipByGlobalNorm, TokenStreams, windowLoss, type LanguageData, type LanguageRecipe } from '../evaluators/train-language-model.ts';
import { saveTensor, savedValues, type SavedTensor } from '../strategies/saved-tensor.ts';
import { scalarValues } from '../tensor-values.ts';
import { RecurrentSupernet } from './recurrent-supernet.ts';
import type { SharedOptimizer } from './shared-optimizer.ts';
import type { SharedScore, SharedStep, SharedWeightsState, SharedWeightsTask } from './shared-weights.ts';

export type SharedLanguageRecipe = Pick<LanguageRecipe, 'bptt' | 'clip_norm' | 'dropout'>;

const recurrentGraph = (graph: ArchitectureGraph): RecurrentGraph => {
  if (graph.kind !== 'recurrent') throw new Error(`a ${graph.kind} architecture does not fit a recurrent supernet`);
  return graph;
};

export class LanguageSharedWeights implements SharedWeightsTask {
  private readonly supernet: RecurrentSupernet;
  private readonly train: TokenStreams;
  private readonly trainStarts: number[];
  private readonly validation: TokenStreams;
  private readonly validationStarts: number[];
  private readonly test: TokenStreams;
  /** The state the next training window starts from; undefined at an epoch's start (zeros). */
  private carried: tf.Tensor2D[] | undefined;

  constructor(
    private readonly space: RecurrentSpaceConfig,
    private readonly data: LanguageData,
    private readonly optimizer: SharedOptimizer,
    private readonly recipe: SharedLanguageRecipe,
    batchSize: number,
    private readonly seed: number,
  ) {
    this.supernet = new RecurrentSupernet(space, data.vocabulary.length, seed);
    this.train = new TokenStreams(data.train, batchSize);
    this.trainStarts = this.train.windowStarts(recipe.bptt);
    // Short validation and test parts get fewer streams, so each holds a window (as measureLanguageModel does).
    const streams = (tokens: Int32Array) =>
      new TokenStreams(tokens, Math.max(1, Math.min(batchSize, Math.floor(tokens.length / (recipe.bptt + 1)))));
    this.validation = streams(data.validation);
    this.validationStarts = this.validation.windowStarts(recipe.bptt);
    this.test = streams(data.test);
  }

  get stepsPerEpoch(): number {
    return this.trainStarts.length;
  }

  async trainStep(graph: ArchitectureGraph, epoch: number, step: number): Promise<SharedStep> {
    const cell = recurrentGraph(graph);
    const state = this.carried ?? this.supernet.model.initialState(this.train.batch);
    const named = this.supernet.named;
    let next: tf.Tensor2D[] = [];
    let hits: tf.Scalar | undefined;
    let count = 0;
    const loss = tf.tidy(() => {
      const { inputs, targets } = this.train.window(this.trainStarts[step], this.recipe.bptt);
      count = targets.size;
      const dropout = { rate: this.recipe.dropout, seed: this.seed * 1_000_003 + epoch * this.stepsPerEpoch + step };
      const { value, grads } = tf.variableGrads(
        () => {
          const out = this.supernet.window(cell, inputs, state, dropout);
          next = out.state.map((t) => tf.keep(t));
          const measured = windowLoss(out.logits, targets);
          hits = tf.keep(measured.hits);
          return tf.div(measured.loss, targets.size) as tf.Scalar;
        },
        named.map(([, weight]) => weight),
      );
      // Only the child's matrices have a gradient: the clip's norm is over what this step trains.
      const used = named.filter(([, weight]) => grads[weight.name] !== undefined);
      const clipped = clipByGlobalNorm(
        used.map(([, weight]) => grads[weight.name]),
        this.recipe.clip_norm,
      );
      this.optimizer.apply(used.map(([name, weight], i) => ({ name, weight, gradient: clipped[i] })));
      return tf.mul(value, targets.size);
    });
    tf.dispose(state);
    this.carried = next;
    // Each epoch reads the streams from their start, from a zero state.
    if (step === this.stepsPerEpoch - 1) this.resetCarried();
    const [lossSum, hitSum] = await scalarValues([loss, hits!]);
    if (!Number.isFinite(lossSum))
      throw new Error(`the shared weights' training loss became ${lossSum} at epoch ${epoch + 1}, window ${step + 1}`);
    return { loss: lossSum, hits: hitSum, count };
  }

  async score(graph: ArchitectureGraph, batch: number | 'final'): Promise<SharedScore> {
    const cell = recurrentGraph(graph);
    const start = batch === 'final' ? 0 : this.validationStarts[batch % this.validationStarts.length];
    const validation = await this.windowFigures(cell, this.validation, start);
    const test = await this.windowFigures(cell, this.test, 0);
    return {
      valAccuracy: validation.accuracy,
      valPerplexity: validation.perplexity,
      testAccuracy: test.accuracy,
      testPerplexity: test.perplexity,
      params: recurrentParameters(this.space, this.data.vocabulary.length),
      flops: recurrentFlopsPerToken(this.space, this.data.vocabulary.length),
    };
  }

  /** Next-token accuracy and perplexity of a child on one window, from a zero state. */
  private async windowFigures(
    cell: RecurrentGraph,
    streams: TokenStreams,
    start: number,
  ): Promise<{ accuracy: number; perplexity: number }> {
    let count = 0;
    const [loss, hits] = await scalarValues(
      tf.tidy(() => {
        const { inputs, targets } = streams.window(start, this.recipe.bptt);
        count = targets.size;
        const { logits } = this.supernet.window(cell, inputs, this.supernet.model.initialState(streams.batch));
        const measured = windowLoss(logits, targets);
        return [measured.loss, measured.hits];
      }),
    );
    return { accuracy: hits / count, perplexity: Math.exp(loss / count) };
  }

  describeEpoch({ loss, hits, count }: SharedStep): string {
    if (count === 0) return '';
    const perToken = loss / count;
    const perplexity = Math.exp(perToken).toFixed(2);
    const accuracy = (hits / count).toFixed(3);
    return `: loss ${perToken.toFixed(4)} nats/token (perplexity ${perplexity}), next-token accuracy of the sampled children ${accuracy}`;
  }

  async getState(): Promise<SharedWeightsState> {
    const supernet = await this.supernet.getState();
    if (!this.carried) return { supernet };
    return { supernet, carried: await Promise.all(this.carried.map((t, i) => saveTensor(`carried/${i}`, t))) };
  }

  setState(state: SharedWeightsState): void {
    this.supernet.setState(state.supernet);
    this.resetCarried();
    this.carried = state.carried?.map((saved: SavedTensor) => tf.tensor2d(savedValues(saved), saved.shape as [number, number]));
  }

  private resetCarried(): void {
    if (this.carried) tf.dispose(this.carried);
    this.carried = undefined;
  }

  dispose(): void {
    this.resetCarried();
    this.supernet.dispose();
  }
}
