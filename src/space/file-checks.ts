// What the data-set checks learn from the file system, cached by path, modification time and size:
// the editor parses on every keystroke, and an unchanged file need not be read again.

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { CsvRow, PathStatus } from './kinds/rule-context.ts';

// Enough for the first rows of a CSV of large images; longer first lines are left to the loader.
const CSV_HEADER_BYTES = 256 * 1024;
// A workspace names a handful of data sets; the bound only stops a long session from collecting stale ones.
const MAX_CACHED_FILES = 32;

interface CachedCsvRow {
  mtimeMs: number;
  size: number;
  row: CsvRow | undefined;
}

const csvRows = new Map<string, CachedCsvRow>();

/** Whether `fullPath` exists and what it is; its first CSV row is read only when asked for, and only once per version of the file. */
export function inspectPath(fullPath: string): PathStatus {
  let stats;
  try {
    stats = statSync(fullPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { found: false, reason: code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `cannot be opened (${code})` };
  }
  const { mtimeMs, size } = stats;
  return {
    found: true,
    isFile: stats.isFile(),
    isDirectory: stats.isDirectory(),
    size,
    firstCsvRow() {
      const cached = csvRows.get(fullPath);
      if (cached !== undefined && cached.mtimeMs === mtimeMs && cached.size === size) return cached.row;
      const row = readFirstCsvRow(fullPath);
      csvRows.delete(fullPath);
      if (csvRows.size >= MAX_CACHED_FILES) csvRows.delete(csvRows.keys().next().value!);
      csvRows.set(fullPath, { mtimeMs, size, row });
      return row;
    },
  };
}

/**
 * The number of values on the first data row of a CSV file, read the way the loader reads it: blank lines
 * skipped, a first line that is not all numbers taken for a header. Undefined when the file is gzip, cannot
 * be read, holds no row, or its first row does not fit in the bytes read: the loader then has the last word.
 */
function readFirstCsvRow(path: string): CsvRow | undefined {
  const bytes = Buffer.alloc(CSV_HEADER_BYTES);
  let length: number;
  try {
    const descriptor = openSync(path, 'r');
    try {
      length = readSync(descriptor, bytes, 0, bytes.length, 0);
    } finally {
      closeSync(descriptor);
    }
  } catch {
    return undefined;
  }
  if (length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return undefined;
  const lines = bytes.toString('utf8', 0, length).split('\n');
  // The last piece may be cut short, unless the whole file was read.
  if (length === bytes.length) lines.pop();
  const isNumeric = (field: string) => field.trim() !== '' && Number.isFinite(Number(field));
  let firstLineSeen = false;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(',');
    const isHeader = !firstLineSeen && !fields.every(isNumeric);
    firstLineSeen = true;
    if (isHeader) continue;
    return { line: index + 1, values: fields.length };
  }
  return undefined;
}
