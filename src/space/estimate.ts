// "How big is this space?" before anything trains: the number of architectures, and the range of
// parameter counts of its children, counted from the shapes alone (no tfjs), so the editor can show it.

import type { CellOperation, CellSpaceConfig, DatasetConfig, SearchConfig, SpaceConfig } from './config.ts';
import { log10SpaceSize, type Architecture, type Decision } from './decisions.ts';
import { cellOutputNodes, compileSpace, decodeArchitecture, macroOutputLayers, type ArchitectureGraph, type CellNode, type MacroGraph } from './graph.ts';
import { createRng } from './rng.ts';

type Shape3 = [number, number, number];

export interface ImageShape {
  shape: Shape3;
  classes: number;
  /** False when the class count is an assumption (a csv file is not read to count its labels). */
  classesKnown: boolean;
}

/** The images the data set's loader produces. */
export function imageShapeOf(dataset: DatasetConfig): ImageShape {
  switch (dataset.kind) {
    case 'digits':
      return { shape: [8, 8, 1], classes: 10, classesKnown: true };
    case 'mnist':
      return { shape: [28, 28, 1], classes: 10, classesKnown: true };
    case 'cifar10':
      return { shape: [32, 32, 3], classes: 10, classesKnown: true };
    case 'csv':
      return { shape: dataset.image_shape, classes: 10, classesKnown: false };
  }
}

const convParameters = (kernelArea: number, inputs: number, filters: number) => kernelArea * inputs * filters + filters;
const halved = (size: number, stride: number) => Math.ceil(size / stride);

/**
 * Trainable parameters of the network src/engine/model/build.ts makes for `graph`: a test checks the
 * two agree, so a change to one shows up in the other.
 */
export function countParameters(graph: ArchitectureGraph, space: SpaceConfig, image: Pick<ImageShape, 'shape' | 'classes'>): number {
  if (graph.kind === 'macro') return macroParameters(graph, image);
  if (graph.kind !== 'cell' || space.kind !== 'cell') throw new Error(`${graph.kind} architectures are looked up, not built: they have no parameter count here`);
  return cellParameters(graph.normal, graph.reduction, space, image);
}

function macroParameters(graph: MacroGraph, image: Pick<ImageShape, 'shape' | 'classes'>): number {
  const outputs: Array<{ size: [number, number]; channels: number }> = [];
  let parameters = 0;
  const concatenated = (layers: number[]) => ({
    size: [Math.max(...layers.map((j) => outputs[j].size[0])), Math.max(...layers.map((j) => outputs[j].size[1]))] as [number, number],
    channels: layers.reduce((sum, j) => sum + outputs[j].channels, 0),
  });
  for (const layer of graph.layers) {
    const input = layer.inputs.length > 0 ? concatenated(layer.inputs) : { size: [image.shape[0], image.shape[1]] as [number, number], channels: image.shape[2] };
    parameters += convParameters(layer.filterHeight * layer.filterWidth, input.channels, layer.filters);
    outputs.push({ size: [halved(input.size[0], layer.stride), halved(input.size[1], layer.stride)], channels: layer.filters });
  }
  const features = concatenated(macroOutputLayers(graph));
  return parameters + features.size[0] * features.size[1] * features.channels * image.classes + image.classes;
}

function operationParameters(operation: CellOperation, channels: number, stride: number): number {
  switch (operation) {
    case 'conv3x3':
      return convParameters(9, channels, channels);
    case 'conv5x5':
      return convParameters(25, channels, channels);
    case 'sep_conv3x3':
      return 9 * channels + convParameters(1, channels, channels);
    case 'sep_conv5x5':
      return 25 * channels + convParameters(1, channels, channels);
    case 'max_pool':
    case 'avg_pool':
      return 0;
    case 'identity':
      return stride === 1 ? 0 : convParameters(1, channels, channels);
  }
}

function cellBlockParameters(nodes: readonly CellNode[], previousChannels: number, lastChannels: number, filters: number, reduction: boolean): number {
  const reads = new Set(nodes.flatMap((node) => node.inputs));
  let parameters = 0;
  if (reads.has(0)) parameters += convParameters(1, previousChannels, filters);
  if (reads.has(1)) parameters += convParameters(1, lastChannels, filters);
  for (const node of nodes) {
    node.inputs.forEach((input, side) => {
      parameters += operationParameters(node.operations[side], filters, reduction && input < 2 ? 2 : 1);
    });
  }
  return parameters + convParameters(1, filters * cellOutputNodes(nodes).length, filters);
}

function cellParameters(normal: readonly CellNode[], reduction: readonly CellNode[], space: CellSpaceConfig, image: Pick<ImageShape, 'shape' | 'classes'>): number {
  let filters = space.filters;
  let parameters = convParameters(9, image.shape[2], filters);
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
      if (cellParameters === undefined) counted.set(key, (cellParameters = cellBlockParameters(cell.nodes, previousChannels, lastChannels, filters, cell.reduction)));
      parameters += cellParameters;
      if (cell.reduction) size = [halved(size[0], 2), halved(size[1], 2)];
      previousChannels = lastChannels;
      lastChannels = filters;
    }
  }
  return parameters + size[0] * size[1] * lastChannels * image.classes + image.classes;
}

export interface SpaceEstimate {
  /** log10 of the number of architectures (decision sequences) in the space. */
  log10Architectures: number;
  /** Smallest and largest parameter count found among its children; absent for spaces that are looked up, not built. */
  parameters?: { min: number; max: number };
  image?: ImageShape;
}

/** Restarts of the coordinate search: enough to escape the corners that interact through skip connections. */
const RANDOM_STARTS = 2;
const MAX_SWEEPS = 20;
/** Parameter counts one estimate may make: bounds the time of the largest spaces (about a second). */
const MAX_COUNTS = 20_000;

/**
 * The size of the space and the range of its children's parameter counts. The range comes from a
 * coordinate search (change one decision at a time while the count improves, from several starts):
 * exact when each decision moves the count the same way whatever the others are, as filter sizes,
 * filter counts and operations do. The largest spaces stop at MAX_COUNTS counts with the best found.
 */
export function estimateSpace(config: SearchConfig): SpaceEstimate {
  const decisions = compileSpace(config.space);
  if (config.space.kind === 'nasbench201' || config.dataset === undefined) return { log10Architectures: log10SpaceSize(decisions) };
  const image = imageShapeOf(config.dataset);
  let counts = 0;
  const count = (architecture: Architecture) => {
    counts++;
    return countParameters(decodeArchitecture(config.space, architecture), config.space, image);
  };
  const rng = createRng(config.runtime.seed);
  const starts: Architecture[] = [decisions.map(() => 0), decisions.map((d) => d.options.length - 1)];
  for (let i = 0; i < RANDOM_STARTS; i++) starts.push(decisions.map((d) => rng.int(d.options.length)));
  // Each of the searches (min and max from every start) gets an equal share of the counts.
  const share = Math.floor(MAX_COUNTS / (2 * starts.length));
  const search = (start: Architecture, score: (architecture: Architecture) => number) => {
    const limit = counts + share;
    return coordinateSearch(decisions, start, score, () => counts >= limit);
  };
  return {
    log10Architectures: log10SpaceSize(decisions),
    parameters: {
      min: Math.min(...starts.map((start) => -search(start, (a) => -count(a)))),
      max: Math.max(...starts.map((start) => search(start, count))),
    },
    image,
  };
}

/** Climbs `score` one decision at a time from `start` until nothing improves or `exhausted()`; returns the best score reached. */
function coordinateSearch(decisions: readonly Decision[], start: Architecture, score: (architecture: Architecture) => number, exhausted: () => boolean): number {
  const current = [...start];
  let best = score(current);
  for (let sweep = 0, improved = true; improved && sweep < MAX_SWEEPS; sweep++) {
    improved = false;
    for (const [index, decision] of decisions.entries()) {
      let kept = current[index];
      for (let option = 0; option < decision.options.length; option++) {
        if (option === kept) continue;
        if (exhausted()) return best;
        current[index] = option;
        const candidate = score(current);
        if (candidate > best) {
          best = candidate;
          kept = option;
          improved = true;
        }
        current[index] = kept;
      }
    }
  }
  return best;
}

/** 331,776 for small counts, 1.6e15 for large ones. */
export function formatArchitectureCount(log10: number): string {
  if (log10 < 9) return Math.round(10 ** log10).toLocaleString('en-US');
  const exponent = Math.floor(log10);
  return `${(10 ** (log10 - exponent)).toFixed(1)}e${exponent}`;
}

/** 12.3k, 3.4M: parameter counts at a glance. */
export function formatParameterCount(count: number): string {
  if (count < 1e3) return String(count);
  if (count < 1e6) return `${(count / 1e3).toFixed(count < 1e4 ? 1 : 0)}k`;
  if (count < 1e9) return `${(count / 1e6).toFixed(count < 1e7 ? 1 : 0)}M`;
  return `${(count / 1e9).toFixed(1)}G`;
}
