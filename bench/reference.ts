// The trainer checked against a reference (issue 16): the same child and recipe trained by the project's
// trainer (tfjs on wasm) and by PyTorch (bench/reference_torch.py, on Debian's python3-torch), on the same
// split, and their final validation accuracies side by side. The draws differ (initial weights, minibatch
// order, augmentation); the accuracies must agree within TOLERANCE_POINTS.
//   npm run bench:reference

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../src/engine/backend.ts';
import { splitDataset, type ImageDataset } from '../src/engine/data/dataset.ts';
import { loadDigits } from '../src/engine/data/digits.ts';
import { loadMnist } from '../src/engine/data/mnist.ts';
import { prepareTrainingData, trainFromScratch } from '../src/engine/evaluators/train-from-scratch.ts';
import { buildModel } from '../src/engine/model/build.ts';
import type { CellSpaceConfig, DatasetSplits, MacroSpaceConfig, SpaceConfig, TrainEvaluationConfig } from '../src/space/config.ts';
import type { ArchitectureGraph } from '../src/space/graph.ts';
import { describeModel } from './training-nets.ts';
import { CELL_SPACE as BENCH_CELL_SPACE, MACRO_SPACE as BENCH_MACRO_SPACE } from './training-nets.ts';

/** Debian's python3-torch is installed for the system interpreter, which need not be the python3 on PATH. */
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(__dirname, 'reference_torch.py');
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const TOLERANCE_POINTS = 1.5;
const SEED = 1;

const RECIPE_DEFAULTS: TrainEvaluationConfig = {
  kind: 'train',
  epochs: 1,
  batch_size: 64,
  optimizer: 'sgd',
  learning_rate: 0.05,
  reward_epochs: 1,
  nesterov: false,
  lr_schedule: 'constant',
  warmup_epochs: 0,
  weight_decay: 0,
  label_smoothing: 0,
  augment: { crop_padding: 0, horizontal_flip: false },
};

interface ReferenceCase {
  name: string;
  /** The data set, or why it cannot be loaded here. */
  load: () => ImageDataset | string;
  splits: DatasetSplits;
  space: SpaceConfig;
  graph: ArchitectureGraph;
  evaluation: TrainEvaluationConfig;
}

// The training bench's spaces, with batch norm; the cell narrow, so that both trainers finish in minutes on two shared cores.
const MACRO_SPACE: MacroSpaceConfig = { ...BENCH_MACRO_SPACE, batch_norm: true };
const CELL_SPACE: CellSpaceConfig = { ...BENCH_CELL_SPACE, filters: 8, batch_norm: true, head: 'gap' };

const macroLayer = (size: [number, number], filters: number, inputs: number[]) => ({
  filterHeight: size[0],
  filterWidth: size[1],
  filters,
  stride: 1,
  inputs,
});

const CASES: readonly ReferenceCase[] = [
  {
    name: 'digits, macro child with BN, flatten head',
    load: loadDigits,
    splits: { validation_split: 0.2, test_split: 0.1, seed: SEED },
    space: MACRO_SPACE,
    graph: {
      kind: 'macro',
      layers: [macroLayer([3, 3], 16, []), macroLayer([5, 5], 32, [0]), macroLayer([3, 5], 16, [0, 1]), macroLayer([3, 3], 32, [2])],
    },
    evaluation: { ...RECIPE_DEFAULTS, epochs: 10, batch_size: 32, optimizer: 'adam', learning_rate: 0.001 },
  },
  {
    name: 'Fashion-MNIST, 3-node cell child with BN, GAP head',
    load: () =>
      existsSync(FASHION_MNIST) ? loadMnist(FASHION_MNIST) : `${FASHION_MNIST} is absent (apt-get install dataset-fashion-mnist)`,
    // A subset: the wasm trainer takes about 2 CPU-seconds per batch of this child.
    splits: { validation_split: 0.05, test_split: 0, seed: SEED, max_train_examples: 4000 },
    space: CELL_SPACE,
    graph: {
      kind: 'cell',
      normal: [
        { inputs: [0, 1], operations: ['sep_conv3x3', 'identity'] },
        { inputs: [1, 2], operations: ['conv3x3', 'avg_pool'] },
        { inputs: [0, 3], operations: ['max_pool', 'sep_conv5x5'] },
      ],
      reduction: [
        { inputs: [0, 1], operations: ['avg_pool', 'conv5x5'] },
        { inputs: [1, 2], operations: ['max_pool', 'sep_conv3x3'] },
        { inputs: [0, 2], operations: ['identity', 'conv3x3'] },
      ],
    },
    evaluation: {
      ...RECIPE_DEFAULTS,
      epochs: 3,
      batch_size: 64,
      optimizer: 'sgd',
      learning_rate: 0.05,
      nesterov: true,
      lr_schedule: 'cosine',
      warmup_epochs: 1,
      weight_decay: 3e-4,
      label_smoothing: 0.1,
      augment: { crop_padding: 2, horizontal_flip: true },
    },
  },
];

/** The part's pixels as float32 in [0, 1], HWC order: the one place that knows how ImageDataset stores them. */
function pixelsOf(part: ImageDataset): Float32Array {
  return Float32Array.from(part.images, (value) => value / part.pixelScale);
}

/** Writes the part for reference_torch.py and says where. */
function exportPart(part: ImageDataset, folder: string, name: string): { images: string; labels: string; count: number } {
  const images = join(folder, `${name}-images.f32`);
  const labels = join(folder, `${name}-labels.i32`);
  writeFileSync(images, pixelsOf(part));
  writeFileSync(labels, part.labels);
  return { images, labels, count: part.count };
}

interface Side {
  accuracy: number;
  seconds: number;
}

interface TorchAnswer {
  valAccuracy: number[];
  seconds: number;
  params: number;
}

/** Why PyTorch cannot run here, or undefined when it can. */
function torchMissing(): string | undefined {
  const check = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (check.status === 0) return undefined;
  const why = check.error?.message ?? check.stderr.trim().split('\n').at(-1);
  return `${PYTHON} does not import torch and numpy (${why}; apt-get install python3-torch)`;
}

async function runCase(reference: ReferenceCase, torchProblem: string | undefined): Promise<boolean> {
  console.log(`\n${reference.name}`);
  const dataset = reference.load();
  if (typeof dataset === 'string') {
    console.log(`  skipped: ${dataset}`);
    return true;
  }
  const split = splitDataset(dataset, reference.splits);
  const { evaluation } = reference;
  const { augment } = evaluation;
  console.log(
    `  ${split.train.count} training and ${split.validation.count} validation examples of ${split.train.shape.join('x')}; ` +
      `${evaluation.epochs} epochs of batch ${evaluation.batch_size}, ${evaluation.optimizer}${evaluation.nesterov ? ' (Nesterov)' : ''} ` +
      `at ${evaluation.learning_rate}, ${evaluation.lr_schedule} schedule, ${evaluation.warmup_epochs} warm-up epochs, ` +
      `weight decay ${evaluation.weight_decay}, label smoothing ${evaluation.label_smoothing}, ` +
      `crop padding ${augment.crop_padding}, flip ${augment.horizontal_flip ? 'on' : 'off'}; seed ${SEED}`,
  );
  const data = prepareTrainingData(split);
  const request = { graph: reference.graph, space: reference.space, evaluation, seed: SEED };
  const model = await buildModel(request.graph, request.space, { inputShape: data.shape, classes: data.classes, seed: SEED });
  const layers = describeModel(model);
  model.dispose();

  const trained = await trainFromScratch(
    request,
    data,
    // A progress line per epoch: the Fashion-MNIST side takes minutes.
    (m) => console.log(`  tfjs epoch ${m.epoch}: val_acc ${m.valAccuracy.toFixed(4)}, ${m.seconds.toFixed(1)} s`),
    () => false,
  );
  const tfjs: Side = { accuracy: trained.curve.at(-1)!.valAccuracy, seconds: trained.seconds };
  if (torchProblem !== undefined) {
    console.log(`  tfjs ${(tfjs.accuracy * 100).toFixed(2)}% in ${tfjs.seconds.toFixed(1)} s; PyTorch skipped: ${torchProblem}`);
    return true;
  }

  const folder = mkdtempSync(join(tmpdir(), 'nas-reference-'));
  let torch: TorchAnswer;
  try {
    const input = JSON.stringify({
      layers,
      inputShape: data.shape,
      classes: data.classes,
      seed: SEED,
      evaluation,
      train: exportPart(split.train, folder, 'train'),
      validation: exportPart(split.validation, folder, 'validation'),
    });
    const run = spawnSync(PYTHON, [TORCH_SCRIPT], { input, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    if (run.status !== 0 || !line.startsWith('{')) {
      console.log(`  PyTorch failed: ${run.stderr.trim().split('\n').slice(-3).join(' ')}`);
      return false;
    }
    torch = JSON.parse(line) as TorchAnswer;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  console.log(`  PyTorch per epoch: ${torch.valAccuracy.map((a) => a.toFixed(4)).join(' ')}`);
  // tfjs counts batch norm's running statistics among its parameters; PyTorch keeps them as buffers.
  console.log(`  parameters: tfjs ${trained.params} (with BN running statistics), PyTorch ${torch.params} (trainable)`);
  const torchSide: Side = { accuracy: torch.valAccuracy.at(-1)!, seconds: torch.seconds };
  const difference = (tfjs.accuracy - torchSide.accuracy) * 100;
  const agrees = Math.abs(difference) <= TOLERANCE_POINTS;
  console.log(
    `  validation accuracy: tfjs ${(tfjs.accuracy * 100).toFixed(2)}% (${tfjs.seconds.toFixed(1)} s), ` +
      `PyTorch ${(torchSide.accuracy * 100).toFixed(2)}% (${torchSide.seconds.toFixed(1)} s, one thread); ` +
      `difference ${difference >= 0 ? '+' : ''}${difference.toFixed(2)} points, ` +
      `tolerance ${TOLERANCE_POINTS}: ${agrees ? 'agrees' : 'DISAGREES'}`,
  );
  return agrees;
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm');
  const torchProblem = torchMissing();
  console.log(`tfjs backend: ${backend.name} (${backend.detail}); PyTorch: ${torchProblem ?? PYTHON}`);
  let allAgree = true;
  for (const reference of CASES) allAgree = (await runCase(reference, torchProblem)) && allAgree;
  if (!allAgree) process.exitCode = 1;
}

void main();
