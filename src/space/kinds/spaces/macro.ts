// The macro space (NAS-RL): a whole network, layer by layer, each picking its filter size, filter
// count, optionally its stride, and optionally which earlier layers feed it.

import type { Decision } from '../../decisions.ts';
import { indexIn, type ImageShape, type SpaceKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { classifierParameters, convParameters, halved, resolveHead, type ClassifierHead } from './parameters.ts';

export interface MacroSpaceConfig {
  kind: 'macro';
  layers: number;
  filter_heights: number[];
  filter_widths: number[];
  filters: number[];
  /** When listed, each layer also picks a stride. */
  strides?: number[];
  skip_connections: boolean;
  /** Batch normalisation after every convolution. */
  batch_norm: boolean;
  /** The classifier's input; `auto` pools from 16x16 images up. */
  head: ClassifierHead | 'auto';
}

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

/** Indices of macro layers whose output feeds no later layer: they are concatenated before the classifier. */
export function macroOutputLayers(graph: MacroGraph): number[] {
  const used = new Set(graph.layers.flatMap((layer) => layer.inputs));
  return graph.layers.map((_, i) => i).filter((i) => !used.has(i));
}

export const macroSpace: SpaceKind<MacroSpaceConfig, MacroGraph> = {
  kind: 'macro',
  get description() {
    return kindDescription('space', 'macro');
  },
  network: async () => (await import('../../../engine/model/macro.ts')).macroNetwork,
  compile(space) {
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
  },
  decode(space, take) {
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
  },
  encode(space, graph, architecture) {
    graph.layers.forEach((layer, i) => {
      architecture.push(indexIn(space.filter_heights, layer.filterHeight, 'filter height'));
      architecture.push(indexIn(space.filter_widths, layer.filterWidth, 'filter width'));
      architecture.push(indexIn(space.filters, layer.filters, 'filter count'));
      if (space.strides) architecture.push(indexIn(space.strides, layer.stride, 'stride'));
      if (space.skip_connections) for (let earlier = 0; earlier < i; earlier++) architecture.push(layer.inputs.includes(earlier) ? 1 : 0);
    });
  },
  key(graph) {
    return graph.layers
      .map((l) => `${l.filterHeight}x${l.filterWidth}x${l.filters}/${l.stride}<${l.inputs.length ? l.inputs.join(',') : 'img'}`)
      .join('|');
  },
  draw(graph) {
    const lines = ['image'];
    graph.layers.forEach((l, i) => {
      const from = l.inputs.length ? l.inputs.map((j) => `L${j}`).join(' + ') : 'image';
      const stride = l.stride > 1 ? ` stride ${l.stride}` : '';
      lines.push(`  L${i}: conv ${l.filterHeight}x${l.filterWidth}, ${l.filters} filters${stride}  <- ${from}`);
    });
    lines.push(
      `  classifier <- ${macroOutputLayers(graph)
        .map((i) => `L${i}`)
        .join(' + ')}`,
    );
    return lines.join('\n');
  },
  countParameters: (graph, space, image) => macroParameters(graph, space, image),
};

function macroParameters(graph: MacroGraph, space: MacroSpaceConfig, image: Pick<ImageShape, 'shape' | 'classes'>): number {
  const outputs: Array<{ size: [number, number]; channels: number }> = [];
  let parameters = 0;
  const concatenated = (layers: number[]) => ({
    size: [Math.max(...layers.map((j) => outputs[j].size[0])), Math.max(...layers.map((j) => outputs[j].size[1]))] as [number, number],
    channels: layers.reduce((sum, j) => sum + outputs[j].channels, 0),
  });
  for (const layer of graph.layers) {
    const input =
      layer.inputs.length > 0
        ? concatenated(layer.inputs)
        : { size: [image.shape[0], image.shape[1]] as [number, number], channels: image.shape[2] };
    parameters += convParameters(layer.filterHeight * layer.filterWidth, input.channels, layer.filters, space.batch_norm);
    outputs.push({ size: [halved(input.size[0], layer.stride), halved(input.size[1], layer.stride)], channels: layer.filters });
  }
  const features = concatenated(macroOutputLayers(graph));
  return parameters + classifierParameters(resolveHead(space.head, image.shape), features.size, features.channels, image.classes);
}
