// Every space kind, found by its `kind` (or by the `kind` of a graph it decodes to). A new kind is its
// module and one line here: the unions of space configs (config.ts) and of graphs (graph.ts) follow.

import type { ArchitectureGraph } from '../../graph.ts';
import type { SpaceConfig } from '../../config.ts';
import type { SpaceKind } from '../kind-module.ts';
import { cellSpace } from './cell.ts';
import { macroSpace } from './macro.ts';
import { nasBench201Space } from './nasbench201.ts';
import { recurrentSpace } from './recurrent.ts';

export const SPACE_KINDS = {
  macro: macroSpace,
  cell: cellSpace,
  nasbench201: nasBench201Space,
  recurrent: recurrentSpace,
};

type AnySpaceKind = SpaceKind<SpaceConfig, ArchitectureGraph>;

/** The module of a space's kind, or of the space a graph was decoded from. */
export function spaceKind(of: SpaceConfig | ArchitectureGraph): AnySpaceKind {
  return SPACE_KINDS[of.kind] as unknown as AnySpaceKind;
}
