// The file check every data set with a `path` (or other file keys) shares: the path must exist.

import type { FileContext, PathStatus, RuleContext } from '../rule-context.ts';

export const DATASET_PATH = ['dataset', 'path'];

/** What is at the data set's path (written at `key`), or undefined once its absence is reported. */
export function existingDatasetPath(
  path: string,
  context: RuleContext,
  files: FileContext,
  key = 'path',
): { fullPath: string; status: Extract<PathStatus, { found: true }> } | undefined {
  const { fullPath, status } = files.inspect(path);
  if (status.found) return { fullPath, status };
  const message =
    `dataset.${key}: ${status.reason}: ${fullPath} (rule: file-not-found); relative paths start at the folder of the search ` + `file`;
  context.report(['dataset', key], message, 'file-not-found');
  return undefined;
}
