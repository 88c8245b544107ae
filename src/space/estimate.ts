// "How big is this space?" before anything trains: the number of architectures, and the range of
// parameter counts of its children, counted from the shapes alone (no tfjs), so the editor can show it.

import type { ImageDatasetConfig, SearchConfig, SpaceConfig } from './config.ts';
import { log10SpaceSize, type Architecture, type Decision } from './decisions.ts';
import { compileSpace, decodeArchitecture, type ArchitectureGraph } from './graph.ts';
import { imageDatasetKind, isImageDataset } from './kinds/datasets/registry.ts';
import type { ImageShape } from './kinds/kind-module.ts';
import { spaceKind } from './kinds/spaces/registry.ts';
import { createRng } from './rng.ts';

export type { ImageShape } from './kinds/kind-module.ts';

/** The images the data set's loader produces. */
export function imageShapeOf(dataset: ImageDatasetConfig): ImageShape {
  return imageDatasetKind(dataset).imageShape(dataset);
}

/**
 * Trainable parameters of the network src/engine/model/build.ts makes for `graph`: a test checks the
 * two agree, so a change to one shows up in the other.
 */
export function countParameters(graph: ArchitectureGraph, space: SpaceConfig, image: Pick<ImageShape, 'shape' | 'classes'>): number {
  const count = spaceKind(space).countParameters;
  if (count === undefined || graph.kind !== space.kind)
    throw new Error(`${graph.kind} architectures have no parameter count from shapes in a ${space.kind} space`);
  return count(graph, space, image);
}

/** FLOPs of one example's forward pass through that network, where the space counts them from shapes (see SpaceKind.countFlops). */
export function countFlops(graph: ArchitectureGraph, space: SpaceConfig, image: Pick<ImageShape, 'shape' | 'classes'>): number {
  const count = spaceKind(space).countFlops;
  if (count === undefined || graph.kind !== space.kind)
    throw new Error(`${graph.kind} architectures have no FLOP count from shapes in a ${space.kind} space`);
  return count(graph, space, image);
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
  // Parameters are counted for image classifiers: a text corpus (language models) gives the size of the space alone.
  if (spaceKind(config.space).countParameters === undefined || config.dataset === undefined || !isImageDataset(config.dataset))
    return { log10Architectures: log10SpaceSize(decisions) };
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
function coordinateSearch(
  decisions: readonly Decision[],
  start: Architecture,
  score: (architecture: Architecture) => number,
  exhausted: () => boolean,
): number {
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
