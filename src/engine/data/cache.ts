// The decoded cache: the first load of a data set writes its decoded pixels and labels to one file, and
// every later load (the search's other trainers, the next search) reads that file back in one read
// instead of decoding again. Node has no mmap without a native module, so each trainer still holds its
// own copy of the pixels; keeping them as bytes (see ImageDataset) is what keeps that copy small.

import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from './dataset.ts';
import { statDataPath } from './files.ts';

/** Bumped whenever the file layout or a reader's decoding changes, so older cache files are not read. */
const FORMAT = 1;

/** What a reader decodes: its identity (kind and settings) and the files whose size and mtime say whether a cache file is current. */
export interface DatasetSource {
  kind: string;
  /** The reader's settings that change what it decodes: the resolved path, image_shape, pixel_scale. */
  settings: unknown;
  files: string[];
}

interface CacheHeader {
  format: number;
  name: string;
  shape: [number, number, number];
  classes: number;
  count: number;
  testCount?: number;
  pixelScale: number;
  pixels: 'uint8' | 'float32';
  notes?: string[];
}

/** The folder of decoded caches for the search files in `baseDir`: `.nas-studio/datasets` beside them, seen and deleted at will. */
export const datasetCacheDir = (baseDir: string) => join(baseDir, '.nas-studio', 'datasets');

/**
 * The data set from its cache file in `cacheDir` when that file is current, else decoded and written there.
 * A cache that cannot be written does not fail the load: the data set carries a note saying so. Without
 * `cacheDir` (a reader called directly, as the tests do) it only decodes.
 */
export function cachedDataset(cacheDir: string | undefined, source: DatasetSource, decode: () => ImageDataset): ImageDataset {
  if (cacheDir === undefined) return decode();
  const identity = digest({ format: FORMAT, kind: source.kind, settings: source.settings });
  const state = digest(
    source.files.map((file) => {
      const { size, mtimeMs } = statDataPath(file);
      return [file, size, mtimeMs];
    }),
  );
  // One file per source: the prefix names the source, the rest its files' state, so an outdated file is found and removed.
  const prefix = `${source.kind}-${identity}-`;
  const file = join(cacheDir, `${prefix}${state}.bin`);
  const cached = readCache(file);
  if (cached) return cached;
  const dataset = decode();
  try {
    writeCache(cacheDir, file, dataset);
    for (const name of readdirSync(cacheDir)) {
      if (!name.startsWith(prefix)) continue;
      const outdated = name.endsWith('.bin') && join(cacheDir, name) !== file;
      if (outdated || abandonedWrite(name)) rmSync(join(cacheDir, name), { force: true });
    }
  } catch (error) {
    const note = `the decoded cache ${file} could not be written (${(error as Error).message}); each load decodes the data set again`;
    return { ...dataset, notes: [...(dataset.notes ?? []), note] };
  }
  return dataset;
}

/**
 * A temporary file (`<file>.<pid>.tmp`) whose writer is gone: a trainer killed mid-write leaves one behind.
 * A live writer's is left alone, since its rename is still to come.
 */
function abandonedWrite(name: string): boolean {
  const writer = /\.(\d+)\.tmp$/.exec(name);
  if (!writer) return false;
  try {
    process.kill(Number(writer[1]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/**
 * Layout: the header's length (uint32), the header as JSON padded to a multiple of 4 bytes, the labels
 * (int32), then the pixels (uint8 or float32), in the machine's byte order: only this machine reads it.
 */
function writeCache(cacheDir: string, file: string, dataset: ImageDataset): void {
  const header: CacheHeader = {
    format: FORMAT,
    name: dataset.name,
    shape: dataset.shape,
    classes: dataset.classes,
    count: dataset.count,
    testCount: dataset.testCount,
    pixelScale: dataset.pixelScale,
    pixels: dataset.images instanceof Uint8Array ? 'uint8' : 'float32',
    notes: dataset.notes,
  };
  const json = Buffer.from(JSON.stringify(header));
  const padded = Buffer.alloc(Math.ceil((4 + json.length) / 4) * 4 - 4, ' ');
  json.copy(padded);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(padded.length);
  mkdirSync(cacheDir, { recursive: true });
  // Written under a temporary name and renamed: a reader never sees half a file, even with trainers loading at once.
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      for (const part of [length, padded, dataset.labels, dataset.images]) {
        writeSync(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      }
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** The cached data set, or undefined when the file is absent or not one this version wrote whole (then it is decoded and rewritten). */
function readCache(file: string): ImageDataset | undefined {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  try {
    const headerLength = bytes.readUInt32LE(0);
    const header = JSON.parse(bytes.toString('utf8', 4, 4 + headerLength)) as CacheHeader;
    const pixelCount = header.count * header.shape[0] * header.shape[1] * header.shape[2];
    const labelsAt = 4 + headerLength;
    const pixelsAt = labelsAt + 4 * header.count;
    const pixelBytes = header.pixels === 'uint8' ? pixelCount : 4 * pixelCount;
    if (header.format !== FORMAT || bytes.length !== pixelsAt + pixelBytes) return undefined;
    // Byte pixels are a view of the file's bytes, not a copy: a copy would add a whole data set to the
    // trainer's peak memory, and the split copies its parts out anyway. Labels and float pixels are copied,
    // since an int32 or float32 array must start at a multiple of 4 in its buffer.
    const slice = (from: number, to: number) => bytes.buffer.slice(bytes.byteOffset + from, bytes.byteOffset + to);
    const labels = new Int32Array(slice(labelsAt, pixelsAt));
    return {
      name: header.name,
      images: header.pixels === 'uint8' ? bytes.subarray(pixelsAt) : new Float32Array(slice(pixelsAt, bytes.length)),
      pixelScale: header.pixelScale,
      labels,
      shape: header.shape,
      classes: header.classes,
      count: header.count,
      ...(header.testCount === undefined ? {} : { testCount: header.testCount }),
      ...(header.notes === undefined ? {} : { notes: header.notes }),
    };
  } catch {
    return undefined;
  }
}
