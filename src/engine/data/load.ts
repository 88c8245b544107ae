// The one entry point from a search file's `dataset` section to the examples: each data-set kind's
// module (src/space/kinds/datasets) loads its reader, which lives in this folder.

import { resolve } from 'node:path';
import type { DatasetConfig, ImageDatasetConfig } from '../../space/config.ts';
import { imageDatasetKind, requireTextDataset, textDatasetKind } from '../../space/kinds/datasets/registry.ts';
import { datasetCacheDir } from './cache.ts';
import type { ImageDataset } from './dataset.ts';
import type { TextCorpus } from './text.ts';

/**
 * Load the configured images; relative paths resolve against `baseDir`, the directory of the search file,
 * and decoded caches go to `.nas-studio/datasets` there (cache.ts).
 */
export function loadDataset(config: ImageDatasetConfig, baseDir: string): Promise<ImageDataset> {
  return imageDatasetKind(config).load(config, (path) => resolve(baseDir, path), datasetCacheDir(baseDir));
}

/** Load the configured text corpus, for language models; relative paths resolve against `baseDir` as for images. */
export async function loadTextCorpus(config: DatasetConfig, baseDir: string): Promise<TextCorpus> {
  const text = requireTextDataset(config);
  return textDatasetKind(text).load(text, (path) => resolve(baseDir, path));
}
