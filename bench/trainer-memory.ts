// What a trainer process holds once set up with Fashion-MNIST: the data set loaded and split, as
// trainer-process.ts does, then the resident set size. Target (issue 16): under 300 MiB. Printed, not
// asserted; skipped with a message when the Debian package is absent (apt-get install dataset-fashion-mnist).
// The decoded cache goes to a folder under the OS temp dir: the first run decodes the IDX files and writes
// it, as a search's first trainer does; later runs read it, as the other trainers do.
// Usage: node --expose-gc --import tsx bench/trainer-memory.ts [wasm|cpu|tensorflow]
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '../src/space/config.ts';
import { selectBackend } from '../src/engine/backend.ts';
import { splitDataset } from '../src/engine/data/dataset.ts';
import { datasetCacheDir } from '../src/engine/data/cache.ts';
import { loadDataset } from '../src/engine/data/load.ts';
import { prepareTrainingData } from '../src/engine/evaluators/train-from-scratch.ts';

const PATH = '/usr/share/datasets/fashion-mnist';
/** The search-file folder the bench pretends to be in: its decoded cache lives under it. */
const BASE_DIR = join(tmpdir(), 'nas-studio-bench-memory');
const TARGET_MIB = 300;
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);

async function main(): Promise<void> {
  if (!existsSync(PATH)) {
    console.log(`trainer memory: skipped, ${PATH} is absent (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const backend = await selectBackend((process.argv[2] ?? 'wasm') as BackendChoice);
  const empty = process.memoryUsage().rss;
  const dataset = { kind: 'mnist' as const, path: PATH, validation_split: 0.1, test_split: 0.1, seed: 1 };
  const fromCache = existsSync(datasetCacheDir(BASE_DIR));
  const data = prepareTrainingData(splitDataset(await loadDataset(dataset, BASE_DIR), dataset));
  (globalThis as { gc?: () => void }).gc?.();
  const { rss, heapUsed, external } = process.memoryUsage();
  console.log(
    `trainer memory, Fashion-MNIST on ${backend.name}, ${fromCache ? 'read from' : 'decoded, writing'} the cache in ` +
      `${datasetCacheDir(BASE_DIR)}: ${mib(rss)} MiB resident, ${rss < TARGET_MIB * 2 ** 20 ? 'under' : 'OVER'} the ` +
      `${TARGET_MIB} MiB target (${mib(empty)} MiB ` +
      `before the data; heap ${mib(heapUsed)} MiB, external ${mib(external)} MiB), ` +
      `${data.train.count}/${data.validation.count}/${data.test.count} train/validation/test examples, ${tf.memory().numTensors} tensors`,
  );
}

void main();
