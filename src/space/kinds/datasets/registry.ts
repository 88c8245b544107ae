// Every data set kind, found by its `kind`. A new kind is its module and one line here: the union of
// data-set configs (config.ts) and the engine's loader (engine/data/load.ts) follow from this registry.

import type { DatasetConfig } from '../../config.ts';
import type { DatasetKind } from '../kind-module.ts';
import { cifar10Dataset } from './cifar10.ts';
import { csvDataset } from './csv.ts';
import { digitsDataset } from './digits.ts';
import { imageFolderDataset } from './image-folder.ts';
import { mnistDataset } from './mnist.ts';

export const DATASET_KINDS = {
  digits: digitsDataset,
  cifar10: cifar10Dataset,
  mnist: mnistDataset,
  csv: csvDataset,
  'image-folder': imageFolderDataset,
};

/** The module of the data set's kind, typed for that data set. */
export function datasetKind<Config extends DatasetConfig>(dataset: Config): DatasetKind<Config> {
  return DATASET_KINDS[dataset.kind] as unknown as DatasetKind<Config>;
}
