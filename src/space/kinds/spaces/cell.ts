// The cell space (NASNet/ENAS): a normal and a reduction cell, each node summing two operations on
// two earlier nodes or cell inputs.

import type { CellOperation } from '../../config.ts';
import type { Decision } from '../../decisions.ts';
import { indexIn, type SpaceKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

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
        (node, j) =>
          `  node${j} = ${node.operations[0]}(${label(node.inputs[0])}) + ${node.operations[1]}(${label(node.inputs[1])})`,
      ),
      `  output = concat(${cellOutputNodes(nodes).map((j) => `node${j}`).join(', ')})`,
    ];
    return [...drawCell('normal', graph.normal), ...drawCell('reduction', graph.reduction)].join('\n');
  },
};
