// Every data set kind, found by its `kind`.

import type { DatasetConfig } from '../../config.ts';
import type { DatasetKind } from '../kind-module.ts';
import { cifar10Dataset } from './cifar10.ts';
import { csvDataset } from './csv.ts';
import { digitsDataset } from './digits.ts';
import { mnistDataset } from './mnist.ts';

type Registry = { [Kind in DatasetConfig['kind']]: DatasetKind<Extract<DatasetConfig, { kind: Kind }>> };

export const DATASET_KINDS: Registry = {
  digits: digitsDataset,
  cifar10: cifar10Dataset,
  mnist: mnistDataset,
  csv: csvDataset,
};

/** The module of the data set's kind, typed for that data set. */
export function datasetKind<Config extends DatasetConfig>(dataset: Config): DatasetKind<Config> {
  return DATASET_KINDS[dataset.kind] as unknown as DatasetKind<Config>;
}
