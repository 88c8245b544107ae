// How alike two architectures of one space are, in the terms of Adam & Lorraine's Table 1: the
// operations they share, the connections they share, and their graph edit distance. Each space's
// graph (src/space/graph.ts) is read as labelled graphs for the edit distance, plus position-aligned
// operation slots and a set of connections.

import { recurrentLeaves, type ArchitectureGraph, type CellNode } from '../../space/graph.ts';
import { gedMethodFor, graphEditDistance, multisetIntersection, type GedMethod, type LabelledGraph } from './graph-edit-distance.ts';

export interface SimilarityView {
  /**
   * The graphs compared by edit distance. A cell space has two, the normal and the reduction cell,
   * each compared only with its own kind; their distances add up.
   */
  components: LabelledGraph[];
  /** Operations at each position of the architecture (a cell node's two operations form one unordered slot). */
  operationSlots: string[][];
  /** Every connection, as "component:from>to". */
  connections: Set<string>;
}

export function similarityView(graph: ArchitectureGraph): SimilarityView {
  if (graph.kind === 'nasbench201') {
    // Nodes 0 (input) to 3 (output); each edge carries its operation, and `none` cuts it.
    const edges = new Map<string, string>();
    for (const edge of graph.edges) if (edge.operation !== 'none') edges.set(`${edge.from}>${edge.to}`, edge.operation);
    return {
      components: [{ nodes: ['input', 'node', 'node', 'output'], edges }],
      operationSlots: graph.edges.map((edge) => [edge.operation]),
      connections: new Set([...edges.keys()].map((key) => `cell:${key}`)),
    };
  }
  if (graph.kind === 'macro') {
    // Node 0 is the image, 1 + i layer i, and the last the classifier; a layer is labelled by its convolution.
    const classifier = graph.layers.length + 1;
    const edges = new Map<string, string>();
    graph.layers.forEach((layer, i) => {
      const inputs = layer.inputs.length ? layer.inputs.map((j) => j + 1) : [0];
      for (const from of inputs) edges.set(`${from}>${i + 1}`, 'feeds');
    });
    const used = new Set(graph.layers.flatMap((layer) => layer.inputs));
    graph.layers.forEach((_, i) => {
      if (!used.has(i)) edges.set(`${i + 1}>${classifier}`, 'feeds');
    });
    const labels = graph.layers.map((l) => `conv${l.filterHeight}x${l.filterWidth}x${l.filters}/${l.stride}`);
    return {
      components: [{ nodes: ['image', ...labels, 'classifier'], edges }],
      operationSlots: labels.map((label) => [label]),
      connections: new Set([...edges.keys()].map((key) => `net:${key}`)),
    };
  }
  if (graph.kind === 'recurrent') {
    // Node 0 is [x_t, h_{t-1}], 1 + k cell node k (labelled by its activation), the last the mean of the leaves.
    const output = graph.nodes.length + 1;
    const edges = new Map<string, string>();
    graph.nodes.forEach((node, k) => edges.set(`${node.input + 1}>${k + 1}`, 'feeds'));
    for (const leaf of recurrentLeaves(graph.nodes)) edges.set(`${leaf + 1}>${output}`, 'feeds');
    return {
      components: [{ nodes: ['x_t,h_t-1', ...graph.nodes.map((node) => node.activation), 'mean'], edges }],
      operationSlots: graph.nodes.map((node) => [node.activation]),
      // The inputs nodes 2..N chose; node 1 reads x_t and h_{t-1} in every cell.
      connections: new Set(graph.nodes.slice(1).map((node, k) => `cell:${node.input + 1}>${k + 2}`)),
    };
  }
  if (graph.kind !== 'cell') throw new Error(`controller insight cannot compare ${(graph as ArchitectureGraph).kind} architectures yet`);
  const views = [
    { name: 'normal', nodes: graph.normal },
    { name: 'reduction', nodes: graph.reduction },
  ].map(({ name, nodes }) => ({ name, ...cellView(nodes) }));
  return {
    components: views.map((view) => view.graph),
    operationSlots: [...graph.normal, ...graph.reduction].map((node) => [...node.operations]),
    connections: new Set(views.flatMap((view) => [...view.graph.edges.keys()].map((key) => `${view.name}:${key}`))),
  };
}

/**
 * One ENAS cell: nodes 0 and 1 its inputs, 2 + j node j (which sums its two branches). An edge
 * carries its branch's operation; a node that takes both branches from one input has one edge with
 * both operations. The output node is left out: which nodes it concatenates (those nothing else
 * reads) follows from the edges, and one node fewer keeps the exact distance within reach for B = 5.
 */
function cellView(nodes: readonly CellNode[]): { graph: LabelledGraph } {
  const edges = new Map<string, string>();
  nodes.forEach((node, j) => {
    const byInput = new Map<number, string[]>();
    node.inputs.forEach((input, side) => byInput.set(input, [...(byInput.get(input) ?? []), node.operations[side]]));
    for (const [input, operations] of byInput) edges.set(`${input}>${j + 2}`, operations.sort().join('+'));
  });
  return { graph: { nodes: ['input0', 'input1', ...nodes.map(() => 'add')], edges } };
}

/** Operations the two share, slot by slot (as multisets within a slot). */
export function commonOperations(a: SimilarityView, b: SimilarityView): number {
  if (a.operationSlots.length !== b.operationSlots.length) throw new Error('common operations compare architectures of one space');
  return a.operationSlots.reduce((sum, slot, i) => sum + multisetIntersection(slot, b.operationSlots[i]), 0);
}

export function commonConnections(a: SimilarityView, b: SimilarityView): number {
  let common = 0;
  for (const connection of a.connections) if (b.connections.has(connection)) common += 1;
  return common;
}

/** The summed edit distance of the components, and how it was computed (approximate if any component is too large). */
export function architectureEditDistance(a: SimilarityView, b: SimilarityView): { distance: number; method: GedMethod } {
  if (a.components.length !== b.components.length) throw new Error('the edit distance compares architectures of one space');
  let distance = 0;
  let method: GedMethod = 'exact';
  a.components.forEach((component, i) => {
    const result = graphEditDistance(component, b.components[i]);
    distance += result.distance;
    if (result.method !== 'exact') method = result.method;
  });
  return { distance, method };
}

/** The method the edit distance of this space's architectures uses, from the size of its largest graph. */
export function editDistanceMethod(view: SimilarityView): GedMethod {
  return gedMethodFor(Math.max(...view.components.map((component) => component.nodes.length)));
}
