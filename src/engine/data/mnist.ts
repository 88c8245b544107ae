// MNIST in IDX format: an images file (magic 2051) and a labels file (magic 2049) per part, each optionally gzipped.

import { join } from 'node:path';
import { cachedDataset } from './cache.ts';
import { DatasetError, type ImageDataset } from './dataset.ts';
import { isFile, readDataFile, statDataPath } from './files.ts';

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;
const IMAGES_HEADER_SIZE = 16;
const LABELS_HEADER_SIZE = 8;
const CLASSES = 10;
/** Train first, then the test part when present. */
const PARTS = ['train', 't10k'];

interface IdxImages {
  count: number;
  rows: number;
  columns: number;
  pixels: Uint8Array;
}

/** Load every part (train, t10k) found in the directory `path`; with `cacheDir`, through the decoded cache (cache.ts). */
export function loadMnist(path: string, cacheDir?: string): ImageDataset {
  const files = partFiles(path);
  const source = { kind: 'mnist', settings: { path }, files: files.flatMap(({ imagesFile, labelsFile }) => [imagesFile, labelsFile]) };
  return cachedDataset(cacheDir, source, () => decodeMnist(files));
}

/** The images and labels file of every part present, train first. */
function partFiles(path: string): { imagesFile: string; labelsFile: string }[] {
  if (!statDataPath(path).isDirectory()) {
    throw new DatasetError(path, 'is a file; expected the directory holding train-images-idx3-ubyte and train-labels-idx1-ubyte');
  }
  const files: { imagesFile: string; labelsFile: string }[] = [];
  for (const part of PARTS) {
    const imagesFile = findIdxFile(path, part, 'images', 'idx3');
    const labelsFile = findIdxFile(path, part, 'labels', 'idx1');
    if (!imagesFile) {
      if (!labelsFile) continue;
      throw new DatasetError(labelsFile, `its partner ${part}-images-idx3-ubyte (optionally .gz) is missing from ${path}`);
    }
    if (!labelsFile) throw new DatasetError(imagesFile, `its partner ${part}-labels-idx1-ubyte (optionally .gz) is missing from ${path}`);
    files.push({ imagesFile, labelsFile });
  }
  if (files.length === 0) {
    throw new DatasetError(
      path,
      'no MNIST files here: expected train-images-idx3-ubyte and train-labels-idx1-ubyte (optionally .gz), and t10k-* for the test part',
    );
  }
  return files;
}

function decodeMnist(files: { imagesFile: string; labelsFile: string }[]): ImageDataset {
  const parts: { images: IdxImages; labels: Uint8Array }[] = [];
  for (const { imagesFile, labelsFile } of files) {
    const images = readIdxImages(imagesFile);
    const labels = readIdxLabels(labelsFile);
    if (labels.length !== images.count) {
      throw new DatasetError(labelsFile, `holds ${labels.length} labels but ${imagesFile} holds ${images.count} images`);
    }
    const first = parts[0]?.images;
    if (first && (first.rows !== images.rows || first.columns !== images.columns)) {
      throw new DatasetError(
        imagesFile,
        `images are ${images.rows}x${images.columns} but the train images are ${first.rows}x${first.columns}`,
      );
    }
    parts.push({ images, labels });
  }
  const { rows, columns } = parts[0].images;
  const imageSize = rows * columns;
  const count = parts.reduce((sum, { labels }) => sum + labels.length, 0);
  const images = new Uint8Array(count * imageSize);
  const labels = new Int32Array(count);
  let offset = 0;
  for (const part of parts) {
    images.set(part.images.pixels, offset * imageSize);
    labels.set(part.labels, offset);
    offset += part.labels.length;
  }
  // With both parts, the t10k part (last) is the archive's own test set.
  const testCount = parts.length === 2 ? parts[1].labels.length : undefined;
  return { name: 'mnist', images, pixelScale: 255, labels, shape: [rows, columns, 1], classes: CLASSES, count, testCount };
}

/** Accepts the official names (train-images-idx3-ubyte) and the common variant (train-images.idx3-ubyte), each with or without .gz. */
function findIdxFile(dir: string, part: string, kind: string, dimensions: string): string | undefined {
  for (const separator of ['-', '.']) {
    for (const suffix of ['', '.gz']) {
      const file = join(dir, `${part}-${kind}${separator}${dimensions}-ubyte${suffix}`);
      if (isFile(file)) return file;
    }
  }
  return undefined;
}

function readIdxImages(file: string): IdxImages {
  const bytes = readIdxFile(file, IMAGES_MAGIC, IMAGES_HEADER_SIZE, 'images');
  const count = bytes.readUInt32BE(4);
  const rows = bytes.readUInt32BE(8);
  const columns = bytes.readUInt32BE(12);
  checkSize(file, bytes.length, IMAGES_HEADER_SIZE + count * rows * columns, `${count} images of ${rows}x${columns}`);
  if (count === 0 || rows === 0 || columns === 0) {
    throw new DatasetError(file, `holds no pixels: the header says ${count} images of ${rows}x${columns}`);
  }
  return { count, rows, columns, pixels: bytes.subarray(IMAGES_HEADER_SIZE) };
}

function readIdxLabels(file: string): Uint8Array {
  const bytes = readIdxFile(file, LABELS_MAGIC, LABELS_HEADER_SIZE, 'labels');
  const count = bytes.readUInt32BE(4);
  checkSize(file, bytes.length, LABELS_HEADER_SIZE + count, `${count} labels`);
  const labels = bytes.subarray(LABELS_HEADER_SIZE);
  const outOfRange = labels.findIndex((label) => label >= CLASSES);
  if (outOfRange >= 0) {
    throw new DatasetError(file, `label ${labels[outOfRange]} at item ${outOfRange + 1} is out of range 0..${CLASSES - 1}`);
  }
  return labels;
}

/** The file's bytes once its magic number and header length are checked (magic first: it says best what a wrong file is). */
function readIdxFile(file: string, expectedMagic: number, headerSize: number, kind: string): Buffer {
  const bytes = readDataFile(file);
  if (bytes.length >= 4) checkMagic(file, bytes.readUInt32BE(0), expectedMagic, `an IDX ${kind} file`);
  if (bytes.length < headerSize) {
    throw new DatasetError(file, `truncated: ${bytes.length} bytes, shorter than the ${headerSize}-byte IDX ${kind} header`);
  }
  return bytes;
}

function checkMagic(file: string, magic: number, expected: number, kind: string): void {
  if (magic === expected) return;
  const swapped =
    magic === IMAGES_MAGIC || magic === LABELS_MAGIC
      ? ` (${magic} marks ${magic === IMAGES_MAGIC ? 'an images' : 'a labels'} file: are the files swapped?)`
      : '';
  throw new DatasetError(file, `bad magic number ${magic}, expected ${expected} for ${kind}${swapped}`);
}

function checkSize(file: string, actual: number, expected: number, contents: string): void {
  if (actual < expected) {
    throw new DatasetError(file, `truncated: the header promises ${contents} (${expected} bytes) but the file has ${actual} bytes`);
  }
  if (actual > expected) {
    throw new DatasetError(file, `${actual - expected} unexpected bytes after the ${contents} the header promises`);
  }
}
