// A folder of images, one subfolder per class (as Keras' image_dataset_from_directory and torchvision's
// ImageFolder read it): PNG and JPEG files, decoded with the pure-JavaScript pngjs and jpeg-js (no native
// module), made grey or RGB and resized to image_shape.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { cachedDataset } from './cache.ts';
import { DatasetError, type ImageDataset } from './dataset.ts';
import { statDataPath } from './files.ts';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];
const JPEG_SIGNATURE = [0xff, 0xd8];
/** How many undecodable files the notes name one by one; the rest are counted. */
const NAMED_SKIPS = 10;

interface ClassFiles {
  name: string;
  files: string[];
}

/**
 * Load the folder `path`: its subfolders holding PNG or JPEG files are the classes, in sorted order; each
 * class's files (in its subfolders too) are its examples. With `cacheDir`, through the decoded cache (cache.ts).
 */
export function loadImageFolder(path: string, imageShape: [number, number, number], cacheDir?: string): ImageDataset {
  if (imageShape.length !== 3 || !imageShape.every((size) => Number.isInteger(size) && size > 0) || ![1, 3].includes(imageShape[2])) {
    throw new DatasetError(
      path,
      `image_shape [${imageShape.join(', ')}] must be [height, width, channels] with channels 1 (grey) or 3 (colour)`,
    );
  }
  const classes = classFiles(path);
  const source = { kind: 'image-folder', settings: { path, imageShape }, files: classes.flatMap((c) => c.files) };
  return cachedDataset(cacheDir, source, () => decodeFolder(path, classes, imageShape));
}

function classFiles(path: string): ClassFiles[] {
  if (!statDataPath(path).isDirectory()) {
    throw new DatasetError(path, 'is a file; expected a folder with one subfolder of PNG or JPEG images per class');
  }
  const subfolders = readdirSync(path, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const classes = subfolders
    .map((name) => ({ name, files: imageFiles(join(path, name)) }))
    .filter((candidate) => candidate.files.length > 0);
  if (classes.length === 0) {
    throw new DatasetError(
      path,
      `holds no PNG or JPEG images in subfolders (${subfolders.length} subfolders); expected one subfolder of images per class`,
    );
  }
  if (classes.length === 1) {
    throw new DatasetError(
      path,
      `only the subfolder ${classes[0].name} holds images: a classifier needs at least two classes, one subfolder of images each`,
    );
  }
  return classes;
}

/** The PNG and JPEG files (by name) under `dir`, at any depth, sorted. */
function imageFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()))
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile())
    .sort();
}

function decodeFolder(path: string, classes: ClassFiles[], imageShape: [number, number, number]): ImageDataset {
  const [height, width, channels] = imageShape;
  const imageSize = height * width * channels;
  const total = classes.reduce((sum, { files }) => sum + files.length, 0);
  const images = new Uint8Array(total * imageSize);
  const labels = new Int32Array(total);
  const skipped: string[] = [];
  let count = 0;
  classes.forEach(({ files }, label) => {
    for (const file of files) {
      let decoded: RgbaImage;
      try {
        decoded = decodeImage(readFileSync(file));
      } catch (error) {
        skipped.push(`${file} (${(error as Error).message})`);
        continue;
      }
      resizeBilinear(toChannels(decoded, channels), decoded.height, decoded.width, channels, height, width, images, count * imageSize);
      labels[count++] = label;
    }
  });
  if (count === 0) {
    throw new DatasetError(path, `none of its ${total} image files could be decoded, the first: ${skipped[0]}`);
  }
  const notes =
    skipped.length === 0
      ? undefined
      : [
          `${skipped.length} of ${total} image files in ${path} could not be decoded and were skipped: ` +
            skipped.slice(0, NAMED_SKIPS).join('; ') +
            (skipped.length > NAMED_SKIPS ? `; and ${skipped.length - NAMED_SKIPS} more` : ''),
        ];
  return {
    name: basename(path),
    images: count === total ? images : images.slice(0, count * imageSize),
    pixelScale: 255,
    labels: count === total ? labels : labels.slice(0, count),
    shape: [height, width, channels],
    classes: classes.length,
    count,
    ...(notes ? { notes } : {}),
  };
}

interface RgbaImage {
  width: number;
  height: number;
  /** width*height*4 bytes, red, green, blue, alpha. */
  data: Uint8Array;
}

/** PNG or JPEG by the file's first bytes, not its name: a misnamed file still decodes. */
function decodeImage(bytes: Buffer): RgbaImage {
  const startsWith = (signature: number[]) => signature.every((byte, i) => bytes[i] === byte);
  if (startsWith(PNG_SIGNATURE)) return PNG.sync.read(bytes);
  if (startsWith(JPEG_SIGNATURE)) return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  throw new Error('neither a PNG nor a JPEG file (its first bytes are no PNG or JPEG signature)');
}

/** The image's pixels with `channels` values each: RGB, or grey by the ITU-R 601 luma weights (as PIL's convert('L')). Alpha is dropped. */
function toChannels(image: RgbaImage, channels: number): Uint8Array {
  const pixels = image.width * image.height;
  const out = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    const [red, green, blue] = [image.data[4 * p], image.data[4 * p + 1], image.data[4 * p + 2]];
    if (channels === 1) out[p] = Math.round(0.299 * red + 0.587 * green + 0.114 * blue);
    else out.set([red, green, blue], 3 * p);
  }
  return out;
}

/**
 * Bilinear resampling with half-pixel centres, as tf.image.resize (and so Keras' image_dataset_from_directory)
 * does by default; the same size copies the pixels exactly. Writes HWC bytes into `out` from `offset`.
 */
function resizeBilinear(
  source: Uint8Array,
  inHeight: number,
  inWidth: number,
  channels: number,
  outHeight: number,
  outWidth: number,
  out: Uint8Array,
  offset: number,
): void {
  const sample = (outIndex: number, outSize: number, inSize: number) => {
    const at = Math.min(Math.max(((outIndex + 0.5) * inSize) / outSize - 0.5, 0), inSize - 1);
    const low = Math.floor(at);
    return { low, high: Math.min(low + 1, inSize - 1), fraction: at - low };
  };
  const columns = Array.from({ length: outWidth }, (_, x) => sample(x, outWidth, inWidth));
  for (let y = 0; y < outHeight; y++) {
    const row = sample(y, outHeight, inHeight);
    for (let x = 0; x < outWidth; x++) {
      const column = columns[x];
      for (let c = 0; c < channels; c++) {
        const at = (sy: number, sx: number) => source[(sy * inWidth + sx) * channels + c];
        const top = at(row.low, column.low) + (at(row.low, column.high) - at(row.low, column.low)) * column.fraction;
        const bottom = at(row.high, column.low) + (at(row.high, column.high) - at(row.high, column.low)) * column.fraction;
        out[offset + (y * outWidth + x) * channels + c] = Math.round(top + (bottom - top) * row.fraction);
      }
    }
  }
}
