// Every data set kind, found by its `kind`. A new kind is its module and one line here: the union of
// data-set configs (config.ts) and the engine's loader (engine/data/load.ts) follow from this registry.

import type { DatasetConfig, ImageDatasetConfig, TextCorpusDatasetConfig } from '../../config.ts';
import type { DatasetKind, ImageDatasetKind, TextDatasetKind } from '../kind-module.ts';
import { cifar10Dataset } from './cifar10.ts';
import { csvDataset } from './csv.ts';
import { digitsDataset } from './digits.ts';
import { imageFolderDataset } from './image-folder.ts';
import { mnistDataset } from './mnist.ts';
import { textDataset } from './text.ts';

export const DATASET_KINDS = {
  digits: digitsDataset,
  cifar10: cifar10Dataset,
  mnist: mnistDataset,
  csv: csvDataset,
  'image-folder': imageFolderDataset,
  text: textDataset,
};

/** The module of the data set's kind, typed for that data set. */
export function datasetKind<Config extends DatasetConfig>(dataset: Config): DatasetKind<Config> {
  return DATASET_KINDS[dataset.kind] as unknown as DatasetKind<Config>;
}

export function imageDatasetKind<Config extends ImageDatasetConfig>(dataset: Config): ImageDatasetKind<Config> {
  return DATASET_KINDS[dataset.kind] as unknown as ImageDatasetKind<Config>;
}

export function textDatasetKind<Config extends TextCorpusDatasetConfig>(dataset: Config): TextDatasetKind<Config> {
  return DATASET_KINDS[dataset.kind] as unknown as TextDatasetKind<Config>;
}

export function isImageDataset(dataset: DatasetConfig): dataset is ImageDatasetConfig {
  return DATASET_KINDS[dataset.kind].modality === 'image';
}

/** The data set, where images are needed: a text corpus there is an error (spaces that classify images need an image data set). */
export function requireImageDataset(dataset: DatasetConfig): ImageDatasetConfig {
  if (isImageDataset(dataset)) return dataset;
  throw new Error(`dataset kind ${dataset.kind} holds text, but this search trains image classifiers: it needs a data set of images`);
}

/** The data set, where a text corpus is needed (language models). */
export function requireTextDataset(dataset: DatasetConfig): TextCorpusDatasetConfig {
  if (!isImageDataset(dataset)) return dataset;
  throw new Error(`dataset kind ${dataset.kind} holds images, but this search trains language models: it needs a text data set`);
}
