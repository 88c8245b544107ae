// Builds a trainable tfjs model from a decoded architecture graph.

import * as tf from '@tensorflow/tfjs';
import type { CellOperation, CellSpaceConfig, SpaceConfig } from '../../space/config.ts';
import {
  cellOutputNodes,
  macroOutputLayers,
  type ArchitectureGraph,
  type CellGraph,
  type CellNode,
  type MacroGraph,
} from '../../space/graph.ts';
import { padAndConcat, type PadAndConcatOps } from './pad-and-concat.ts';

type Shape3 = [number, number, number];

export interface BuildOptions {
  inputShape: Shape3;
  classes: number;
  /** Seeds every initializer, so the same architecture starts from the same weights. */
  seed: number;
  /** Starting values instead of the initializers: per weighted layer in creation order, its weights in tfjs order (a supernet's slices). */
  weights?: tf.Tensor[][];
}

/** Hands out a fresh initializer seed per layer. */
class LayerFactory {
  private nextSeed: number;
  /** Every layer with weights, in creation order. */
  readonly weighted: tf.layers.Layer[] = [];
  constructor(seed: number) {
    this.nextSeed = seed * 7919;
  }
  private track(layer: tf.layers.Layer): tf.layers.Layer {
    this.weighted.push(layer);
    return layer;
  }
  private init() {
    return tf.initializers.heNormal({ seed: this.nextSeed++ });
  }
  conv(filters: number, kernelSize: [number, number], strides: number): tf.layers.Layer {
    return this.track(
      tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', activation: 'relu', kernelInitializer: this.init() }),
    );
  }
  separableConv(filters: number, size: number, strides: number): tf.layers.Layer {
    return this.track(
      tf.layers.separableConv2d({
        filters,
        kernelSize: size,
        strides,
        padding: 'same',
        activation: 'relu',
        depthwiseInitializer: this.init(),
        pointwiseInitializer: this.init(),
      }),
    );
  }
  classifier(classes: number): tf.layers.Layer {
    return this.track(
      tf.layers.dense({
        units: classes,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed++ }),
      }),
    );
  }
}

/** Padding and concatenation as layers of the model. */
const SYMBOLIC_OPS: PadAndConcatOps<tf.SymbolicTensor> = {
  spatialSize: (t) => [t.shape[1] as number, t.shape[2] as number],
  zeroPad: (t, padding) => tf.layers.zeroPadding2d({ padding }).apply(t) as tf.SymbolicTensor,
  concatDepth: (tensors) => tf.layers.concatenate({ axis: -1 }).apply(tensors) as tf.SymbolicTensor,
};

function classify(features: tf.SymbolicTensor, layers: LayerFactory, classes: number): tf.SymbolicTensor {
  // Flattened, not pooled: on small images the position of a feature matters, and children learn in far fewer epochs.
  const flat = tf.layers.flatten({}).apply(features) as tf.SymbolicTensor;
  return layers.classifier(classes).apply(flat) as tf.SymbolicTensor;
}

function buildMacro(graph: MacroGraph, image: tf.SymbolicTensor, layers: LayerFactory, classes: number): tf.SymbolicTensor {
  const outputs: tf.SymbolicTensor[] = [];
  for (const layer of graph.layers) {
    const input = layer.inputs.length
      ? padAndConcat(
          layer.inputs.map((j) => outputs[j]),
          SYMBOLIC_OPS,
        )
      : image;
    outputs.push(layers.conv(layer.filters, [layer.filterHeight, layer.filterWidth], layer.stride).apply(input) as tf.SymbolicTensor);
  }
  return classify(
    padAndConcat(
      macroOutputLayers(graph).map((i) => outputs[i]),
      SYMBOLIC_OPS,
    ),
    layers,
    classes,
  );
}

function applyOperation(
  operation: CellOperation,
  input: tf.SymbolicTensor,
  filters: number,
  stride: number,
  layers: LayerFactory,
): tf.SymbolicTensor {
  const apply = (layer: tf.layers.Layer) => layer.apply(input) as tf.SymbolicTensor;
  switch (operation) {
    case 'conv3x3':
      return apply(layers.conv(filters, [3, 3], stride));
    case 'conv5x5':
      return apply(layers.conv(filters, [5, 5], stride));
    case 'sep_conv3x3':
      return apply(layers.separableConv(filters, 3, stride));
    case 'sep_conv5x5':
      return apply(layers.separableConv(filters, 5, stride));
    case 'max_pool':
      return apply(tf.layers.maxPooling2d({ poolSize: 3, strides: stride, padding: 'same' }));
    case 'avg_pool':
      return apply(tf.layers.averagePooling2d({ poolSize: 3, strides: stride, padding: 'same' }));
    case 'identity':
      // A strided identity cannot keep the shape; a 1x1 strided convolution reduces it (as in ENAS).
      // At stride 1 it is still a layer of its own: tfjs frees a tensor too early when one node
      // would take the same symbolic tensor twice.
      return stride === 1 ? apply(tf.layers.maxPooling2d({ poolSize: 1, strides: 1 })) : apply(layers.conv(filters, [1, 1], stride));
  }
}

/** One cell of the stacked network, as build.ts stacks them (the supernet follows the same layout). */
export interface CellPosition {
  filters: number;
  reduction: boolean;
  /** Channels of the outputs of cells k-2 and k-1 (the stem's for the first cells). */
  previousChannels: number;
  lastChannels: number;
  /** Cell k-2 is larger than cell k-1 just after a reduction: its 1x1 convolution then has stride 2. */
  previousStride: number;
}

/** The cells of a cell space's network in order, and the shape of the last one's output. */
export function cellStack(space: CellSpaceConfig, inputShape: Shape3): { positions: CellPosition[]; outputShape: Shape3 } {
  const positions: CellPosition[] = [];
  let filters = space.filters;
  // Channels and height of the outputs of cells k-2 and k-1; the stem's at first.
  let previous = { channels: filters, height: inputShape[0] };
  let last = previous;
  let [height, width] = inputShape;
  for (let stage = 0; stage < space.stages; stage++) {
    const reductions = stage > 0 ? [true] : [];
    if (stage > 0) filters *= 2;
    for (const reduction of [...reductions, ...Array<boolean>(space.cells_per_stage).fill(false)]) {
      if (reduction) [height, width] = [Math.ceil(height / 2), Math.ceil(width / 2)];
      positions.push({
        filters,
        reduction,
        previousChannels: previous.channels,
        lastChannels: last.channels,
        previousStride: previous.height > last.height ? 2 : 1,
      });
      previous = last;
      last = { channels: filters, height };
    }
  }
  return { positions, outputShape: [height, width, filters] };
}

/**
 * Which cells of the stack reach the classifier. Cell k feeds cell k+1 through its input 1 and cell k+2
 * through its input 0; a cell that no live cell reads is left out of the network altogether.
 */
export function liveCells(graph: CellGraph, positions: readonly CellPosition[]): boolean[] {
  const reads = (k: number, input: number) =>
    (positions[k].reduction ? graph.reduction : graph.normal).some((node) => node.inputs.includes(input));
  const live = positions.map(() => false);
  for (let k = positions.length - 1; k >= 0; k--) {
    live[k] =
      k === positions.length - 1 || (live[k + 1] && reads(k + 1, 1)) || (k + 2 < positions.length && live[k + 2] && reads(k + 2, 0));
  }
  return live;
}

function buildCellBlock(
  nodes: readonly CellNode[],
  position: CellPosition,
  previous: tf.SymbolicTensor | undefined,
  last: tf.SymbolicTensor | undefined,
  layers: LayerFactory,
): tf.SymbolicTensor {
  const { filters, reduction } = position;
  const read = (input: tf.SymbolicTensor | undefined) => {
    if (input === undefined) throw new Error('a live cell reads a cell that was left out');
    return input;
  };
  const cellInputs = [
    () => layers.conv(filters, [1, 1], position.previousStride).apply(read(previous)) as tf.SymbolicTensor,
    () => layers.conv(filters, [1, 1], 1).apply(read(last)) as tf.SymbolicTensor,
  ];
  // Made only when a node reads them: a layer outside the model's graph would never be disposed.
  const states: tf.SymbolicTensor[] = [];
  const state = (input: number) => (states[input] ??= cellInputs[input]());
  nodes.forEach((node, j) => {
    const branches = node.inputs.map((input, side) =>
      applyOperation(node.operations[side], state(input), filters, reduction && input < 2 ? 2 : 1, layers),
    );
    states[j + 2] = tf.layers.add().apply(branches) as tf.SymbolicTensor;
  });
  const looseEnds = cellOutputNodes(nodes).map((j) => states[j + 2]);
  const merged = looseEnds.length === 1 ? looseEnds[0] : (tf.layers.concatenate({ axis: -1 }).apply(looseEnds) as tf.SymbolicTensor);
  return layers.conv(filters, [1, 1], 1).apply(merged) as tf.SymbolicTensor;
}

function buildCellNetwork(
  graph: CellGraph,
  space: CellSpaceConfig,
  image: tf.SymbolicTensor,
  layers: LayerFactory,
  classes: number,
): tf.SymbolicTensor {
  const stem = layers.conv(space.filters, [3, 3], 1).apply(image) as tf.SymbolicTensor;
  const { positions } = cellStack(space, image.shape.slice(1) as Shape3);
  const live = liveCells(graph, positions);
  let previous: tf.SymbolicTensor | undefined = stem;
  let last: tf.SymbolicTensor | undefined = stem;
  positions.forEach((position, k) => {
    const nodes = position.reduction ? graph.reduction : graph.normal;
    const output = live[k] ? buildCellBlock(nodes, position, previous, last, layers) : undefined;
    previous = last;
    last = output;
  });
  return classify(last!, layers, classes);
}

export function buildModel(graph: ArchitectureGraph, space: SpaceConfig, options: BuildOptions): tf.LayersModel {
  const layers = new LayerFactory(options.seed);
  const image = tf.input({ shape: options.inputShape });
  let output: tf.SymbolicTensor;
  if (graph.kind === 'macro') output = buildMacro(graph, image, layers, options.classes);
  else if (graph.kind === 'cell' && space.kind === 'cell') output = buildCellNetwork(graph, space, image, layers, options.classes);
  else throw new Error(`a ${graph.kind} architecture is not built in a ${space.kind} space`);
  const model = tf.model({ inputs: image, outputs: output });
  if (options.weights) {
    const { weights } = options;
    if (weights.length !== layers.weighted.length) {
      model.dispose();
      throw new Error(`${weights.length} layers of weights given; the network has ${layers.weighted.length} layers with weights`);
    }
    layers.weighted.forEach((layer, i) => layer.setWeights(weights[i]));
  }
  return model;
}

/** Floating-point operations of one forward pass of one example: 2 per multiply-add of the conv and dense layers. */
export function countFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const className = layer.getClassName();
    const shapeOf = (i: number) => layer.weights[i].shape as number[];
    if (className === 'Conv2D') {
      const [kh, kw, cin, cout] = shapeOf(0);
      flops += 2 * out[1] * out[2] * kh * kw * cin * cout;
    } else if (className === 'SeparableConv2D') {
      const [kh, kw, cin] = shapeOf(0);
      const cout = shapeOf(1)[3];
      flops += 2 * out[1] * out[2] * (kh * kw * cin + cin * cout);
    } else if (className === 'Dense') {
      const [inputs, units] = shapeOf(0);
      flops += 2 * inputs * units;
    }
  }
  return flops;
}
