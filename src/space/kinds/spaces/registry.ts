// Every space kind, found by its `kind` (or by the `kind` of a graph it decodes to).

import type { ArchitectureGraph } from '../../graph.ts';
import type { SpaceConfig } from '../../config.ts';
import type { SpaceKind } from '../kind-module.ts';
import { cellSpace } from './cell.ts';
import { macroSpace } from './macro.ts';
import { nasBench201Space } from './nasbench201.ts';

type Registry = {
  [Kind in SpaceConfig['kind']]: SpaceKind<Extract<SpaceConfig, { kind: Kind }>, Extract<ArchitectureGraph, { kind: Kind }>>;
};

export const SPACE_KINDS: Registry = {
  macro: macroSpace,
  cell: cellSpace,
  nasbench201: nasBench201Space,
};

type AnySpaceKind = SpaceKind<SpaceConfig, ArchitectureGraph>;

/** The module of a space's kind, or of the space a graph was decoded from. */
export function spaceKind(of: SpaceConfig | ArchitectureGraph): AnySpaceKind {
  return SPACE_KINDS[of.kind] as unknown as AnySpaceKind;
}
