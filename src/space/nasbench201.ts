// The NAS-Bench-201 cell (Dong & Yang, ICLR 2020): nodes 0..3, node 0 the cell's input and node 3 its
// output; each of the 6 edges i->j (i < j) carries one of 5 operations, and a node sums its incoming
// edges. An architecture is one operation index per edge, in the order of the benchmark's cell strings:
// `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` lists, for node j = 1, 2, 3, the edge from each node i < j.

import type { Architecture, Decision } from './decisions.ts';

export const NASBENCH201_OPERATIONS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;
export type NasBench201Operation = (typeof NASBENCH201_OPERATIONS)[number];

export const NASBENCH201_NODES = 4;

/** The 6 edges in cell-string order. */
export const NASBENCH201_EDGES: readonly { from: number; to: number }[] = Array.from({ length: NASBENCH201_NODES - 1 }, (_, j) =>
  Array.from({ length: j + 1 }, (_, from) => ({ from, to: j + 1 })),
).flat();

/** 5^6: every cell of the space, each one row of the benchmark's table. */
export const NASBENCH201_CELL_COUNT = NASBENCH201_OPERATIONS.length ** NASBENCH201_EDGES.length;

export function compileNasBench201(): Decision[] {
  return NASBENCH201_EDGES.map(({ from, to }) => ({
    kind: 'categorical',
    name: `edge ${to}<-${from}`,
    options: [...NASBENCH201_OPERATIONS],
  }));
}

/** The benchmark's cell string of an architecture (one operation index per edge). */
export function cellStringOf(architecture: Architecture): string {
  if (architecture.length !== NASBENCH201_EDGES.length) {
    throw new Error(`a NAS-Bench-201 architecture has ${NASBENCH201_EDGES.length} choices, got ${architecture.length}`);
  }
  const groups: string[][] = [[], [], []];
  NASBENCH201_EDGES.forEach(({ from, to }, edge) => {
    const operation = NASBENCH201_OPERATIONS[architecture[edge]];
    if (operation === undefined)
      throw new Error(`choice ${architecture[edge]} of edge ${to}<-${from} is out of range 0..${NASBENCH201_OPERATIONS.length - 1}`);
    groups[to - 1].push(`${operation}~${from}`);
  });
  return groups.map((group) => `|${group.join('|')}|`).join('+');
}

/** The architecture of a benchmark cell string; throws, saying what is wrong, when the text is not one. */
export function architectureOfCellString(text: string): Architecture {
  const groups = text.split('+');
  if (groups.length !== NASBENCH201_NODES - 1) {
    throw new Error(`"${text}" is not a NAS-Bench-201 cell: it needs ${NASBENCH201_NODES - 1} groups joined by "+", got ${groups.length}`);
  }
  const architecture: Architecture = [];
  groups.forEach((group, j) => {
    const to = j + 1;
    const match = /^\|(.*)\|$/.exec(group);
    const edges = match ? match[1].split('|') : [];
    if (edges.length !== to)
      throw new Error(`"${text}" is not a NAS-Bench-201 cell: group ${to} must be |op~0|...|op~${to - 1}|, got "${group}"`);
    edges.forEach((edge, from) => {
      const [operation, source] = edge.split('~');
      const index = NASBENCH201_OPERATIONS.indexOf(operation as NasBench201Operation);
      if (index < 0 || source !== String(from)) {
        throw new Error(
          `"${text}" is not a NAS-Bench-201 cell: edge "${edge}" into node ${to} must be op~${from} ` +
            `with op one of ${NASBENCH201_OPERATIONS.join(', ')}`,
        );
      }
      architecture.push(index);
    });
  });
  return architecture;
}

/** A dense index 0..5^6-1 of an architecture (its choices read as base-5 digits, first edge most significant). */
export function nasBench201Ordinal(architecture: Architecture): number {
  return architecture.reduce((ordinal, choice) => ordinal * NASBENCH201_OPERATIONS.length + choice, 0);
}

/** Every architecture of the space, in ordinal order. */
export function everyNasBench201Architecture(): Architecture[] {
  const edges = NASBENCH201_EDGES.length;
  const base = NASBENCH201_OPERATIONS.length;
  return Array.from({ length: NASBENCH201_CELL_COUNT }, (_, ordinal) =>
    Array.from({ length: edges }, (_, edge) => Math.floor(ordinal / base ** (edges - 1 - edge)) % base),
  );
}

/** Channels of the three stages of the benchmark's network, and cells per stage. */
const STAGE_CHANNELS = [16, 32, 64] as const;
const CELLS_PER_STAGE = 5;

/** Parameters and FLOPs of one network of the benchmark, counted as its own tools count them. */
export interface NasBench201Cost {
  /** Convolution weights (no biases), batch-norm scales and shifts, and the classifier's weights and biases. */
  params: number;
  /**
   * Multiply-adds of one image's forward pass through the convolutions and the classifier (its biases
   * included), as the benchmark's published FLOPs count them: pooling, batch norm and ReLU are not counted.
   */
  flops: number;
}

/**
 * The cost of the benchmark's network around a cell (Dong & Yang's skeleton): a 3x3 convolution stem of 16
 * channels with batch norm; three stages of 5 cells of 16, 32 and 64 channels, joined by residual
 * reduction blocks (a ResNet basic block of stride 2 whose shortcut is a 2x2 average pool then a 1x1
 * convolution); then batch norm, ReLU, global average pooling and a linear classifier. `operations` is
 * the cell's operation per edge, in cell-string order; `image` the input (height, width, channels).
 */
export function nasBench201Cost(
  operations: readonly NasBench201Operation[],
  image: { shape: readonly [number, number, number]; classes: number },
): NasBench201Cost {
  const [height, width, channels] = image.shape;
  let params = 0;
  let flops = 0;
  // A convolution without bias, then the batch norm that follows every one but the shortcut's.
  const conv = (kernel: number, input: number, output: number, pixels: number, batchNorm = true) => {
    params += kernel * kernel * input * output + (batchNorm ? 2 * output : 0);
    flops += kernel * kernel * input * output * pixels;
  };
  let pixels = height * width;
  conv(3, channels, STAGE_CHANNELS[0], pixels);
  STAGE_CHANNELS.forEach((stageChannels, stage) => {
    if (stage > 0) {
      const input = STAGE_CHANNELS[stage - 1];
      pixels = Math.ceil(height / 2 ** stage) * Math.ceil(width / 2 ** stage);
      conv(3, input, stageChannels, pixels);
      conv(3, stageChannels, stageChannels, pixels);
      conv(1, input, stageChannels, pixels, false);
    }
    for (let cell = 0; cell < CELLS_PER_STAGE; cell++) {
      for (const operation of operations) {
        if (operation === 'nor_conv_1x1') conv(1, stageChannels, stageChannels, pixels);
        else if (operation === 'nor_conv_3x3') conv(3, stageChannels, stageChannels, pixels);
        // none, skip_connect and avg_pool_3x3 have neither parameters nor counted FLOPs.
      }
    }
  });
  const last = STAGE_CHANNELS[STAGE_CHANNELS.length - 1];
  params += 2 * last + last * image.classes + image.classes;
  flops += last * image.classes + image.classes;
  return { params, flops };
}
