// The shape of a kind module: one per kind of each family, holding the kind's config type, its semantic
// checks, its description, for spaces how its architectures are compiled, decoded, encoded, keyed and
// drawn, and the engine's factory for the kind (a strategy, a runner, a reader, a network, an evaluator).

import type { DashboardData } from '../../protocol/webview.ts';
import type { SpaceConfig } from '../config.ts';
import type { Architecture, Decision } from '../decisions.ts';
import type { FileContext, RuleContext } from './rule-context.ts';
// Engine types only: a kind module reaches engine code through `import()` inside its factories, so the
// extension host and the webviews (whose builds leave every dynamic import out) never load it.
import type { ImageDataset } from '../../engine/data/dataset.ts';
import type { TextCorpus } from '../../engine/data/text.ts';
import type { EvaluatorKind } from '../../engine/evaluators/evaluator.ts';
import type { NetworkBuilder } from '../../engine/model/layers.ts';
import type { SearchRunner } from '../../engine/runners/runner.ts';
import type { Store } from '../../engine/store/store.ts';
import type { Strategy } from '../../engine/strategies/strategy.ts';
import type { StoppingRule } from '../../engine/schedulers/scheduler.ts';

export interface KindModule<Config extends { kind: string }> {
  kind: Config['kind'];
  /**
   * From the schema, read when asked for (a getter), so bundles that only draw graphs leave the schema out; undefined only if the schema
   * has none.
   */
  description: string | undefined;
  /** Rules JSON Schema cannot express: they relate two values. */
  check?(config: Config, context: RuleContext): void;
}

/** The config type a kind module checks (the union of a registry's modules gives the family's union). */
export type ConfigOf<Module> = Module extends KindModule<infer Config> ? Config : never;

/** The graph type a space kind module decodes to. */
export type GraphOf<Module> = Module extends { decode(space: never, take: () => number): infer Graph } ? Graph : never;

export interface StrategyKind<Config extends { kind: string }> extends KindModule<Config> {
  /** The trials a search of this kind makes, when its settings fix them (one-shot kinds). */
  derivedTrials?(config: Config): number;
  /** An ask/tell kind: a fresh strategy, all its randomness from `seed`; the engine's ask/tell loop runs it. */
  createAskTell?(config: Config, decisions: readonly Decision[], seed: number): Promise<Strategy>;
  /** A kind with a search of its own (one-shot kinds): its runner. A kind has this or createAskTell. */
  runner?(): Promise<SearchRunner>;
  /** A kind with an LSTM controller (controller insight reads it): where the controller's state is in this kind's checkpoint state. */
  controllerState?(checkpointState: unknown): unknown;
  /** What the run dashboard shows beyond every run's charts, read from the run's store. */
  dashboard?(config: Config, space: SpaceConfig, store: Store, runId: number): Promise<Partial<DashboardData>>;
}

export interface EvaluationKind<Config extends { kind: string }> extends KindModule<Config> {
  /** Settles defaults that depend on other settings, once the file is known to be valid. */
  complete?(config: Config, written: RuleContext['written']): void;
  /** Checks against the file system: the files it names. */
  checkFiles?(config: Config, context: RuleContext, files: FileContext): void;
  /** How the engine measures architectures for this kind. */
  evaluator(): Promise<EvaluatorKind<Config>>;
}

export interface SchedulerKind<Config extends { kind: string }> extends KindModule<Config> {
  /** The engine's stopping rule for this kind, for trials that train `epochs` epochs in full; none for kind none. */
  rule(config: Config, epochs: number): Promise<StoppingRule | undefined>;
}

export interface ImageShape {
  shape: [number, number, number];
  classes: number;
  /** False when the class count is an assumption (a csv file or an image folder is not read to count its classes). */
  classesKnown: boolean;
}

interface DatasetKindBase<Config extends { kind: string }> extends KindModule<Config> {
  /** Checks against the file system: the data set's paths and what they hold. */
  checkFiles?(config: Config, context: RuleContext, files: FileContext): void;
}

/** A data set of labelled images, for the spaces of image classifiers. */
export interface ImageDatasetKind<Config extends { kind: string }> extends DatasetKindBase<Config> {
  modality: 'image';
  /** The images the data set's loader produces. */
  imageShape(config: Config): ImageShape;
  /**
   * Reads the examples; `resolvePath` turns a path of the file into one the engine can open (relative to the search file's folder),
   * and `cacheDir` is where decoded caches go (engine/data/cache.ts).
   */
  load(config: Config, resolvePath: (path: string) => string, cacheDir: string): Promise<ImageDataset>;
}

/** A text corpus, for language models. */
export interface TextDatasetKind<Config extends { kind: string }> extends DatasetKindBase<Config> {
  modality: 'text';
  /** Reads and tokenizes the text; `resolvePath` as for images. */
  load(config: Config, resolvePath: (path: string) => string): Promise<TextCorpus>;
}

export type DatasetKind<Config extends { kind: string }> = ImageDatasetKind<Config> | TextDatasetKind<Config>;

export interface SpaceKind<Config extends { kind: string }, Graph> extends KindModule<Config> {
  compile(space: Config): Decision[];
  /** `take` hands out the architecture's choices in decision order. */
  decode(space: Config, take: () => number): Graph;
  /** Appends the graph's choices to `architecture`, in decision order. */
  encode(space: Config, graph: Graph, architecture: Architecture): void;
  key(graph: Graph): string;
  draw(graph: Graph): string;
  /** Trainable parameters of the network built (or, for a benchmark's space, measured) for `graph`, counted from shapes alone. */
  countParameters?(graph: Graph, space: Config, image: Pick<ImageShape, 'shape' | 'classes'>): number;
  /** FLOPs of that network's forward pass of one example, from shapes alone; absent where only a built model counts them. */
  countFlops?(graph: Graph, space: Config, image: Pick<ImageShape, 'shape' | 'classes'>): number;
  /** The network children of this space train as; absent for spaces whose architectures are looked up, not built. */
  network?(): Promise<NetworkBuilder<Config, Graph>>;
}

/** The index of `value` in `values`; throws naming `what` when the space does not hold it. */
export function indexIn<T>(values: readonly T[], value: T, what: string): number {
  const index = values.indexOf(value);
  if (index < 0) throw new Error(`${what} ${String(value)} is not in the space`);
  return index;
}
