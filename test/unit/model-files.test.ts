import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { buildModel } from '../../src/engine/model/build.ts';
import { loadModelFiles, namedWeights, readModelFiles, saveModelFiles } from '../../src/engine/model/model-files.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { CELL } from '../support/spaces.ts';

test('a model saved as files loads back with the same weights and the same predictions (batch norm included)', async () => {
  await selectBackend('cpu');
  const space = { ...CELL, batch_norm: true };
  const graph = decodeArchitecture(
    space,
    compileSpace(space).map((d) => d.options.length - 1),
  );
  const model = await buildModel(graph, space, { inputShape: [8, 8, 1], classes: 10, seed: 3 });
  // Moving statistics away from their initial values, so that a load that drops them would show.
  for (const weight of model.weights.filter((w) => w.name.includes('moving')))
    weight.write(tf.randomUniform(weight.shape as number[], 0.5, 1.5, 'float32', 7));
  const dir = join(mkdtempSync(join(tmpdir(), 'model-files-')), 'trial-1');
  await saveModelFiles(model, dir);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  assert.ok(!existsSync(`${dir}.writing`));
  const loaded = await loadModelFiles(dir);
  const input = tf.randomNormal([3, 8, 8, 1], 0, 1, 'float32', 5);
  const [expected, actual] = [model, loaded].map((m) => (m.predict(input) as tf.Tensor).arraySync() as number[][]);
  expected.flat().forEach((value, i) => assert.ok(Math.abs(value - actual.flat()[i]) < 1e-6));
  const named = namedWeights(readModelFiles(dir));
  assert.equal(named.size, model.weights.length);
  for (const weight of model.weights)
    assert.deepEqual([...named.get(weight.name)!.values], [...(weight.read().dataSync() as Float32Array)]);
  model.dispose();
  loaded.dispose();
  input.dispose();
});

test('a folder with no saved model is an error that names the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'model-files-'));
  assert.throws(() => readModelFiles(dir), new RegExp(`${join(dir, 'model.json')}: cannot read the saved model`));
});
