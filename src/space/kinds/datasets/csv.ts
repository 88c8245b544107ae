// Your own images in a CSV file, one image per row: its first row must fit image_shape.

import type { DatasetSplits } from '../../config.ts';
import type { ImageDatasetKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';
import { DATASET_PATH, existingDatasetPath } from './dataset-path.ts';
import { splitRules } from './splits.ts';

export type CsvDatasetConfig = { kind: 'csv'; path: string; image_shape: [number, number, number]; pixel_scale: number } & DatasetSplits;

export const csvDataset: ImageDatasetKind<CsvDatasetConfig> = {
  kind: 'csv',
  modality: 'image',
  get description() {
    return kindDescription('dataset', 'csv');
  },
  load: async (dataset, resolvePath, cacheDir) =>
    (await import('../../../engine/data/csv.ts')).loadCsv(resolvePath(dataset.path), dataset.image_shape, dataset.pixel_scale, cacheDir),
  check: splitRules,
  imageShape: (dataset) => ({ shape: dataset.image_shape, classes: 10, classesKnown: false }),
  checkFiles(dataset, context, files) {
    const existing = existingDatasetPath(dataset.path, context, files);
    if (existing === undefined) return;
    if (!existing.status.isFile) {
      const message = `dataset.path: ${existing.fullPath} is a folder (rule: path-kind); allowed: a CSV file, one image per row`;
      context.report(DATASET_PATH, message, 'path-kind');
      return;
    }
    const row = existing.status.firstCsvRow();
    const [height, width, channels] = dataset.image_shape;
    const expected = height * width * channels + 1;
    if (row === undefined || row.values === expected) return;
    const pixels = row.values - 1;
    const allowed =
      pixels > 0 ? `an image_shape whose height × width × channels is ${pixels}` : 'rows of pixel values followed by the label';
    const message =
      `dataset.image_shape: [${height}, ${width}, ${channels}] needs ${expected} values ` +
      `per row (${expected - 1} pixels, then the label), but line ${row.line} of ${dataset.path} ` +
      `holds ${row.values} (rule: csv-columns); allowed: ${allowed}`;
    context.report(['dataset', 'image_shape'], message, 'csv-columns');
  },
};
