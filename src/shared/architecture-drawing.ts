// The architecture drawn as SVG, once for both its readers: the trial view turns the element tree into DOM
// and `nas-studio export --format svg` writes it as a file. Macro: the stack of layers with skip arrows; cell:
// the normal and reduction cells as DAGs; nasbench201: its 4 nodes with the operation on each edge; recurrent:
// ENAS's cell from x_t and h_{t-1} to the mean of its leaves. Pure layout: no DOM, no theme; the classes
// (`arch-node`, `arch-edge`, `io`, `output`, `skip`, `to-output`) carry the styling.

import {
  cellOutputNodes,
  macroOutputLayers,
  recurrentLeaves,
  type ArchitectureGraph,
  type CellNode,
  type MacroGraph,
  type NasBench201Graph,
  type RecurrentGraph,
} from '../space/graph.ts';

/** An SVG element: its tag, its attributes, and either child elements or text. */
export interface DrawingElement {
  tag: string;
  attributes: Record<string, string | number>;
  children: DrawingElement[];
  text?: string;
}

/** One drawing of a graph (a cell graph has two, its normal and its reduction cell), with its heading if it has one. */
export interface ArchitectureFigure {
  title?: string;
  svg: DrawingElement;
  width: number;
  height: number;
}

/**
 * The figures of a graph; none for a kind this module cannot draw. `nextMarkerId` names each figure's arrowhead,
 * unique in the document the figures go into.
 */
export function architectureFigures(graph: ArchitectureGraph, nextMarkerId: () => string): ArchitectureFigure[] {
  switch (graph.kind) {
    case 'macro':
      return [drawMacro(graph, nextMarkerId())];
    case 'nasbench201':
      return [{ title: 'NAS-Bench-201 cell', ...drawNasBench201(graph, nextMarkerId()) }];
    case 'recurrent':
      return [{ title: 'Recurrent cell', ...drawRecurrent(graph, nextMarkerId()) }];
    case 'cell':
      return [
        { title: 'Normal cell', ...drawCell(graph.normal, 'normal', nextMarkerId()) },
        { title: 'Reduction cell', ...drawCell(graph.reduction, 'reduction', nextMarkerId()) },
      ];
    default:
      // A graph of a kind added to the space registry without a drawing here.
      return [];
  }
}

const element = (tag: string, attributes: Record<string, string | number> = {}, text?: string): DrawingElement => ({
  tag,
  attributes,
  children: [],
  ...(text !== undefined ? { text } : {}),
});

const NODE_W = 230;
const NODE_H = 30;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function svgRoot(width: number, height: number, label: string, markerId: string): ArchitectureFigure {
  const root = element('svg', { class: 'arch-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const marker = element('marker', {
    id: markerId,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.children.push(element('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
  const defs = element('defs');
  defs.children.push(marker);
  root.children.push(defs);
  return { svg: root, width, height };
}

/** The layer edges are drawn in, then the one nodes are drawn in, so that nodes cover the ends of edges. */
function layers(figure: ArchitectureFigure): { edgeLayer: DrawingElement; nodeLayer: DrawingElement } {
  const edgeLayer = element('g');
  const nodeLayer = element('g');
  figure.svg.children.push(edgeLayer, nodeLayer);
  return { edgeLayer, nodeLayer };
}

function node(parent: DrawingElement, box: Box, label: string, extraClass = '', id?: string): void {
  const g = element('g', { class: `arch-node${extraClass ? ` ${extraClass}` : ''}`, ...(id ? { 'data-node': id } : {}) });
  g.children.push(
    element('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: 4 }),
    element('text', { x: box.x + box.w / 2, y: box.y + box.h / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, label),
    element('title', {}, label),
  );
  parent.children.push(g);
}

function edge(parent: DrawingElement, d: string, markerId: string, extraClass = '', label?: { x: number; y: number; text: string }): void {
  const g = element('g', { class: `arch-edge${extraClass ? ` ${extraClass}` : ''}` });
  g.children.push(element('path', { d, 'marker-end': `url(#${markerId})` }));
  if (label)
    g.children.push(element('text', { x: label.x, y: label.y, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, label.text));
  parent.children.push(g);
}
/** Image at the top, the layers below it, the classifier at the bottom; skips curve on the right. */
function drawMacro(graph: MacroGraph, markerId: string): ArchitectureFigure {
  const gap = 26;
  const left = 20;
  const count = graph.layers.length + 2;
  const maxSpan = Math.max(1, ...graph.layers.flatMap((layer, i) => layer.inputs.map((j) => i - j)), graph.layers.length);
  const width = left + NODE_W + 40 + Math.min(maxSpan, 12) * 14 + 20;
  const height = 20 + count * (NODE_H + gap);
  const figure = svgRoot(width, height, 'macro architecture', markerId);
  const box = (row: number): Box => ({ x: left, y: 10 + row * (NODE_H + gap), w: NODE_W, h: NODE_H });
  const { edgeLayer, nodeLayer } = layers(figure);

  node(nodeLayer, box(0), 'image', 'io', 'image');
  graph.layers.forEach((layer, i) => {
    node(
      nodeLayer,
      box(i + 1),
      `conv ${layer.filterHeight}x${layer.filterWidth}, ${layer.filters} filters (stride ${layer.stride})`,
      '',
      `layer${i}`,
    );
  });
  const classifierRow = graph.layers.length + 1;
  node(nodeLayer, box(classifierRow), 'classifier', 'output', 'classifier');

  const link = (fromRow: number, toRow: number) => {
    const from = box(fromRow);
    const to = box(toRow);
    if (toRow - fromRow === 1) {
      const x = from.x + from.w / 2;
      edge(edgeLayer, `M ${x} ${from.y + from.h} L ${x} ${to.y}`, markerId);
      return;
    }
    // A skip: out of the right side, around, into the right side of the target.
    const span = toRow - fromRow;
    const bulge = from.x + from.w + 16 + Math.min(span, 12) * 14;
    const y1 = from.y + from.h / 2;
    const y2 = to.y + to.h / 2;
    edge(edgeLayer, `M ${from.x + from.w} ${y1} C ${bulge} ${y1}, ${bulge} ${y2}, ${to.x + to.w + 1} ${y2}`, markerId, 'skip');
  };
  graph.layers.forEach((layer, i) => {
    const inputs = layer.inputs.length === 0 ? [-1] : layer.inputs; // -1: the image
    for (const j of inputs) link(j + 1, i + 1);
  });
  const outputs = graph.layers.length === 0 ? [-1] : macroOutputLayers(graph);
  for (const j of outputs) link(j + 1, classifierRow);
  return figure;
}

/** A cell as a DAG: inputs on top, each node one level below its deepest input, the output at the bottom. */
function drawCell(nodes: readonly CellNode[], kind: string, markerId: string): ArchitectureFigure {
  const w = 110;
  const hgap = 80;
  const vgap = 96;
  const level: number[] = [0, 0];
  nodes.forEach((n) => level.push(1 + Math.max(level[n.inputs[0]], level[n.inputs[1]])));
  const outputLevel = Math.max(...level) + 1;
  const rows = new Map<number, number[]>();
  level.forEach((l, i) => rows.set(l, [...(rows.get(l) ?? []), i]));
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const width = 20 + widest * (w + hgap);
  const height = 20 + (outputLevel + 1) * (NODE_H + vgap) - vgap;
  const figure = svgRoot(width, height, `${kind} cell`, markerId);
  const boxes: Box[] = [];
  for (const [l, members] of rows) {
    const rowWidth = members.length * w + (members.length - 1) * hgap;
    members.forEach((member, k) => {
      boxes[member] = { x: (width - rowWidth) / 2 + k * (w + hgap), y: 10 + l * (NODE_H + vgap), w, h: NODE_H };
    });
  }
  const outputBox: Box = { x: (width - w) / 2, y: 10 + outputLevel * (NODE_H + vgap), w, h: NODE_H };
  const { edgeLayer, nodeLayer } = layers(figure);
  const label = (i: number) => (i < 2 ? `input${i}` : `node${i - 2}`);
  boxes.forEach((b, i) => node(nodeLayer, b, label(i), i < 2 ? 'io' : '', `${kind}.${label(i)}`));
  node(nodeLayer, outputBox, 'output', 'output', `${kind}.output`);

  const curve = (from: Box, to: Box, bend: number) => {
    const x1 = from.x + from.w / 2;
    const y1 = from.y + from.h;
    const x2 = to.x + to.w / 2 + bend * 0.4;
    const y2 = to.y;
    const cx = (x1 + x2) / 2 + bend;
    const cy = (y1 + y2) / 2;
    // Labels sit at t = 0.35 (first input) or 0.65 (second) along the curve, so the two edges of
    // a node rarely put theirs in the same place.
    const at = (t: number) => ({
      x: (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t ** 2 * x2,
      y: (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t ** 2 * y2,
    });
    return { d: `M ${x1} ${y1} Q ${cx} ${cy}, ${x2} ${y2}`, at };
  };
  nodes.forEach((n, j) => {
    const target = boxes[j + 2];
    [0, 1].forEach((side) => {
      const same = n.inputs[0] === n.inputs[1];
      const bend = same ? (side === 0 ? -28 : 28) : 0;
      const { d, at } = curve(boxes[n.inputs[side]], target, bend);
      const mid = at(side === 0 ? 0.35 : 0.65);
      edge(edgeLayer, d, markerId, '', { x: mid.x, y: mid.y, text: n.operations[side] });
    });
  });
  for (const j of cellOutputNodes(nodes)) edge(edgeLayer, curve(boxes[j + 2], outputBox, 0).d, markerId, 'to-output');
  return figure;
}

/**
 * ENAS's recurrent cell: x_t and h_{t-1} on top, both read by node1; each later node one level below the
 * node it reads, labelled with its activation; the leaves (nodes no other reads) feed the mean, which is h_t.
 */
function drawRecurrent(graph: RecurrentGraph, markerId: string): ArchitectureFigure {
  const w = 130;
  const hgap = 40;
  const vgap = 56;
  // Boxes 0 and 1 are x_t and h_{t-1}; node k is box k + 2.
  const level: number[] = [0, 0];
  graph.nodes.forEach((n, k) => level.push(k === 0 ? 1 : level[n.input + 2] + 1));
  const meanLevel = Math.max(...level) + 1;
  const rows = new Map<number, number[]>();
  level.forEach((l, i) => rows.set(l, [...(rows.get(l) ?? []), i]));
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const width = 20 + widest * (w + hgap);
  const height = 20 + (meanLevel + 2) * (NODE_H + vgap) - vgap;
  const figure = svgRoot(width, height, 'recurrent cell', markerId);
  const boxAt = (l: number, k: number, count: number): Box => {
    const rowWidth = count * w + (count - 1) * hgap;
    return { x: (width - rowWidth) / 2 + k * (w + hgap), y: 10 + l * (NODE_H + vgap), w, h: NODE_H };
  };
  const boxes: Box[] = [];
  for (const [l, members] of rows) members.forEach((member, k) => (boxes[member] = boxAt(l, k, members.length)));
  const meanBox = boxAt(meanLevel, 0, 1);
  const outputBox = boxAt(meanLevel + 1, 0, 1);
  const { edgeLayer, nodeLayer } = layers(figure);
  node(nodeLayer, boxes[0], 'x_t', 'io', 'recurrent.x');
  node(nodeLayer, boxes[1], 'h_{t-1}', 'io', 'recurrent.h_prev');
  graph.nodes.forEach((n, k) => node(nodeLayer, boxes[k + 2], `node${k + 1}: ${n.activation}`, '', `recurrent.node${k + 1}`));
  node(nodeLayer, meanBox, 'mean', '', 'recurrent.mean');
  node(nodeLayer, outputBox, 'h_t', 'output', 'recurrent.h');
  const link = (from: Box, to: Box, extraClass = '') => {
    const x1 = from.x + from.w / 2;
    const y1 = from.y + from.h;
    const x2 = to.x + to.w / 2;
    const y2 = to.y;
    edge(edgeLayer, `M ${x1} ${y1} C ${x1} ${(y1 + y2) / 2}, ${x2} ${(y1 + y2) / 2}, ${x2} ${y2}`, markerId, extraClass);
  };
  graph.nodes.forEach((n, k) => {
    const inputs = k === 0 ? [0, 1] : [n.input + 2];
    for (const input of inputs) link(boxes[input], boxes[k + 2]);
  });
  for (const leaf of recurrentLeaves(graph.nodes)) link(boxes[leaf + 2], meanBox, 'to-output');
  link(meanBox, outputBox, 'to-output');
  return figure;
}

/**
 * The NAS-Bench-201 cell: node0 (input) at the top down to node3 (output). Edges between neighbours
 * run straight; the longer ones bend to either side so no two share a path. `none` edges are cut.
 */
function drawNasBench201(graph: NasBench201Graph, markerId: string): ArchitectureFigure {
  const w = 110;
  const vgap = 70;
  const width = 560;
  const nodeCount = 4;
  const height = 20 + nodeCount * (NODE_H + vgap) - vgap;
  const figure = svgRoot(width, height, 'NAS-Bench-201 cell', markerId);
  const box = (i: number): Box => ({ x: (width - w) / 2, y: 10 + i * (NODE_H + vgap), w, h: NODE_H });
  const { edgeLayer, nodeLayer } = layers(figure);
  for (let i = 0; i < nodeCount; i++) {
    const label = i === 0 ? 'node0 (input)' : i === nodeCount - 1 ? `node${i} (output)` : `node${i}`;
    node(nodeLayer, box(i), label, i === 0 ? 'io' : i === nodeCount - 1 ? 'output' : '', `nasbench201.node${i}`);
  }
  // Horizontal offset of the control point per edge span and side: 0->2 right, 1->3 left, 0->3 far right.
  const bendOf = (from: number, to: number) => (to - from === 1 ? 0 : to - from === 3 ? 260 : from === 0 ? 150 : -150);
  for (const e of graph.edges) {
    if (e.operation === 'none') continue;
    const from = box(e.from);
    const to = box(e.to);
    const bend = bendOf(e.from, e.to);
    const side = Math.sign(bend);
    const x1 = from.x + from.w / 2 + (side * from.w) / 2;
    const x2 = to.x + to.w / 2 + (side * to.w) / 2;
    const y1 = bend === 0 ? from.y + from.h : from.y + from.h / 2;
    const y2 = bend === 0 ? to.y : to.y + to.h / 2;
    const cx = (x1 + x2) / 2 + bend;
    const cy = (y1 + y2) / 2;
    // The curve's midpoint: a quarter of each end plus half the control point.
    const mid = { x: (x1 + x2) / 4 + cx / 2, y: (y1 + y2) / 4 + cy / 2 };
    const label = bend === 0 ? { x: mid.x + 60, y: mid.y, text: e.operation } : { ...mid, text: e.operation };
    edge(edgeLayer, `M ${x1} ${y1} Q ${cx} ${cy}, ${x2} ${y2}`, markerId, '', label);
  }
  return figure;
}
