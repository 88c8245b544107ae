// The one entry point from a search file's `dataset` section to the examples: a loader per data-set
// kind, each kind's reader in its own module.

import { resolve } from 'node:path';
import type { DatasetConfig } from '../../space/config.ts';
import { loadCifar10 } from './cifar10.ts';
import { loadCsv } from './csv.ts';
import type { ImageDataset } from './dataset.ts';
import { loadDigits } from './digits.ts';
import { loadMnist } from './mnist.ts';

/** Loads a data set of one kind; relative paths resolve against `baseDir`. */
export type DatasetLoader<Config extends DatasetConfig> = (config: Config, baseDir: string) => ImageDataset;

export const datasetLoaders: { readonly [Kind in DatasetConfig['kind']]: DatasetLoader<Extract<DatasetConfig, { kind: Kind }>> } = {
  digits: () => loadDigits(),
  cifar10: (config, baseDir) => loadCifar10(resolve(baseDir, config.path)),
  mnist: (config, baseDir) => loadMnist(resolve(baseDir, config.path)),
  csv: (config, baseDir) => loadCsv(resolve(baseDir, config.path), config.image_shape, config.pixel_scale),
};

/** Load the configured data set; relative paths resolve against `baseDir`, the directory of the search file. */
export function loadDataset(config: DatasetConfig, baseDir: string): ImageDataset {
  // The registry's type pairs each kind with its own section; TypeScript cannot follow that pairing through the union.
  const load = datasetLoaders[config.kind] as DatasetLoader<DatasetConfig>;
  return load(config, baseDir);
}
