// DARTS' supernet over a cell space (Liu et al.): the network of build.ts, but every node takes an
// edge from each earlier state (the two cell inputs and earlier nodes), and each edge is a mixed
// operation, the softmax(alpha)-weighted sum of every operation of the space plus `none` (zero).
// The cell space has no `none`; as in the paper it competes during the search, so an edge can fade
// out, and is never chosen when the cell is derived. Normal and reduction cells have their own alpha.
//
// With the space's `batch_norm`, every convolution is followed by batch norm with affine=false, as in
// the paper's search: no scale or shift that would blur how much each operation weighs, and the
// batch's own statistics whenever the search net runs (it scores derived cells with them too: one
// set of running statistics would not fit every mixture alpha passes through). The retrained cell,
// a standalone child, has ordinary batch norm with scale, shift and running statistics.

import * as tf from '@tensorflow/tfjs';
import type { AlphaWeights } from '../../protocol/engine.ts';
import { toAlphaPoint, type DashboardData } from '../../protocol/webview.ts';
import type { CellOperation, CellSpaceConfig } from '../../space/config.ts';
import type { CellGraph, CellNode } from '../../space/graph.ts';
import { createRng } from '../../space/rng.ts';
import type { Store } from '../store/store.ts';
import { classifierInput, normalise, operationWeightShapes } from './supernet.ts';
import { resolveHead } from '../../space/kinds/spaces/parameters.ts';

/** An edge of a DARTS cell: into `node`, from state `input` (0 and 1 the cell inputs, 2 + j node j). */
export interface DartsEdge {
  node: number;
  input: number;
}

export const NONE_OPERATION = 'none';
export const CELL_TYPES = ['normal', 'reduction'] as const;
export type CellType = (typeof CELL_TYPES)[number];

/** Every edge of a cell of `nodes` nodes, node by node: the order of alpha's rows. */
export function dartsEdges(nodes: number): DartsEdge[] {
  const edges: DartsEdge[] = [];
  for (let node = 0; node < nodes; node++) for (let input = 0; input < node + 2; input++) edges.push({ node, input });
  return edges;
}

/** The candidates of every mixed operation, alpha's columns: the space's operations, then `none`. */
export function mixedOperations(space: CellSpaceConfig): string[] {
  return [...space.operations, NONE_OPERATION];
}

/** The run dashboard's DARTS part: the mixed operations and every alpha snapshot of the run. */
export function dartsDashboard(space: CellSpaceConfig, store: Store, runId: number): Pick<DashboardData, 'darts'> {
  return { darts: { operations: mixedOperations(space), alphas: store.alphaSnapshots(runId).map(toAlphaPoint) } };
}

/**
 * The discrete cell of the paper's rule: per node, the two incoming edges whose strongest operation
 * other than `none` weighs most, each with that operation. Exactly the cell space's choices (two
 * inputs and two operations per node), so the result decodes, encodes, builds and draws as any other.
 */
export function deriveCell(space: CellSpaceConfig, weights: AlphaWeights): CellGraph {
  const edges = dartsEdges(space.nodes);
  const operationCount = space.operations.length;
  const deriveNodes = (rows: number[][]): CellNode[] =>
    Array.from({ length: space.nodes }, (_, node) => {
      const incoming = edges
        .map((edge, row) => {
          const real = rows[row].slice(0, operationCount);
          const best = real.indexOf(Math.max(...real));
          return { input: edge.input, operation: best, strength: real[best], node: edge.node };
        })
        .filter((edge) => edge.node === node)
        // Stable: on a tie the earlier input wins.
        .sort((a, b) => b.strength - a.strength)
        .slice(0, 2)
        .sort((a, b) => a.input - b.input);
      return {
        inputs: [incoming[0].input, incoming[1].input],
        operations: [space.operations[incoming[0].operation], space.operations[incoming[1].operation]],
      };
    });
  return { kind: 'cell', normal: deriveNodes(weights.normal), reduction: deriveNodes(weights.reduction) };
}

/** How the cells of one forward pass combine their edges: mixed by alpha, or only a derived cell's edges. */
export type CellMixing = { kind: 'mixed'; weights: Record<CellType, tf.Tensor2D> } | { kind: 'derived'; graph: CellGraph };

interface CellPlan {
  type: CellType;
  filters: number;
  /** Cell k-2 is larger than cell k-1 just after a reduction: its 1x1 convolution then has stride 2. */
  previousStride: number;
}

type OperationWeights = tf.Variable[];

interface CellWeights {
  previous: ConvWeights;
  last: ConvWeights;
  /** Per edge, per operation of the space (none has no weights). */
  edges: OperationWeights[][];
  output: ConvWeights;
}

interface ConvWeights {
  kernel: tf.Variable;
  /** Absent when batch norm follows the convolution. */
  bias?: tf.Variable;
}

/** Alpha starts at 1e-3 times noise, as in the paper: every operation weighs about the same. */
const ALPHA_INIT_SCALE = 1e-3;

let instances = 0;

export class DartsSupernet {
  /** The network weights w, in a fixed order (optimizer slots follow it). */
  readonly weights: tf.Variable[] = [];
  /** The architecture weights: per cell type, one row per edge, one column per mixed operation. */
  readonly alphas: Record<CellType, tf.Variable>;
  private readonly plan: CellPlan[] = [];
  private readonly stem: ConvWeights;
  private readonly cells: CellWeights[] = [];
  private readonly classifier: { kernel: tf.Variable; bias: tf.Variable };
  private readonly prefix = `darts${++instances}`;
  private nextSeed: number;
  private readonly batchNorm: boolean;
  /** Whether the classifier reads globally pooled features (`head`, as the retrained cell resolves it). */
  private readonly pooled: boolean;

  constructor(
    readonly space: CellSpaceConfig,
    inputShape: [number, number, number],
    classes: number,
    seed: number,
  ) {
    this.nextSeed = seed * 7919;
    this.batchNorm = space.batch_norm;
    const edges = dartsEdges(space.nodes);
    const columns = mixedOperations(space).length;
    const rng = createRng(seed);
    const alpha = (type: CellType) => {
      const values = Float32Array.from({ length: edges.length * columns }, () => (2 * rng.next() - 1) * ALPHA_INIT_SCALE);
      return tf.tidy(() => tf.variable(tf.tensor2d(values, [edges.length, columns]), true, `${this.prefix}/alpha_${type}`));
    };
    this.alphas = { normal: alpha('normal'), reduction: alpha('reduction') };

    let filters = space.filters;
    this.stem = this.conv('stem', 3, inputShape[2], filters);
    // Spatial sizes of the two latest outputs, to tell when cell k-2 is larger than cell k-1.
    let [previousSize, lastSize] = [inputShape[0], inputShape[0]];
    let [previousChannels, lastChannels] = [filters, filters];
    for (let stage = 0; stage < space.stages; stage++) {
      const types: CellType[] = [...(stage > 0 ? (['reduction'] as const) : []), ...Array<CellType>(space.cells_per_stage).fill('normal')];
      if (stage > 0) filters *= 2;
      for (const type of types) {
        const index = this.plan.length;
        const previousStride = previousSize > lastSize ? 2 : 1;
        this.plan.push({ type, filters, previousStride });
        this.cells.push({
          previous: this.conv(`cell${index}/previous`, 1, previousChannels, filters),
          last: this.conv(`cell${index}/last`, 1, lastChannels, filters),
          edges: edges.map((edge, e) =>
            space.operations.map((operation) => {
              const strided = type === 'reduction' && edge.input < 2;
              return this.operationWeights(`cell${index}/edge${e}/${operation}`, operation, filters, strided);
            }),
          ),
          output: this.conv(`cell${index}/output`, 1, space.nodes * filters, filters),
        });
        const size = type === 'reduction' ? Math.ceil(lastSize / 2) : lastSize;
        [previousSize, lastSize] = [lastSize, size];
        [previousChannels, lastChannels] = [lastChannels, filters];
      }
    }
    this.pooled = resolveHead(space.head, inputShape) === 'gap';
    const features = this.pooled ? lastChannels : lastSize * lastSize * lastChannels;
    this.classifier = {
      kernel: this.variable('classifier/kernel', tf.initializers.glorotUniform({ seed: this.nextSeed++ }).apply([features, classes])),
      bias: this.variable('classifier/bias', tf.zeros([classes])),
    };
  }

  /** The softmax of each alpha: what the cell mixes, what is derived from, and what the dashboard plots. */
  mixingWeights(): Record<CellType, tf.Tensor2D> {
    return tf.tidy(() => ({
      normal: tf.softmax(this.alphas.normal) as tf.Tensor2D,
      reduction: tf.softmax(this.alphas.reduction) as tf.Tensor2D,
    }));
  }

  async alphaWeights(): Promise<AlphaWeights> {
    const weights = this.mixingWeights();
    try {
      return { normal: await weights.normal.array(), reduction: await weights.reduction.array() };
    } finally {
      tf.dispose(weights);
    }
  }

  /** Class logits of a batch; call inside tf.tidy. */
  logits(images: tf.Tensor4D, mixing: CellMixing): tf.Tensor2D {
    // With batch norm, conv then norm (DARTS's stem): each cell's units start with their own ReLU.
    const stem = this.batchNorm
      ? normalise(tf.conv2d(images, this.stem.kernel as tf.Tensor4D, 1, 'same')).normalised
      : this.applyConv(images, this.stem, 1);
    let previous = stem;
    let last = stem;
    this.plan.forEach((cell, index) => {
      const output = this.cell(index, cell, previous, last, mixing);
      previous = last;
      last = output;
    });
    return tf.add(tf.matMul(classifierInput(last, this.pooled), this.classifier.kernel), this.classifier.bias);
  }

  /** Mean softmax cross-entropy of a batch; call inside tf.tidy (or a gradient function). */
  loss(images: tf.Tensor4D, oneHot: tf.Tensor2D, mixing: CellMixing): tf.Scalar {
    return tf.losses.softmaxCrossEntropy(oneHot, this.logits(images, mixing)) as tf.Scalar;
  }

  dispose(): void {
    tf.dispose([...this.weights, this.alphas.normal, this.alphas.reduction]);
  }

  private cell(index: number, cell: CellPlan, previous: tf.Tensor4D, last: tf.Tensor4D, mixing: CellMixing): tf.Tensor4D {
    const weights = this.cells[index];
    const states = [this.applyConv(previous, weights.previous, cell.previousStride), this.applyConv(last, weights.last, 1)];
    const strideFrom = (input: number) => (cell.type === 'reduction' && input < 2 ? 2 : 1);
    const operate = (edge: number, operation: number, input: number) =>
      this.operation(this.space.operations[operation], weights.edges[edge][operation], states[input], strideFrom(input));
    const edges = dartsEdges(this.space.nodes);
    for (let node = 0; node < this.space.nodes; node++) {
      const edgeOf = (input: number) => edges.findIndex((e) => e.node === node && e.input === input);
      let sum: tf.Tensor4D;
      if (mixing.kind === 'derived') {
        const chosen = mixing.graph[cell.type][node];
        const branches = [0, 1].map((side) => {
          const input = chosen.inputs[side];
          return operate(edgeOf(input), this.space.operations.indexOf(chosen.operations[side]), input);
        });
        sum = tf.add(branches[0], branches[1]);
      } else {
        const rows = mixing.weights[cell.type];
        const terms: tf.Tensor4D[] = [];
        for (let input = 0; input < node + 2; input++) {
          const edge = edgeOf(input);
          const outputs = this.space.operations.map((_, operation) => operate(edge, operation, input));
          // `none` adds zero: only its share of the softmax counts. A product of [1, ops] by [ops, values]
          // is the weighted sum: far faster on the CPU backend than a broadcast multiply.
          const shares = tf.slice(rows, [edge, 0], [1, outputs.length]);
          const stacked = tf.reshape(tf.stack(outputs), [outputs.length, -1]);
          terms.push(tf.reshape(tf.matMul(shares, stacked), outputs[0].shape));
        }
        sum = tf.addN(terms);
      }
      states.push(sum);
    }
    // Every node feeds the output, as in DARTS' search network.
    return this.applyConv(tf.concat(states.slice(2), 3), weights.output, 1);
  }

  private operation(operation: CellOperation, weights: OperationWeights, input: tf.Tensor4D, stride: 1 | 2): tf.Tensor4D {
    switch (operation) {
      case 'conv3x3':
      case 'conv5x5':
        return this.applyConv(input, { kernel: weights[0], bias: weights[1] }, stride);
      case 'sep_conv3x3':
      case 'sep_conv5x5':
        if (this.batchNorm) {
          const [depthwise, pointwise, depthwise2, pointwise2] = weights as tf.Tensor4D[];
          const once = normalise(tf.separableConv2d(tf.relu(input), depthwise, pointwise, stride, 'same')).normalised;
          return normalise(tf.separableConv2d(tf.relu(once), depthwise2, pointwise2, 1, 'same')).normalised;
        }
        return tf.relu(
          tf.add(tf.separableConv2d(input, weights[0] as tf.Tensor4D, weights[1] as tf.Tensor4D, stride, 'same'), weights[2]),
        ) as tf.Tensor4D;
      case 'max_pool':
        return tf.maxPool(input, 3, stride, 'same') as tf.Tensor4D;
      case 'avg_pool':
        return tf.avgPool(input, 3, stride, 'same') as tf.Tensor4D;
      case 'identity':
        // As build.ts: a strided identity is a 1x1 strided convolution.
        return stride === 1 ? input : this.applyConv(input, { kernel: weights[0], bias: weights[1] }, stride);
    }
  }

  /** As the ENAS supernet lays them out; every weight made here takes part in every mixed pass, so each gets a gradient at every step. */
  private operationWeights(name: string, operation: CellOperation, filters: number, strided: boolean): OperationWeights {
    return operationWeightShapes(operation, filters, strided ? 2 : 1, this.batchNorm).map((shape, i) =>
      this.variable(`${name}/${i}`, shape.length === 1 ? tf.zeros(shape) : this.heNormal(shape)),
    );
  }

  /** With batch norm ReLU, conv, norm (DARTS's ReLUConvBN); without, conv with bias and ReLU (build.ts's layer). */
  private applyConv(input: tf.Tensor4D, weights: ConvWeights, stride: number): tf.Tensor4D {
    if (this.batchNorm) return normalise(tf.conv2d(tf.relu(input), weights.kernel as tf.Tensor4D, stride, 'same')).normalised;
    return tf.fused.conv2d({
      x: input,
      filter: weights.kernel as tf.Tensor4D,
      strides: stride,
      pad: 'same',
      bias: weights.bias,
      activation: 'relu',
    });
  }

  private conv(name: string, size: number, inputs: number, outputs: number): ConvWeights {
    return {
      kernel: this.variable(`${name}/kernel`, this.heNormal([size, size, inputs, outputs])),
      bias: this.batchNorm ? undefined : this.variable(`${name}/bias`, tf.zeros([outputs])),
    };
  }

  private heNormal(shape: number[]): tf.Tensor {
    return tf.initializers.heNormal({ seed: this.nextSeed++ }).apply(shape);
  }

  private variable(name: string, initial: tf.Tensor): tf.Variable {
    const variable = tf.variable(initial, true, `${this.prefix}/${name}`);
    initial.dispose();
    this.weights.push(variable);
    return variable;
  }
}
