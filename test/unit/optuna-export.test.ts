// `nas-studio export --format optuna`: a run written in Optuna's SQLite schema, opened by a client nobody here
// wrote: Debian's python3-optuna (for /usr/bin/python3; the test says so and skips without it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpochMetrics, TrialMeasurements } from '../../src/protocol/engine.ts';
import { exportOptunaStudy } from '../../src/engine/export/optuna.ts';
import { createRunFromFile } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { architectureKey, compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'nasbench201.nas.yaml');
const newDir = freshDirs('nas-optuna-');
const PYTHON = '/usr/bin/python3';
const optunaMissing = (() => {
  const probe = spawnSync(PYTHON, ['-c', 'import optuna'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${PYTHON} cannot import optuna (Debian: apt-get install python3-optuna)`;
})();

const epochs = (values: number[]): EpochMetrics[] =>
  values.map((valAccuracy, i) => ({ epoch: i + 1, trainLoss: 1 / (i + 1), trainAccuracy: null, valLoss: null, valAccuracy, seconds: 0.5 }));

/** A run with a trial of every kind: done (with curves), pruned, failed and interrupted. */
function recordedRun(store: Store): number {
  const runId = createRunFromFile(store, EXAMPLE, {});
  const { space } = store.runConfig(runId).config;
  const trials: { architecture: number[]; status: 'done' | 'pruned' | 'failed' | 'interrupted'; curve: number[] }[] = [
    { architecture: [0, 1, 2, 3, 4, 0], status: 'done', curve: [0.5, 0.6, 0.7] },
    { architecture: [3, 3, 3, 3, 3, 3], status: 'done', curve: [0.6, 0.8, 0.9] },
    { architecture: [1, 1, 1, 1, 1, 1], status: 'pruned', curve: [0.2] },
    { architecture: [2, 2, 2, 2, 2, 2], status: 'failed', curve: [] },
    { architecture: [4, 4, 4, 4, 4, 4], status: 'interrupted', curve: [] },
  ];
  trials.forEach((trial, index) => {
    const graph = decodeArchitecture(space, trial.architecture);
    store.startTrial(runId, index, trial.architecture, architectureKey(graph), graph, 'train-from-scratch');
    const curve = epochs(trial.curve);
    const last = trial.curve[trial.curve.length - 1];
    const measurements: TrialMeasurements | null =
      trial.status === 'done' || trial.status === 'pruned'
        ? { valAccuracy: last, testAccuracy: last - 0.01, params: 1000 + index, flops: null, seconds: 1.5, curve }
        : null;
    const reward = measurements ? measurements.valAccuracy : null;
    const error = trial.status === 'failed' ? 'NaN loss' : null;
    store.finishTrial({ runId, index, status: trial.status, reward, measurements, error });
  });
  return runId;
}

test('an existing output is kept without force, and replaced with it', () => {
  const store = new Store(':memory:');
  try {
    const runId = recordedRun(store);
    const out = join(newDir(), 'study.db');
    writeFileSync(out, 'keep me');
    assert.throws(() => exportOptunaStudy(store, runId, out), /study\.db exists; choose another --out, or add --force/);
    assert.deepEqual(exportOptunaStudy(store, runId, out, { force: true }), { studyName: 'nasbench201 (run 1)', trials: 5 });
    assert.throws(() => exportOptunaStudy(store, 7, join(newDir(), 'none.db')), /no run 7/);
  } finally {
    store.close();
  }
});

test('optuna.load_study opens the export: trials, states, best value and params, intermediate values', (t) => {
  if (optunaMissing) {
    console.log(`SKIP: ${optunaMissing}`);
    return t.skip(optunaMissing);
  }
  const store = new Store(':memory:');
  try {
    const runId = recordedRun(store);
    const out = join(newDir(), 'study.db');
    exportOptunaStudy(store, runId, out);
    const script = `
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=sys.argv[2], storage="sqlite:///" + sys.argv[1])
print(json.dumps({
  "direction": study.direction.name,
  "states": [t.state.name for t in study.trials],
  "numbers": [t.number for t in study.trials],
  "best_value": study.best_value,
  "best_params": study.best_params,
  "best_number": study.best_trial.number,
  "intermediate": [{str(k): v for k, v in t.intermediate_values.items()} for t in study.trials],
  "params_of_0": study.trials[0].params,
  "attrs_of_0": study.trials[0].user_attrs,
}))`;
    const loaded = spawnSync(PYTHON, ['-c', script, out, 'nasbench201 (run 1)'], { encoding: 'utf8' });
    assert.equal(loaded.status, 0, loaded.stderr);
    const study = JSON.parse(loaded.stdout);
    const options = (architecture: number[]) =>
      Object.fromEntries(compileSpace(store.runConfig(runId).config.space).map((d, i) => [d.name, d.options[architecture[i]]]));
    assert.equal(study.direction, 'MAXIMIZE');
    assert.deepEqual(study.numbers, [0, 1, 2, 3, 4]);
    assert.deepEqual(study.states, ['COMPLETE', 'COMPLETE', 'PRUNED', 'FAIL', 'FAIL']);
    const best = store.listTrials(runId, 'reward')[0];
    assert.equal(study.best_number, best.index);
    assert.equal(study.best_value, best.reward);
    assert.deepEqual(study.best_params, options(best.architecture));
    assert.deepEqual(study.params_of_0, options([0, 1, 2, 3, 4, 0]));
    assert.deepEqual(study.intermediate, [{ 1: 0.5, 2: 0.6, 3: 0.7 }, { 1: 0.6, 2: 0.8, 3: 0.9 }, { 1: 0.2 }, {}, {}]);
    assert.equal(study.attrs_of_0.params, 1000);
    assert.equal(study.attrs_of_0.testAccuracy, 0.69);
  } finally {
    store.close();
  }
});
