// The embedded default data set: 1,797 handwritten digits, 8x8, pixel values 0..16 (see data/digits/README.md).

import { join } from 'node:path';
import { loadCsv } from './csv.ts';
import type { ImageDataset } from './dataset.ts';
import { findShippedFile } from './files.ts';

export function loadDigits(): ImageDataset {
  return { ...loadCsv(findShippedFile(join('data', 'digits', 'digits.csv.gz')), [8, 8, 1], 16), name: 'digits' };
}
