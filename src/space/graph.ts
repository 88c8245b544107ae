// A search space compiles to decisions; an architecture (one choice per decision) decodes to a
// graph, and the graph encodes back to the same architecture. The canonical key deduplicates graphs
// that differ only in an order that does not change the network.

import type { CellOperation, CellSpaceConfig, MacroSpaceConfig, SpaceConfig } from './config.ts';
import type { Architecture, Decision } from './decisions.ts';
import { NASBENCH201_EDGES, NASBENCH201_NODES, NASBENCH201_OPERATIONS, cellStringOf, compileNasBench201, type NasBench201Operation } from './nasbench201.ts';

export interface MacroLayer {
  filterHeight: number;
  filterWidth: number;
  filters: number;
  stride: number;
  /** Earlier layers concatenated as this layer's input; empty means the image. */
  inputs: number[];
}

export interface MacroGraph {
  kind: 'macro';
  layers: MacroLayer[];
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

/** One edge of the NAS-Bench-201 cell: `operation` applied to node `from`, summed into node `to`. */
export interface NasBench201Edge {
  from: number;
  to: number;
  operation: NasBench201Operation;
}

/** All 6 edges in cell-string order, `none` ones included (they cut the edge). */
export interface NasBench201Graph {
  kind: 'nasbench201';
  edges: NasBench201Edge[];
}

export type ArchitectureGraph = MacroGraph | CellGraph | NasBench201Graph;

const CELL_TYPES = ['normal', 'reduction'] as const;

export function compileSpace(space: SpaceConfig): Decision[] {
  switch (space.kind) {
    case 'macro':
      return compileMacro(space);
    case 'cell':
      return compileCell(space);
    case 'nasbench201':
      return compileNasBench201();
  }
}

function compileMacro(space: MacroSpaceConfig): Decision[] {
  const decisions: Decision[] = [];
  const layerAnchorSteps: number[] = [];
  for (let layer = 0; layer < space.layers; layer++) {
    const categorical = (field: string, values: number[]) =>
      decisions.push({ kind: 'categorical', name: `layer${layer}.${field}`, options: values.map(String) });
    categorical('filter_height', space.filter_heights);
    categorical('filter_width', space.filter_widths);
    categorical('filters', space.filters);
    if (space.strides) categorical('stride', space.strides);
    if (space.skip_connections) {
      for (let earlier = 0; earlier < layer; earlier++) {
        decisions.push({
          kind: 'skip',
          name: `layer${layer}.input_from_layer${earlier}`,
          options: ['no', 'yes'],
          anchor: { step: layerAnchorSteps[earlier] },
        });
      }
    }
    layerAnchorSteps.push(decisions.length - 1);
  }
  return decisions;
}

function cellInputLabels(node: number): string[] {
  return ['input0', 'input1', ...Array.from({ length: node }, (_, j) => `node${j}`)];
}

function compileCell(space: CellSpaceConfig): Decision[] {
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
}

/** Throws when an architecture does not fit the decisions (wrong length or an index out of range). */
export function checkArchitecture(decisions: readonly Decision[], architecture: Architecture): void {
  if (architecture.length !== decisions.length) {
    throw new Error(`architecture has ${architecture.length} choices; the space has ${decisions.length} decisions`);
  }
  architecture.forEach((choice, i) => {
    if (!Number.isInteger(choice) || choice < 0 || choice >= decisions[i].options.length) {
      throw new Error(`choice ${choice} of decision ${decisions[i].name} is out of range 0..${decisions[i].options.length - 1}`);
    }
  });
}

// Decoding checks the choices against the decisions; compiling them once per space keeps that cheap in loops.
const compiledSpaces = new WeakMap<SpaceConfig, Decision[]>();

export function decodeArchitecture(space: SpaceConfig, architecture: Architecture): ArchitectureGraph {
  let decisions = compiledSpaces.get(space);
  if (decisions === undefined) compiledSpaces.set(space, (decisions = compileSpace(space)));
  checkArchitecture(decisions, architecture);
  let cursor = 0;
  const take = () => architecture[cursor++];
  if (space.kind === 'nasbench201') {
    return { kind: 'nasbench201', edges: NASBENCH201_EDGES.map(({ from, to }) => ({ from, to, operation: NASBENCH201_OPERATIONS[take()] })) };
  }
  if (space.kind === 'macro') {
    const layers: MacroLayer[] = [];
    for (let layer = 0; layer < space.layers; layer++) {
      const filterHeight = space.filter_heights[take()];
      const filterWidth = space.filter_widths[take()];
      const filters = space.filters[take()];
      const stride = space.strides ? space.strides[take()] : 1;
      let inputs: number[];
      if (space.skip_connections) {
        inputs = [];
        for (let earlier = 0; earlier < layer; earlier++) if (take() === 1) inputs.push(earlier);
      } else {
        inputs = layer === 0 ? [] : [layer - 1];
      }
      layers.push({ filterHeight, filterWidth, filters, stride, inputs });
    }
    return { kind: 'macro', layers };
  }
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
}

export function encodeGraph(space: SpaceConfig, graph: ArchitectureGraph): Architecture {
  const indexOf = <T>(values: readonly T[], value: T, what: string): number => {
    const index = values.indexOf(value);
    if (index < 0) throw new Error(`${what} ${String(value)} is not in the space`);
    return index;
  };
  const architecture: Architecture = [];
  if (space.kind === 'macro' && graph.kind === 'macro') {
    graph.layers.forEach((layer, i) => {
      architecture.push(indexOf(space.filter_heights, layer.filterHeight, 'filter height'));
      architecture.push(indexOf(space.filter_widths, layer.filterWidth, 'filter width'));
      architecture.push(indexOf(space.filters, layer.filters, 'filter count'));
      if (space.strides) architecture.push(indexOf(space.strides, layer.stride, 'stride'));
      if (space.skip_connections) for (let earlier = 0; earlier < i; earlier++) architecture.push(layer.inputs.includes(earlier) ? 1 : 0);
    });
  } else if (space.kind === 'cell' && graph.kind === 'cell') {
    for (const nodes of [graph.normal, graph.reduction]) {
      for (const node of nodes) {
        for (const side of [0, 1]) {
          architecture.push(node.inputs[side]);
          architecture.push(indexOf(space.operations, node.operations[side], 'operation'));
        }
      }
    }
  } else if (space.kind === 'nasbench201' && graph.kind === 'nasbench201') {
    NASBENCH201_EDGES.forEach(({ from, to }) => {
      const edge = graph.edges.find((e) => e.from === from && e.to === to);
      if (!edge) throw new Error(`the cell has no edge ${to}<-${from}`);
      architecture.push(indexOf(NASBENCH201_OPERATIONS, edge.operation, 'operation'));
    });
  } else {
    throw new Error(`a ${graph.kind} graph does not belong to a ${space.kind} space`);
  }
  checkArchitecture(compileSpace(space), architecture);
  return architecture;
}

/** Indices of macro layers whose output feeds no later layer: they are concatenated before the classifier. */
export function macroOutputLayers(graph: MacroGraph): number[] {
  const used = new Set(graph.layers.flatMap((layer) => layer.inputs));
  return graph.layers.map((_, i) => i).filter((i) => !used.has(i));
}

/** Nodes of a cell whose output feeds no other node: the cell's output concatenates them. */
export function cellOutputNodes(nodes: readonly CellNode[]): number[] {
  const used = new Set(nodes.flatMap((node) => node.inputs.filter((input) => input >= 2).map((input) => input - 2)));
  return nodes.map((_, i) => i).filter((i) => !used.has(i));
}

/**
 * A key equal for graphs that build the same network: a cell node sums its two branches, so their
 * order does not matter.
 */
export function architectureKey(graph: ArchitectureGraph): string {
  // The benchmark measured each cell string on its own, isomorphic ones included: the string is the key.
  if (graph.kind === 'nasbench201') return cellStringOf(graph.edges.map((e) => NASBENCH201_OPERATIONS.indexOf(e.operation)));
  if (graph.kind === 'macro') {
    return graph.layers
      .map((l) => `${l.filterHeight}x${l.filterWidth}x${l.filters}/${l.stride}<${l.inputs.length ? l.inputs.join(',') : 'img'}`)
      .join('|');
  }
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
}

/** The architecture drawn in plain text, for terminals and logs. */
export function drawArchitecture(graph: ArchitectureGraph): string {
  if (graph.kind === 'nasbench201') {
    const lines = ['NAS-Bench-201 cell: node0 is the input, node3 the output'];
    for (let to = 1; to < NASBENCH201_NODES; to++) {
      const terms = graph.edges.filter((e) => e.to === to && e.operation !== 'none').map((e) => `${e.operation}(node${e.from})`);
      // Every edge into the node is `none`: the node is all zeros.
      lines.push(`  node${to} = ${terms.length ? terms.join(' + ') : 'zero'}`);
    }
    return lines.join('\n');
  }
  if (graph.kind === 'macro') {
    const lines = ['image'];
    graph.layers.forEach((l, i) => {
      const from = l.inputs.length ? l.inputs.map((j) => `L${j}`).join(' + ') : 'image';
      const stride = l.stride > 1 ? ` stride ${l.stride}` : '';
      lines.push(`  L${i}: conv ${l.filterHeight}x${l.filterWidth}, ${l.filters} filters${stride}  <- ${from}`);
    });
    lines.push(`  classifier <- ${macroOutputLayers(graph).map((i) => `L${i}`).join(' + ')}`);
    return lines.join('\n');
  }
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
}
