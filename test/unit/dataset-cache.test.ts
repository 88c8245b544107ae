import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadCsv } from '../../src/engine/data/csv.ts';
import { loadMnist } from '../../src/engine/data/mnist.ts';
import { batchOf, rangeBatchOf } from '../../src/engine/evaluators/train-from-scratch.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const freshDir = freshDirs('nas-dataset-cache-');

/** An MNIST folder of `count` 1x1 images whose pixel is `pixel`, labels 0..; both files get the `mtime` given. */
function mnistFolder(dir: string, count: number, pixel: number, mtime = new Date()): void {
  const images = Buffer.alloc(16 + count);
  images.writeUInt32BE(2051, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(1, 8);
  images.writeUInt32BE(1, 12);
  images.fill(pixel, 16);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(2049, 0);
  labels.writeUInt32BE(count, 4);
  for (let i = 0; i < count; i++) labels[8 + i] = i % 10;
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
  for (const name of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte']) utimesSync(join(dir, name), mtime, mtime);
}

test('a batch of byte pixels holds exactly the floats a [0, 1] float store held, for every byte value', () => {
  const dir = freshDir();
  const values = Array.from({ length: 256 }, (_, i) => i);
  // One 16x16 grey image holding every byte value, as a CSV with pixel_scale 255.
  writeFileSync(join(dir, 'bytes.csv'), `${values.join(',')},1\n${values.reverse().join(',')},0\n`);
  const ds = loadCsv(join(dir, 'bytes.csv'), [16, 16, 1], 255);
  assert.ok(ds.images instanceof Uint8Array);
  const batch = batchOf(ds, Int32Array.from([1, 0]));
  const expected = Float32Array.from([...values, ...[...values].reverse()], (value) => value / 255);
  assert.deepEqual(batch.images.shape, [2, 16, 16, 1]);
  assert.deepEqual(batch.images.dataSync(), expected);
  assert.deepEqual(Array.from(batch.oneHot.dataSync()), [1, 0, 0, 1]);
  tf.dispose(batch);
});

test('a CSV whose values are not bytes keeps them exactly, as floats', () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'fractions.csv'), '0.3,1.5,0\n300,0,1\n');
  const ds = loadCsv(join(dir, 'fractions.csv'), [1, 2, 1], 300);
  assert.ok(ds.images instanceof Float32Array);
  const batch = rangeBatchOf(ds, 0, 2);
  assert.deepEqual(batch.images.dataSync(), Float32Array.from([0.3 / 300, 1.5 / 300, 1, 0]));
  tf.dispose(batch);
});

test('mnist: the first load writes one cache file, later loads read it, not the IDX files, and a changed file is decoded again', () => {
  const dir = freshDir();
  const cacheDir = join(dir, 'cache');
  // A whole second, which utimes sets back exactly.
  const mtime = new Date('2026-01-01T00:00:00Z');
  mnistFolder(dir, 12, 200, mtime);
  const first = loadMnist(dir, cacheDir);
  assert.deepEqual(readdirSync(cacheDir).length, 1);
  assert.ok(first.images.every((value) => value === 200));

  // Same size and mtime, other pixels: a load that read the IDX file would see 7s, the cache still says 200.
  mnistFolder(dir, 12, 7, mtime);
  const cached = loadMnist(dir, cacheDir);
  assert.deepEqual(Array.from(cached.images), Array.from(first.images));
  assert.deepEqual(Array.from(cached.labels), Array.from(first.labels));
  assert.deepEqual([cached.name, cached.shape, cached.classes, cached.count, cached.pixelScale], ['mnist', [1, 1, 1], 10, 12, 255]);
  assert.ok(cached.images instanceof Uint8Array);

  // A new mtime: decoded again, and the outdated cache file replaced.
  const later = new Date(mtime.getTime() + 60_000);
  utimesSync(join(dir, 'train-images-idx3-ubyte'), later, later);
  assert.ok(loadMnist(dir, cacheDir).images.every((value) => value === 7));
  assert.deepEqual(readdirSync(cacheDir).length, 1);
});

test('a cache that cannot be written leaves the data set loaded, with a note naming the cache file', () => {
  const dir = freshDir();
  mnistFolder(dir, 3, 1);
  // A file where the cache folder should be.
  const blocked = join(dir, 'blocked');
  writeFileSync(blocked, '');
  const ds = loadMnist(dir, blocked);
  assert.equal(ds.count, 3);
  assert.equal(ds.notes?.length, 1);
  assert.match(ds.notes![0], /decoded cache .*blocked.* could not be written/);
});

test('a rewrite removes the temporary file a killed trainer left, and keeps one whose writer still runs', () => {
  const dir = freshDir();
  const cacheDir = join(dir, 'cache');
  const mtime = new Date('2026-01-01T00:00:00Z');
  mnistFolder(dir, 4, 9, mtime);
  loadMnist(dir, cacheDir);
  const [cacheFile] = readdirSync(cacheDir);
  // A writer that has exited (its pid reaped) and this process, still running.
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  const abandoned = `${cacheFile}.${deadPid}.tmp`;
  const underWay = `${cacheFile}.${process.pid}.tmp`;
  for (const name of [abandoned, underWay]) writeFileSync(join(cacheDir, name), 'half a file');

  const later = new Date(mtime.getTime() + 60_000);
  utimesSync(join(dir, 'train-images-idx3-ubyte'), later, later);
  loadMnist(dir, cacheDir);
  const left = readdirSync(cacheDir);
  assert.ok(!left.includes(abandoned), `${abandoned} should be removed: ${left.join(', ')}`);
  assert.ok(left.includes(underWay), `${underWay} should stay: ${left.join(', ')}`);
  assert.equal(left.filter((name) => name.endsWith('.bin')).length, 1);
});
