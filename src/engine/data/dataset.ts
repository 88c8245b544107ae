// The in-memory form every loader produces, and the seeded train/validation/test split.

import type { DatasetSplits } from '../../space/config.ts';
import { createRng, shuffledIndices } from '../../space/rng.ts';

export interface ImageDataset {
  name: string;
  /** count*H*W*C values in HWC order, scaled to [0, 1]. */
  images: Float32Array;
  labels: Int32Array;
  /** [H, W, C]. */
  shape: [number, number, number];
  classes: number;
  count: number;
}

export interface DatasetSplit {
  train: ImageDataset;
  validation: ImageDataset;
  test: ImageDataset;
}

/** A data set that cannot be used; the message names the file (or data set), the line where known, and what is wrong. */
export class DatasetError extends Error {
  constructor(
    readonly source: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`${source}${line === undefined ? '' : `, line ${line}`}: ${problem}`);
    this.name = 'DatasetError';
  }
}

/**
 * Shuffle with `splits.seed` (integer arithmetic only, so every machine gets the same split), then take
 * the test part, the validation part and the rest as train, capped at `max_train_examples`.
 */
export function splitDataset(ds: ImageDataset, splits: DatasetSplits): DatasetSplit {
  const { validation_split, test_split, seed, max_train_examples } = splits;
  for (const [field, fraction] of [
    ['validation_split', validation_split],
    ['test_split', test_split],
  ] as const) {
    if (!(fraction >= 0 && fraction < 1)) {
      throw new DatasetError(ds.name, `${field} is ${fraction}; it must be at least 0 and below 1`);
    }
  }
  if (validation_split + test_split >= 1) {
    throw new DatasetError(
      ds.name,
      `validation_split + test_split is ${validation_split + test_split}; it must be below 1 to leave training examples`,
    );
  }
  const testCount = Math.round(ds.count * test_split);
  const validationCount = Math.round(ds.count * validation_split);
  const trainCount = Math.floor(Math.min(ds.count - testCount - validationCount, max_train_examples ?? Infinity));
  const parts = [
    ['test', testCount, `test_split ${test_split}`],
    ['validation', validationCount, `validation_split ${validation_split}`],
    ['train', trainCount, max_train_examples === undefined ? 'what the other parts leave' : `max_train_examples ${max_train_examples}`],
  ] as const;
  for (const [part, count, reason] of parts) {
    if (!(count >= 1)) {
      throw new DatasetError(
        ds.name,
        `the ${part} part would be empty (${ds.count} examples, ${reason}); every part needs at least one example`,
      );
    }
  }

  const order = shuffledIndices(ds.count, createRng(seed));
  const test = order.subarray(0, testCount);
  const validation = order.subarray(testCount, testCount + validationCount);
  const trainStart = testCount + validationCount;
  const train = order.subarray(trainStart, trainStart + trainCount);
  return {
    train: subset(ds, train, 'train'),
    validation: subset(ds, validation, 'validation'),
    test: subset(ds, test, 'test'),
  };
}

function subset(ds: ImageDataset, indices: Int32Array, part: string): ImageDataset {
  const imageSize = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images = new Float32Array(indices.length * imageSize);
  const labels = new Int32Array(indices.length);
  indices.forEach((source, target) => {
    images.set(ds.images.subarray(source * imageSize, (source + 1) * imageSize), target * imageSize);
    labels[target] = ds.labels[source];
  });
  // Every part keeps the full class count so that models trained on one part score on the others.
  return { name: `${ds.name}/${part}`, images, labels, shape: [...ds.shape], classes: ds.classes, count: indices.length };
}
