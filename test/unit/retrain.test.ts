// Retraining and kept weights end to end, as a user runs them: the built CLI on a tiny digits search, its
// trainers real processes; the exported model is loaded back and measured on the test examples again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDataset } from '../../src/engine/data/load.ts';
import { measure, prepareTrainingData } from '../../src/engine/evaluators/train-from-scratch.ts';
import { loadModelFiles } from '../../src/engine/model/model-files.ts';
import { finalRecipe } from '../../src/engine/retrain.ts';
import { parseRetrainRecipe } from '../../src/space/retrain-recipe.ts';
import { Store } from '../../src/engine/store/store.ts';
import { isImageDataset } from '../../src/space/kinds/datasets/registry.ts';
import { THREE_EPOCHS_OF_ADAM, tinySearchFile } from '../support/tiny.ts';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SEARCH_RECIPE = THREE_EPOCHS_OF_ADAM;

test('the final recipe: twice the epochs, cosine, crops of an eighth of the image; the file, then the command line, change it', () => {
  const recipe = finalRecipe(SEARCH_RECIPE, 32);
  assert.equal(recipe.epochs, 6);
  assert.equal(recipe.lr_schedule, 'cosine');
  assert.deepEqual(recipe.augment, { crop_padding: 4, horizontal_flip: false });
  assert.equal(recipe.learning_rate, 0.003);
  const written = { ...SEARCH_RECIPE, retrain: { epochs: 10, augment: { crop_padding: 0, horizontal_flip: true } } };
  assert.deepEqual(finalRecipe(written, 8).augment, { crop_padding: 0, horizontal_flip: true });
  assert.equal(finalRecipe(written, 8).epochs, 10);
  assert.equal(finalRecipe(written, 8, { epochs: 2 }).epochs, 2);
  assert.equal('retrain' in finalRecipe(written, 8), false);
});

test('a recipe on the command line: YAML or JSON, each setting checked, an error naming the setting', () => {
  assert.deepEqual(parseRetrainRecipe('{epochs: 30, lr_schedule: constant}'), { epochs: 30, lr_schedule: 'constant' });
  assert.deepEqual(parseRetrainRecipe('{"augment": {"crop_padding": 4, "horizontal_flip": false}}'), {
    augment: { crop_padding: 4, horizontal_flip: false },
  });
  // Checked against the search file's schema for evaluation.retrain, in its words: the place, the setting, the rule.
  assert.throws(() => parseRetrainRecipe('{epochs: 0}'), /^Error: --recipe:1:10: epochs: must be an integer ≥ 1, got 0 \(rule: minimum\)$/);
  assert.throws(
    () => parseRetrainRecipe('{epoch: 3}'),
    /--recipe:1:2: top level: unknown key "epoch" \(rule: unknown-key\); allowed: epochs, batch_size/,
  );
  assert.throws(() => parseRetrainRecipe('{augment: {crop_padding: 2}}'), /--recipe:1:11: augment: missing required key "horizontal_flip"/);
  assert.throws(
    () => parseRetrainRecipe('lr_schedule: linear\nlabel_smoothing: 1'),
    new RegExp(
      '^Error: --recipe:1:14: lr_schedule: unknown value "linear" \\(rule: enum\\); allowed: constant, cosine\n' +
        '--recipe:2:18: label_smoothing: must be a number ≥ 0 and < 1, got 1 \\(rule: maximum\\)$',
    ),
  );
  assert.throws(() => parseRetrainRecipe('[1, 2]'), /--recipe: must be a mapping/);
  assert.throws(() => parseRetrainRecipe('{epochs: ['), /--recipe: not YAML or JSON/);
});

test('retrain a trial, keep the best weights, export them as tfjs, load them back, delete the run with its files', async () => {
  const file = tinySearchFile({ trials: 4, strategy: 'random' });
  writeFileSync(
    file,
    `${readFileSync(file, 'utf8').replace('runtime: { backend: cpu, seed: 7 }', 'runtime: { backend: cpu, seed: 7, keep_weights: 2 }')}`,
  );
  const db = join(mkdtempSync(join(tmpdir(), 'nas-retrain-')), 'runs.db');
  const search = cli(['search', file, '--db', db]);
  assert.equal(search.code, 0, search.stderr);

  let store = new Store(db, { readonly: true });
  const searched = store.listTrials(1, 'reward');
  const kept = searched.filter((trial) => trial.weightsPath !== null);
  assert.deepEqual(
    kept.map((trial) => trial.index),
    searched.slice(0, 2).map((trial) => trial.index),
    'runtime.keep_weights: 2 keeps the two best trials',
  );
  assert.deepEqual(readdirSync(join(`${db}-weights`, 'run-1')).sort(), kept.map((trial) => `trial-${trial.index}`).sort());
  const best = searched[0];
  store.close();

  const unknown = cli(['retrain', '1', '9', '--db', db]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /run 1 has no trial 9/);
  const retrain = cli(['retrain', '1', '--db', db, '--epochs', '2']);
  assert.equal(retrain.code, 0, retrain.stderr);
  assert.match(retrain.stderr, /retraining trial \d of run 1 on cpu: 2 epochs on the training and validation examples/);
  assert.match(retrain.stderr, /epoch 2: train_acc \d\.\d{4}, test_acc \d\.\d{4}/);
  assert.match(retrain.stdout, new RegExp(`trial 4 of run 1 retrains trial ${best.index}: test_acc \\d\\.\\d{4} after 2 epochs`));

  store = new Store(db, { readonly: true });
  const retrained = store.getTrial(1, 4)!;
  assert.equal(retrained.retrainedFrom, best.index, 'the best trial is retrained when none is named');
  assert.equal(retrained.key, best.key);
  assert.equal(retrained.reward, null, 'a retraining has no reward: it chooses nothing');
  assert.equal(retrained.epochsTrained, 2);
  const curve = store.trialEpochs(1, 4);
  assert.equal(retrained.metrics!.testAccuracy, curve[1].valAccuracy, 'its last held-out epoch is its test accuracy');
  assert.equal(store.getRun(1)!.trialsDone, 4, 'a retraining after the search is not one of its budget');
  assert.equal(store.getRun(1)!.bestReward, best.reward);
  const weights = store.trialWeightsFolder(retrained)!;
  assert.equal(weights, join(`${db}-weights`, 'run-1', 'trial-4'));
  const runConfig = store.runConfig(1);
  store.close();

  const again = cli(['retrain', '1', '4', '--db', db]);
  assert.equal(again.code, 1);
  assert.match(
    again.stderr,
    new RegExp(`trial 4 of run 1 is itself a retraining \\(of trial ${best.index}\\); retrain trial ${best.index}`),
  );
  const unkept = searched.find((trial) => trial.weightsPath === null)!;
  const noWeights = cli(['export', '1', String(unkept.index), '--format', 'tfjs', '--out', join(dirname(db), 'none'), '--db', db]);
  assert.equal(noWeights.code, 1);
  assert.match(noWeights.stderr, new RegExp(`trial ${unkept.index} of run 1 kept no weights, and a tfjs export needs them; retrain it`));
  // PyTorch's module is the architecture itself: without weights it is written alone.
  const architectureOnly = join(dirname(db), 'architecture');
  const bare = cli(['export', '1', String(unkept.index), '--format', 'pytorch', '--out', architectureOnly, '--db', db]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.deepEqual(readdirSync(architectureOnly), ['model.py']);
  assert.match(readFileSync(join(architectureOnly, 'model.py'), 'utf8'), /the module keeps its initial values/);

  // The export takes the latest retrained trial by default; a folder with files in it is not overwritten without --force.
  const out = join(dirname(db), 'model');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  const refused = cli(['export', '1', '--format', 'tfjs', '--out', out, '--db', db]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /model is not empty; choose another --out, or add --force/);
  const exported = cli(['export', '1', '--format', 'tfjs', '--out', out, '--db', db, '--force']);
  assert.equal(exported.code, 0, exported.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['model.json', 'weights.bin']);

  // Round trip: the exported model, loaded as tf.loadLayersModel loads it, scores the test examples as the retraining measured them.
  await selectBackend('cpu');
  const model = await loadModelFiles(out);
  const dataset = runConfig.config.dataset!;
  assert.ok(isImageDataset(dataset));
  const data = prepareTrainingData(splitDataset(await loadDataset(dataset, dirname(file)), dataset));
  const { accuracy } = await measure((images) => model.predict(images) as tf.Tensor2D, data.test);
  model.dispose();
  assert.ok(
    Math.abs(accuracy - retrained.metrics!.testAccuracy!) <= 1 / data.test.count + 1e-9,
    `${accuracy} vs ${retrained.metrics!.testAccuracy}`,
  );

  const deleted = cli(['delete', '1', '--db', db]);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(existsSync(join(`${db}-weights`, 'run-1')), false);
  store = new Store(db, { readonly: true });
  assert.equal(store.getRun(1), undefined);
  store.close();
});

test('what cannot be retrained says why: a table lookup has no network to train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-retrain-'));
  const file = join(dir, 'bench.nas.yaml');
  writeFileSync(
    file,
    'name: nb\nspace: { kind: nasbench201 }\nstrategy: { kind: random }\n' +
      'evaluation: { kind: tabular, dataset: cifar10 }\nbudget: { trials: 3 }\n',
  );
  const db = join(dir, 'runs.db');
  assert.equal(cli(['search', file, '--db', db]).code, 0);
  const refused = cli(['retrain', 'latest', '--db', db]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /run 1 cannot be retrained: its accuracies come from the NAS-Bench-201 table/);
});
