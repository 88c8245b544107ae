// The embedded default data set: 1,797 handwritten digits, 8x8, pixel values 0..16 (see data/digits/README.md).

import { dirname, join } from 'node:path';
import { loadCsv } from './csv.ts';
import { DatasetError, type ImageDataset } from './dataset.ts';
import { isFile } from './files.ts';

const DIGITS_FILE = join('data', 'digits', 'digits.csv.gz');

export function loadDigits(): ImageDataset {
  return { ...loadCsv(findDigitsFile(), [8, 8, 1], 16), name: 'digits' };
}

// Walking up finds the file both from src/engine/data (tests, tsx) and from the bundle in dist/.
function findDigitsFile(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, DIGITS_FILE);
    if (isFile(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new DatasetError(DIGITS_FILE, `the embedded data set is missing: not found in ${__dirname} or any directory above it`);
    }
  }
}
