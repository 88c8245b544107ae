// What a kind module's semantic checks see: the resolved config, and a way to report a problem at a
// path of the file without touching the YAML document.

import type { SearchConfig } from '../config.ts';
import { kindChoices, schemaAt } from '../schema-lookup.ts';

export interface ReportOptions {
  /** Point at the key rather than its value. */
  atKey?: boolean;
  /** Where to point when `path` is not written in the file (its value came from a default). */
  fallbackPath?: readonly string[];
}

export interface RuleContext {
  readonly config: SearchConfig;
  /** `message` is complete, `(rule: ...)` included; `rule` is its id. */
  report(path: readonly string[], message: string, rule: string, options?: ReportOptions): void;
  /** Whether the file writes `path` (rather than leaving it to a default). */
  written(path: readonly string[]): boolean;
}

export interface CsvRow {
  /** 1-based line of the file. */
  line: number;
  values: number;
}

export type PathStatus =
  | { found: false; reason: string }
  | { found: true; isFile: boolean; isDirectory: boolean; /** In bytes. */ size: number; firstCsvRow(): CsvRow | undefined };

/** The file system as the data-set checks see it, so that kind modules never touch it themselves. */
export interface FileContext {
  /** `path` resolved against the search file's folder, and what is there. */
  inspect(path: string): { fullPath: string; status: PathStatus };
}

/** The schema's description of a kind of `family` (dataset, space, strategy, evaluation, scheduler): the one source of it. */
export function kindDescription(family: 'dataset' | 'space' | 'strategy' | 'evaluation' | 'scheduler', kind: string): string | undefined {
  return kindChoices(schemaAt([{ key: family }])).find((choice) => choice.value === kind)?.description;
}
