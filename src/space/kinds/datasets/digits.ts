// The 8x8 digits embedded in NAS Studio: no path to check.

import type { DatasetSplits } from '../../config.ts';
import type { ImageDatasetKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { splitRules } from './splits.ts';

export type DigitsDatasetConfig = { kind: 'digits' } & DatasetSplits;

export const digitsDataset: ImageDatasetKind<DigitsDatasetConfig> = {
  kind: 'digits',
  modality: 'image',
  get description() {
    return kindDescription('dataset', 'digits');
  },
  // Not cached: its 1,797 8x8 images decode in milliseconds.
  load: async () => (await import('../../../engine/data/digits.ts')).loadDigits(),
  check: splitRules,
  imageShape: () => ({ shape: [8, 8, 1], classes: 10, classesKnown: true }),
};
