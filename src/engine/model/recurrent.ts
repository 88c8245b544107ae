// The language model a recurrent cell trains in: token embedding → the cell, unrolled over a window of
// tokens with its state carried in → dense softmax over the vocabulary (optionally the embedding's
// weights, tied). Written with plain tfjs ops, not layers: the state crosses windows, and a supernet
// (engine/oneshot/recurrent-supernet.ts) runs the same cell with its shared weights through `CellWeights`.

import * as tf from '@tensorflow/tfjs';
import type { RecurrentSpaceConfig } from '../../space/config.ts';
import { recurrentLeaves, type RecurrentGraph } from '../../space/graph.ts';
import type { RecurrentActivation } from '../../space/kinds/spaces/recurrent.ts';

/**
 * a·b whose gradients multiply by explicit transposes: the wasm backend's matMul with a transposed operand,
 * which tfjs's own gradient uses, took 2-4x as long as a transpose and a plain matMul (measured on
 * [32,64]·[64,128]), and the cell's weight gradients are most of a training step.
 */
const cellMatMul = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [savedA, savedB] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(savedB)), tf.matMul(tf.transpose(savedA), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** The weights a searched cell reads: node 1's on [x_t, h_{t-1}], and node k's on the node it reads. */
export interface CellWeights {
  /** [2H, G·H]: W_x stacked over W_h; G is 2 with highway gates (the gate's columns first), else 1. */
  first: tf.Tensor2D;
  /** [H, G·H]: node `node`'s weights when it reads node `input`. */
  edge(node: number, input: number): tf.Tensor2D;
}

function activate(t: tf.Tensor2D, activation: RecurrentActivation): tf.Tensor2D {
  switch (activation) {
    case 'tanh':
      return tf.tanh(t);
    case 'relu':
      return tf.relu(t);
    case 'sigmoid':
      return tf.sigmoid(t);
    case 'identity':
      return t;
  }
}

/**
 * One step of the searched cell. Without highway, a node is act(in·W); with it, ENAS's gate c =
 * sigmoid(in·W_c) mixes act(in·W_h) with the node's own input: c·act + (1-c)·input, where node 1's input
 * is h_{t-1}. The new state is the mean of the leaves.
 */
export function cellStep(graph: RecurrentGraph, highway: boolean, x: tf.Tensor2D, h: tf.Tensor2D, weights: CellWeights): tf.Tensor2D {
  const outputs: tf.Tensor2D[] = [];
  const node = (input: tf.Tensor2D, carried: tf.Tensor2D, w: tf.Tensor2D, activation: RecurrentActivation): tf.Tensor2D => {
    const pre = cellMatMul(input, w);
    if (!highway) return activate(pre, activation);
    const [gate, value] = tf.split<tf.Tensor2D>(pre, 2, 1);
    const c = tf.sigmoid(gate);
    return tf.add<tf.Tensor2D>(carried, tf.mul(c, tf.sub(activate(value, activation), carried)));
  };
  graph.nodes.forEach((spec, k) => {
    if (k === 0) outputs.push(node(tf.concat2d([x, h], 1), h, weights.first, spec.activation));
    else outputs.push(node(outputs[spec.input], outputs[spec.input], weights.edge(k, spec.input), spec.activation));
  });
  const leaves = recurrentLeaves(graph.nodes).map((k) => outputs[k]);
  return leaves.length === 1 ? leaves[0] : tf.div<tf.Tensor2D>(tf.addN(leaves), leaves.length);
}

/** A cell as the language model runs it: its state (one tensor, or an LSTM's two) and one step. */
export interface RecurrentCell {
  readonly stateCount: number;
  readonly variables: tf.Variable[];
  /** The new state; its first tensor is the step's output. */
  step(x: tf.Tensor2D, state: tf.Tensor2D[]): tf.Tensor2D[];
}

/** A variable holding `initial`'s values; the tensor it was made from is freed (a variable shares its data). */
const initialised = <R extends tf.Rank>(initial: () => tf.Tensor<R>): tf.Variable<R> => tf.tidy(() => tf.variable(initial()));

/** PyTorch's initialisation of recurrent weights: uniform in ±1/√H. */
export const recurrentInit = (shape: [number, number], hidden: number, seed: number): tf.Variable<tf.Rank.R2> =>
  initialised(() => tf.randomUniform(shape, -1 / Math.sqrt(hidden), 1 / Math.sqrt(hidden), 'float32', seed));

/** A searched cell with weights of its own: one matrix per node, for the node it reads. */
export function searchedCell(graph: RecurrentGraph, space: Pick<RecurrentSpaceConfig, 'hidden' | 'highway'>, seed: number): RecurrentCell {
  const { hidden, highway } = space;
  const width = highway ? 2 * hidden : hidden;
  const first = recurrentInit([2 * hidden, width], hidden, seed);
  const nodes = graph.nodes.slice(1).map((_, k) => recurrentInit([hidden, width], hidden, seed + 1 + k));
  const weights: CellWeights = { first, edge: (k) => nodes[k - 1] };
  return {
    stateCount: 1,
    variables: [first, ...nodes],
    step: (x, [h]) => [cellStep(graph, highway, x, h, weights)],
  };
}

/** The reference the search is measured against (bench/recurrent.ts): an LSTM with the usual gates and biases. */
export function lstmCell(hidden: number, seed: number): RecurrentCell {
  const w = recurrentInit([2 * hidden, 4 * hidden], hidden, seed);
  const b = initialised(() => tf.zeros([4 * hidden]));
  return {
    stateCount: 2,
    variables: [w, b],
    step: (x, [h, c]) => {
      const gates = tf.add<tf.Tensor2D>(cellMatMul(tf.concat2d([x, h], 1), w), b);
      const [i, f, g, o] = tf.split<tf.Tensor2D>(gates, 4, 1);
      const cNext = tf.add<tf.Tensor2D>(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
      return [tf.mul<tf.Tensor2D>(tf.sigmoid(o), tf.tanh(cNext)), cNext];
    },
  };
}

export interface LanguageModelShape {
  vocabulary: number;
  hidden: number;
  tieWeights: boolean;
}

/** Embedding, a cell, and the softmax; every weight a tf.Variable the trainer's optimizer steps. */
export class LanguageModel {
  readonly embedding: tf.Variable;
  readonly softmaxWeights: tf.Variable | undefined;
  readonly softmaxBias: tf.Variable;

  constructor(
    readonly cell: RecurrentCell,
    readonly shape: LanguageModelShape,
    seed: number,
  ) {
    // The word-level PyTorch example's initialisation: uniform in ±0.1.
    this.embedding = initialised(() => tf.randomUniform([shape.vocabulary, shape.hidden], -0.1, 0.1, 'float32', seed * 7919 + 1));
    this.softmaxWeights = shape.tieWeights
      ? undefined
      : initialised(() => tf.randomUniform([shape.hidden, shape.vocabulary], -0.1, 0.1, 'float32', seed * 7919 + 2));
    this.softmaxBias = initialised(() => tf.zeros([shape.vocabulary]));
  }

  get variables(): tf.Variable[] {
    return [this.embedding, ...this.cell.variables, ...(this.softmaxWeights ? [this.softmaxWeights] : []), this.softmaxBias];
  }

  countParams(): number {
    return this.variables.reduce((sum, variable) => sum + variable.size, 0);
  }

  initialState(batch: number): tf.Tensor2D[] {
    return Array.from({ length: this.cell.stateCount }, () => tf.zeros([batch, this.shape.hidden]) as tf.Tensor2D);
  }

  /**
   * The logits of every position of a window of tokens ([B, T] → [T·B, V], time-major) and the state
   * after it. `dropout` (training only) drops embedding and output values; its seed makes the masks.
   */
  window(
    tokens: tf.Tensor2D,
    state: tf.Tensor2D[],
    dropout?: { rate: number; seed: number },
  ): { logits: tf.Tensor2D; state: tf.Tensor2D[] } {
    const steps = tokens.shape[1];
    const drop = (t: tf.Tensor2D, salt: number) =>
      dropout && dropout.rate > 0 ? (tf.dropout(t, dropout.rate, undefined, dropout.seed * 104729 + salt) as tf.Tensor2D) : t;
    const embedded = tf.gather(this.embedding, tf.transpose(tokens)) as tf.Tensor3D; // [T, B, H]
    const outputs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const x = drop(tf.squeeze(tf.slice(embedded, [t, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D, 2 * t);
      state = this.cell.step(x, state);
      outputs.push(drop(state[0], 2 * t + 1));
    }
    const features = tf.concat(outputs, 0);
    const weights = this.softmaxWeights ?? tf.transpose(this.embedding);
    return { logits: tf.add(tf.matMul(features, weights), this.softmaxBias), state };
  }

  dispose(): void {
    tf.dispose(this.variables);
  }
}
