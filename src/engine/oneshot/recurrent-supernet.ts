// ENAS's shared weights for a recurrent cell: one language model (embedding, softmax) around a cell that
// holds node 1's matrix on [x_t, h_{t-1}] and one matrix for every (node k, earlier node i) pair. A child
// runs the same `cellStep` as a standalone cell, reading W[k][i] for node k when it reads node i, so its
// logits are those of the standalone child whose matrices are those slices (the test checks this), as
// long as no row of the state grows past MAX_STATE_NORM.

import * as tf from '@tensorflow/tfjs';
import type { RecurrentSpaceConfig } from '../../space/config.ts';
import type { RecurrentGraph } from '../../space/graph.ts';
import { cellStep, LanguageModel, recurrentInit, type CellWeights, type RecurrentCell } from '../model/recurrent.ts';
import { saveTensor, type SavedTensor } from '../strategies/saved-tensor.ts';
import { restoreNamedWeights } from './shared-weights.ts';

/**
 * The largest L2 norm of a row of the state after each step (ENAS-PyTorch's shared RNN clips at 25): the
 * cell changes from window to window, and chains of relu or identity nodes otherwise drive the state up
 * without bound (seen on Tiny Shakespeare without it: 757 nats per token in the first epoch).
 */
const MAX_STATE_NORM = 25;

function boundRows(state: tf.Tensor2D): tf.Tensor2D {
  // Not tf.norm: its gradient at a row of zeros (every leaf a dead relu) is 0/0, which made the loss NaN.
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(state), 1, true), 1e-12));
  return tf.mul(state, tf.minimum(1, tf.div(MAX_STATE_NORM, norms)));
}

/** The local name of node k's matrix when it reads node i (both from 0; drawn from 1, as the cell is). */
export const edgeName = (node: number, input: number) => `cell/node${node + 1}/from${input + 1}`;

export class RecurrentSupernet {
  readonly model: LanguageModel;
  /** Every shared weight by its name within this supernet, in a fixed order (the checkpoint order). */
  private readonly weights = new Map<string, tf.Variable>();
  /** The child whose window is running: the shared cell reads its choices. */
  private child: RecurrentGraph | undefined;

  constructor(
    readonly space: RecurrentSpaceConfig,
    vocabulary: number,
    seed: number,
  ) {
    const { hidden, highway } = space;
    const width = highway ? 2 * hidden : hidden;
    const first = recurrentInit([2 * hidden, width], hidden, seed);
    const edges = new Map<string, tf.Variable<tf.Rank.R2>>();
    for (let k = 1; k < space.nodes; k++) {
      for (let i = 0; i < k; i++) edges.set(edgeName(k, i), recurrentInit([hidden, width], hidden, seed + 1 + edges.size));
    }
    const weights: CellWeights = { first, edge: (k, i) => edges.get(edgeName(k, i))! };
    const cell: RecurrentCell = {
      stateCount: 1,
      variables: [first, ...edges.values()],
      step: (x, [h]) => [boundRows(cellStep(this.running(), highway, x, h, weights))],
    };
    this.model = new LanguageModel(cell, { vocabulary, hidden, tieWeights: space.tie_weights }, seed);
    this.weights.set('embedding', this.model.embedding);
    this.weights.set('cell/first', first);
    for (const [name, edge] of edges) this.weights.set(name, edge);
    if (this.model.softmaxWeights) this.weights.set('softmax/weights', this.model.softmaxWeights);
    this.weights.set('softmax/bias', this.model.softmaxBias);
  }

  private running(): RecurrentGraph {
    if (!this.child) throw new Error('the shared cell ran outside a child’s window');
    return this.child;
  }

  /** Every shared weight with its local name (how checkpoints and the optimizer key it). */
  get named(): [string, tf.Variable][] {
    return [...this.weights];
  }

  weight(name: string): tf.Variable {
    const weight = this.weights.get(name);
    if (!weight) throw new Error(`The recurrent supernet has no weight ${name}.`);
    return weight;
  }

  /** One window of `graph`'s language model through the shared weights (see LanguageModel.window). */
  window(
    graph: RecurrentGraph,
    tokens: tf.Tensor2D,
    state: tf.Tensor2D[],
    dropout?: { rate: number; seed: number },
  ): { logits: tf.Tensor2D; state: tf.Tensor2D[] } {
    if (graph.nodes.length !== this.space.nodes)
      throw new Error(`a cell of ${graph.nodes.length} nodes does not fit this supernet's ${this.space.nodes}`);
    this.child = graph;
    try {
      return this.model.window(tokens, state, dropout);
    } finally {
      this.child = undefined;
    }
  }

  /** Every shared weight as plain JSON (float32, base64). */
  getState(): Promise<SavedTensor[]> {
    return Promise.all(this.named.map(([name, w]) => saveTensor(name, w)));
  }

  /** Restores weights saved from a supernet of the same space and vocabulary; checks everything before writing anything. */
  setState(saved: readonly SavedTensor[]): void {
    restoreNamedWeights(this.weights, saved);
  }

  dispose(): void {
    this.model.dispose();
    this.weights.clear();
  }
}
