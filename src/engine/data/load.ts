// The one entry point from a search file's `dataset` section to the examples.

import { resolve } from 'node:path';
import type { DatasetConfig } from '../../space/config.ts';
import { loadCifar10 } from './cifar10.ts';
import { loadCsv } from './csv.ts';
import type { ImageDataset } from './dataset.ts';
import { loadDigits } from './digits.ts';
import { loadMnist } from './mnist.ts';

/** Load the configured data set; relative paths resolve against `baseDir`, the directory of the search file. */
export function loadDataset(config: DatasetConfig, baseDir: string): ImageDataset {
  switch (config.kind) {
    case 'digits':
      return loadDigits();
    case 'cifar10':
      return loadCifar10(resolve(baseDir, config.path));
    case 'mnist':
      return loadMnist(resolve(baseDir, config.path));
    case 'csv':
      return loadCsv(resolve(baseDir, config.path), config.image_shape, config.pixel_scale);
  }
}
