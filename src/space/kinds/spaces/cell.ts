// The cell space (NASNet/ENAS): a normal and a reduction cell, each node summing two operations on
// two earlier nodes or cell inputs.

import type { CellOperation } from '../../config.ts';
import type { Decision } from '../../decisions.ts';
import { indexIn, type ImageShape, type SpaceKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { classifierParameters, convParameters, resolveHead, type ClassifierHead } from './parameters.ts';

export interface CellSpaceConfig {
  kind: 'cell';
  /** B: nodes per cell. */
  nodes: number;
  operations: CellOperation[];
  /** N: normal cells per stage; a reduction cell sits between stages. */
  cells_per_stage: number;
  stages: number;
  /** Channels of the first stage; doubled at each reduction. */
  filters: number;
  /** Batch normalisation after every convolution. */
  batch_norm: boolean;
  /** The classifier's input; `auto` pools from 16x16 images up. */
  head: ClassifierHead | 'auto';
}

/** Node inputs: 0 and 1 are the cell's two inputs (the outputs of cells k-2 and k-1); 2 + j is node j. */
export interface CellNode {
  inputs: [number, number];
  operations: [CellOperation, CellOperation];
}

export interface CellGraph {
  kind: 'cell';
  normal: CellNode[];
  reduction: CellNode[];
}

const CELL_TYPES = ['normal', 'reduction'] as const;

/** Nodes of a cell whose output feeds no other node: the cell's output concatenates them. */
export function cellOutputNodes(nodes: readonly CellNode[]): number[] {
  const used = new Set(nodes.flatMap((node) => node.inputs.filter((input) => input >= 2).map((input) => input - 2)));
  return nodes.map((_, i) => i).filter((i) => !used.has(i));
}

function cellInputLabels(node: number): string[] {
  return ['input0', 'input1', ...Array.from({ length: node }, (_, j) => `node${j}`)];
}

export const cellSpace: SpaceKind<CellSpaceConfig, CellGraph> = {
  kind: 'cell',
  get description() {
    return kindDescription('space', 'cell');
  },
  network: async () => (await import('../../../engine/model/cell.ts')).cellNetwork,
  compile(space) {
    const decisions: Decision[] = [];
    for (const cellType of CELL_TYPES) {
      const nodeAnchorSteps: number[] = [];
      for (let node = 0; node < space.nodes; node++) {
        const anchors = [{ fixed: 0 }, { fixed: 1 }, ...nodeAnchorSteps.map((step) => ({ step }))];
        for (const side of ['a', 'b']) {
          decisions.push({ kind: 'input', name: `${cellType}.node${node}.input_${side}`, options: cellInputLabels(node), anchors });
          decisions.push({ kind: 'categorical', name: `${cellType}.node${node}.op_${side}`, options: [...space.operations] });
        }
        nodeAnchorSteps.push(decisions.length - 1);
      }
    }
    return decisions;
  },
  decode(space, take) {
    const decodeCell = (): CellNode[] =>
      Array.from({ length: space.nodes }, () => {
        const inputA = take();
        const opA = space.operations[take()];
        const inputB = take();
        const opB = space.operations[take()];
        return { inputs: [inputA, inputB], operations: [opA, opB] };
      });
    const normal = decodeCell();
    const reduction = decodeCell();
    return { kind: 'cell', normal, reduction };
  },
  encode(space, graph, architecture) {
    for (const nodes of [graph.normal, graph.reduction]) {
      for (const node of nodes) {
        for (const side of [0, 1]) {
          architecture.push(node.inputs[side]);
          architecture.push(indexIn(space.operations, node.operations[side], 'operation'));
        }
      }
    }
  },
  // A cell node sums its two branches, so their order does not matter.
  key(graph) {
    const cellKey = (nodes: readonly CellNode[]) =>
      nodes
        .map((node) =>
          [0, 1]
            .map((side) => `${node.inputs[side]}:${node.operations[side]}`)
            .sort()
            .join('+'),
        )
        .join(';');
    return `normal[${cellKey(graph.normal)}] reduction[${cellKey(graph.reduction)}]`;
  },
  draw(graph) {
    const label = (input: number) => (input < 2 ? `input${input}` : `node${input - 2}`);
    const drawCell = (title: string, nodes: readonly CellNode[]) => [
      `${title} cell:`,
      ...nodes.map(
        (node, j) => `  node${j} = ${node.operations[0]}(${label(node.inputs[0])}) + ${node.operations[1]}(${label(node.inputs[1])})`,
      ),
      `  output = concat(${cellOutputNodes(nodes)
        .map((j) => `node${j}`)
        .join(', ')})`,
    ];
    return [...drawCell('normal', graph.normal), ...drawCell('reduction', graph.reduction)].join('\n');
  },
  countParameters: (graph, space, image) => cellParameters(graph.normal, graph.reduction, space, image),
};

function operationParameters(operation: CellOperation, channels: number, stride: number, batchNorm: boolean): number {
  // DARTS's separable convolution with batch norm is two of them, each depthwise, pointwise and norm.
  const separable = (area: number) =>
    batchNorm
      ? 2 * (area * channels + convParameters(1, channels, channels, true))
      : area * channels + convParameters(1, channels, channels);
  switch (operation) {
    case 'conv3x3':
      return convParameters(9, channels, channels, batchNorm);
    case 'conv5x5':
      return convParameters(25, channels, channels, batchNorm);
    case 'sep_conv3x3':
      return separable(9);
    case 'sep_conv5x5':
      return separable(25);
    case 'max_pool':
    case 'avg_pool':
      return 0;
    case 'identity':
      return stride === 1 ? 0 : convParameters(1, channels, channels, batchNorm);
  }
}

function cellBlockParameters(
  nodes: readonly CellNode[],
  previousChannels: number,
  lastChannels: number,
  filters: number,
  reduction: boolean,
  batchNorm: boolean,
): number {
  const reads = new Set(nodes.flatMap((node) => node.inputs));
  let parameters = 0;
  if (reads.has(0)) parameters += convParameters(1, previousChannels, filters, batchNorm);
  if (reads.has(1)) parameters += convParameters(1, lastChannels, filters, batchNorm);
  for (const node of nodes) {
    node.inputs.forEach((input, side) => {
      parameters += operationParameters(node.operations[side], filters, reduction && input < 2 ? 2 : 1, batchNorm);
    });
  }
  return parameters + convParameters(1, filters * cellOutputNodes(nodes).length, filters, batchNorm);
}

function cellParameters(
  normal: readonly CellNode[],
  reduction: readonly CellNode[],
  space: CellSpaceConfig,
  image: Pick<ImageShape, 'shape' | 'classes'>,
): number {
  const { positions, outputShape } = cellStack(space, image.shape);
  const live = liveCells({ kind: 'cell', normal: [...normal], reduction: [...reduction] }, positions);
  let parameters = convParameters(9, image.shape[2], space.filters, space.batch_norm);
  positions.forEach((position, k) => {
    if (!live[k]) return;
    const { previousChannels, lastChannels, filters } = position;
    const nodes = position.reduction ? reduction : normal;
    parameters += cellBlockParameters(nodes, previousChannels, lastChannels, filters, position.reduction, space.batch_norm);
  });
  const [height, width, channels] = outputShape;
  return parameters + classifierParameters(resolveHead(space.head, image.shape), [height, width], channels, image.classes);
}

/** One cell of the stacked network, as cellNetwork stacks them (the supernet follows the same layout). */
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
export function cellStack(
  space: CellSpaceConfig,
  inputShape: readonly number[],
): { positions: CellPosition[]; outputShape: [number, number, number] } {
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
