// CIFAR-10 from its archive: a batch file or a folder of them.

import type { DatasetSplits } from '../../config.ts';
import type { DatasetKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { existingDatasetPath } from './dataset-path.ts';
import { splitRules } from './splits.ts';

export type Cifar10DatasetConfig = { kind: 'cifar10'; path: string } & DatasetSplits;

export const cifar10Dataset: DatasetKind<Cifar10DatasetConfig> = {
  kind: 'cifar10',
  get description() {
    return kindDescription('dataset', 'cifar10');
  },
  load: async (dataset, resolvePath) => (await import('../../../engine/data/cifar10.ts')).loadCifar10(resolvePath(dataset.path)),
  check: splitRules,
  imageShape: () => ({ shape: [32, 32, 3], classes: 10, classesKnown: true }),
  checkFiles(dataset, context, files) {
    existingDatasetPath(dataset.path, context, files);
  },
};
