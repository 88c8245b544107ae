// The cell space's network: a stem, then stages of normal cells (and a reduction cell before each
// stage after the first), each cell the searched nodes between two 1x1 convolutions.

import * as tf from '@tensorflow/tfjs';
import type { CellOperation, CellSpaceConfig } from '../../space/config.ts';
import { cellOutputNodes, cellStack, liveCells, type CellGraph, type CellNode, type CellPosition } from '../../space/graph.ts';
import { classify, relu, type LayerFactory, type NetworkBuilder, type Shape3 } from './layers.ts';

/** ReLU, convolution, batch norm: the unit of ENAS's and DARTS's cells. */
function reluConvNorm(input: tf.SymbolicTensor, filters: number, kernel: number, stride: number, layers: LayerFactory): tf.SymbolicTensor {
  const convolved = layers.conv(filters, [kernel, kernel], stride, true).apply(relu(input)) as tf.SymbolicTensor;
  return layers.batchNorm().apply(convolved) as tf.SymbolicTensor;
}

/** DARTS's separable convolution: (ReLU, depthwise, pointwise, batch norm) twice, the second at stride 1. */
function dartsSeparable(input: tf.SymbolicTensor, filters: number, size: number, stride: number, layers: LayerFactory): tf.SymbolicTensor {
  let x = input;
  for (const s of [stride, 1]) {
    const convolved = layers.separableConv(filters, size, s, true).apply(relu(x)) as tf.SymbolicTensor;
    x = layers.batchNorm().apply(convolved) as tf.SymbolicTensor;
  }
  return x;
}

function applyNormedOperation(
  operation: CellOperation,
  input: tf.SymbolicTensor,
  filters: number,
  stride: number,
  layers: LayerFactory,
): tf.SymbolicTensor {
  switch (operation) {
    case 'conv3x3':
      return reluConvNorm(input, filters, 3, stride, layers);
    case 'conv5x5':
      return reluConvNorm(input, filters, 5, stride, layers);
    case 'sep_conv3x3':
      return dartsSeparable(input, filters, 3, stride, layers);
    case 'sep_conv5x5':
      return dartsSeparable(input, filters, 5, stride, layers);
    case 'identity':
      if (stride !== 1) return reluConvNorm(input, filters, 1, stride, layers);
  }
  return applyOperation(operation, input, filters, stride, layers);
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
  position: CellPosition,
  previous: tf.SymbolicTensor | undefined,
  last: tf.SymbolicTensor | undefined,
  layers: LayerFactory,
  batchNorm: boolean,
): tf.SymbolicTensor {
  const { filters, reduction } = position;
  const pointwise = (input: tf.SymbolicTensor, stride: number) =>
    batchNorm ? reluConvNorm(input, filters, 1, stride, layers) : (layers.conv(filters, [1, 1], stride).apply(input) as tf.SymbolicTensor);
  const operate = batchNorm ? applyNormedOperation : applyOperation;
  const read = (input: tf.SymbolicTensor | undefined) => {
    if (input === undefined) throw new Error('a live cell reads a cell that was left out');
    return input;
  };
  const cellInputs = [() => pointwise(read(previous), position.previousStride), () => pointwise(read(last), 1)];
  // Made only when a node reads them: a layer outside the model's graph would never be disposed.
  const states: tf.SymbolicTensor[] = [];
  const state = (input: number) => (states[input] ??= cellInputs[input]());
  nodes.forEach((node, j) => {
    const branches = node.inputs.map((input, side) =>
      operate(node.operations[side], state(input), filters, reduction && input < 2 ? 2 : 1, layers),
    );
    states[j + 2] = tf.layers.add().apply(branches) as tf.SymbolicTensor;
  });
  const looseEnds = cellOutputNodes(nodes).map((j) => states[j + 2]);
  const merged = looseEnds.length === 1 ? looseEnds[0] : (tf.layers.concatenate({ axis: -1 }).apply(looseEnds) as tf.SymbolicTensor);
  return pointwise(merged, 1);
}

export const cellNetwork: NetworkBuilder<CellSpaceConfig, CellGraph> = (graph, space, image, layers, classes) => {
  // With batch norm, conv then norm (DARTS's stem): each cell's units start with their own ReLU.
  const stem = space.batch_norm
    ? (layers.batchNorm().apply(layers.conv(space.filters, [3, 3], 1, true).apply(image)) as tf.SymbolicTensor)
    : (layers.conv(space.filters, [3, 3], 1).apply(image) as tf.SymbolicTensor);
  const { positions } = cellStack(space, image.shape.slice(1) as Shape3);
  const live = liveCells(graph, positions);
  let previous: tf.SymbolicTensor | undefined = stem;
  let last: tf.SymbolicTensor | undefined = stem;
  positions.forEach((position, k) => {
    const nodes = position.reduction ? graph.reduction : graph.normal;
    const output = live[k] ? buildCellBlock(nodes, position, previous, last, layers, space.batch_norm) : undefined;
    previous = last;
    last = output;
  });
  return classify(last!, layers, classes, space.head, image);
};
