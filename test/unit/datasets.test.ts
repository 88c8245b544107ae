import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DatasetSplits } from '../../src/space/config.ts';
import { loadCifar10 } from '../../src/engine/data/cifar10.ts';
import { loadCsv } from '../../src/engine/data/csv.ts';
import { DatasetError, splitDataset, type ImageDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { loadDataset } from '../../src/engine/data/load.ts';
import { loadMnist } from '../../src/engine/data/mnist.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const freshDir = freshDirs('nas-datasets-');

function writeFile(dir: string, name: string, contents: string | Uint8Array): string {
  const file = join(dir, name);
  writeFileSync(file, contents);
  return file;
}

/** Asserts a DatasetError whose message names `file` and matches `problem`. */
function assertDatasetError(load: () => unknown, file: string, problem: RegExp): void {
  assert.throws(load, (error: unknown) => {
    assert.ok(error instanceof DatasetError, `expected a DatasetError, got ${String(error)}`);
    assert.ok(error.message.includes(file), `"${error.message}" should name ${file}`);
    assert.match(error.message, problem);
    return true;
  });
}

const f32 = (values: number[]) => Array.from(Float32Array.from(values));
/** The pixels in [0, 1] as a trainer's batches hold them (float32). */
const pixels = (ds: Pick<ImageDataset, 'images' | 'pixelScale'>) => f32(Array.from(ds.images, (value) => value / ds.pixelScale));

// --- CSV ---

test('loadCsv reads HWC pixels and labels, skips a header and blank lines, and scales by pixel_scale', () => {
  const dir = freshDir();
  const file = writeFile(dir, 'tiny.csv', 'p0,p1,p2,p3,label\n0,1,2,4,3\n\n4,4,0,2,0\r\n');
  const ds = loadCsv(file, [1, 2, 2], 4);
  assert.equal(ds.name, 'tiny.csv');
  assert.equal(ds.count, 2);
  assert.deepEqual(ds.shape, [1, 2, 2]);
  assert.equal(ds.classes, 4);
  assert.deepEqual(Array.from(ds.labels), [3, 0]);
  assert.deepEqual(pixels(ds), f32([0, 0.25, 0.5, 1, 1, 1, 0, 0.5]));
});

test('loadCsv reads gzipped files and files without a header', () => {
  const dir = freshDir();
  const file = writeFile(dir, 'tiny.csv.gz', gzipSync('10,20,1\n30,40,2\n'));
  const ds = loadCsv(file, [1, 1, 2], 40);
  assert.equal(ds.name, 'tiny.csv');
  assert.equal(ds.count, 2);
  assert.equal(ds.classes, 3);
  assert.deepEqual(pixels(ds), f32([0.25, 0.5, 0.75, 1]));
  assert.deepEqual(Array.from(ds.labels), [1, 2]);
});

test('loadCsv reports malformed files with the file, the line and the problem', () => {
  const dir = freshDir();
  const shape: [number, number, number] = [1, 1, 2];
  const cases: [string, string, RegExp][] = [
    ['short-row.csv', '1,2,0\n1,0\n', /line 2: 2 values, expected 3/],
    ['not-number.csv', 'a,b,label\n1,2,0\n1,x,1\n', /line 3: value 2 \("x"\) is not a number/],
    ['empty-field.csv', '1,2,0\n1,,1\n', /line 2: value 2 \(""\) is not a number/],
    ['negative-label.csv', '1,2,-1\n', /line 1: label "-1" .*not a non-negative integer/],
    ['fraction-label.csv', '1,2,0\n\n1,2,1.5\n', /line 3: label "1.5"/],
    ['bad-label.csv', '1,2,0\n1,2,cat\n', /line 2: label "cat"/],
    ['pixel-too-big.csv', '1,2,0\n1,300,1\n', /line 2: pixel value 300 .*outside 0..255/],
    ['empty.csv', '\n\n', /empty: no examples/],
    ['header-only.csv', 'a,b,label\n', /header line but no examples/],
  ];
  for (const [name, contents, problem] of cases) {
    const file = writeFile(dir, name, contents);
    assertDatasetError(() => loadCsv(file, shape, 255), file, problem);
  }
  const truncated = writeFile(dir, 'truncated.csv.gz', gzipSync('1,2,0\n'.repeat(100)).subarray(0, 20));
  assertDatasetError(() => loadCsv(truncated, shape, 255), truncated, /gzip data is truncated or corrupt/);
  const missing = join(dir, 'missing.csv');
  assertDatasetError(() => loadCsv(missing, shape, 255), missing, /not found/);
  assertDatasetError(() => loadCsv(dir, shape, 255), dir, /is a directory/);
  const good = writeFile(dir, 'good.csv', '1,2,0\n');
  assertDatasetError(() => loadCsv(good, [1, 0, 2], 255), good, /image_shape/);
  assertDatasetError(() => loadCsv(good, shape, 0), good, /pixel_scale/);
});

// --- CIFAR-10 ---

/** One CIFAR-10 record whose red, green and blue planes are filled with r, g, b, except pixel 0, which is (1, 2, 3). */
function cifarRecord(label: number, r: number, g: number, b: number): Uint8Array {
  const record = new Uint8Array(3073);
  record[0] = label;
  record.fill(r, 1, 1025);
  record.fill(g, 1025, 2049);
  record.fill(b, 2049, 3073);
  record[1] = 1;
  record[1025] = 2;
  record[2049] = 3;
  return record;
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts);

test('loadCifar10 converts planar RGB records to HWC and loads train batches before the test batch', () => {
  const dir = freshDir();
  writeFile(dir, 'test_batch.bin', cifarRecord(9, 0, 0, 255));
  writeFile(dir, 'data_batch_2.bin', cifarRecord(1, 0, 255, 0));
  writeFile(dir, 'data_batch_1.bin', concat(cifarRecord(0, 255, 0, 0), cifarRecord(5, 51, 102, 153)));
  const ds = loadCifar10(dir);
  assert.equal(ds.name, 'cifar10');
  assert.equal(ds.count, 4);
  assert.deepEqual(ds.shape, [32, 32, 3]);
  assert.equal(ds.classes, 10);
  assert.equal(ds.images.length, 4 * 3072);
  assert.deepEqual(Array.from(ds.labels), [0, 5, 1, 9]);
  const pixel = (example: number, index: number) => pixels(ds).slice(example * 3072 + index * 3, example * 3072 + index * 3 + 3);
  assert.deepEqual(pixel(0, 0), f32([1 / 255, 2 / 255, 3 / 255]));
  assert.deepEqual(pixel(0, 1), f32([1, 0, 0]));
  assert.deepEqual(pixel(1, 1023), f32([0.2, 0.4, 0.6]));
  assert.deepEqual(pixel(2, 500), f32([0, 1, 0]));
  assert.deepEqual(pixel(3, 32), f32([0, 0, 1]));
});

test('loadCifar10 reads a single batch file and the extracted cifar-10-batches-bin folder', () => {
  const dir = freshDir();
  const file = writeFile(dir, 'one.bin', concat(cifarRecord(3, 0, 0, 0), cifarRecord(4, 0, 0, 0)));
  assert.deepEqual(Array.from(loadCifar10(file).labels), [3, 4]);
  mkdirSync(join(dir, 'cifar-10-batches-bin'));
  writeFile(join(dir, 'cifar-10-batches-bin'), 'test_batch.bin', cifarRecord(7, 0, 0, 0));
  assert.deepEqual(Array.from(loadCifar10(dir).labels), [7]);
});

test('loadCifar10 reports malformed batches and directories without batches', () => {
  const dir = freshDir();
  const truncated = writeFile(dir, 'truncated.bin', concat(cifarRecord(0, 0, 0, 0)).subarray(0, 3000));
  assertDatasetError(() => loadCifar10(truncated), truncated, /size 3000 bytes is not a positive multiple of 3073/);
  const empty = writeFile(dir, 'empty.bin', new Uint8Array(0));
  assertDatasetError(() => loadCifar10(empty), empty, /size 0 bytes/);
  const badLabel = writeFile(dir, 'bad-label.bin', concat(cifarRecord(2, 0, 0, 0), cifarRecord(12, 0, 0, 0)));
  assertDatasetError(() => loadCifar10(badLabel), badLabel, /record 2 has label 12; CIFAR-10 labels are 0..9/);
  const missing = join(dir, 'nowhere');
  assertDatasetError(() => loadCifar10(missing), missing, /not found/);
  const noBatches = freshDir();
  assertDatasetError(() => loadCifar10(noBatches), noBatches, /no CIFAR-10 batches here/);
  writeFile(noBatches, 'data_batch_1', 'pickled');
  assertDatasetError(() => loadCifar10(noBatches), noBatches, /Python version/);
});

// --- MNIST ---

function idxImages(count: number, rows: number, columns: number, pixels: number[], magic = 2051): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(magic, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(rows, 8);
  header.writeUInt32BE(columns, 12);
  return Buffer.concat([header, Uint8Array.from(pixels)]);
}

function idxLabels(labels: number[], magic = 2049): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(magic, 0);
  header.writeUInt32BE(labels.length, 4);
  return Buffer.concat([header, Uint8Array.from(labels)]);
}

test('loadMnist reads train and t10k parts, gzipped or not, in both common namings', () => {
  const dir = freshDir();
  writeFile(dir, 'train-images-idx3-ubyte.gz', gzipSync(idxImages(2, 2, 2, [0, 51, 102, 255, 255, 0, 0, 0])));
  writeFile(dir, 'train-labels-idx1-ubyte', idxLabels([7, 2]));
  writeFile(dir, 't10k-images.idx3-ubyte', idxImages(1, 2, 2, [0, 0, 0, 153]));
  writeFile(dir, 't10k-labels.idx1-ubyte.gz', gzipSync(idxLabels([9])));
  const ds = loadMnist(dir);
  assert.equal(ds.name, 'mnist');
  assert.equal(ds.count, 3);
  assert.deepEqual(ds.shape, [2, 2, 1]);
  assert.equal(ds.classes, 10);
  assert.deepEqual(Array.from(ds.labels), [7, 2, 9]);
  assert.deepEqual(pixels(ds), f32([0, 0.2, 0.4, 1, 1, 0, 0, 0, 0, 0, 0, 0.6]));
});

test('loadMnist accepts gzip data under a name without .gz (a browser-unpacked download)', () => {
  const dir = freshDir();
  writeFile(dir, 'train-images-idx3-ubyte', gzipSync(idxImages(1, 28, 28, new Array(784).fill(255))));
  writeFile(dir, 'train-labels-idx1-ubyte', idxLabels([4]));
  const ds = loadMnist(dir);
  assert.deepEqual(ds.shape, [28, 28, 1]);
  assert.equal(ds.images.length, 784);
  assert.ok(pixels(ds).every((value) => value === 1));
});

test('loadMnist reports bad magic numbers, truncation, mismatched counts, bad labels and missing files', () => {
  const mnistDir = (images: Buffer, labels: Buffer) => {
    const dir = freshDir();
    return {
      dir,
      images: writeFile(dir, 'train-images-idx3-ubyte', images),
      labels: writeFile(dir, 'train-labels-idx1-ubyte', labels),
    };
  };
  const goodImages = idxImages(2, 1, 2, [1, 2, 3, 4]);
  const goodLabels = idxLabels([0, 1]);

  let c = mnistDir(idxImages(2, 1, 2, [1, 2, 3, 4], 1234), goodLabels);
  assertDatasetError(() => loadMnist(c.dir), c.images, /bad magic number 1234, expected 2051/);
  c = mnistDir(goodLabels, goodImages);
  assertDatasetError(() => loadMnist(c.dir), c.images, /bad magic number 2049, expected 2051.*swapped/);
  c = mnistDir(goodImages, idxLabels([0, 1], 2051));
  assertDatasetError(() => loadMnist(c.dir), c.labels, /bad magic number 2051, expected 2049/);
  c = mnistDir(goodImages.subarray(0, 18), goodLabels);
  assertDatasetError(
    () => loadMnist(c.dir),
    c.images,
    /truncated: the header promises 2 images of 1x2 \(20 bytes\) but the file has 18 bytes/,
  );
  c = mnistDir(goodImages.subarray(0, 10), goodLabels);
  assertDatasetError(() => loadMnist(c.dir), c.images, /truncated: 10 bytes/);
  c = mnistDir(goodImages, goodLabels.subarray(0, 9));
  assertDatasetError(() => loadMnist(c.dir), c.labels, /truncated/);
  c = mnistDir(Buffer.concat([goodImages, Buffer.from([0])]), goodLabels);
  assertDatasetError(() => loadMnist(c.dir), c.images, /1 unexpected bytes/);
  c = mnistDir(goodImages, idxLabels([0, 1, 2]));
  assertDatasetError(() => loadMnist(c.dir), c.labels, /holds 3 labels but .*train-images-idx3-ubyte holds 2 images/);
  c = mnistDir(goodImages, idxLabels([0, 10]));
  assertDatasetError(() => loadMnist(c.dir), c.labels, /label 10 at item 2 is out of range 0..9/);
  c = mnistDir(gzipSync(goodImages).subarray(0, 15), goodLabels);
  assertDatasetError(() => loadMnist(c.dir), c.images, /gzip data is truncated or corrupt/);

  const onlyImages = freshDir();
  const images = writeFile(onlyImages, 'train-images-idx3-ubyte', goodImages);
  assertDatasetError(() => loadMnist(onlyImages), images, /train-labels-idx1-ubyte \(optionally .gz\) is missing/);
  const mismatched = mnistDir(goodImages, goodLabels);
  writeFile(mismatched.dir, 't10k-images-idx3-ubyte', idxImages(1, 2, 2, [0, 0, 0, 0]));
  writeFile(mismatched.dir, 't10k-labels-idx1-ubyte', idxLabels([3]));
  assertDatasetError(() => loadMnist(mismatched.dir), join(mismatched.dir, 't10k-images-idx3-ubyte'), /2x2 but the train images are 1x2/);
  const empty = freshDir();
  assertDatasetError(() => loadMnist(empty), empty, /no MNIST files here/);
  assertDatasetError(() => loadMnist(images), images, /is a file; expected the directory/);
  const missing = join(empty, 'nowhere');
  assertDatasetError(() => loadMnist(missing), missing, /not found/);
});

// --- digits and loadDataset ---

test('loadDigits loads the embedded 1,797 8x8 digits with pixels in [0, 1]', () => {
  const ds = loadDigits();
  assert.equal(ds.name, 'digits');
  assert.equal(ds.count, 1797);
  assert.deepEqual(ds.shape, [8, 8, 1]);
  assert.equal(ds.classes, 10);
  assert.equal(ds.images.length, 1797 * 64);
  assert.ok(pixels(ds).every((value) => value >= 0 && value <= 1));
  assert.equal(
    pixels(ds).reduce((max, value) => Math.max(max, value), 0),
    1,
  );
  const counts = new Array(10).fill(0);
  for (const label of ds.labels) counts[label]++;
  assert.deepEqual(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
  // The first row of the file is a 0 whose third pixel is 5.
  assert.equal(ds.labels[0], 0);
  assert.equal(pixels(ds)[2], Math.fround(5 / 16));
});

test('loadDataset dispatches on kind and resolves paths against the search file directory', async () => {
  const splits: DatasetSplits = { validation_split: 0.1, test_split: 0.1, seed: 1 };
  const dir = freshDir();
  mkdirSync(join(dir, 'data'));
  writeFile(join(dir, 'data'), 'pixels.csv', '0,255,1\n');
  writeFile(join(dir, 'data'), 'test_batch.bin', cifarRecord(6, 0, 0, 0));
  writeFile(join(dir, 'data'), 'train-images-idx3-ubyte', idxImages(1, 1, 1, [255]));
  writeFile(join(dir, 'data'), 'train-labels-idx1-ubyte', idxLabels([8]));

  assert.equal((await loadDataset({ kind: 'digits', ...splits }, dir)).count, 1797);
  const csv = await loadDataset({ kind: 'csv', path: 'data/pixels.csv', image_shape: [1, 1, 2], pixel_scale: 255, ...splits }, dir);
  assert.deepEqual(pixels(csv), [0, 1]);
  assert.deepEqual(Array.from((await loadDataset({ kind: 'cifar10', path: 'data/test_batch.bin', ...splits }, dir)).labels), [6]);
  assert.deepEqual(Array.from((await loadDataset({ kind: 'mnist', path: 'data', ...splits }, dir)).labels), [8]);
  assert.equal((await loadDataset({ kind: 'mnist', path: join(dir, 'data'), ...splits }, '/elsewhere')).count, 1);
  await assert.rejects(loadDataset({ kind: 'csv', path: 'nope.csv', image_shape: [1, 1, 2], pixel_scale: 1, ...splits }, dir), (error) => {
    assertDatasetError(
      () => {
        throw error;
      },
      join(dir, 'nope.csv'),
      /not found/,
    );
    return true;
  });
});

// --- splitDataset ---

/** A data set whose example i has every pixel equal to i, so each part's examples can be traced back. */
function numberedDataset(count: number): ImageDataset {
  const images = new Float32Array(count * 2);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    images[2 * i] = i;
    images[2 * i + 1] = i;
    labels[i] = i % 3;
  }
  return { name: 'numbered', images, pixelScale: 1, labels, shape: [1, 2, 1], classes: 3, count };
}

const exampleIds = (ds: ImageDataset) => Array.from({ length: ds.count }, (_, i) => ds.images[2 * i]);

test('splitDataset is deterministic per seed, disjoint, covering, and sized by the fractions', () => {
  const ds = numberedDataset(100);
  const splits: DatasetSplits = { validation_split: 0.2, test_split: 0.1, seed: 42 };
  const a = splitDataset(ds, splits);
  const b = splitDataset(ds, splits);
  assert.deepEqual(exampleIds(a.train), exampleIds(b.train));
  assert.deepEqual(exampleIds(a.validation), exampleIds(b.validation));
  assert.deepEqual(exampleIds(a.test), exampleIds(b.test));
  assert.notDeepEqual(exampleIds(splitDataset(ds, { ...splits, seed: 43 }).test), exampleIds(a.test));

  assert.equal(a.test.count, 10);
  assert.equal(a.validation.count, 20);
  assert.equal(a.train.count, 70);
  const all = [...exampleIds(a.train), ...exampleIds(a.validation), ...exampleIds(a.test)].sort((x, y) => x - y);
  assert.deepEqual(
    all,
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.notDeepEqual(
    exampleIds(a.train),
    exampleIds(a.train).sort((x, y) => x - y),
    'the split is shuffled',
  );

  for (const part of [a.train, a.validation, a.test]) {
    assert.deepEqual(part.shape, [1, 2, 1]);
    assert.equal(part.classes, 3);
    assert.equal(part.images.length, part.count * 2);
    exampleIds(part).forEach((id, i) => {
      assert.equal(part.images[2 * i + 1], id);
      assert.equal(part.labels[i], id % 3);
    });
  }
});

test('splitDataset caps the train part at max_train_examples without changing the other parts', () => {
  const ds = numberedDataset(100);
  const splits: DatasetSplits = { validation_split: 0.2, test_split: 0.1, seed: 5 };
  const full = splitDataset(ds, splits);
  const capped = splitDataset(ds, { ...splits, max_train_examples: 25 });
  assert.equal(capped.train.count, 25);
  assert.deepEqual(exampleIds(capped.train), exampleIds(full.train).slice(0, 25));
  assert.deepEqual(exampleIds(capped.validation), exampleIds(full.validation));
  assert.deepEqual(exampleIds(capped.test), exampleIds(full.test));
  assert.equal(splitDataset(ds, { ...splits, max_train_examples: 1000 }).train.count, 70);
});

test('splitDataset refuses empty parts and impossible fractions', () => {
  const ds = numberedDataset(10);
  assertDatasetError(() => splitDataset(ds, { validation_split: 0.2, test_split: 0, seed: 1 }), 'numbered', /test part would be empty/);
  assertDatasetError(
    () => splitDataset(ds, { validation_split: 0.04, test_split: 0.2, seed: 1 }),
    'numbered',
    /validation part would be empty/,
  );
  assertDatasetError(() => splitDataset(ds, { validation_split: 0.5, test_split: 0.45, seed: 1 }), 'numbered', /train part would be empty/);
  assertDatasetError(
    () => splitDataset(ds, { validation_split: 0.2, test_split: 0.2, seed: 1, max_train_examples: 0 }),
    'numbered',
    /train part would be empty.*max_train_examples 0/,
  );
  assertDatasetError(() => splitDataset(ds, { validation_split: 0.6, test_split: 0.4, seed: 1 }), 'numbered', /must be below 1/);
  assertDatasetError(() => splitDataset(ds, { validation_split: -0.1, test_split: 0.2, seed: 1 }), 'numbered', /validation_split is -0.1/);
});
