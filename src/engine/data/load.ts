// The one entry point from a search file's `dataset` section to the examples: each data-set kind's
// module (src/space/kinds/datasets) loads its reader, which lives in this folder.

import { resolve } from 'node:path';
import type { DatasetConfig } from '../../space/config.ts';
import { datasetKind } from '../../space/kinds/datasets/registry.ts';
import { datasetCacheDir } from './cache.ts';
import type { ImageDataset } from './dataset.ts';

/**
 * Load the configured data set; relative paths resolve against `baseDir`, the directory of the search file,
 * and decoded caches go to `.nas-studio/datasets` there (cache.ts).
 */
export function loadDataset(config: DatasetConfig, baseDir: string): Promise<ImageDataset> {
  return datasetKind(config).load(config, (path) => resolve(baseDir, path), datasetCacheDir(baseDir));
}
