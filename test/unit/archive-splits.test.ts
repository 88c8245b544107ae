// mnist (and Fashion-MNIST) and cifar10: the archive's own test set is the test split, and
// validation_split holds out a fraction of the training set; test_split is refused when the test part is there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifar10 } from '../../src/engine/data/cifar10.ts';
import { splitDataset, type ImageDataset } from '../../src/engine/data/dataset.ts';
import { loadMnist } from '../../src/engine/data/mnist.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const freshDir = freshDirs('nas-archive-splits-');

/** An IDX images file of `count` 2x2 images, image i with every pixel equal to `first + i`. */
function idxImages(count: number, first: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(2051, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(2, 8);
  header.writeUInt32BE(2, 12);
  return Buffer.concat([header, Uint8Array.from({ length: count * 4 }, (_, i) => first + Math.floor(i / 4))]);
}

function idxLabels(count: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(2049, 0);
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, Uint8Array.from({ length: count }, (_, i) => i % 10)]);
}

/** A folder of IDX files: `train` training images (ids 0..), and `t10k` test images (ids 200..) when above 0. */
function mnistFolder(train: number, t10k: number): string {
  const dir = freshDir();
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxImages(train, 0));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxLabels(train));
  if (t10k > 0) {
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), idxImages(t10k, 200));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxLabels(t10k));
  }
  return dir;
}

/** Every example's id: its first pixel (a byte). */
const ids = (ds: ImageDataset) => Array.from({ length: ds.count }, (_, i) => ds.images[i * 4]);

test('mnist: the t10k part is the test split, in order, and validation_split holds out part of the training set', () => {
  const ds = loadMnist(mnistFolder(100, 20));
  assert.equal(ds.count, 120);
  assert.equal(ds.testCount, 20);
  // test_split is ignored: the archive's test set is the test part.
  const split = splitDataset(ds, { validation_split: 0.2, test_split: 0.5, seed: 3 });
  assert.deepEqual(
    ids(split.test),
    Array.from({ length: 20 }, (_, i) => 200 + i),
  );
  assert.equal(split.validation.count, 20);
  assert.equal(split.train.count, 80);
  const trainAndValidation = [...ids(split.train), ...ids(split.validation)].sort((a, b) => a - b);
  assert.deepEqual(
    trainAndValidation,
    Array.from({ length: 100 }, (_, i) => i),
  );
  // max_train_examples caps the train part only.
  const capped = splitDataset(ds, { validation_split: 0.2, test_split: 0.1, seed: 3, max_train_examples: 10 });
  assert.equal(capped.train.count, 10);
  assert.deepEqual(ids(capped.validation), ids(split.validation));
  assert.equal(capped.test.count, 20);
});

test('mnist without its t10k part, and a single CIFAR-10 batch file, keep the fractions', () => {
  const ds = loadMnist(mnistFolder(100, 0));
  assert.equal(ds.testCount, undefined);
  const split = splitDataset(ds, { validation_split: 0.2, test_split: 0.1, seed: 3 });
  assert.deepEqual([split.train.count, split.validation.count, split.test.count], [70, 20, 10]);
  const file = join(freshDir(), 'data_batch_1.bin');
  writeFileSync(file, Buffer.alloc(3 * 3073));
  assert.equal(loadCifar10(file).testCount, undefined);
});

test('cifar10: test_batch.bin beside the train batches is the test split', () => {
  const dir = freshDir();
  const record = (label: number) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, label * 20)]);
  writeFileSync(join(dir, 'data_batch_1.bin'), Buffer.concat([0, 1, 2, 3, 4].map(record)));
  writeFileSync(join(dir, 'data_batch_2.bin'), Buffer.concat([5, 6, 7, 8, 9].map(record)));
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([9, 8].map(record)));
  const ds = loadCifar10(dir);
  assert.equal(ds.testCount, 2);
  const split = splitDataset(ds, { validation_split: 0.2, test_split: 0.1, seed: 1 });
  assert.deepEqual(Array.from(split.test.labels), [9, 8]);
  assert.equal(split.validation.count, 2);
  assert.equal(split.train.count, 8);
});

function rules(dataset: string, dir: string): string[] {
  const text = `name: archive\ndataset: ${dataset}\nspace: { kind: macro, layers: 2 }\nstrategy: { kind: random }\n`;
  return parseSearchText(text, join(dir, 'search.nas.yaml')).problems.map((problem) => problem.rule);
}

test('a search file that sets test_split for an archive with its test part is refused (rule archive-test-split)', () => {
  const withTest = mnistFolder(10, 2);
  assert.deepEqual(rules(`{ kind: mnist, path: ${withTest} }`, withTest), []);
  assert.deepEqual(rules(`{ kind: mnist, path: ${withTest}, validation_split: 0.85 }`, withTest), []);
  assert.deepEqual(rules(`{ kind: mnist, path: ${withTest}, test_split: 0.2 }`, withTest), ['archive-test-split']);
  const trainOnly = mnistFolder(10, 0);
  assert.deepEqual(rules(`{ kind: mnist, path: ${trainOnly}, test_split: 0.2 }`, trainOnly), []);
  assert.deepEqual(rules(`{ kind: mnist, path: ${trainOnly}, validation_split: 0.8, test_split: 0.1 }`, trainOnly), ['split-sum']);

  const cifar = freshDir();
  mkdirSync(join(cifar, 'cifar-10-batches-bin'));
  writeFileSync(join(cifar, 'cifar-10-batches-bin', 'data_batch_1.bin'), Buffer.alloc(3073));
  assert.deepEqual(rules(`{ kind: cifar10, path: ${cifar}, test_split: 0.2 }`, cifar), []);
  writeFileSync(join(cifar, 'cifar-10-batches-bin', 'test_batch.bin'), Buffer.alloc(3073));
  assert.deepEqual(rules(`{ kind: cifar10, path: ${cifar}, test_split: 0.2 }`, cifar), ['archive-test-split']);
  assert.deepEqual(rules(`{ kind: cifar10, path: ${cifar} }`, cifar), []);
});

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

test('Fashion-MNIST from the Debian package: its 10,000 test images are the test split', (t) => {
  if (!existsSync(FASHION_MNIST)) {
    const reason = `${FASHION_MNIST} is absent (apt-get install dataset-fashion-mnist)`;
    console.log(`skipped: ${reason}`);
    t.skip(reason);
    return;
  }
  const ds = loadMnist(FASHION_MNIST);
  assert.deepEqual([ds.count, ds.testCount], [70_000, 10_000]);
  const split = splitDataset(ds, { validation_split: 0.1, test_split: 0.1, seed: 1 });
  assert.deepEqual([split.train.count, split.validation.count, split.test.count], [54_000, 6_000, 10_000]);
  // The official test set: 1,000 images of each class.
  const counts = new Array(10).fill(0);
  for (const label of split.test.labels) counts[label]++;
  assert.deepEqual(counts, new Array(10).fill(1000));
});
