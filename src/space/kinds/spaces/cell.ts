// The cell space (NASNet/ENAS): a normal and a reduction cell, each node summing two operations on
// two earlier nodes or cell inputs.

import type { CellOperation } from '../../config.ts';
import type { Decision } from '../../decisions.ts';
import { indexIn, type ImageShape, type SpaceKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { convParameters, halved } from './parameters.ts';

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
  let filters = space.filters;
  let parameters = convParameters(9, image.shape[2], filters, space.batch_norm);
  let previousChannels = filters;
  let lastChannels = filters;
  let size: [number, number] = [image.shape[0], image.shape[1]];
  const counted = new Map<string, number>();
  for (let stage = 0; stage < space.stages; stage++) {
    const cells: Array<{ nodes: readonly CellNode[]; reduction: boolean }> = [];
    if (stage > 0) cells.push({ nodes: reduction, reduction: true });
    for (let k = 0; k < space.cells_per_stage; k++) cells.push({ nodes: normal, reduction: false });
    if (stage > 0) filters *= 2;
    for (const cell of cells) {
      // Cells of a stage repeat with the same shapes: count each distinct one once.
      const key = `${cell.reduction}:${previousChannels}:${lastChannels}:${filters}`;
      let cellParameters = counted.get(key);
      if (cellParameters === undefined)
        counted.set(
          key,
          (cellParameters = cellBlockParameters(cell.nodes, previousChannels, lastChannels, filters, cell.reduction, space.batch_norm)),
        );
      parameters += cellParameters;
      if (cell.reduction) size = [halved(size[0], 2), halved(size[1], 2)];
      previousChannels = lastChannels;
      lastChannels = filters;
    }
  }
  return parameters + size[0] * size[1] * lastChannels * image.classes + image.classes;
}
