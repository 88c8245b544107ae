// CIFAR-10 from its archive: a batch file or a folder of them. With test_batch.bin beside train batches, it is the test split.

import { join } from 'node:path';
import type { DatasetSplits } from '../../config.ts';
import type { ImageDatasetKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { existingDatasetPath } from './dataset-path.ts';
import { archiveSplitRules, ownTestSetRule } from './splits.ts';

export type Cifar10DatasetConfig = { kind: 'cifar10'; path: string } & DatasetSplits;

export const cifar10Dataset: ImageDatasetKind<Cifar10DatasetConfig> = {
  kind: 'cifar10',
  modality: 'image',
  get description() {
    return kindDescription('dataset', 'cifar10');
  },
  load: async (dataset, resolvePath, cacheDir) =>
    (await import('../../../engine/data/cifar10.ts')).loadCifar10(resolvePath(dataset.path), cacheDir),
  check: archiveSplitRules,
  imageShape: () => ({ shape: [32, 32, 3], classes: 10, classesKnown: true }),
  checkFiles(dataset, context, files) {
    const existing = existingDatasetPath(dataset.path, context, files);
    if (!existing?.status.isDirectory) return;
    // As the reader looks: the folder itself, else the folder the archive unpacks to.
    for (const dir of [dataset.path, join(dataset.path, 'cifar-10-batches-bin')]) {
      const present = (name: string) => {
        const { fullPath, status } = files.inspect(join(dir, name));
        return status.found && status.isFile ? fullPath : undefined;
      };
      const test = present('test_batch.bin');
      const train = [1, 2, 3, 4, 5].some((n) => present(`data_batch_${n}.bin`) !== undefined);
      if (test !== undefined && train) ownTestSetRule(test, context);
      if (test !== undefined || train) return;
    }
  },
};
