// CSV images: one example per line, H*W*C pixel values in HWC order, then an integer label.

import { basename } from 'node:path';
import { cachedDataset } from './cache.ts';
import { DatasetError, type ImageDataset } from './dataset.ts';
import { readDataFile } from './files.ts';

/**
 * Load a CSV (optionally gzipped) data set; pixels are divided by `pixelScale`, an optional header line is
 * skipped. With `cacheDir`, through the decoded cache (cache.ts).
 */
export function loadCsv(path: string, imageShape: [number, number, number], pixelScale: number, cacheDir?: string): ImageDataset {
  const source = { kind: 'csv', settings: { path, imageShape, pixelScale }, files: [path] };
  return cachedDataset(cacheDir, source, () => decodeCsv(path, imageShape, pixelScale));
}

function decodeCsv(path: string, imageShape: [number, number, number], pixelScale: number): ImageDataset {
  if (imageShape.length !== 3 || !imageShape.every((size) => Number.isInteger(size) && size > 0)) {
    throw new DatasetError(path, `image_shape [${imageShape.join(', ')}] must be three positive integers [height, width, channels]`);
  }
  if (!(pixelScale > 0 && Number.isFinite(pixelScale))) {
    throw new DatasetError(path, `pixel_scale ${pixelScale} must be a positive number`);
  }
  const text = readDataFile(path).toString('utf8');
  const [height, width, channels] = imageShape;
  const imageSize = height * width * channels;
  const rowLength = imageSize + 1;
  const lines = text.split('\n');

  // Sized for every non-blank line an example; only a header line makes it one too many.
  const candidateRows = lines.filter((line) => line.trim() !== '').length;
  // Kept exact: as bytes (divided by pixelScale per batch) while every value is an integer 0..255, as
  // most CSV images are; from the first other value on, as floats already divided, since a byte cannot
  // hold it and float32 is what training computes in anyway.
  let bytes: Uint8Array | undefined = new Uint8Array(imageSize * candidateRows);
  let floats: Float32Array | undefined;
  const labels = new Int32Array(candidateRows);
  let count = 0;
  let maxLabel = -1;
  let sawFirstLine = false;
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = lines[lineIndex].trim();
    if (line === '') continue;
    const lineNumber = lineIndex + 1;
    const fields = line.split(',');
    if (!sawFirstLine) {
      sawFirstLine = true;
      if (!fields.every(isNumeric)) continue;
    }
    if (fields.length !== rowLength) {
      throw new DatasetError(
        path,
        `${fields.length} values, expected ${rowLength} (${height}x${width}x${channels} pixels, then the label)`,
        lineNumber,
      );
    }
    const offset = count * imageSize;
    for (let p = 0; p < imageSize; p++) {
      const value = isNumeric(fields[p]) ? Number(fields[p]) : NaN;
      if (Number.isNaN(value)) {
        throw new DatasetError(path, `value ${p + 1} ("${fields[p].trim()}") is not a number`, lineNumber);
      }
      if (value < 0 || value > pixelScale) {
        throw new DatasetError(path, `pixel value ${value} (value ${p + 1}) is outside 0..${pixelScale}, the pixel_scale`, lineNumber);
      }
      const at = offset + p;
      if (bytes && Number.isInteger(value) && value <= 255) {
        bytes[at] = value;
        continue;
      }
      if (bytes) {
        floats = new Float32Array(imageSize * candidateRows);
        for (let i = 0; i < at; i++) floats[i] = bytes[i] / pixelScale;
        bytes = undefined;
      }
      floats![at] = value / pixelScale;
    }
    const labelField = fields[imageSize].trim();
    const label = isNumeric(labelField) ? Number(labelField) : NaN;
    if (!Number.isInteger(label) || label < 0 || label > 0x7fffffff) {
      throw new DatasetError(path, `label "${labelField}" (the last value) is not a non-negative integer`, lineNumber);
    }
    labels[count] = label;
    maxLabel = Math.max(maxLabel, label);
    count++;
  }
  if (count === 0) {
    throw new DatasetError(path, sawFirstLine ? 'holds a header line but no examples' : 'is empty: no examples');
  }
  const images = bytes ?? floats!;
  return {
    name: basename(path).replace(/\.gz$/i, ''),
    images: count === candidateRows ? images : images.slice(0, count * imageSize),
    pixelScale: bytes ? pixelScale : 1,
    labels: count === candidateRows ? labels : labels.slice(0, count),
    shape: [height, width, channels],
    classes: maxLabel + 1,
    count,
  };
}

function isNumeric(field: string): boolean {
  return field.trim() !== '' && Number.isFinite(Number(field));
}
