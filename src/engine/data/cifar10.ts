// CIFAR-10, binary version: records of 1 label byte and a 32x32 image stored as red, green, then blue planes.

import { basename, join } from 'node:path';
import { cachedDataset } from './cache.ts';
import { DatasetError, type ImageDataset } from './dataset.ts';
import { isFile, readDataFile, statDataPath } from './files.ts';

const SIDE = 32;
const CHANNELS = 3;
const PLANE_SIZE = SIDE * SIDE;
const IMAGE_SIZE = PLANE_SIZE * CHANNELS;
const RECORD_SIZE = 1 + IMAGE_SIZE;
const CLASSES = 10;
const TEST_BATCH = 'test_batch.bin';
const BATCH_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', TEST_BATCH];
/** The folder cifar-10-binary.tar.gz unpacks to, looked into when `path` is its parent. */
const EXTRACTED_FOLDER = 'cifar-10-batches-bin';

/**
 * Load a single batch file, or every batch found in a directory (train batches first, then the test batch);
 * with `cacheDir`, through the decoded cache (cache.ts).
 */
export function loadCifar10(path: string, cacheDir?: string): ImageDataset {
  const files = batchFiles(path);
  return cachedDataset(cacheDir, { kind: 'cifar10', settings: { path }, files }, () => decodeCifar10(files));
}

function decodeCifar10(files: string[]): ImageDataset {
  const batches = files.map((file) => ({ file, bytes: readDataFile(file) }));
  for (const { file, bytes } of batches) {
    if (bytes.length === 0 || bytes.length % RECORD_SIZE !== 0) {
      throw new DatasetError(
        file,
        `size ${bytes.length} bytes is not a positive multiple of ${RECORD_SIZE} (1 label ` +
          `byte + 32x32x3 pixels); the file is truncated or not a CIFAR-10 binary batch`,
      );
    }
  }
  const count = batches.reduce((sum, { bytes }) => sum + bytes.length / RECORD_SIZE, 0);
  const images = new Uint8Array(count * IMAGE_SIZE);
  const labels = new Int32Array(count);
  let example = 0;
  for (const { file, bytes } of batches) {
    for (let record = 0; record < bytes.length / RECORD_SIZE; record++, example++) {
      const start = record * RECORD_SIZE;
      const label = bytes[start];
      if (label >= CLASSES) {
        throw new DatasetError(file, `record ${record + 1} has label ${label}; CIFAR-10 labels are 0..${CLASSES - 1}`);
      }
      labels[example] = label;
      // Interleave the red, green and blue planes into HWC.
      const red = start + 1;
      let out = example * IMAGE_SIZE;
      for (let pixel = 0; pixel < PLANE_SIZE; pixel++) {
        images[out++] = bytes[red + pixel];
        images[out++] = bytes[red + PLANE_SIZE + pixel];
        images[out++] = bytes[red + 2 * PLANE_SIZE + pixel];
      }
    }
  }
  // With train batches before it, test_batch.bin (last) is the archive's own test set.
  const last = batches.at(-1);
  const testCount = batches.length > 1 && last && basename(last.file) === TEST_BATCH ? last.bytes.length / RECORD_SIZE : undefined;
  return { name: 'cifar10', images, pixelScale: 255, labels, shape: [SIDE, SIDE, CHANNELS], classes: CLASSES, count, testCount };
}

function batchFiles(path: string): string[] {
  if (!statDataPath(path).isDirectory()) return [path];
  for (const dir of [path, join(path, EXTRACTED_FOLDER)]) {
    const found = BATCH_FILES.map((name) => join(dir, name)).filter(isFile);
    if (found.length > 0) return found;
  }
  const pythonVersion = isFile(join(path, 'data_batch_1'))
    ? ' This looks like the Python version; download the binary version (cifar-10-binary.tar.gz).'
    : '';
  throw new DatasetError(
    path,
    `no CIFAR-10 batches here: expected data_batch_1.bin .. data_batch_5.bin and/or test_batch.bin.${pythonVersion}`,
  );
}
