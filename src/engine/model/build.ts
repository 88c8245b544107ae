// Builds a trainable tfjs model from a decoded architecture graph.

import * as tf from '@tensorflow/tfjs';
import type { CellOperation, CellSpaceConfig, SpaceConfig } from '../../space/config.ts';
import { cellOutputNodes, macroOutputLayers, type ArchitectureGraph, type CellNode, type MacroGraph } from '../../space/graph.ts';

type Shape3 = [number, number, number];

export interface BuildOptions {
  inputShape: Shape3;
  classes: number;
  /** Seeds every initializer, so the same architecture starts from the same weights. */
  seed: number;
}

/** Hands out a fresh initializer seed per layer. */
class LayerFactory {
  private nextSeed: number;
  constructor(seed: number) {
    this.nextSeed = seed * 7919;
  }
  private init() {
    return tf.initializers.heNormal({ seed: this.nextSeed++ });
  }
  conv(filters: number, kernelSize: [number, number], strides: number): tf.layers.Layer {
    return tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', activation: 'relu', kernelInitializer: this.init() });
  }
  separableConv(filters: number, size: number, strides: number): tf.layers.Layer {
    return tf.layers.separableConv2d({
      filters,
      kernelSize: size,
      strides,
      padding: 'same',
      activation: 'relu',
      depthwiseInitializer: this.init(),
      pointwiseInitializer: this.init(),
    });
  }
  classifier(classes: number): tf.layers.Layer {
    return tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed++ }) });
  }
}

const spatial = (t: tf.SymbolicTensor) => [t.shape[1] as number, t.shape[2] as number] as const;

/** NAS-RL's rule: inputs of different sizes are zero-padded to the largest, then concatenated on depth. */
function padAndConcat(tensors: tf.SymbolicTensor[]): tf.SymbolicTensor {
  if (tensors.length === 1) return tensors[0];
  const height = Math.max(...tensors.map((t) => spatial(t)[0]));
  const width = Math.max(...tensors.map((t) => spatial(t)[1]));
  const padded = tensors.map((t) => {
    const [h, w] = spatial(t);
    if (h === height && w === width) return t;
    const top = Math.floor((height - h) / 2);
    const left = Math.floor((width - w) / 2);
    const padding: [[number, number], [number, number]] = [
      [top, height - h - top],
      [left, width - w - left],
    ];
    return tf.layers.zeroPadding2d({ padding }).apply(t) as tf.SymbolicTensor;
  });
  return tf.layers.concatenate({ axis: -1 }).apply(padded) as tf.SymbolicTensor;
}

function classify(features: tf.SymbolicTensor, layers: LayerFactory, classes: number): tf.SymbolicTensor {
  // Flattened, not pooled: on small images the position of a feature matters, and children learn in far fewer epochs.
  const flat = tf.layers.flatten({}).apply(features) as tf.SymbolicTensor;
  return layers.classifier(classes).apply(flat) as tf.SymbolicTensor;
}

function buildMacro(graph: MacroGraph, image: tf.SymbolicTensor, layers: LayerFactory, classes: number): tf.SymbolicTensor {
  const outputs: tf.SymbolicTensor[] = [];
  for (const layer of graph.layers) {
    const input = layer.inputs.length ? padAndConcat(layer.inputs.map((j) => outputs[j])) : image;
    outputs.push(layers.conv(layer.filters, [layer.filterHeight, layer.filterWidth], layer.stride).apply(input) as tf.SymbolicTensor);
  }
  return classify(padAndConcat(macroOutputLayers(graph).map((i) => outputs[i])), layers, classes);
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

function buildCellBlock(
  nodes: readonly CellNode[],
  previous: tf.SymbolicTensor,
  last: tf.SymbolicTensor,
  filters: number,
  reduction: boolean,
  layers: LayerFactory,
): tf.SymbolicTensor {
  // Cell k-2 may be larger than cell k-1 just after a reduction: bring it to the same size.
  const previousStride = spatial(previous)[0] > spatial(last)[0] ? 2 : 1;
  const cellInputs = [
    () => layers.conv(filters, [1, 1], previousStride).apply(previous) as tf.SymbolicTensor,
    () => layers.conv(filters, [1, 1], 1).apply(last) as tf.SymbolicTensor,
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
  graph: Extract<ArchitectureGraph, { kind: 'cell' }>,
  space: CellSpaceConfig,
  image: tf.SymbolicTensor,
  layers: LayerFactory,
  classes: number,
): tf.SymbolicTensor {
  let filters = space.filters;
  const stem = layers.conv(filters, [3, 3], 1).apply(image) as tf.SymbolicTensor;
  let previous = stem;
  let last = stem;
  for (let stage = 0; stage < space.stages; stage++) {
    const cells: { nodes: readonly CellNode[]; reduction: boolean }[] = [];
    if (stage > 0) cells.push({ nodes: graph.reduction, reduction: true });
    for (let k = 0; k < space.cells_per_stage; k++) cells.push({ nodes: graph.normal, reduction: false });
    if (stage > 0) filters *= 2;
    for (const cell of cells) {
      const output = buildCellBlock(cell.nodes, previous, last, filters, cell.reduction, layers);
      previous = last;
      last = output;
    }
  }
  return classify(last, layers, classes);
}

export function buildModel(graph: ArchitectureGraph, space: SpaceConfig, options: BuildOptions): tf.LayersModel {
  const layers = new LayerFactory(options.seed);
  const image = tf.input({ shape: options.inputShape });
  let output: tf.SymbolicTensor;
  if (graph.kind === 'macro') output = buildMacro(graph, image, layers, options.classes);
  else if (graph.kind === 'cell' && space.kind === 'cell') output = buildCellNetwork(graph, space, image, layers, options.classes);
  else throw new Error(`a ${graph.kind} architecture is not built in a ${space.kind} space`);
  return tf.model({ inputs: image, outputs: output });
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
