// `export --format pytorch`: the generated model.py and model.safetensors, run by real PyTorch (Debian's python3-torch,
// for /usr/bin/python3; without it the export and its reading checks still run, and the test says so and skips
// the rest), must compute the tfjs child's logits.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { writePytorchExport } from '../../src/engine/export/pytorch.ts';
import { buildModel } from '../../src/engine/model/build.ts';
import type { Shape3 } from '../../src/engine/model/layers.ts';
import { readModelFiles, saveModelFiles } from '../../src/engine/model/model-files.ts';
import type { SpaceConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { CELL, MACRO } from '../support/spaces.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const newDir = freshDirs('nas-pytorch-');
const PYTHON = '/usr/bin/python3';
const CHECK_EXPORT = join(__dirname, '..', 'fixtures', 'pytorch-export', 'check_export.py');
const torchMissing = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${PYTHON} cannot import torch (Debian: apt-get install python3-torch)`;
})();

/** The architecture that picks, for each decision, the option `pick` names. */
function architecture(space: SpaceConfig, pick: (decision: string) => string): number[] {
  return compileSpace(space).map((decision) => {
    const choice = decision.options.indexOf(pick(decision.name));
    assert.ok(choice >= 0, `${decision.name} has no option ${pick(decision.name)}`);
    return choice;
  });
}

// Macro layers 0 to 3: strides 1, 2, 1, 2 (the last on a 5x4 input: an odd padding column); layer 2 reads
// layers 0 and 1 (zero-padded to one size), layer 3 layer 1 alone, so that layers 2 and 3 both reach the classifier.
const MACRO_SKIPS = new Set([
  'layer1.input_from_layer0',
  'layer2.input_from_layer0',
  'layer2.input_from_layer1',
  'layer3.input_from_layer1',
]);
const pickMacro = (decision: string) => {
  const [layer, field] = decision.split('.');
  const index = Number(layer.slice('layer'.length));
  if (field.startsWith('input_from')) return MACRO_SKIPS.has(decision) ? 'yes' : 'no';
  const fields: Record<string, string[]> = {
    filter_height: ['3', '5', '1', '5'],
    filter_width: ['5', '3', '3', '3'],
    filters: ['8', '16', '8', '32'],
    stride: ['1', '2', '1', '2'],
  };
  return fields[field][index];
};

// Every operation in both cells, the reduction cell's on its inputs (strided: pools, convolutions and a 1x1
// convolution for identity); nodes 2 and 3 are both unread, so that the cell concatenates them.
const CELL_PICKS: Record<string, string> = {
  'normal.node0': 'input0 conv3x3 input1 conv5x5',
  'normal.node1': 'node0 sep_conv3x3 input0 sep_conv5x5',
  'normal.node2': 'input1 max_pool node1 avg_pool',
  'normal.node3': 'node1 identity input0 conv3x3',
  'reduction.node0': 'input0 max_pool input1 avg_pool',
  'reduction.node1': 'input0 identity input1 sep_conv5x5',
  'reduction.node2': 'node0 conv5x5 input1 identity',
  'reduction.node3': 'node1 conv3x3 node0 sep_conv3x3',
};
const pickCell = (decision: string) => {
  const [cell, node, field] = decision.split('.');
  const [inputA, opA, inputB, opB] = CELL_PICKS[`${cell}.${node}`].split(' ');
  return { input_a: inputA, op_a: opA, input_b: inputB, op_b: opB }[field]!;
};

const CASES: { title: string; space: SpaceConfig; pick: (decision: string) => string; inputShape: Shape3 }[] = [
  { title: 'macro, batch norm, skips and strides, flatten', space: MACRO, pick: pickMacro, inputShape: [9, 7, 3] },
  {
    title: 'macro without batch norm, global pooling',
    space: { ...MACRO, batch_norm: false, head: 'gap' },
    pick: pickMacro,
    inputShape: [9, 7, 3],
  },
  {
    title: 'cell, batch norm, every operation, flatten',
    space: { ...CELL, stages: 3, head: 'flatten' },
    pick: pickCell,
    inputShape: [9, 7, 3],
  },
  {
    title: 'cell without batch norm, every operation, global pooling',
    space: { ...CELL, stages: 3, batch_norm: false, head: 'gap' },
    pick: pickCell,
    inputShape: [10, 7, 3],
  },
];

/** Every weight but the kernels (already random) moved off its initial value: biases, scales, shifts and BN statistics. */
function perturbWeights(model: tf.LayersModel): void {
  model.weights.forEach((weight, i) => {
    const shape = weight.shape as number[];
    if (/gamma|moving_variance/.test(weight.name)) weight.write(tf.randomUniform(shape, 0.5, 1.5, 'float32', i));
    else if (!weight.name.endsWith('kernel')) weight.write(tf.randomNormal(shape, 0, 0.3, 'float32', i));
  });
}

/** tfjs's logits: the classifier's kernel and bias applied to what it reads, before its softmax. */
function tfjsLogits(model: tf.LayersModel, images: tf.Tensor): Float32Array {
  const classifier = model.layers[model.layers.length - 1];
  const features = tf.model({ inputs: model.inputs, outputs: classifier.input as tf.SymbolicTensor });
  return tf.tidy(() => {
    const [kernel, bias] = classifier.getWeights();
    return tf.add(tf.matMul(features.predict(images) as tf.Tensor, kernel), bias).dataSync() as Float32Array;
  });
}

/**
 * Exports `model` (its weights perturbed first) and checks that model.py reads as promised; then, where PyTorch
 * is installed (the test is marked skipped where it is not), runs the export on images tfjs also classifies and
 * checks that the logits agree to 1e-4.
 */
async function checkExport(t: TestContext, model: tf.LayersModel, inputShape: Shape3, title: string): Promise<void> {
  perturbWeights(model);
  const dir = newDir();
  await saveModelFiles(model, join(dir, 'tfjs'));
  const out = join(dir, 'pytorch');
  mkdirSync(out);
  assert.deepEqual(writePytorchExport(readModelFiles(join(dir, 'tfjs')), out, { title, trained: true }), ['model.py', 'model.safetensors']);

  // Readable: the class, the input's shape, one declaration per convolution, one forward statement per layer.
  const python = readFileSync(join(out, 'model.py'), 'utf8');
  assert.match(python, /^class Child\(nn\.Module\):$/m);
  assert.ok(python.includes(`(N, ${inputShape[2]}, ${inputShape[0]}, ${inputShape[1]})`), 'the docstring gives the input shape');
  const convolutions = model.layers.filter((layer) => layer.getClassName() === 'Conv2D').map((layer) => layer.name);
  for (const name of convolutions) {
    const readable = name.replace(/_Conv2D(\d+)$/, '_$1');
    assert.match(python, new RegExp(`^ {8}self\\.${readable} = nn\\.Conv2d\\(`, 'm'));
  }
  const forward = python.slice(python.indexOf('    def forward(self, x):'), python.indexOf('        return '));
  const statements = forward.split('\n').filter((line) => /^ {8}\w+ = /.test(line));
  assert.equal(statements.length, model.layers.length - 1);

  if (torchMissing) {
    console.log(`SKIP: ${torchMissing}`);
    return t.skip(torchMissing);
  }
  const batch = 2;
  const images = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', 9);
  const expected = tfjsLogits(model, images);
  writeFileSync(join(dir, 'images.bin'), images.dataSync() as Float32Array);
  images.dispose();
  const logitsFile = join(dir, 'logits.bin');
  const run = spawnSync(PYTHON, [CHECK_EXPORT, out, join(dir, 'images.bin'), String(batch), ...inputShape.map(String), logitsFile], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const bytes = readFileSync(logitsFile);
  const actual = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  assert.equal(actual.length, expected.length);
  const maxDifference = Math.max(...actual.map((value, i) => Math.abs(value - expected[i])));
  console.log(`${title}: max |PyTorch - tfjs| logit difference ${maxDifference.toExponential(2)}`);
  assert.ok(maxDifference < 1e-4, `the logits differ by ${maxDifference}`);
}

for (const { title, space, pick, inputShape } of CASES) {
  test(`the PyTorch export of a child (${title}, ${inputShape.join('x')}) computes tfjs's logits`, async (t) => {
    await selectBackend('cpu');
    const model = await buildModel(decodeArchitecture(space, architecture(space, pick)), space, { inputShape, classes: 10, seed: 5 });
    try {
      await checkExport(t, model, inputShape, `Child: ${title}`);
    } finally {
      model.dispose();
    }
  });
}

test('the export of layers children do not build (depth multiplier 2, non-square windows, valid pooling) matches tfjs', async (t) => {
  await selectBackend('cpu');
  const inputShape: Shape3 = [8, 6, 2];
  const image = tf.input({ shape: inputShape });
  const layers = [
    tf.layers.conv2d({ filters: 4, kernelSize: [3, 5], strides: [2, 1], padding: 'same', useBias: true }),
    tf.layers.separableConv2d({ filters: 5, kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: 2, activation: 'relu' }),
    tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'valid' }),
    tf.layers.zeroPadding2d({
      padding: [
        [1, 0],
        [0, 2],
      ],
    }),
    tf.layers.maxPooling2d({ poolSize: [2, 3], strides: [2, 1], padding: 'same' }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 3, activation: 'softmax' }),
  ];
  const output = layers.reduce((x, layer) => layer.apply(x) as tf.SymbolicTensor, image);
  const model = tf.model({ inputs: image, outputs: output });
  try {
    await checkExport(t, model, inputShape, 'Hand-built layers');
  } finally {
    model.dispose();
  }
});

test('model.py run as a script loads its weights and prints the logits shape', async (t) => {
  if (torchMissing) {
    console.log(`SKIP: ${torchMissing}`);
    return t.skip(torchMissing);
  }
  await selectBackend('cpu');
  const space = { ...MACRO, batch_norm: false, layers: 2 };
  const model = await buildModel(decodeArchitecture(space, architecture(space, pickMacro)), space, {
    inputShape: [9, 7, 3],
    classes: 4,
    seed: 1,
  });
  const dir = newDir();
  await saveModelFiles(model, join(dir, 'tfjs'));
  model.dispose();
  const out = join(dir, 'pytorch');
  mkdirSync(out);
  writePytorchExport(readModelFiles(join(dir, 'tfjs')), out, { title: 'A small child', trained: true });
  const run = spawnSync(PYTHON, [join(out, 'model.py')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'logits: (1, 4)');
});

test('a layer with no PyTorch counterpart is an error naming the layer and its class, and nothing is written', async () => {
  await selectBackend('cpu');
  const sequence = tf.input({ shape: [5, 3] });
  const recurrent = tf.layers.lstm({ units: 4, name: 'lstm_1' }).apply(sequence) as tf.SymbolicTensor;
  const model = tf.model({
    inputs: sequence,
    outputs: tf.layers.dense({ units: 2, activation: 'softmax' }).apply(recurrent) as tf.SymbolicTensor,
  });
  const dir = newDir();
  await saveModelFiles(model, join(dir, 'tfjs'));
  model.dispose();
  const out = join(dir, 'pytorch');
  mkdirSync(out);
  assert.throws(
    () => writePytorchExport(readModelFiles(join(dir, 'tfjs')), out, { title: 'lstm', trained: true }),
    /^Error: layer lstm_1 \(LSTM\) has no PyTorch export$/,
  );
  assert.deepEqual(readdirSync(out), []);
});
