// The child nets of the training bench (issue 15's table and a cell-space child), built by the project's
// own builder, and the description of a built model that examples/pytorch/networks.py rebuilds in PyTorch.

import type * as tf from '@tensorflow/tfjs';
import type { CellSpaceConfig, MacroSpaceConfig, SpaceConfig } from '../src/space/config.ts';
import type { ArchitectureGraph, CellNode, MacroLayer } from '../src/space/graph.ts';

export interface BenchNet {
  name: string;
  inputShape: [number, number, number];
  graph: ArchitectureGraph;
  space: SpaceConfig;
}

const layer = (size: [number, number], filters: number, inputs: number[], stride = 1): MacroLayer => ({
  filterHeight: size[0],
  filterWidth: size[1],
  filters,
  stride,
  inputs,
});

// Only cell spaces read their space config when building; macro nets carry the main job's.
export const MACRO_SPACE: MacroSpaceConfig = {
  kind: 'macro',
  layers: 4,
  filter_heights: [1, 3, 5],
  filter_widths: [1, 3, 5],
  filters: [8, 16, 32],
  skip_connections: true,
  batch_norm: false,
  head: 'auto',
};

export const CELL_SPACE: CellSpaceConfig = {
  kind: 'cell',
  nodes: 3,
  operations: ['conv3x3', 'conv5x5', 'sep_conv3x3', 'sep_conv5x5', 'max_pool', 'avg_pool', 'identity'],
  cells_per_stage: 1,
  stages: 2,
  filters: 16,
  batch_norm: false,
  head: 'auto',
};

const node = (inputs: [number, number], operations: CellNode['operations']): CellNode => ({ inputs, operations });

/** A cell child with every kind of operation: separable convs, pools, a dense conv and identity. */
const CELL_GRAPH: ArchitectureGraph = {
  kind: 'cell',
  normal: [node([0, 1], ['sep_conv3x3', 'max_pool']), node([1, 2], ['sep_conv5x5', 'conv3x3']), node([0, 3], ['avg_pool', 'identity'])],
  reduction: [
    node([0, 1], ['sep_conv3x3', 'avg_pool']),
    node([1, 2], ['max_pool', 'sep_conv5x5']),
    node([0, 3], ['conv3x3', 'sep_conv3x3']),
  ],
};

export const BENCH_NETS: readonly BenchNet[] = [
  {
    name: 'macro chain 8x8x1',
    inputShape: [8, 8, 1],
    graph: { kind: 'macro', layers: [layer([3, 3], 8, []), layer([5, 5], 16, [0]), layer([3, 3], 32, [1]), layer([5, 5], 16, [2])] },
    space: MACRO_SPACE,
  },
  {
    name: 'macro skips 8x8x1',
    inputShape: [8, 8, 1],
    graph: { kind: 'macro', layers: [layer([3, 3], 16, []), layer([3, 5], 32, [0]), layer([1, 3], 8, [0, 1]), layer([5, 5], 16, [1, 2])] },
    space: MACRO_SPACE,
  },
  {
    name: 'widest main-job child',
    inputShape: [8, 8, 1],
    graph: {
      kind: 'macro',
      layers: [layer([5, 5], 32, []), layer([5, 5], 32, [0]), layer([5, 5], 32, [0, 1]), layer([5, 5], 32, [0, 1, 2])],
    },
    space: MACRO_SPACE,
  },
  {
    name: 'cifar strided 32-64',
    inputShape: [32, 32, 3],
    graph: {
      kind: 'macro',
      layers: [layer([3, 3], 32, []), layer([3, 3], 32, [0], 2), layer([3, 3], 64, [1]), layer([3, 3], 64, [2], 2)],
    },
    space: MACRO_SPACE,
  },
  {
    name: 'cifar 739k params',
    inputShape: [32, 32, 3],
    graph: {
      kind: 'macro',
      layers: [layer([3, 3], 64, []), layer([5, 5], 64, [0]), layer([5, 5], 96, [0, 1], 2), layer([3, 3], 96, [2])],
    },
    space: MACRO_SPACE,
  },
  {
    name: 'cell sep+pool 8x8x1',
    inputShape: [8, 8, 1],
    graph: CELL_GRAPH,
    space: CELL_SPACE,
  },
  {
    // The Fashion-MNIST example's space: batch norm in every operation, global average pooling.
    name: 'cell BN 28x28x1',
    inputShape: [28, 28, 1],
    graph: CELL_GRAPH,
    space: { ...CELL_SPACE, filters: 8, batch_norm: true, head: 'gap' },
  },
];

/** One layer of a built model: its class, the settings that shape its computation, and the layers it reads. */
export interface LayerSpec {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inputs: string[];
  /** Output shape without the batch dimension. */
  outputShape: number[];
}

const KEPT_SETTINGS = [
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'activation',
  'useBias',
  'poolSize',
  'units',
  'depthMultiplier',
  'axis',
  'momentum',
  'epsilon',
];

/** The model's layers in order, for examples/pytorch/networks.py. */
export function describeModel(model: tf.LayersModel): LayerSpec[] {
  return model.layers.map((l) => {
    const config = l.getConfig();
    const kept = Object.fromEntries(KEPT_SETTINGS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
    const inputs = l.inboundNodes.flatMap((n) => n.inboundLayers.map((inbound) => inbound.name));
    return { name: l.name, className: l.getClassName(), config: kept, inputs, outputShape: (l.outputShape as number[]).slice(1) };
  });
}
