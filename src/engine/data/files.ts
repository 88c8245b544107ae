// Reading data files, with failures reported as DatasetErrors that name the file.

import { readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DatasetError } from './dataset.ts';

/**
 * The file's bytes, decompressed when they are gzip. Gzip is recognised by its magic bytes rather than
 * the `.gz` name, because browsers often unpack a download and keep the name (a known MNIST pitfall).
 */
export function readDataFile(file: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DatasetError(file, describeFsError(error));
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return gunzipSync(bytes);
    } catch (error) {
      throw new DatasetError(file, `the gzip data is truncated or corrupt (${(error as Error).message})`);
    }
  }
  return bytes;
}

/** The path's stats; a DatasetError when it does not exist or cannot be read. */
export function statDataPath(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    throw new DatasetError(path, describeFsError(error));
  }
}

export function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * A file shipped with NAS Studio under `data/` (path relative to the repository or package root).
 * Walking up finds it both from src/engine/data (tests, tsx) and from the bundle in dist/.
 */
export function findShippedFile(relativePath: string): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (isFile(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new DatasetError(
        relativePath,
        `a file shipped with NAS Studio is missing: not found in ${__dirname} or any directory above it`,
      );
    }
  }
}

function describeFsError(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'not found';
    case 'EISDIR':
      return 'is a directory; a file was expected';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return `cannot be read (${(error as Error).message})`;
  }
}
