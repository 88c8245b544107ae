// MNIST from its archive: the folder of its idx files.

import type { DatasetSplits } from '../../config.ts';
import type { DatasetKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { DATASET_PATH, existingDatasetPath } from './dataset-path.ts';
import { splitRules } from './splits.ts';

export type MnistDatasetConfig = { kind: 'mnist'; path: string } & DatasetSplits;

export const mnistDataset: DatasetKind<MnistDatasetConfig> = {
  kind: 'mnist',
  get description() {
    return kindDescription('dataset', 'mnist');
  },
  load: async (dataset, resolvePath) => (await import('../../../engine/data/mnist.ts')).loadMnist(resolvePath(dataset.path)),
  check: splitRules,
  imageShape: () => ({ shape: [28, 28, 1], classes: 10, classesKnown: true }),
  checkFiles(dataset, context, files) {
    const existing = existingDatasetPath(dataset.path, context, files);
    if (existing === undefined || existing.status.isDirectory) return;
    const message =
      `dataset.path: ${existing.fullPath} is a file (rule: path-kind); allowed: the folder that holds train-images-idx3-ubyte ` +
      `and train-labels-idx1-ubyte`;
    context.report(DATASET_PATH, message, 'path-kind');
  },
};
