// MNIST from its archive: the folder of its idx files. With its t10k part, that part is the test split.

import { join } from 'node:path';
import type { DatasetSplits } from '../../config.ts';
import type { ImageDatasetKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { DATASET_PATH, existingDatasetPath } from './dataset-path.ts';
import type { FileContext } from '../rule-context.ts';
import { archiveSplitRules, ownTestSetRule } from './splits.ts';

export type MnistDatasetConfig = { kind: 'mnist'; path: string } & DatasetSplits;

export const mnistDataset: ImageDatasetKind<MnistDatasetConfig> = {
  kind: 'mnist',
  modality: 'image',
  get description() {
    return kindDescription('dataset', 'mnist');
  },
  load: async (dataset, resolvePath, cacheDir) =>
    (await import('../../../engine/data/mnist.ts')).loadMnist(resolvePath(dataset.path), cacheDir),
  check: archiveSplitRules,
  imageShape: () => ({ shape: [28, 28, 1], classes: 10, classesKnown: true }),
  checkFiles(dataset, context, files) {
    const existing = existingDatasetPath(dataset.path, context, files);
    if (existing === undefined) return;
    if (existing.status.isDirectory) {
      const test = idxFile(dataset.path, 't10k', 'images', 'idx3', files);
      if (test !== undefined && idxFile(dataset.path, 'train', 'images', 'idx3', files) !== undefined) ownTestSetRule(test, context);
      return;
    }
    const message =
      `dataset.path: ${existing.fullPath} is a file (rule: path-kind); allowed: the folder that holds train-images-idx3-ubyte ` +
      `and train-labels-idx1-ubyte`;
    context.report(DATASET_PATH, message, 'path-kind');
  },
};

/** The IDX file's full path when present, under the names the reader accepts (engine/data/mnist.ts). */
function idxFile(dir: string, part: string, kind: string, dimensions: string, files: FileContext): string | undefined {
  for (const separator of ['-', '.']) {
    for (const suffix of ['', '.gz']) {
      const { fullPath, status } = files.inspect(join(dir, `${part}-${kind}${separator}${dimensions}-ubyte${suffix}`));
      if (status.found && status.isFile) return fullPath;
    }
  }
  return undefined;
}
