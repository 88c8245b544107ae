import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../../src/engine/store/migrations.ts';
import { Store } from '../../src/engine/store/store.ts';
import { loadSearchFile } from '../../src/space/parse.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { countsInProgress, type LanguageModelWeights, type TrialMeasurements } from '../../src/protocol/engine.ts';
import { tinySearchFile } from '../support/tiny.ts';

function newStore() {
  const path = join(mkdtempSync(join(tmpdir(), 'nas-store-')), 'sub', 'runs.db');
  return new Store(path);
}

const MEASURED: TrialMeasurements = {
  valAccuracy: 0.9,
  testAccuracy: 0.88,
  params: 1234,
  flops: 5678,
  seconds: 1.5,
  curve: [
    { epoch: 1, trainLoss: 1.2, trainAccuracy: 0.6, valLoss: 1.1, valAccuracy: 0.7, seconds: 0.7 },
    { epoch: 2, trainLoss: 0.5, trainAccuracy: 0.85, valLoss: 0.4, valAccuracy: 0.9, seconds: 0.8 },
  ],
};

function newRun(store: Store) {
  const file = tinySearchFile();
  const loaded = loadSearchFile(file);
  assert.ok(loaded.config);
  return {
    runId: store.createRun({ name: 'tiny', spaceFile: file, spaceText: loaded.text, config: loaded.config }),
    config: loaded.config,
  };
}

test('runs, trials, epochs, controller steps and checkpoints round trip through a reopened database', () => {
  const store = newStore();
  assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(store.schemaVersion, MIGRATIONS.length);
  const { runId, config } = newRun(store);
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  const graph = decodeArchitecture(config.space, architecture);
  store.startTrial(runId, 0, architecture, 'key-0', graph);
  assert.equal(store.getTrial(runId, 0)?.status, 'running');
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.729, measurements: MEASURED, error: null });
  store.startTrial(runId, 1, architecture, 'key-0', graph);
  store.finishTrial({ runId, index: 1, status: 'failed', reward: null, measurements: null, error: 'out of memory' });
  const probabilities = [
    [0.5, 0.5],
    [0.2, 0.8],
  ];
  store.recordTell(
    runId,
    { runId, step: 1, loss: 0.1, meanReward: 0.7, baseline: 0.6, entropy: 2.1, advantage: 0.1, probabilities },
    { toldThrough: 1, state: { rng: 42 } },
  );
  for (let k = 0; k < 5; k++) store.recordTell(runId, undefined, { toldThrough: 1, state: { rng: 100 + k } });
  store.setRunBackend(runId, 'cpu');
  store.setRunStatus(runId, 'done');
  store.close();

  const reopened = new Store(store.path);
  const run = reopened.getRun(runId);
  assert.ok(run);
  assert.equal(run.status, 'done');
  assert.equal(run.backend, 'cpu');
  assert.equal(run.trialsDone, 2);
  assert.equal(run.bestReward, 0.729);
  assert.ok(run.finishedAt);
  assert.deepEqual(reopened.runConfig(runId).config, config);
  const [done, failed] = reopened.listTrials(runId);
  assert.deepEqual(done.architecture, architecture);
  assert.deepEqual(done.graph, graph);
  assert.deepEqual(done.metrics, { valAccuracy: 0.9, testAccuracy: 0.88, params: 1234, flops: 5678, seconds: 1.5 });
  assert.equal(failed.error, 'out of memory');
  assert.equal(failed.metrics, null);
  assert.deepEqual(reopened.trialEpochs(runId, 0), MEASURED.curve);
  assert.deepEqual(reopened.controllerSteps(runId)[0].probabilities, probabilities);
  assert.deepEqual(reopened.latestCheckpoint(runId)?.state, { rng: 104 });
  const kept = reopened.db.prepare('SELECT COUNT(*) AS n FROM checkpoints WHERE run_id = ?').get(runId) as { n: number };
  assert.equal(kept.n, 3, 'older checkpoints are pruned');
  assert.deepEqual(
    reopened.listTrials(runId, 'reward').map((t) => t.index),
    [0, 1],
  );
  reopened.close();
});

test("a command trial's missing metrics stay null, its extra numbers and log round trip, and listings leave the log out", () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  const graph = decodeArchitecture(config.space, architecture);
  const measured: TrialMeasurements = {
    valAccuracy: 0.7,
    testAccuracy: null,
    params: null,
    flops: null,
    seconds: 4,
    curve: [
      { epoch: 1, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: 0.6, seconds: 2, extra: { lr: 0.1, grad_norm: 3.5 } },
      { epoch: 2, trainLoss: 0.3, trainAccuracy: null, valLoss: null, valAccuracy: 0.7, seconds: 2 },
    ],
    log: 'epoch 1 done\nepoch 2 done\n',
  };
  store.startTrial(runId, 0, architecture, 'key-0', graph, 'command');
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.7, measurements: measured, error: null });
  store.startTrial(runId, 1, architecture, 'key-0', graph);
  store.finishTrial({ runId, index: 1, status: 'done', reward: 0.9, measurements: MEASURED, error: null });
  store.close();

  const reopened = new Store(store.path);
  const trial = reopened.getTrial(runId, 0);
  assert.equal(trial?.evaluator, 'command');
  assert.deepEqual(trial?.metrics, { valAccuracy: 0.7, testAccuracy: null, params: null, flops: null, seconds: 4 });
  assert.deepEqual(reopened.trialEpochs(runId, 0), measured.curve);
  assert.equal(reopened.trialLog(runId, 0), measured.log);
  assert.equal(reopened.trialLog(runId, 1), null, 'a built-in trainer keeps no log');
  assert.deepEqual(reopened.trialEpochs(runId, 1), MEASURED.curve, 'an epoch without extra numbers reads back without them');
  assert.ok(reopened.listTrials(runId).every((listed) => !('log' in listed)));
  reopened.close();
});

test('an epoch with a diverged extra number is refused, naming the trial, and nothing of the trial is written', () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  const graph = decodeArchitecture(config.space, [0, 0, 0, 0, 0, 0, 0]);
  store.startTrial(runId, 0, [0, 0, 0, 0, 0, 0, 0], 'k', graph, 'command');
  const curve = [
    { epoch: 1, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: 0.5, seconds: 1, extra: { lr: Number.NaN } },
  ];
  const diverged: TrialMeasurements = { ...MEASURED, curve, log: 'nan\n' };
  assert.throws(
    () => store.finishTrial({ runId, index: 0, status: 'done', reward: 0.5, measurements: diverged, error: null }),
    /trial 0 of run \d+: epoch 1 has a metric that is not a finite number \(null, null, null, 0.5, 1, lr NaN\)/,
  );
  assert.equal(store.getTrial(runId, 0)?.status, 'running');
  assert.equal(store.trialLog(runId, 0), null);
  assert.deepEqual(store.trialEpochs(runId, 0), []);
  store.close();
});

test('a version-5 database migrates with its epochs intact, which then may leave metrics out', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'nas-store-')), 'runs.db');
  const raw = new Database(path);
  raw.exec(MIGRATIONS.slice(0, 5).join('\n'));
  raw.pragma('user_version = 5');
  const file = tinySearchFile();
  const loaded = loadSearchFile(file);
  assert.ok(loaded.config);
  const runId = Number(
    raw
      .prepare(
        `INSERT INTO runs (name, space_file, space_text, config_json, strategy, space_kind, seed, status, budget_trials, created_at) ` +
          `VALUES ('old', ?, ?, ?, 'random', 'macro', 1, 'done', 2, 'then')`,
      )
      .run(file, loaded.text, JSON.stringify(loaded.config)).lastInsertRowid,
  );
  const graph = decodeArchitecture(loaded.config.space, [0, 0, 0, 0, 0, 0, 0]);
  raw
    .prepare(
      `INSERT INTO trials (run_id, idx, status, architecture_json, arch_key, graph_json, reward, val_accuracy, test_accuracy, ` +
        `params, flops, seconds, evaluator, started_at) VALUES (?, 0, 'done', '[0,0,0,0,0,0,0]', 'k', ?, 0.9, 0.9, 0.88, 1234, 5678, ` +
        `1.5, 'train-from-scratch', 'then')`,
    )
    .run(runId, JSON.stringify(graph));
  const insertEpoch = raw.prepare(
    'INSERT INTO epochs (run_id, trial_idx, epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds) ' +
      'VALUES (?, 0, ?, ?, ?, ?, ?, ?)',
  );
  for (const e of MEASURED.curve) insertEpoch.run(runId, e.epoch, e.trainLoss, e.trainAccuracy, e.valLoss, e.valAccuracy, e.seconds);
  raw.close();

  const migrated = new Store(path);
  assert.equal(migrated.schemaVersion, MIGRATIONS.length);
  assert.deepEqual(migrated.trialEpochs(runId, 0), MEASURED.curve);
  assert.deepEqual(migrated.getTrial(runId, 0)?.metrics, { valAccuracy: 0.9, testAccuracy: 0.88, params: 1234, flops: 5678, seconds: 1.5 });
  assert.equal(migrated.trialLog(runId, 0), null);
  assert.deepEqual(migrated.db.pragma('foreign_key_check'), []);
  // The rebuilt table keeps its primary key and its cascade from trials.
  const insertFirstEpochAgain = 'INSERT INTO epochs (run_id, trial_idx, epoch, val_accuracy, seconds) VALUES (?, 0, 1, 0.5, 1)';
  assert.throws(() => migrated.db.prepare(insertFirstEpochAgain).run(runId), /UNIQUE|PRIMARY/);
  migrated.startTrial(runId, 1, [0, 0, 0, 0, 0, 0, 0], 'k', graph, 'command');
  const curve = [{ epoch: 1, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: 0.5, seconds: 1 }];
  migrated.finishTrial({ runId, index: 1, status: 'done', reward: 0.5, measurements: { ...MEASURED, curve }, error: null });
  assert.deepEqual(migrated.trialEpochs(runId, 1), curve);
  migrated.db.prepare('DELETE FROM trials WHERE run_id = ? AND idx = 0').run(runId);
  assert.deepEqual(migrated.trialEpochs(runId, 0), []);
  migrated.close();
});

test('trials left running by a dead writer are marked interrupted and their index is never reused', () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  const graph = decodeArchitecture(config.space, [0, 0, 0, 0, 0, 0, 0]);
  store.startTrial(runId, 0, [0, 0, 0, 0, 0, 0, 0], 'k', graph);
  assert.equal(store.markRunningTrialsInterrupted(runId), 1);
  assert.equal(store.getTrial(runId, 0)?.status, 'interrupted');
  assert.equal(store.nextTrialIndex(runId), 1);
  assert.throws(() => store.startTrial(runId, 0, [0], 'k', graph), /UNIQUE|PRIMARY/);
  store.close();
});

test('a version-2 database migrates: its trials were trained from scratch; alpha snapshots and run notes round trip', () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  store.close();
  const raw = new Database(store.path);
  raw.exec(
    'ALTER TABLE runs DROP COLUMN writer_host; ALTER TABLE runs DROP COLUMN writer_pid_namespace; ' +
      'ALTER TABLE runs DROP COLUMN writer_started; ALTER TABLE trials DROP COLUMN evaluator; DROP ' +
      'TABLE alpha_snapshots; DROP TABLE run_notes; ALTER TABLE checkpoints DROP COLUMN asked_through; ' +
      'ALTER TABLE trials DROP COLUMN log; ALTER TABLE epochs DROP COLUMN extra_json; ' +
      'ALTER TABLE trials DROP COLUMN val_perplexity; ALTER TABLE trials DROP COLUMN test_perplexity; DROP TABLE trial_weights; ' +
      'ALTER TABLE runs DROP COLUMN queue_key; ALTER TABLE trials DROP COLUMN worker; ALTER TABLE trials DROP COLUMN attempts; ' +
      'ALTER TABLE checkpoints DROP COLUMN told_beyond_json; ALTER TABLE trials DROP COLUMN retrained_from; ' +
      'ALTER TABLE trials DROP COLUMN weights_path; ALTER TABLE trials DROP COLUMN latency_ms',
  );
  raw.pragma('user_version = 2');
  const graph = decodeArchitecture(config.space, [0, 0, 0, 0, 0, 0, 0]);
  raw
    .prepare(
      `INSERT INTO trials (run_id, idx, status, architecture_json, arch_key, graph_json, started_at) ` +
        `VALUES (?, 0, 'done', '[0,0,0,0,0,0,0]', 'k', ?, 'then')`,
    )
    .run(runId, JSON.stringify(graph));
  raw.close();

  const migrated = new Store(store.path);
  assert.equal(migrated.schemaVersion, MIGRATIONS.length);
  assert.equal(migrated.getTrial(runId, 0)?.evaluator, 'train-from-scratch');
  const weights = { normal: [[0.6, 0.4]], reduction: [[0.1, 0.9]] };
  migrated.recordAlphaSnapshot({ runId, step: 3, epoch: 1, weights });
  // A step redone after a resume replaces the first record.
  migrated.recordAlphaSnapshot({ runId, step: 3, epoch: 1, weights: { ...weights, normal: [[0.5, 0.5]] } });
  assert.deepEqual(migrated.alphaSnapshots(runId), [{ runId, step: 3, epoch: 1, weights: { ...weights, normal: [[0.5, 0.5]] } }]);
  const note = migrated.addRunNote(runId, 'warn', 'identity dominates');
  assert.deepEqual(migrated.runNotes(runId), [note]);
  assert.equal(note.seq, 1);
  migrated.close();
});

test('a database from a newer NAS Studio is refused rather than damaged', () => {
  const store = newStore();
  store.close();
  const raw = new Database(store.path);
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => new Store(store.path), /schema version 99, newer than this NAS Studio knows/);
});

test('a run being searched by another live process cannot be claimed; one whose writer died can', () => {
  const store = newStore();
  const { runId } = newRun(store);
  const setWriter = (pid: number) => store.db.prepare("UPDATE runs SET status = 'running', writer_pid = ? WHERE id = ?").run(pid, runId);
  setWriter(process.ppid);
  assert.throws(() => store.claimRun(runId), new RegExp(`being searched by process ${process.ppid}`));
  // A pid far above any the kernel hands out stands for a writer that died.
  setWriter(2 ** 22 + 12345);
  store.claimRun(runId);
  assert.equal(store.db.prepare('SELECT writer_pid FROM runs WHERE id = ?').pluck().get(runId), process.pid);
  store.setRunStatus(runId, 'stopped');
  assert.equal(store.db.prepare('SELECT writer_pid FROM runs WHERE id = ?').pluck().get(runId), null);
  store.close();
});

test('a retraining holds its run without changing its status; what a dead writer left running reads, then is recorded, interrupted', () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  store.setRunStatus(runId, 'done');
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  const graph = decodeArchitecture(config.space, architecture);
  const setWriter = (pid: number | null) => store.db.prepare('UPDATE runs SET writer_pid = ? WHERE id = ?').run(pid, runId);
  const status = () => store.getRun(runId)!.status;

  // Another live process retrains it: a retraining, a search and a deletion are refused, saying so.
  setWriter(process.ppid);
  assert.throws(
    () => store.claimRunForRetraining(runId),
    new RegExp(`being retrained by process ${process.ppid}; retrain once it has finished`),
  );
  assert.throws(() => store.claimRun(runId), new RegExp(`being retrained by process ${process.ppid}; stop it first`));
  assert.throws(() => store.deleteRun(runId), /being written by a live process/);

  // That retraining died (a pid far above any the kernel hands out) with its trial running.
  setWriter(2 ** 22 + 12345);
  store.startTrial(runId, 0, architecture, 'key-0', graph);
  assert.equal(store.liveRun(store.getRun(runId)!).status, 'done', 'the run reads as it was');
  assert.equal(store.liveTrials(runId, store.listTrials(runId))[0].status, 'interrupted');
  assert.equal(store.getTrial(runId, 0)!.status, 'running', 'reading changes nothing');

  store.claimRunForRetraining(runId);
  assert.equal(status(), 'done', 'a retraining keeps the run done');
  assert.equal(store.getTrial(runId, 0)!.status, 'interrupted', 'the next claim records it');
  store.startTrial(runId, 1, architecture, 'key-0', graph);
  assert.equal(store.liveTrials(runId, store.listTrials(runId))[1].status, 'running', 'its own writer is alive');
  store.releaseRun(runId);
  assert.equal(store.db.prepare('SELECT writer_pid FROM runs WHERE id = ?').pluck().get(runId), null);
  assert.equal(status(), 'done');

  // A search killed: its run reads interrupted, and a retraining's claim records it so.
  store.db.prepare("UPDATE runs SET status = 'running', writer_pid = ? WHERE id = ?").run(2 ** 22 + 12345, runId);
  assert.equal(store.liveRun(store.getRun(runId)!).status, 'interrupted');
  store.claimRunForRetraining(runId);
  assert.equal(status(), 'interrupted');
  assert.equal(store.getTrial(runId, 1)!.status, 'interrupted');
  store.close();
});

test("a user's retraining is no part of a run's progress (a resumed search would lose a trial to it); a one-shot search's own is", () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  const graph = decodeArchitecture(config.space, architecture);
  for (const index of [0, 1]) {
    store.startTrial(runId, index, architecture, `key-${index}`, graph);
    store.finishTrial({ runId, index, status: 'done', reward: 0.5, measurements: MEASURED, error: null });
  }
  // Stopped at 2 of its budget, then trial 0 retrained: index 2, below the budget.
  store.startTrial(runId, 2, architecture, 'key-0', graph, 'train-from-scratch', 0);
  store.finishTrial({ runId, index: 2, status: 'done', reward: null, measurements: MEASURED, error: null });
  const run = store.getRun(runId)!;
  assert.ok(run.budgetTrials > 2);
  assert.equal(run.oneShot, false);
  assert.equal(run.trialsDone, 2, 'a random search resumed trains its whole budget of search trials');
  assert.equal(countsInProgress(store.getTrial(runId, 2)!, run), false);
  // The same trial in a one-shot search is its own retraining, part of its budget.
  store.db.prepare("UPDATE runs SET strategy = 'enas' WHERE id = ?").run(runId);
  const oneShot = store.getRun(runId)!;
  assert.equal(oneShot.oneShot, true);
  assert.equal(oneShot.trialsDone, 3);
  assert.equal(countsInProgress(store.getTrial(runId, 2)!, oneShot), true);
  store.close();
});

test('controller hidden states round trip as float32, one per trial, and go with their run', () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  const graph = decodeArchitecture(config.space, architecture);
  store.startTrial(runId, 0, architecture, 'key-0', graph);
  store.startTrial(runId, 1, architecture, 'key-0', graph);
  store.recordHiddenState(runId, 1, [0.5, -0.25, 0.1]);
  store.recordHiddenState(runId, 0, [1, 2]);
  assert.deepEqual(store.hiddenStates(runId), [
    { index: 0, hidden: [1, 2] },
    { index: 1, hidden: [0.5, -0.25, Math.fround(0.1)] },
  ]);
  assert.throws(() => store.recordHiddenState(runId, 7, [1]), /FOREIGN KEY/, 'only for a trial that exists');
  store.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
  assert.deepEqual(store.hiddenStates(runId), []);
  store.close();
});

test('a database of schema version 1 gains the hidden-state table and keeps its runs', () => {
  const store = newStore();
  const { runId } = newRun(store);
  store.db.exec(
    'ALTER TABLE runs DROP COLUMN writer_host; ALTER TABLE runs DROP COLUMN writer_pid_namespace; ' +
      'ALTER TABLE runs DROP COLUMN writer_started; DROP TABLE controller_hidden_states; ALTER TABLE ' +
      'trials DROP COLUMN evaluator; DROP TABLE alpha_snapshots; DROP TABLE run_notes; ALTER TABLE checkpoints DROP COLUMN ' +
      'asked_through; ALTER TABLE trials DROP COLUMN log; ALTER TABLE epochs DROP COLUMN extra_json; ' +
      'ALTER TABLE trials DROP COLUMN val_perplexity; ALTER TABLE trials DROP COLUMN test_perplexity; DROP TABLE trial_weights; ' +
      'ALTER TABLE runs DROP COLUMN queue_key; ALTER TABLE trials DROP COLUMN worker; ALTER TABLE trials DROP COLUMN attempts; ' +
      'ALTER TABLE checkpoints DROP COLUMN told_beyond_json; ALTER TABLE trials DROP COLUMN retrained_from; ' +
      'ALTER TABLE trials DROP COLUMN weights_path; ALTER TABLE trials DROP COLUMN latency_ms',
  );
  store.db.pragma('user_version = 1');
  store.close();
  const reopened = new Store(store.path);
  assert.equal(reopened.schemaVersion, MIGRATIONS.length);
  assert.equal(reopened.getRun(runId)?.name, 'tiny');
  assert.deepEqual(reopened.hiddenStates(runId), []);
  reopened.close();
});

test("a language model's kept weights round trip with its trial, and go with their run", () => {
  const store = newStore();
  const { runId, config } = newRun(store);
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  const graph = decodeArchitecture(config.space, architecture);
  const values = Float32Array.from([0.5, -1.25, 3, 0.125, 7, -0.75]);
  const weights: LanguageModelWeights = {
    format: 'float32-base64',
    shapes: [[2, 2], [2]],
    data: Buffer.from(values.buffer).toString('base64'),
    tokens: 'char',
    vocabulary: ['a', 'b'],
  };
  store.startTrial(runId, 0, architecture, 'key-0', graph);
  store.startTrial(runId, 1, architecture, 'key-1', graph);
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.5, measurements: { ...MEASURED, weights }, error: null });
  store.finishTrial({ runId, index: 1, status: 'pruned', reward: 0.5, measurements: MEASURED, error: null });
  const path = store.path;
  store.close();

  const reopened = new Store(path);
  assert.deepEqual(reopened.trialWeights(runId, 0), weights);
  assert.equal(reopened.hasTrialWeights(runId, 0), true);
  assert.equal(reopened.trialWeights(runId, 1), undefined);
  assert.equal(reopened.hasTrialWeights(runId, 1), false);
  // Listings never carry the weights: they stay in their own table.
  assert.equal('weights' in (reopened.getTrial(runId, 0)?.metrics ?? {}), false);
  reopened.db.prepare('DELETE FROM runs WHERE id = ?').run(runId);
  assert.equal(reopened.db.prepare('SELECT COUNT(*) FROM trial_weights').pluck().get(), 0);
  reopened.close();
});
