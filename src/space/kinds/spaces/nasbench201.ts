// The NAS-Bench-201 cell: six edges of fixed shape, each picking an operation; its architectures are
// looked up in the benchmark's table, not trained.

import {
  NASBENCH201_EDGES,
  NASBENCH201_NODES,
  NASBENCH201_OPERATIONS,
  cellStringOf,
  compileNasBench201,
  nasBench201Cost,
  type NasBench201Operation,
} from '../../nasbench201.ts';
import { indexIn, type ImageShape, type SpaceKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

/** The fixed NAS-Bench-201 cell (see nasbench201.ts); its architectures are looked up, not trained. */
export interface NasBench201SpaceConfig {
  kind: 'nasbench201';
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

function costOf(graph: NasBench201Graph, image: Pick<ImageShape, 'shape' | 'classes'>) {
  return nasBench201Cost(
    graph.edges.map((e) => e.operation),
    image,
  );
}

export const nasBench201Space: SpaceKind<NasBench201SpaceConfig, NasBench201Graph> = {
  kind: 'nasbench201',
  get description() {
    return kindDescription('space', 'nasbench201');
  },
  check(_space, context) {
    // Looked up in the table, or trained by the user's own program; NAS Studio's trainers build no nasbench201 cell.
    if (context.config.evaluation.kind === 'tabular' || context.config.evaluation.kind === 'command') return;
    const message =
      `space.kind: nasbench201 architectures are not trained here but looked up in the NAS-Bench-201 ` +
      `table, or trained by your own program; add evaluation: { kind: tabular } or { kind: command, command: [...] } ` +
      `(rule: nasbench201-needs-tabular)`;
    context.report(['space', 'kind'], message, 'nasbench201-needs-tabular');
  },
  compile: compileNasBench201,
  decode(_space, take) {
    return {
      kind: 'nasbench201',
      edges: NASBENCH201_EDGES.map(({ from, to }) => ({ from, to, operation: NASBENCH201_OPERATIONS[take()] })),
    };
  },
  encode(_space, graph, architecture) {
    NASBENCH201_EDGES.forEach(({ from, to }) => {
      const edge = graph.edges.find((e) => e.from === from && e.to === to);
      if (!edge) throw new Error(`the cell has no edge ${to}<-${from}`);
      architecture.push(indexIn(NASBENCH201_OPERATIONS, edge.operation, 'operation'));
    });
  },
  // The benchmark measured each cell string on its own, isomorphic ones included: the string is the key.
  key(graph) {
    return cellStringOf(graph.edges.map((e) => NASBENCH201_OPERATIONS.indexOf(e.operation)));
  },
  // The benchmark's own network around the cell, so that a search can weigh or bound its cost before a lookup.
  countParameters: (graph, _space, image) => costOf(graph, image).params,
  countFlops: (graph, _space, image) => costOf(graph, image).flops,
  draw(graph) {
    const lines = ['NAS-Bench-201 cell: node0 is the input, node3 the output'];
    for (let to = 1; to < NASBENCH201_NODES; to++) {
      const terms = graph.edges.filter((e) => e.to === to && e.operation !== 'none').map((e) => `${e.operation}(node${e.from})`);
      // Every edge into the node is `none`: the node is all zeros.
      lines.push(`  node${to} = ${terms.length ? terms.join(' + ') : 'zero'}`);
    }
    return lines.join('\n');
  },
};
