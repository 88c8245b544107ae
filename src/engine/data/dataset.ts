// The in-memory form every loader produces, and the seeded train/validation/test split.

import type { DatasetSplits } from '../../space/config.ts';
import { createRng, shuffledIndices } from '../../space/rng.ts';

export interface ImageDataset {
  name: string;
  /**
   * count*H*W*C stored values in HWC order; divided by `pixelScale` they are the pixels in [0, 1]. Bytes
   * (pixelScale 255 for 8-bit images) take a quarter of the memory of floats; a trainer turns them into
   * float32 tensors one batch at a time (batchOf in train-from-scratch.ts).
   */
  images: Uint8Array | Float32Array;
  pixelScale: number;
  labels: Int32Array;
  /** [H, W, C]. */
  shape: [number, number, number];
  classes: number;
  count: number;
  /**
   * How many of the last examples are the archive's own test set (MNIST's t10k-* files, CIFAR-10's
   * test_batch.bin). When set, they are the test split and `validation_split` holds out a fraction of
   * the examples before them; otherwise the splits are fractions of all examples.
   */
  testCount?: number;
  /** What the run's log should show about the loading (files skipped, a cache not written). */
  notes?: string[];
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
 * Shuffle with `splits.seed` (integer arithmetic only, so every machine gets the same split). A data set
 * with its own test set (`testCount`) keeps it as the test part and holds out `validation_split` of the
 * training examples; any other takes the test part (`test_split`) and the validation part from all
 * examples. The rest is train, capped at `max_train_examples`.
 */
export function splitDataset(ds: ImageDataset, splits: DatasetSplits): DatasetSplit {
  const { validation_split, test_split, seed, max_train_examples } = splits;
  const ownTest = ds.testCount !== undefined && ds.testCount > 0 && ds.testCount < ds.count;
  checkFraction(ds, 'validation_split', validation_split);
  if (!ownTest) {
    checkFraction(ds, 'test_split', test_split);
    if (validation_split + test_split >= 1) {
      throw new DatasetError(
        ds.name,
        `validation_split + test_split is ${validation_split + test_split}; it must be below 1 to leave training examples`,
      );
    }
  }
  const pool = ownTest ? ds.count - (ds.testCount ?? 0) : ds.count;
  const testCount = ownTest ? ds.count - pool : Math.round(ds.count * test_split);
  const held = ownTest ? 0 : testCount;
  const validationCount = Math.round(pool * validation_split);
  const trainCount = Math.floor(Math.min(pool - held - validationCount, max_train_examples ?? Infinity));
  const parts = [
    ['test', testCount, ownTest ? "the archive's test set" : `test_split ${test_split}`],
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

  const order = shuffledIndices(pool, createRng(seed));
  const test = ownTest ? Int32Array.from({ length: testCount }, (_, i) => pool + i) : order.subarray(0, testCount);
  const validation = order.subarray(held, held + validationCount);
  const trainStart = held + validationCount;
  const train = order.subarray(trainStart, trainStart + trainCount);
  return {
    train: subset(ds, train, 'train'),
    validation: subset(ds, validation, 'validation'),
    test: subset(ds, test, 'test'),
  };
}

function checkFraction(ds: ImageDataset, field: string, fraction: number): void {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new DatasetError(ds.name, `${field} is ${fraction}; it must be at least 0 and below 1`);
  }
}

function subset(ds: ImageDataset, indices: Int32Array, part: string): ImageDataset {
  const imageSize = ds.shape[0] * ds.shape[1] * ds.shape[2];
  const images =
    ds.images instanceof Uint8Array ? new Uint8Array(indices.length * imageSize) : new Float32Array(indices.length * imageSize);
  const labels = new Int32Array(indices.length);
  indices.forEach((source, target) => {
    images.set(ds.images.subarray(source * imageSize, (source + 1) * imageSize), target * imageSize);
    labels[target] = ds.labels[source];
  });
  // Every part keeps the full class count so that models trained on one part score on the others.
  return {
    name: `${ds.name}/${part}`,
    images,
    pixelScale: ds.pixelScale,
    labels,
    shape: [...ds.shape],
    classes: ds.classes,
    count: indices.length,
  };
}
