// The trainer checked against a reference (issue 16): the same child and recipe trained by the project's
// trainer (tfjs on wasm) and by PyTorch (bench/reference_torch.py, on Debian's python3-torch), on the same
// split, and their final validation accuracies side by side. The draws differ (initial weights, minibatch
// order, augmentation) and move a short run's accuracy by a point or more, so each side trains once per
// seed and their mean accuracies must agree within TOLERANCE_POINTS. First, both take one batch from the
// trainer's own initial weights, and their gradients must agree: that check is exact where accuracies are not.
//   npm run bench:reference -- [--seeds N]   (seeds 1..N, default 2)

import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/engine/backend.ts';
import { splitDataset, type DatasetSplit, type ImageDataset } from '../src/engine/data/dataset.ts';
import { loadDigits } from '../src/engine/data/digits.ts';
import { loadMnist } from '../src/engine/data/mnist.ts';
import {
  prepareTrainingData,
  rangeBatchOf,
  trainFromScratch,
  trainingGradients,
  type TrainingData,
} from '../src/engine/evaluators/train-from-scratch.ts';
import { buildModel } from '../src/engine/model/build.ts';
import type { CellSpaceConfig, DatasetSplits, MacroSpaceConfig, SpaceConfig, TrainEvaluationConfig } from '../src/space/config.ts';
import type { ArchitectureGraph } from '../src/space/graph.ts';
import { describeModel, type LayerSpec } from './training-nets.ts';
import { CELL_SPACE as BENCH_CELL_SPACE, MACRO_SPACE as BENCH_MACRO_SPACE } from './training-nets.ts';

/** Debian's python3-torch is installed for the system interpreter, which need not be the python3 on PATH. */
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(__dirname, 'reference_torch.py');
const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';
const TOLERANCE_POINTS = 1.5;
/**
 * From the same weights, one batch's gradients agree to float rounding (at most 1.4e-4 of a weight's
 * largest was measured); the average pool gradient tfjs divided wrongly at the border was off by 12%.
 */
const SAME_START_TOLERANCE = 1e-3;
/** The split's seed, the same for every training seed: what varies between seeds is the training's draws. */
const SPLIT_SEED = 1;
const DEFAULT_SEEDS = 2;

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
  bptt: 35,
  clip_norm: 0.25,
  dropout: 0,
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
    splits: { validation_split: 0.2, test_split: 0.1, seed: SPLIT_SEED },
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
    splits: { validation_split: 0.05, test_split: 0, seed: SPLIT_SEED, max_train_examples: 4000 },
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

/** Runs reference_torch.py on `spec`, and parses its answer or says why it failed. */
function runTorch<Answer>(spec: object): Answer | string {
  const run = spawnSync(PYTHON, [TORCH_SCRIPT], { input: JSON.stringify(spec), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  if (run.status !== 0 || !line.startsWith('{')) return run.stderr.trim().split('\n').slice(-3).join(' ');
  return JSON.parse(line) as Answer;
}

interface SameStartAnswer {
  loss: number;
  /** The largest difference of a gradient value, relative to the largest value of its weight's PyTorch gradient. */
  worst: number;
  weight: string;
}

/**
 * The first training batch (without augmentation) from the same initial weights in both trainers: their
 * losses and gradients must agree, so that a wrong gradient shows here rather than as a point or two of
 * accuracy among the seeds' draws.
 */
function compareSameStart(model: tf.LayersModel, reference: ReferenceCase, data: TrainingData, layers: LayerSpec[]): boolean {
  const { evaluation } = reference;
  // Read before the step: a training-mode pass moves batch norm's running statistics.
  const initial = model.layers.flatMap((layer) =>
    layer.weights.map((weight) => ({
      layer: layer.name,
      weight: weight.originalName.split('/').at(-1)!,
      shape: weight.shape,
      values: Array.from(weight.read().dataSync()),
      variable: (weight.read() as tf.Variable).name,
    })),
  );
  const { images, oneHot } = rangeBatchOf(data.train, 0, Math.min(evaluation.batch_size, data.train.count));
  const trainable = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const { loss, grads, hits } = trainingGradients(model, trainable, images, oneHot, evaluation.label_smoothing);
  const weights = initial.map(({ variable, ...entry }) =>
    grads[variable] === undefined ? entry : { ...entry, gradient: Array.from(grads[variable].dataSync()) },
  );
  const spec = {
    layers,
    inputShape: data.shape,
    classes: data.classes,
    evaluation,
    sameStart: { weights, images: Array.from(images.dataSync()), labels: Array.from(tf.argMax(oneHot, 1).dataSync()) },
  };
  const tfjsLoss = loss.dataSync()[0];
  tf.dispose([images, oneHot, loss, hits, ...Object.values(grads)]);
  const answer = runTorch<SameStartAnswer>(spec);
  if (typeof answer === 'string') {
    console.log(`  PyTorch failed: ${answer}`);
    return false;
  }
  const agrees = answer.worst <= SAME_START_TOLERANCE;
  console.log(
    `  same weights, one batch: loss tfjs ${tfjsLoss.toFixed(5)}, PyTorch ${answer.loss.toFixed(5)}; gradients differ by at most ` +
      `${answer.worst.toExponential(1)} of a weight's largest (${answer.weight}), tolerance ${SAME_START_TOLERANCE}: ` +
      `${agrees ? 'agrees' : 'DISAGREES'}`,
  );
  return agrees;
}

/** Trains the case's child in the project's trainer, with a progress line per epoch (the Fashion-MNIST side takes minutes). */
async function trainTfjs(reference: ReferenceCase, data: TrainingData, seed: number): Promise<Side> {
  const request = { graph: reference.graph, space: reference.space, evaluation: reference.evaluation, seed };
  const trained = await trainFromScratch(
    request,
    data,
    (m) => console.log(`  seed ${seed}, tfjs epoch ${m.epoch}: val_acc ${m.valAccuracy.toFixed(4)}, ${m.seconds.toFixed(1)} s`),
    () => false,
  );
  return { accuracy: trained.curve.at(-1)!.valAccuracy, seconds: trained.seconds };
}

/** Trains the rebuilt child in PyTorch on the parts of `split`, or says why it failed. */
function trainTorch(
  reference: ReferenceCase,
  split: DatasetSplit,
  data: TrainingData,
  layers: LayerSpec[],
  seed: number,
): TorchAnswer | string {
  const folder = mkdtempSync(join(tmpdir(), 'nas-reference-'));
  try {
    return runTorch<TorchAnswer>({
      layers,
      inputShape: data.shape,
      classes: data.classes,
      seed,
      evaluation: reference.evaluation,
      train: exportPart(split.train, folder, 'train'),
      validation: exportPart(split.validation, folder, 'validation'),
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const percent = (accuracy: number) => `${(accuracy * 100).toFixed(2)}%`;
const meanOf = (sides: Side[]) => sides.reduce((sum, side) => sum + side.accuracy, 0) / sides.length;
/** The mean and each seed's accuracy, which show the spread better than a deviation of two or three values. */
const summary = (sides: Side[]) => `${percent(meanOf(sides))} (seeds ${sides.map((side) => percent(side.accuracy)).join(', ')})`;

async function runCase(reference: ReferenceCase, seeds: number[], torchProblem: string | undefined): Promise<boolean> {
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
      `crop padding ${augment.crop_padding}, flip ${augment.horizontal_flip ? 'on' : 'off'}; seeds ${seeds.join(', ')}`,
  );
  const data = prepareTrainingData(split);
  const model = await buildModel(reference.graph, reference.space, { inputShape: data.shape, classes: data.classes, seed: seeds[0] });
  const layers = describeModel(model);
  const params = model.countParams();
  const sameStart = torchProblem === undefined ? compareSameStart(model, reference, data, layers) : true;
  model.dispose();

  const tfjs: Side[] = [];
  const torch: Side[] = [];
  for (const seed of seeds) {
    tfjs.push(await trainTfjs(reference, data, seed));
    if (torchProblem !== undefined) continue;
    const answer = trainTorch(reference, split, data, layers, seed);
    if (typeof answer === 'string') {
      console.log(`  PyTorch failed: ${answer}`);
      return false;
    }
    console.log(`  seed ${seed}, PyTorch per epoch: ${answer.valAccuracy.map((a) => a.toFixed(4)).join(' ')}`);
    torch.push({ accuracy: answer.valAccuracy.at(-1)!, seconds: answer.seconds });
    if (seed === seeds[0])
      // tfjs counts batch norm's running statistics among its parameters; PyTorch keeps them as buffers.
      console.log(`  parameters: tfjs ${params} (with BN running statistics), PyTorch ${answer.params} (trainable)`);
  }
  const seconds = (sides: Side[]) => sides.reduce((sum, side) => sum + side.seconds, 0).toFixed(1);
  if (torchProblem !== undefined) {
    console.log(`  tfjs ${summary(tfjs)} in ${seconds(tfjs)} s; PyTorch skipped: ${torchProblem}`);
    return true;
  }
  const difference = (meanOf(tfjs) - meanOf(torch)) * 100;
  const agrees = Math.abs(difference) <= TOLERANCE_POINTS;
  console.log(`  validation accuracy, tfjs:    ${summary(tfjs)}, ${seconds(tfjs)} s`);
  console.log(`  validation accuracy, PyTorch: ${summary(torch)}, ${seconds(torch)} s on one thread`);
  console.log(
    `  difference of the means ${difference >= 0 ? '+' : ''}${difference.toFixed(2)} points, ` +
      `tolerance ${TOLERANCE_POINTS}: ${agrees ? 'agrees' : 'DISAGREES'}`,
  );
  return agrees && sameStart;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { seeds: { type: 'string', default: String(DEFAULT_SEEDS) } } });
  const count = Number(values.seeds);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--seeds must be a positive integer, got "${values.seeds}"`);
  const seeds = Array.from({ length: count }, (_, i) => i + 1);
  const backend = await selectBackend('wasm');
  const torchProblem = torchMissing();
  console.log(`tfjs backend: ${backend.name} (${backend.detail}); PyTorch: ${torchProblem ?? PYTHON}`);
  let allAgree = true;
  for (const reference of CASES) allAgree = (await runCase(reference, seeds, torchProblem)) && allAgree;
  if (!allAgree) process.exitCode = 1;
}

void main();
