import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { DatasetError } from '../../src/engine/data/dataset.ts';
import { loadImageFolder } from '../../src/engine/data/image-folder.ts';
import { loadDataset } from '../../src/engine/data/load.ts';
import { TrainerPool } from '../../src/engine/evaluators/trainer-pool.ts';
import { trainingSetup } from '../../src/space/config.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { tinySearchText } from '../support/tiny.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const freshDir = freshDirs('nas-image-folder-');

type Rgb = [number, number, number];

/** RGBA bytes of a width x height image whose pixel (x, y) is `color(x, y)`, opaque. */
function rgba(width: number, height: number, color: (x: number, y: number) => Rgb): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([...color(x, y), 255], (y * width + x) * 4);
  }
  return data;
}

function writeImage(file: string, bytes: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

function writePng(file: string, width: number, height: number, color: (x: number, y: number) => Rgb): void {
  const png = new PNG({ width, height });
  png.data = rgba(width, height, color);
  writeImage(file, PNG.sync.write(png));
}

function writeJpeg(file: string, width: number, height: number, color: Rgb): void {
  writeImage(file, jpeg.encode({ width, height, data: rgba(width, height, () => color) }, 100).data);
}

/**
 * cats: a red PNG and, one folder down, a blue JPEG; dogs: a green PNG and a PNG cut short; empty: no images;
 * and a text file beside the class folders.
 */
function petsFolder(): string {
  const dir = join(freshDir(), 'pets');
  writePng(join(dir, 'cats', 'red.png'), 2, 2, () => [255, 0, 0]);
  writeJpeg(join(dir, 'cats', 'more', 'blue.jpg'), 8, 8, [0, 0, 255]);
  writePng(join(dir, 'dogs', 'green.png'), 2, 2, () => [0, 255, 0]);
  const whole = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: rgba(2, 2, () => [1, 2, 3]) }));
  writeImage(join(dir, 'dogs', 'broken.png'), whole.subarray(0, whole.length - 20));
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'README.txt'), 'not an image');
  return dir;
}

/** Example i's pixels. */
const example = (images: Uint8Array | Float32Array, i: number, size: number) => Array.from(images.subarray(i * size, (i + 1) * size));

test('image-folder: the classes are the subfolders with images, sorted; PNG and JPEG decode to RGB; a corrupt file is skipped', () => {
  const dir = petsFolder();
  const ds = loadImageFolder(dir, [2, 2, 3]);
  assert.equal(ds.name, 'pets');
  assert.equal(ds.classes, 2);
  assert.equal(ds.count, 3);
  assert.deepEqual(ds.shape, [2, 2, 3]);
  assert.equal(ds.pixelScale, 255);
  assert.ok(ds.images instanceof Uint8Array);
  // Sorted files within a class: more/blue.jpg before red.png.
  assert.deepEqual(Array.from(ds.labels), [0, 0, 1]);
  const blue = example(ds.images, 0, 12);
  // JPEG is lossy even at quality 100: within a few levels.
  for (let p = 0; p < 4; p++) {
    assert.ok(blue[3 * p] <= 3 && blue[3 * p + 1] <= 3 && blue[3 * p + 2] >= 252, `blue pixel ${p}: ${blue.slice(3 * p, 3 * p + 3)}`);
  }
  assert.deepEqual(example(ds.images, 1, 12), [255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]);
  assert.deepEqual(example(ds.images, 2, 12), [0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0]);
  assert.equal(ds.notes?.length, 1);
  assert.match(ds.notes![0], /^1 of 4 image files in .*pets could not be decoded and were skipped: /);
  assert.ok(ds.notes![0].includes(join(dir, 'dogs', 'broken.png')), ds.notes![0]);
});

test('image-folder: channels 1 makes the images grey by the ITU-R 601 luma weights', () => {
  const ds = loadImageFolder(petsFolder(), [2, 2, 1]);
  assert.deepEqual(example(ds.images, 1, 4), [76, 76, 76, 76]);
  assert.deepEqual(example(ds.images, 2, 4), [150, 150, 150, 150]);
});

test('image-folder: images are resized bilinearly with half-pixel centres, down and up', () => {
  const dir = join(freshDir(), 'ramps');
  const grey = (values: number[]) => (x: number) => [values[x], values[x], values[x]] as Rgb;
  writePng(join(dir, 'a', 'wide.png'), 4, 1, grey([0, 100, 200, 255]));
  writePng(join(dir, 'b', 'narrow.png'), 2, 1, grey([0, 255]));
  const down = loadImageFolder(dir, [1, 2, 1]);
  // Sampled at x = 0.5 and 2.5 of the 4-pixel row.
  assert.deepEqual(example(down.images, 0, 2), [50, 228]);
  const up = loadImageFolder(dir, [1, 4, 1]);
  // Sampled at x = 0 (clamped from -0.25), 0.25, 0.75 and 1 (clamped from 1.25) of the 2-pixel row.
  assert.deepEqual(example(up.images, 1, 4), [0, 64, 191, 255]);
  assert.deepEqual(example(up.images, 0, 4), [0, 100, 200, 255]);
});

test('image-folder: a folder without images, with one class, a file for a folder, or no image decodable is refused, naming it', () => {
  const assertRefused = (path: string, problem: RegExp) =>
    assert.throws(
      () => loadImageFolder(path, [2, 2, 3]),
      (error: unknown) => error instanceof DatasetError && error.message.startsWith(path) && problem.test(error.message),
    );
  const empty = freshDir();
  mkdirSync(join(empty, 'cats'));
  writeFileSync(join(empty, 'cats', 'notes.txt'), 'x');
  assertRefused(empty, /holds no PNG or JPEG images in subfolders \(1 subfolders\)/);

  const single = freshDir();
  writePng(join(single, 'cats', 'red.png'), 1, 1, () => [255, 0, 0]);
  assertRefused(single, /only the subfolder cats holds images: a classifier needs at least two classes/);

  assertRefused(join(single, 'cats', 'red.png'), /is a file; expected a folder/);

  const garbage = freshDir();
  writeImage(join(garbage, 'a', 'x.png'), Buffer.from('not a png'));
  writeImage(join(garbage, 'b', 'y.jpg'), Buffer.from('not a jpeg'));
  assertRefused(garbage, /none of its 2 image files could be decoded, the first: .*x\.png \(neither a PNG nor a JPEG/);

  assert.throws(() => loadImageFolder(single, [2, 2, 2]), /channels 1 \(grey\) or 3 \(colour\)/);
});

test('image-folder: loaded through its kind, decoded once into .nas-studio/datasets beside the search file, then read back', async () => {
  const baseDir = freshDir();
  const dir = petsFolder();
  const config = { kind: 'image-folder' as const, path: dir, image_shape: [2, 2, 3] as [number, number, number] };
  const splits = { validation_split: 0.2, test_split: 0.1, seed: 1 };
  const red = join(dir, 'cats', 'red.png');
  // A whole second, which utimes sets back exactly.
  const mtime = new Date('2026-01-01T00:00:00Z');
  utimesSync(red, mtime, mtime);
  const first = await loadDataset({ ...config, ...splits }, baseDir);
  const cacheDir = join(baseDir, '.nas-studio', 'datasets');
  assert.equal(readdirSync(cacheDir).filter((name) => name.startsWith('image-folder-')).length, 1);

  // Garbage of the same size and mtime in place of red.png: a decode would skip it, the cache still holds it.
  const { size } = statSync(red);
  writeFileSync(red, Buffer.alloc(size, 7));
  utimesSync(red, mtime, mtime);
  const second = await loadDataset({ ...config, ...splits }, baseDir);
  assert.equal(second.count, 3);
  assert.deepEqual(Array.from(second.images), Array.from(first.images));
  assert.deepEqual(Array.from(second.labels), Array.from(first.labels));
  assert.deepEqual(second.notes, first.notes);

  // Another image_shape is another cache file.
  assert.equal((await loadDataset({ ...config, image_shape: [1, 1, 1], ...splits }, baseDir)).count, 2);
  assert.equal(readdirSync(cacheDir).filter((name) => name.startsWith('image-folder-')).length, 2);
});

test("image-folder: the skipped files reach the run's log once, from the first trainer of the pool", async () => {
  const dir = petsFolder();
  for (let i = 0; i < 4; i++) {
    writePng(join(dir, 'cats', `cat-${i}.png`), 2, 2, () => [200, 10 * i, 0]);
    writePng(join(dir, 'dogs', `dog-${i}.png`), 2, 2, () => [0, 200, 10 * i]);
  }
  const config = parseSearchText(tinySearchText(), 'tiny.nas.yaml').config!;
  const dataset = { kind: 'image-folder' as const, path: dir, image_shape: [2, 2, 3] as [number, number, number] };
  const logged: string[] = [];
  const setup = { backend: 'cpu' as const, dataset: { ...dataset, validation_split: 0.2, test_split: 0.2, seed: 1 }, baseDir: freshDir() };
  const pool = await TrainerPool.start(setup, trainingSetup(config).evaluation, (message) => logged.push(message));
  await pool.close();
  const notes = logged.filter((message) => message.includes('could not be decoded'));
  assert.equal(notes.length, 1, logged.join('\n'));
  assert.ok(notes[0].includes(join(dir, 'dogs', 'broken.png')), notes[0]);
});
