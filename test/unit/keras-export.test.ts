import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { KERAS_FILE, writeKerasExport } from '../../src/engine/export/keras.ts';
import { buildModel } from '../../src/engine/model/build.ts';
import { readModelFiles, saveModelFiles } from '../../src/engine/model/model-files.ts';
import type { SpaceConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { CELL, MACRO } from '../support/spaces.ts';

// The project's own check of a .keras file: a Keras 3 loader and forward pass in NumPy (see its docstring).
const PYTHON = '/usr/bin/python3';
const CHECKER = join(import.meta.dirname, '../fixtures/keras_check.py');
const probe = spawnSync(PYTHON, ['-c', 'import numpy, h5py'], { encoding: 'utf8' });
const checkerMissing =
  probe.error || probe.status !== 0
    ? `${PYTHON} with numpy and h5py is needed (Debian: python3-numpy python3-h5py): ${probe.error?.message ?? probe.stderr.trim()}`
    : undefined;
if (checkerMissing) console.log(`skipping the Keras checks: ${checkerMissing}`);

/** An architecture of `space` picking, for each decision, the option `choose` names from its name and option count. */
function architecture(space: SpaceConfig, choose: (name: string, options: number, index: number) => number): number[] {
  return compileSpace(space).map((decision, i) => choose(decision.name, decision.options.length, i) % decision.options.length);
}

/** Moves every weight off its initial value by up to 30% and 0.05, batch norm's moving statistics included. */
function perturbWeights(model: tf.LayersModel, seed: number) {
  model.weights.forEach((weight, i) => {
    tf.tidy(() => {
      const scale = tf.randomUniform(weight.shape as number[], 0.7, 1.3, 'float32', seed + 2 * i);
      const shift = tf.randomUniform(weight.shape as number[], -0.05, 0.05, 'float32', seed + 2 * i + 1);
      weight.write(tf.add(tf.mul(weight.read(), scale), shift));
    });
  });
}

interface Case {
  name: string;
  space: SpaceConfig;
  architecture: number[];
  inputShape: [number, number, number];
  layerClasses: string[];
}

const OPERATIONS_OF = (name: string, options: number, i: number) =>
  name.includes('.op_') ? i : name.includes('.input_') ? i : options - 1;

const CASES: Case[] = [
  {
    name: 'macro, batch norm, strides and skips (padded concatenations), flatten head, 9x7x3',
    space: { ...MACRO, batch_norm: true, head: 'flatten' },
    architecture: architecture(MACRO, (name, options, i) => (name.endsWith('stride') ? i % 3 : options - 1)),
    inputShape: [9, 7, 3],
    layerClasses: ['Conv2D', 'BatchNormalization', 'ReLU', 'ZeroPadding2D', 'Concatenate', 'Flatten', 'Dense'],
  },
  {
    name: 'macro, no batch norm, gap head, 8x8x1',
    space: { ...MACRO, batch_norm: false, head: 'gap' },
    architecture: architecture(MACRO, (name, _options, i) => (name.endsWith('stride') ? 0 : i)),
    inputShape: [8, 8, 1],
    layerClasses: ['Conv2D', 'Concatenate', 'GlobalAveragePooling2D', 'Dense'],
  },
  {
    name: 'cell, batch norm, every operation (stride 1 and 2), gap head, 9x7x3',
    space: { ...CELL, batch_norm: true, head: 'gap' },
    architecture: architecture(CELL, OPERATIONS_OF),
    inputShape: [9, 7, 3],
    layerClasses: [
      'Conv2D',
      'SeparableConv2D',
      'BatchNormalization',
      'ReLU',
      'MaxPooling2D',
      'AveragePooling2D',
      'Add',
      'Concatenate',
      'GlobalAveragePooling2D',
    ],
  },
  {
    name: 'cell, no batch norm, every operation, flatten head, 7x9x2',
    space: { ...CELL, batch_norm: false, head: 'flatten' },
    architecture: architecture(CELL, (name, options, i) => OPERATIONS_OF(name, options, i + 3)),
    inputShape: [7, 9, 2],
    layerClasses: ['Conv2D', 'SeparableConv2D', 'MaxPooling2D', 'AveragePooling2D', 'Add', 'Flatten'],
  },
];

for (const testCase of CASES) {
  test(`keras export: ${testCase.name} runs as tfjs runs it`, { skip: checkerMissing }, async () => {
    await selectBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'nas-keras-'));
    const model = await buildModel(decodeArchitecture(testCase.space, testCase.architecture), testCase.space, {
      inputShape: testCase.inputShape,
      classes: 10,
      seed: 3,
    });
    try {
      const classes = new Set(model.layers.map((layer) => layer.getClassName()));
      for (const className of testCase.layerClasses) assert.ok(classes.has(className), `the child has a ${className}`);
      perturbWeights(model, 17);
      await saveModelFiles(model, join(dir, 'model'));
      const out = join(dir, 'keras');
      mkdirSync(out);
      // Keras numbers a class's layers in the weights file in its own graph order: the export must find it
      // from the graph, whatever order the saved topology lists the layers in.
      const artifacts = readModelFiles(join(dir, 'model'));
      (artifacts.topology.config.layers as unknown[]).reverse();
      assert.deepEqual(writeKerasExport(artifacts, out), [KERAS_FILE]);

      const input = tf.tidy(() =>
        tf
          .sin(tf.add(tf.mul(tf.range(0, 2 * testCase.inputShape.reduce((a, b) => a * b)), 0.37), 0.1))
          .reshape([2, ...testCase.inputShape]),
      );
      const expected = tf.tidy(() => (model.predict(input) as tf.Tensor).arraySync() as number[][]);
      writeFileSync(join(dir, 'input.json'), JSON.stringify(input.arraySync()));
      input.dispose();
      const run = spawnSync(PYTHON, [CHECKER, join(out, KERAS_FILE), join(dir, 'input.json')], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const [actual] = (JSON.parse(run.stdout) as { outputs: number[][][] }).outputs;
      let maxDiff = 0;
      expected.forEach((row, i) => row.forEach((p, j) => (maxDiff = Math.max(maxDiff, Math.abs(p - actual[i][j])))));
      console.log(`${testCase.name}: max |keras check - tfjs| = ${maxDiff.toExponential(2)}`);
      assert.ok(maxDiff < 1e-4, `outputs differ by ${maxDiff}`);
      // The comparison means something only if the classes are told apart, and not by a saturated softmax.
      console.log(`${testCase.name}: probabilities ${Math.min(...expected[0]).toFixed(3)} to ${Math.max(...expected[0]).toFixed(3)}`);
      assert.ok(Math.max(...expected[0]) - Math.min(...expected[0]) > 0.05, 'the output is not uniform');
      assert.ok(Math.max(...expected.flat()) < 0.999, 'the softmax is not saturated');
    } finally {
      model.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('keras export: a layer of another class is an error naming it', async () => {
  await selectBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'nas-keras-'));
  const input = tf.input({ shape: [4] });
  const dropped = tf.layers.dropout({ rate: 0.5, name: 'the_dropout' }).apply(input) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(dropped) as tf.SymbolicTensor });
  try {
    await saveModelFiles(model, join(dir, 'model'));
    mkdirSync(join(dir, 'keras'));
    assert.throws(() => writeKerasExport(readModelFiles(join(dir, 'model')), join(dir, 'keras')), /layer the_dropout is a Dropout/);
  } finally {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
