// Graph edit distance between small directed graphs with labelled nodes and edges, every edit
// (substitute, insert or delete a node or an edge) costing 1. Exact by branch and bound over node
// mappings up to EXACT_GED_MAX_NODES nodes; beyond, the bipartite approximation of Riesen & Bunke
// (2009): an optimal assignment of nodes on costs that include each node's edges, whose mapping's
// true edit cost is an upper bound of the distance. The graphs of one search space list their nodes
// in corresponding order (input first, output last), so equal-cost assignments are broken toward the
// same index, and the node-for-node mapping is a second upper bound: the smaller one is taken.

/** A directed graph: node labels by index, and edge labels by "from>to". */
export interface LabelledGraph {
  nodes: string[];
  edges: Map<string, string>;
}

export type GedMethod = 'exact' | 'bipartite-approximation';

/** Graphs up to this many nodes get the exact distance (8 nodes: at most 9^8 partial mappings, pruned hard). */
export const EXACT_GED_MAX_NODES = 8;

const DELETED = -1;
const edgeKey = (from: number, to: number) => `${from}>${to}`;

export function gedMethodFor(nodeCount: number): GedMethod {
  return nodeCount <= EXACT_GED_MAX_NODES ? 'exact' : 'bipartite-approximation';
}

export function graphEditDistance(a: LabelledGraph, b: LabelledGraph): { distance: number; method: GedMethod } {
  const method = gedMethodFor(Math.max(a.nodes.length, b.nodes.length));
  if (sameGraph(a, b)) return { distance: 0, method };
  const sameIndex = a.nodes.map((_, i) => (i < b.nodes.length ? i : DELETED));
  const upper = Math.min(mappingCost(a, b, bipartiteMapping(a, b)), mappingCost(a, b, sameIndex));
  return { distance: method === 'exact' ? exactDistance(byDegree(a), b, upper) : upper, method };
}

function sameGraph(a: LabelledGraph, b: LabelledGraph): boolean {
  if (a.nodes.length !== b.nodes.length || a.edges.size !== b.edges.size) return false;
  if (a.nodes.some((label, i) => label !== b.nodes[i])) return false;
  for (const [key, label] of a.edges) if (b.edges.get(key) !== label) return false;
  return true;
}

/** The same graph with its best-connected nodes first: the search places them first, and prunes sooner. */
function byDegree(graph: LabelledGraph): LabelledGraph {
  const degree = graph.nodes.map(() => 0);
  for (const key of graph.edges.keys()) for (const end of key.split('>')) degree[Number(end)] += 1;
  const order = graph.nodes.map((_, i) => i).sort((x, y) => degree[y] - degree[x] || x - y);
  const position = new Array<number>(order.length);
  order.forEach((node, i) => (position[node] = i));
  const edges = new Map<string, string>();
  for (const [key, label] of graph.edges) {
    const [from, to] = key.split('>').map(Number);
    edges.set(edgeKey(position[from], position[to]), label);
  }
  return { nodes: order.map((node) => graph.nodes[node]), edges };
}

/** The edit cost of turning `a` into `b` when a's node i becomes b's node mapping[i] (or is deleted). */
function mappingCost(a: LabelledGraph, b: LabelledGraph, mapping: readonly number[]): number {
  let cost = 0;
  const used = new Set<number>();
  mapping.forEach((target, i) => {
    if (target === DELETED) cost += 1;
    else {
      used.add(target);
      if (a.nodes[i] !== b.nodes[target]) cost += 1;
    }
  });
  cost += b.nodes.length - used.size;
  const matchedInB = new Set<string>();
  for (const [key, label] of a.edges) {
    const [from, to] = key.split('>').map(Number);
    const image = mapping[from] !== DELETED && mapping[to] !== DELETED ? edgeKey(mapping[from], mapping[to]) : undefined;
    const other = image === undefined ? undefined : b.edges.get(image);
    if (other === undefined) cost += 1;
    else {
      matchedInB.add(image!);
      if (other !== label) cost += 1;
    }
  }
  return cost + (b.edges.size - matchedInB.size);
}

/** Node labels and the adjacency matrix as small integers (edge label id, or NO_EDGE), for the search's inner loops. */
interface DenseGraph {
  nodes: Int32Array;
  adjacency: Int32Array[];
  edges: { from: number; to: number; label: number }[];
}

/** Node and edge labels of both graphs, numbered from 0. */
interface DensePair {
  a: DenseGraph;
  b: DenseGraph;
  labelCount: number;
}

const NO_EDGE = -1;

function denseGraphs(a: LabelledGraph, b: LabelledGraph): DensePair {
  const ids = new Map<string, number>();
  const id = (label: string) => {
    if (!ids.has(label)) ids.set(label, ids.size);
    return ids.get(label)!;
  };
  const dense = (graph: LabelledGraph): DenseGraph => {
    const adjacency = graph.nodes.map(() => new Int32Array(graph.nodes.length).fill(NO_EDGE));
    const edges = [...graph.edges].map(([key, label]) => {
      const [from, to] = key.split('>').map(Number);
      adjacency[from][to] = id(`edge:${label}`);
      return { from, to, label: adjacency[from][to] };
    });
    return { nodes: Int32Array.from(graph.nodes, (label) => id(`node:${label}`)), adjacency, edges };
  };
  const pair = { a: dense(a), b: dense(b) };
  return { ...pair, labelCount: ids.size };
}

/** Depth-first over the mappings of a's nodes in order, pruned by a lower bound against the best found. */
function exactDistance(first: LabelledGraph, second: LabelledGraph, upperBound: number): number {
  const { a, b, labelCount } = denseGraphs(first, second);
  // Label counts of what is left to match; reused by every bound (this loop runs millions of times).
  const countsA = new Int32Array(labelCount);
  const countsB = new Int32Array(labelCount);
  const n = a.nodes.length;
  let best = upperBound;
  const mapping = new Int32Array(n).fill(DELETED);
  const used = new Array<boolean>(b.nodes.length).fill(false);
  const imageEdge = (from: number, to: number) =>
    mapping[from] === DELETED || mapping[to] === DELETED ? NO_EDGE : b.adjacency[mapping[from]][mapping[to]];
  /** What is left of a (from node `next`) against what is free in b; node and edge labels are distinct ids. */
  const lowerBound = (next: number) => {
    countsA.fill(0);
    countsB.fill(0);
    let sizeA = 0;
    let sizeB = 0;
    // Edges of a with an end still to place can only match edges of b with a free end: the labels
    // the two sets do not share cost at least one edit each (the larger set's surplus).
    for (const e of a.edges) {
      if (e.from >= next || e.to >= next) {
        countsA[e.label] += 1;
        sizeA += 1;
      }
    }
    for (const e of b.edges) {
      if (!used[e.from] || !used[e.to]) {
        countsB[e.label] += 1;
        sizeB += 1;
      }
    }
    const edgeSizes = [sizeA, sizeB];
    // Likewise every node still to place costs at least one unless a free node of b has its label.
    sizeA = 0;
    sizeB = 0;
    for (let i = next; i < n; i++) countsA[a.nodes[i]] += 1;
    for (let k = 0; k < b.nodes.length; k++) {
      if (!used[k]) {
        countsB[b.nodes[k]] += 1;
        sizeB += 1;
      }
    }
    let common = 0;
    for (let label = 0; label < labelCount; label++) common += Math.min(countsA[label], countsB[label]);
    // Node and edge labels never share an id, so `common` splits into the two parts; each part's bound is max(size) - common.
    return Math.max(edgeSizes[0], edgeSizes[1]) + Math.max(n - next, sizeB) - common;
  };
  const visit = (i: number, cost: number) => {
    if (cost + lowerBound(i) >= best) return;
    if (i === n) {
      // What is left of b (free nodes and the edges touching them) is inserted.
      best = Math.min(best, cost + lowerBound(n));
      return;
    }
    const place = (target: number) => {
      mapping[i] = target;
      let added = target === DELETED ? 1 : a.nodes[i] === b.nodes[target] ? 0 : 1;
      for (let j = 0; j <= i; j++) {
        if (a.adjacency[i][j] !== imageEdge(i, j)) added += 1;
        if (j !== i && a.adjacency[j][i] !== imageEdge(j, i)) added += 1;
      }
      visit(i + 1, cost + added);
    };
    // Same-label targets first: good mappings are found early and prune the rest.
    const targets: number[] = [];
    for (let k = 0; k < b.nodes.length; k++) if (!used[k] && b.nodes[k] === a.nodes[i]) targets.push(k);
    for (let k = 0; k < b.nodes.length; k++) if (!used[k] && b.nodes[k] !== a.nodes[i]) targets.push(k);
    for (const target of targets) {
      used[target] = true;
      place(target);
      used[target] = false;
    }
    place(DELETED);
    mapping[i] = DELETED;
  };
  visit(0, 0);
  return best;
}

/** Breaks ties between equally good assignments toward the same node index; far below any edit's cost of 1/2. */
const OTHER_INDEX_COST = 1e-6;

/** Riesen & Bunke's node assignment: substitution, deletion and insertion costs with each node's edges estimated. */
function bipartiteMapping(a: LabelledGraph, b: LabelledGraph): number[] {
  const n = a.nodes.length;
  const m = b.nodes.length;
  const size = n + m;
  const forbidden = 1e9;
  const sidesA = edgeSides(a);
  const sidesB = edgeSides(b);
  const cost: number[][] = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      if (i < n && j < m) {
        const node = a.nodes[i] === b.nodes[j] ? 0 : 1;
        // Each edge is shared by its two end nodes: half its cost on each.
        const edges = (multisetDistance(sidesA.out[i], sidesB.out[j]) + multisetDistance(sidesA.in[i], sidesB.in[j])) / 2;
        cost[i][j] = node + edges + (i === j ? 0 : OTHER_INDEX_COST);
      } else if (i < n) {
        cost[i][j] = j - m === i ? 1 + (sidesA.out[i].length + sidesA.in[i].length) / 2 : forbidden;
      } else if (j < m) {
        cost[i][j] = i - n === j ? 1 + (sidesB.out[j].length + sidesB.in[j].length) / 2 : forbidden;
      }
    }
  }
  const assignment = hungarian(cost);
  return a.nodes.map((_, i) => (assignment[i] < m ? assignment[i] : DELETED));
}

function edgeSides(graph: LabelledGraph): { out: string[][]; in: string[][] } {
  const out = graph.nodes.map(() => [] as string[]);
  const into = graph.nodes.map(() => [] as string[]);
  for (const [key, label] of graph.edges) {
    const [from, to] = key.split('>').map(Number);
    out[from].push(label);
    into[to].push(label);
  }
  return { out, in: into };
}

/**
 * Edits that turn one multiset of edge labels into another: substitutions for the surplus of the common size, then insertions or deletions.
 */
function multisetDistance<T>(x: readonly T[], y: readonly T[]): number {
  return Math.max(x.length, y.length) - multisetIntersection(x, y);
}

export function multisetIntersection<T>(x: readonly T[], y: readonly T[]): number {
  const counts = new Map<T, number>();
  for (const label of x) counts.set(label, (counts.get(label) ?? 0) + 1);
  let common = 0;
  for (const label of y) {
    const count = counts.get(label) ?? 0;
    if (count > 0) {
      common += 1;
      counts.set(label, count - 1);
    }
  }
  return common;
}

/** Minimum-cost assignment of a square matrix (Hungarian algorithm with potentials, O(n^3)): row i gets column result[i]. */
export function hungarian(cost: readonly (readonly number[])[]): number[] {
  const n = cost.length;
  const u = new Array<number>(n + 1).fill(0);
  const v = new Array<number>(n + 1).fill(0);
  const columnOwner = new Array<number>(n + 1).fill(0);
  const way = new Array<number>(n + 1).fill(0);
  for (let row = 1; row <= n; row++) {
    columnOwner[0] = row;
    let column = 0;
    const minima = new Array<number>(n + 1).fill(Infinity);
    const visited = new Array<boolean>(n + 1).fill(false);
    do {
      visited[column] = true;
      const owner = columnOwner[column];
      let delta = Infinity;
      let nextColumn = 0;
      for (let j = 1; j <= n; j++) {
        if (visited[j]) continue;
        const reduced = cost[owner - 1][j - 1] - u[owner] - v[j];
        if (reduced < minima[j]) {
          minima[j] = reduced;
          way[j] = column;
        }
        if (minima[j] < delta) {
          delta = minima[j];
          nextColumn = j;
        }
      }
      for (let j = 0; j <= n; j++) {
        if (visited[j]) {
          u[columnOwner[j]] += delta;
          v[j] -= delta;
        } else {
          minima[j] -= delta;
        }
      }
      column = nextColumn;
    } while (columnOwner[column] !== 0);
    do {
      const previous = way[column];
      columnOwner[column] = columnOwner[previous];
      column = previous;
    } while (column !== 0);
  }
  const result = new Array<number>(n).fill(0);
  for (let j = 1; j <= n; j++) if (columnOwner[j] > 0) result[columnOwner[j] - 1] = j - 1;
  return result;
}
