// Your own images in a folder, one subfolder of PNG or JPEG files per class, resized to image_shape.

import type { DatasetSplits } from '../../config.ts';
import type { ImageDatasetKind } from '../kind-module.ts';
import { kindDescription, type RuleContext } from '../rule-context.ts';
import { DATASET_PATH, existingDatasetPath } from './dataset-path.ts';
import { splitRules } from './splits.ts';

export type ImageFolderDatasetConfig = { kind: 'image-folder'; path: string; image_shape: [number, number, number] } & DatasetSplits;

export const imageFolderDataset: ImageDatasetKind<ImageFolderDatasetConfig> = {
  kind: 'image-folder',
  modality: 'image',
  get description() {
    return kindDescription('dataset', 'image-folder');
  },
  load: async (dataset, resolvePath, cacheDir) =>
    (await import('../../../engine/data/image-folder.ts')).loadImageFolder(resolvePath(dataset.path), dataset.image_shape, cacheDir),
  check(dataset, context) {
    splitRules(dataset, context);
    channelsRule(dataset, context);
  },
  // The class count is the number of subfolders holding images, known only once the folder is read.
  imageShape: (dataset) => ({ shape: dataset.image_shape, classes: 10, classesKnown: false }),
  checkFiles(dataset, context, files) {
    const existing = existingDatasetPath(dataset.path, context, files);
    if (existing === undefined || existing.status.isDirectory) return;
    const message =
      `dataset.path: ${existing.fullPath} is a file (rule: path-kind); allowed: a folder with one subfolder of PNG or JPEG ` +
      `images per class`;
    context.report(DATASET_PATH, message, 'path-kind');
  },
};

/** The images are made grey or RGB: no other channel count. */
function channelsRule(dataset: ImageFolderDatasetConfig, context: RuleContext): void {
  const channels = dataset.image_shape[2];
  if (channels === 1 || channels === 3) return;
  const message = `dataset.image_shape: ${channels} channels (rule: image-channels); allowed: 1 (the images made grey) or 3 (colour, RGB)`;
  context.report(['dataset', 'image_shape'], message, 'image-channels');
}
