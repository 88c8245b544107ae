// A search space compiles to decisions; an architecture (one choice per decision) decodes to a
// graph, and the graph encodes back to the same architecture. The canonical key deduplicates graphs
// that differ only in an order that does not change the network. Each space kind does its own part
// (kinds/spaces); this module checks the architectures and dispatches.

import type { SpaceConfig } from './config.ts';
import type { Architecture, Decision } from './decisions.ts';
import type { GraphOf } from './kinds/kind-module.ts';
import { spaceKind, type SPACE_KINDS } from './kinds/spaces/registry.ts';

export { cellOutputNodes, cellStack, liveCells, type CellGraph, type CellNode, type CellPosition } from './kinds/spaces/cell.ts';
export { macroOutputLayers, type MacroGraph, type MacroLayer } from './kinds/spaces/macro.ts';
export type { NasBench201Edge, NasBench201Graph } from './kinds/spaces/nasbench201.ts';
export { recurrentLeaves, type RecurrentGraph, type RecurrentNode } from './kinds/spaces/recurrent.ts';

/** One member per module of the space registry (kinds/spaces/registry.ts). */
export type ArchitectureGraph = GraphOf<(typeof SPACE_KINDS)[keyof typeof SPACE_KINDS]>;

export function compileSpace(space: SpaceConfig): Decision[] {
  return spaceKind(space).compile(space);
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
  return spaceKind(space).decode(space, () => architecture[cursor++]);
}

export function encodeGraph(space: SpaceConfig, graph: ArchitectureGraph): Architecture {
  if (space.kind !== graph.kind) throw new Error(`a ${graph.kind} graph does not belong to a ${space.kind} space`);
  const architecture: Architecture = [];
  spaceKind(space).encode(space, graph, architecture);
  checkArchitecture(compileSpace(space), architecture);
  return architecture;
}

/** A key equal for graphs that build the same network. */
export function architectureKey(graph: ArchitectureGraph): string {
  return spaceKind(graph).key(graph);
}

/** The architecture drawn in plain text, for terminals and logs. */
export function drawArchitecture(graph: ArchitectureGraph): string {
  return spaceKind(graph).draw(graph);
}
