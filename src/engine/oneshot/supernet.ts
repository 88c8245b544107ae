// The ENAS supernet: one set of shared weights for every choice of a space, and the forward pass of
// any child through them. A child's pass computes exactly what buildModel's standalone network
// computes when its layers hold the slices of the shared weights that the pass used (the test
// checks this for both spaces), so what is learned here transfers to the child as it is.
//
// How choices share weights:
// - cell space (ENAS micro): every cell of the stack has its own weights for each
//   (node, branch, input, operation); the cell's input and output 1x1 convolutions, the stem and
//   the classifier are shared by every child.
// - macro space (NAS-RL layers): each layer has one kernel per (filter height, filter width).
//   Its input rows are laid out as slots, the image's channels first, then the widest filter count
//   for each earlier layer; a child takes the rows of the layers it concatenates and the first
//   `filters` columns. The classifier's rows are laid out the same way per image position.
//
// Batch norm (when the space has `batch_norm`), as ENAS uses it: after every convolution of a path,
// with no scale or shift of its own, normalised with the statistics of the batch at hand, in training
// and when a child is scored alike (ENAS scores its shared children in training mode too): a path
// shared by children of different shapes has no running statistics that would fit them all. The
// standalone child it matches holds those batch statistics as its running statistics, and a scale
// of 1 and a shift of 0.

import * as tf from '@tensorflow/tfjs';
import { normalizeInTraining } from '../model/batch-norm.ts';
import type { CellOperation, CellSpaceConfig, MacroSpaceConfig, SpaceConfig } from '../../space/config.ts';
import {
  cellOutputNodes,
  macroOutputLayers,
  type ArchitectureGraph,
  type CellGraph,
  type CellNode,
  type MacroGraph,
} from '../../space/graph.ts';
import { cellStack, liveCells, type CellPosition } from '../../space/graph.ts';
import { resolveHead } from '../../space/kinds/spaces/parameters.ts';
import { padAndConcat, type PadAndConcatOps } from '../model/pad-and-concat.ts';
import { saveTensor, type SavedTensor } from '../strategies/saved-tensor.ts';
import { restoreNamedWeights } from './shared-weights.ts';

type Shape3 = [number, number, number];

export interface SupernetOptions {
  inputShape: Shape3;
  classes: number;
  /** Seeds the initial shared weights. */
  seed: number;
}

/** One weighted layer of a child: its kernel (or depthwise and pointwise kernels) and bias, in buildModel's order. */
export type LayerWeights = tf.Tensor[];

export interface ChildPass {
  /** Before the softmax; the standalone child's output is softmax(logits). */
  logits: tf.Tensor2D;
  /** The child's weights, one entry per weighted layer in the order buildModel creates them. */
  layerWeights: LayerWeights[];
  /** The standalone child's parameter count and FLOPs per example (as countFlops counts them). */
  params: number;
  flops: number;
}

/**
 * The weights of one cell operation on `channels` channels; pools (and identity at stride 1) have none.
 * With batch norm a convolution has no bias, and a separable one is applied twice (DARTS's sep_conv).
 */
export function operationWeightShapes(operation: CellOperation, channels: number, stride: number, batchNorm: boolean): number[][] {
  const bias = batchNorm ? [] : [[channels]];
  const conv = (size: number) => [[size, size, channels, channels], ...bias];
  const separable = (size: number) => {
    const once = [
      [size, size, channels, 1],
      [1, 1, channels, channels],
    ];
    return batchNorm ? [...once, ...once] : [...once, ...bias];
  };
  switch (operation) {
    case 'conv3x3':
      return conv(3);
    case 'conv5x5':
      return conv(5);
    case 'sep_conv3x3':
      return separable(3);
    case 'sep_conv5x5':
      return separable(5);
    case 'max_pool':
    case 'avg_pool':
      return [];
    case 'identity':
      // At stride 2 the child reduces with a 1x1 convolution (see build.ts).
      return stride === 1 ? [] : conv(1);
  }
}

/** Batch norm's epsilon, as the standalone children's layers use it. */
const NORM_EPSILON = 1e-5;

/**
 * Batch norm without scale or shift, per channel with the batch's own statistics (as ENAS's shared
 * paths and DARTS's search network with affine=false use it), with the closed-form gradient.
 */
export function normalise(x: tf.Tensor4D): { normalised: tf.Tensor4D; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const { normalized, statistics } = normalizeInTraining(x, NORM_EPSILON);
  return { normalised: normalized as tf.Tensor4D, ...statistics };
}

/** The classifier's input: the features averaged over their positions when `pooled`, else flattened. */
export function classifierInput(features: tf.Tensor4D, pooled: boolean): tf.Tensor2D {
  return pooled ? tf.mean(features, [1, 2]) : tf.reshape(features, [features.shape[0], -1]);
}

/** Records what a child's pass used: its layers' weights, parameters and FLOPs. */
class PassRecord {
  readonly layerWeights: LayerWeights[] = [];
  params = 0;
  flops = 0;

  private use(weights: tf.Tensor[]): void {
    this.layerWeights.push(weights);
    for (const w of weights) this.params += w.size;
  }

  /** A conv2d layer with bias and ReLU, 'same' padding. */
  conv(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D, stride: number): tf.Tensor4D {
    this.use([kernel, bias]);
    const y = tf.fused.conv2d({ x, filter: kernel, strides: stride, pad: 'same', bias, activation: 'relu' });
    const [kh, kw, cin, cout] = kernel.shape;
    this.flops += 2 * y.shape[1] * y.shape[2] * kh * kw * cin * cout;
    return y;
  }

  /** A separable conv2d layer (depth multiplier 1) with bias and ReLU. */
  separableConv(x: tf.Tensor4D, depthwise: tf.Tensor4D, pointwise: tf.Tensor4D, bias: tf.Tensor1D, stride: number): tf.Tensor4D {
    this.use([depthwise, pointwise, bias]);
    const y = tf.relu(tf.add(tf.separableConv2d(x, depthwise, pointwise, stride, 'same'), bias)) as tf.Tensor4D;
    const [kh, kw, cin] = depthwise.shape;
    this.flops += 2 * y.shape[1] * y.shape[2] * (kh * kw * cin + cin * pointwise.shape[3]);
    return y;
  }

  /** A convolution without bias or activation, for batch norm to follow. */
  convForNorm(x: tf.Tensor4D, kernel: tf.Tensor4D, stride: number): tf.Tensor4D {
    this.use([kernel]);
    const y = tf.conv2d(x, kernel, stride, 'same');
    const [kh, kw, cin, cout] = kernel.shape;
    this.flops += 2 * y.shape[1] * y.shape[2] * kh * kw * cin * cout;
    return y;
  }

  separableConvForNorm(x: tf.Tensor4D, depthwise: tf.Tensor4D, pointwise: tf.Tensor4D, stride: number): tf.Tensor4D {
    this.use([depthwise, pointwise]);
    const y = tf.separableConv2d(x, depthwise, pointwise, stride, 'same');
    const [kh, kw, cin] = depthwise.shape;
    this.flops += 2 * y.shape[1] * y.shape[2] * (kh * kw * cin + cin * pointwise.shape[3]);
    return y;
  }

  /** Batch norm with the batch's statistics; the standalone layer's weights are scale 1, shift 0 and those statistics. */
  batchNorm(x: tf.Tensor4D): tf.Tensor4D {
    const { normalised, mean, variance } = normalise(x);
    this.use([tf.onesLike(mean), tf.zerosLike(mean), mean, variance]);
    this.flops += 2 * x.shape[1] * x.shape[2] * x.shape[3];
    return normalised;
  }

  /** ReLU, convolution, batch norm: the unit of ENAS's cells. */
  reluConvNorm(x: tf.Tensor4D, kernel: tf.Tensor4D, stride: number): tf.Tensor4D {
    return this.batchNorm(this.convForNorm(tf.relu(x), kernel, stride));
  }

  dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
    this.use([kernel, bias]);
    this.flops += 2 * kernel.shape[0] * kernel.shape[1];
    return tf.add(tf.matMul(x, kernel), bias);
  }
}

/** Applies one cell operation with its weights (as operationWeightShapes lists them with batch norm). */
function applyNormedOperation(
  operation: CellOperation,
  x: tf.Tensor4D,
  weights: tf.Tensor[],
  stride: number,
  pass: PassRecord,
): tf.Tensor4D {
  const [a, b, c, d] = weights as tf.Tensor4D[];
  switch (operation) {
    case 'conv3x3':
    case 'conv5x5':
      return pass.reluConvNorm(x, a, stride);
    case 'sep_conv3x3':
    case 'sep_conv5x5': {
      const once = pass.batchNorm(pass.separableConvForNorm(tf.relu(x), a, b, stride));
      return pass.batchNorm(pass.separableConvForNorm(tf.relu(once), c, d, 1));
    }
    case 'identity':
      if (stride !== 1) return pass.reluConvNorm(x, a, stride);
  }
  return applyOperation(operation, x, weights, stride, pass);
}

/** Applies one cell operation with its weights (as operationWeightShapes lists them without batch norm). */
function applyOperation(operation: CellOperation, x: tf.Tensor4D, weights: tf.Tensor[], stride: number, pass: PassRecord): tf.Tensor4D {
  const [a, b, c] = weights;
  switch (operation) {
    case 'conv3x3':
    case 'conv5x5':
      return pass.conv(x, a as tf.Tensor4D, b as tf.Tensor1D, stride);
    case 'sep_conv3x3':
    case 'sep_conv5x5':
      return pass.separableConv(x, a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor1D, stride);
    case 'max_pool':
      return tf.maxPool(x, 3, stride, 'same');
    case 'avg_pool':
      return tf.avgPool(x, 3, stride, 'same');
    case 'identity':
      return stride === 1 ? x : pass.conv(x, a as tf.Tensor4D, b as tf.Tensor1D, stride);
  }
}

/** Padding and concatenation as ops on the pass's tensors, the rule buildModel's layers follow. */
const TENSOR_OPS: PadAndConcatOps<tf.Tensor4D> = {
  spatialSize: (t) => [t.shape[1], t.shape[2]],
  zeroPad: (t, [rows, columns]) => tf.pad(t, [[0, 0], rows, columns, [0, 0]]),
  concatDepth: (tensors) => tf.concat(tensors, 3),
};

/** `count` consecutive indices from `start`. */
const range = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i);

/** The rows `rows` of a shared weight along `axis`: a plain slice when they are consecutive. */
function pickRows<T extends tf.Tensor>(weight: T, rows: number[], axis: number): T {
  const consecutive = rows.every((row, i) => row === rows[0] + i);
  if (consecutive && rows.length === weight.shape[axis]) return weight;
  if (consecutive) {
    const begin = weight.shape.map((_, i) => (i === axis ? rows[0] : 0));
    const size = weight.shape.map((n, i) => (i === axis ? rows.length : n));
    return tf.slice(weight, begin, size) as T;
  }
  return tf.gather(weight, tf.tensor1d(rows, 'int32'), axis) as T;
}

/** The first `count` entries of a shared weight's last axis (a child's filters out of the widest choice). */
function firstColumns<T extends tf.Tensor>(weight: T, count: number): T {
  const last = weight.rank - 1;
  if (weight.shape[last] === count) return weight;
  return tf.slice(
    weight,
    weight.shape.map(() => 0),
    weight.shape.map((n, i) => (i === last ? count : n)),
  ) as T;
}

// tfjs variable names are global to the process, so every supernet gets its own prefix.
let supernetsCreated = 0;

export class Supernet {
  private readonly namePrefix = `supernet_${supernetsCreated++}`;
  /** Every shared weight by its name within this supernet, in creation order (the checkpoint order). */
  private readonly weights = new Map<string, tf.Variable>();
  private nextSeed: number;
  private readonly batchNorm: boolean;
  /** Whether the classifier reads globally pooled features (`head`, as the standalone children resolve it). */
  private readonly pooled: boolean;

  constructor(
    readonly space: SpaceConfig,
    private readonly options: SupernetOptions,
  ) {
    this.nextSeed = options.seed * 7919;
    this.batchNorm = (space.kind === 'macro' || space.kind === 'cell') && space.batch_norm;
    this.pooled = (space.kind === 'macro' || space.kind === 'cell') && resolveHead(space.head, options.inputShape) === 'gap';
    if (space.kind === 'macro') this.createMacroWeights(space);
    else if (space.kind === 'cell') this.createCellWeights(space);
    else throw new Error(`a ${space.kind} space has no supernet: its architectures are looked up, not trained`);
  }

  /** Every shared weight, in a fixed order. */
  get variables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  /** Number of shared values. */
  get size(): number {
    return this.variables.reduce((sum, w) => sum + w.size, 0);
  }

  /** The weight's name inside this supernet (how checkpoints and optimizers key it). */
  localName(variable: tf.Variable): string {
    return variable.name.slice(this.namePrefix.length + 1);
  }

  /** One child's forward pass through the shared weights. Call inside tf.tidy (or a gradient function). */
  forward(graph: ArchitectureGraph, images: tf.Tensor4D): ChildPass {
    const pass = new PassRecord();
    let logits: tf.Tensor2D;
    if (graph.kind === 'macro' && this.space.kind === 'macro') logits = this.forwardMacro(graph, this.space, images, pass);
    else if (graph.kind === 'cell' && this.space.kind === 'cell') logits = this.forwardCell(graph, this.space, images, pass);
    else throw new Error(`a ${graph.kind} architecture does not fit a ${this.space.kind} supernet`);
    return { logits, layerWeights: pass.layerWeights, params: pass.params, flops: pass.flops };
  }

  /** Every shared weight as plain JSON (float32, base64). */
  getState(): Promise<SavedTensor[]> {
    return Promise.all([...this.weights].map(([name, w]) => saveTensor(name, w)));
  }

  /** Restores weights saved from a supernet of the same space and data shape; checks everything before writing anything. */
  setState(saved: readonly SavedTensor[]): void {
    restoreNamedWeights(this.weights, saved);
  }

  dispose(): void {
    this.weights.forEach((w) => w.dispose());
    this.weights.clear();
  }

  private weight(name: string): tf.Variable {
    const weight = this.weights.get(name);
    if (!weight) throw new Error(`The supernet has no weight ${name}.`);
    return weight;
  }

  /** He-normal kernels (truncated, as tfjs's heNormal) for the given fan-in; zero biases. */
  private create(name: string, shape: number[], fanIn: number): void {
    const initial = shape.length === 1 ? tf.zeros(shape) : tf.truncatedNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', this.nextSeed++);
    this.weights.set(name, tf.variable(initial, true, `${this.namePrefix}/${name}`));
    initial.dispose();
  }

  /** A kernel, and a bias unless batch norm follows it. */
  private createConv(name: string, shape: [number, number, number, number], fanInChannels = shape[2]): void {
    this.create(`${name}/kernel`, shape, shape[0] * shape[1] * fanInChannels);
    if (!this.batchNorm) this.create(`${name}/bias`, [shape[3]], 1);
  }

  // --- macro -------------------------------------------------------------------------------

  private macroWidest(space: MacroSpaceConfig): number {
    return Math.max(...space.filters);
  }

  private createMacroWeights(space: MacroSpaceConfig): void {
    const [height, width, channels] = this.options.inputShape;
    const widest = this.macroWidest(space);
    for (let layer = 0; layer < space.layers; layer++) {
      const rows = channels + layer * widest;
      for (const fh of space.filter_heights) {
        for (const fw of space.filter_widths) {
          // A child reads the image or about one earlier layer's worth of channels.
          this.createConv(`layer${layer}/${fh}x${fw}`, [fh, fw, rows, widest], layer === 0 ? channels : widest);
        }
      }
    }
    // Pooled, a row per (layer, channel); flattened, per (position, layer, channel).
    const positions = this.pooled ? 1 : height * width;
    this.create('classifier/kernel', [positions * space.layers * widest, this.options.classes], positions * widest);
    this.create('classifier/bias', [this.options.classes], 1);
  }

  private forwardMacro(graph: MacroGraph, space: MacroSpaceConfig, images: tf.Tensor4D, pass: PassRecord): tf.Tensor2D {
    const [, imageWidth, channels] = this.options.inputShape;
    const widest = this.macroWidest(space);
    const slot = (layer: number) => channels + layer * widest;
    const outputs: tf.Tensor4D[] = [];
    graph.layers.forEach((layer, l) => {
      const input = layer.inputs.length
        ? padAndConcat(
            layer.inputs.map((j) => outputs[j]),
            TENSOR_OPS,
          )
        : images;
      const rows = layer.inputs.length ? layer.inputs.flatMap((j) => range(slot(j), graph.layers[j].filters)) : range(0, channels);
      const name = `layer${l}/${layer.filterHeight}x${layer.filterWidth}`;
      const kernel = firstColumns(pickRows(this.weight(`${name}/kernel`) as tf.Tensor4D, rows, 2), layer.filters);
      if (space.batch_norm) {
        // As the standalone macro layer: conv, batch norm, then ReLU.
        outputs.push(tf.relu(pass.batchNorm(pass.convForNorm(input, kernel, layer.stride))));
      } else {
        const bias = firstColumns(this.weight(`${name}/bias`) as tf.Tensor1D, layer.filters);
        outputs.push(pass.conv(input, kernel, bias, layer.stride));
      }
    });
    const ends = macroOutputLayers(graph);
    const features = padAndConcat(
      ends.map((i) => outputs[i]),
      TENSOR_OPS,
    );
    // Flattening is in height, width, channel order; each feature maps to its (position, layer, channel) row.
    // Pooled features have one position.
    const [height, width] = this.pooled ? [1, 1] : features.shape.slice(1, 3);
    const rows: number[] = [];
    for (let h = 0; h < height; h++) {
      for (let w = 0; w < width; w++) {
        const position = (h * imageWidth + w) * space.layers;
        for (const j of ends) rows.push(...range((position + j) * widest, graph.layers[j].filters));
      }
    }
    const kernel = pickRows(this.weight('classifier/kernel') as tf.Tensor2D, rows, 0);
    return pass.dense(classifierInput(features, this.pooled), kernel, this.weight('classifier/bias') as tf.Tensor1D);
  }

  // --- cell --------------------------------------------------------------------------------

  private createCellWeights(space: CellSpaceConfig): void {
    const channels = this.options.inputShape[2];
    this.createConv('stem', [3, 3, channels, space.filters]);
    const { positions, outputShape } = cellStack(space, this.options.inputShape);
    positions.forEach((position, c) => {
      const { filters } = position;
      this.createConv(`cell${c}/input0`, [1, 1, position.previousChannels, filters]);
      this.createConv(`cell${c}/input1`, [1, 1, position.lastChannels, filters]);
      for (let node = 0; node < space.nodes; node++) {
        for (const side of ['a', 'b']) {
          for (let input = 0; input < node + 2; input++) {
            const stride = position.reduction && input < 2 ? 2 : 1;
            for (const operation of space.operations) {
              const prefix = `cell${c}/node${node}/${side}/from${input}/${operation}`;
              const shapes = operationWeightShapes(operation, filters, stride, space.batch_norm);
              shapes.forEach((shape, i) => this.create(`${prefix}/${i}`, shape, shape.length === 1 ? 1 : shape[0] * shape[1] * shape[2]));
            }
          }
        }
      }
      // The output 1x1 convolution reads the concatenation of the nodes no other node uses, each in its slot.
      this.createConv(`cell${c}/output`, [1, 1, space.nodes * filters, filters]);
    });
    const features = this.pooled ? outputShape[2] : outputShape[0] * outputShape[1] * outputShape[2];
    this.create('classifier/kernel', [features, this.options.classes], features);
    this.create('classifier/bias', [this.options.classes], 1);
  }

  /** A cell's 1x1 convolution: ReLU, conv, batch norm with it, a conv with bias and ReLU without (as build.ts). */
  private pointwise(
    name: string,
    x: tf.Tensor4D,
    stride: number,
    pass: PassRecord,
    kernel = this.weight(`${name}/kernel`) as tf.Tensor4D,
  ): tf.Tensor4D {
    if (this.batchNorm) return pass.reluConvNorm(x, kernel, stride);
    return pass.conv(x, kernel, this.weight(`${name}/bias`) as tf.Tensor1D, stride);
  }

  private forwardCell(graph: CellGraph, space: CellSpaceConfig, images: tf.Tensor4D, pass: PassRecord): tf.Tensor2D {
    const stemKernel = this.weight('stem/kernel') as tf.Tensor4D;
    // With batch norm, conv then norm (DARTS's stem): each cell's units start with their own ReLU.
    let stem: tf.Tensor4D;
    if (space.batch_norm) {
      stem = pass.batchNorm(pass.convForNorm(images, stemKernel, 1));
      // cellNetwork makes the stem's norm layer before its convolution (`layers.batchNorm().apply(layers.convForNorm(…))`).
      pass.layerWeights.reverse();
    } else {
      stem = pass.conv(images, stemKernel, this.weight('stem/bias') as tf.Tensor1D, 1);
    }
    const { positions } = cellStack(space, this.options.inputShape);
    const live = liveCells(graph, positions);
    let previous: tf.Tensor4D | undefined = stem;
    let last: tf.Tensor4D | undefined = stem;
    positions.forEach((position, c) => {
      const nodes = position.reduction ? graph.reduction : graph.normal;
      const output = live[c] ? this.cellBlock(c, position, nodes, previous, last, pass) : undefined;
      previous = last;
      last = output;
    });
    return pass.dense(
      classifierInput(last!, this.pooled),
      this.weight('classifier/kernel') as tf.Tensor2D,
      this.weight('classifier/bias') as tf.Tensor1D,
    );
  }

  /** Mirrors build.ts's buildCellBlock, down to the order in which it makes its layers. */
  private cellBlock(
    c: number,
    position: CellPosition,
    nodes: readonly CellNode[],
    previous: tf.Tensor4D | undefined,
    last: tf.Tensor4D | undefined,
    pass: PassRecord,
  ): tf.Tensor4D {
    // A live cell reads only live cells (see liveCells).
    const cellInputs = [
      () => this.pointwise(`cell${c}/input0`, previous!, position.previousStride, pass),
      () => this.pointwise(`cell${c}/input1`, last!, 1, pass),
    ];
    const states: tf.Tensor4D[] = [];
    const state = (input: number) => (states[input] ??= cellInputs[input]());
    nodes.forEach((node, j) => {
      const branches = node.inputs.map((input, side) => {
        const operation = node.operations[side];
        const stride = position.reduction && input < 2 ? 2 : 1;
        const prefix = `cell${c}/node${j}/${side === 0 ? 'a' : 'b'}/from${input}/${operation}`;
        const weights = operationWeightShapes(operation, position.filters, stride, this.batchNorm).map((_, i) =>
          this.weight(`${prefix}/${i}`),
        );
        return (this.batchNorm ? applyNormedOperation : applyOperation)(operation, state(input), weights, stride, pass);
      });
      states[j + 2] = tf.add(branches[0], branches[1]);
    });
    const ends = cellOutputNodes(nodes);
    const merged = padAndConcat(
      ends.map((j) => states[j + 2]),
      TENSOR_OPS,
    );
    const rows = ends.flatMap((j) => range(j * position.filters, position.filters));
    const kernel = pickRows(this.weight(`cell${c}/output/kernel`) as tf.Tensor4D, rows, 2);
    return this.pointwise(`cell${c}/output`, merged, 1, pass, kernel);
  }
}
