// The CLI end to end, as a user runs it: the built bundle in a child process, on a tiny budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { EpochMetrics, TrialEvaluator, TrialRecord } from '../../src/protocol/engine.ts';
import { Store } from '../../src/engine/store/store.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { loadSearchFile } from '../../src/space/parse.ts';
import { tinyRecurrentSearchFile, tinySearchFile, TINY_CORPUS } from '../support/tiny.ts';
import { exportWeights } from '../../src/engine/model/language-model-weights.ts';
import { LanguageModel, searchedCell } from '../../src/engine/model/recurrent.ts';
import type { RecurrentGraph } from '../../src/space/graph.ts';
import { ProgressLine } from '../../src/cli/progress.ts';

const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

function cli(args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const freshDb = () => join(mkdtempSync(join(tmpdir(), 'nas-cli-')), 'runs.db');

test('validate: exit 0 on a valid file, exit 2 with file:line:column lines on a bad one', () => {
  assert.equal(cli(['validate', tinySearchFile()]).code, 0);
  const dir = mkdtempSync(join(tmpdir(), 'nas-bad-'));
  const bad = join(dir, 'bad.nas.yaml');
  writeFileSync(bad, 'name: bad\ndataset: { kind: digits }\nspace: { kind: macro, layers: 0 }\nstrategy: { kind: reinforcement }\n');
  const result = cli(['validate', bad]);
  assert.equal(result.code, 2);
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+: .*layers.*minimum`));
  assert.match(lines[1], /:4:\d+: .*allowed: random, reinforce/);
});

test('a reader that stops reading (| head) ends the command quietly: exit 0, no stack trace', async () => {
  const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Closed before the command writes: its write fails with EPIPE.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(stderr, '');
  assert.equal(code, 0);
});

test('search on an invalid file: the same messages, exit 2, nothing written to the database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bad-'));
  const bad = join(dir, 'bad.nas.yaml');
  writeFileSync(bad, 'name: bad\ndataset: { kind: digits }\nspace: { kind: macro, layers: 2, filters: [] }\nstrategy: { kind: random }\n');
  const db = freshDb();
  const result = cli(['search', bad, '--db', db]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /bad\.nas\.yaml:3:\d+: space\.filters/);
  if (existsSync(db)) {
    const store = new Store(db);
    assert.equal(store.listRuns().length, 0);
    store.close();
  }
});

test('only a search creates the database: any other command on a missing one says so and leaves no file', () => {
  const db = freshDb();
  for (const command of [['runs'], ['trials', '1'], ['show', '1'], ['front', '1'], ['resume', '1'], ['retrain', '1'], ['delete', '1']]) {
    const result = cli([...command, '--db', db]);
    assert.equal(result.code, 1, `${command.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, `nas-studio: ${db}: no such database (a search creates it; --db names another)\n`, command.join(' '));
    assert.ok(!existsSync(db), `${command.join(' ')} created ${db}`);
  }
});

test('search, runs, trials, show and export end to end on a tiny budget', () => {
  const db = freshDb();
  const file = tinySearchFile({ trials: 3 });
  const search = cli(['search', file, '--db', db, '--seed', '3']);
  assert.equal(search.code, 0, search.stderr);
  assert.match(search.stderr, /trial 3\/3 +best reward \d\.\d{4} +elapsed/);
  assert.match(search.stdout, /run 1 "tiny": done, 3\/3 trials, backend cpu/);
  assert.match(search.stdout, /best architecture \(trial \d+/);
  assert.match(search.stdout, /L1: conv \dx\d, \d filters/);

  const runs = JSON.parse(cli(['runs', '--db', db, '--json']).stdout);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].seed, 3, '--seed overrides the file');
  assert.equal(runs[0].status, 'done');

  const trials = JSON.parse(cli(['trials', 'latest', '--db', db, '--json']).stdout);
  assert.equal(trials.length, 3);
  for (const trial of trials) {
    for (const field of ['index', 'status', 'reward', 'architecture', 'metrics']) assert.ok(field in trial, `trials --json has ${field}`);
    assert.equal(trial.status, 'done');
    assert.ok(trial.reward > 0 && trial.reward <= 1);
    assert.ok(trial.metrics.params > 0);
  }
  const shown = JSON.parse(cli(['show', '1', '0', '--db', db, '--json']).stdout);
  assert.equal(shown.epochs.length, 1);
  const text = cli(['show', 'latest', '2', '--db', db]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /run 1, trial 2: done/);
  assert.doesNotMatch(text.stdout, /^log:$/m, 'a built-in trainer keeps no log');
  assert.equal(shown.log, null);
  assert.equal(cli(['trials', '7', '--db', db]).code, 2);
  assert.equal(cli(['frobnicate']).code, 2);

  const study = join(mkdtempSync(join(tmpdir(), 'nas-cli-export-')), 'study.db');
  const exported = cli(['export', 'latest', '--db', db, '--format', 'optuna', '--out', study]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, /wrote run 1 as the Optuna study "tiny \(run 1\)" \(3 trials\) to .*study\.db/);
  const again = cli(['export', 'latest', '--db', db, '--format', 'optuna', '--out', study]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /study\.db exists; choose another --out, or add --force to replace it/);
  assert.equal(cli(['export', 'latest', '--db', db, '--format', 'optuna', '--out', study, '--force']).code, 0);
  const unknown = cli(['export', 'latest', '--db', db, '--format', 'onnx', '--out', study]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--format must be one of optuna, json, svg, tfjs, keras, pytorch, got "onnx"/);
  assert.equal(cli(['export', 'latest', '0', '--db', db, '--format', 'optuna', '--out', study, '--force']).code, 2, 'optuna: no trial');

  // One trial: the best done one unless named. Its JSON spells out the stored architecture and decodes to its graph.
  const dir = mkdtempSync(join(tmpdir(), 'nas-cli-export-'));
  const bestFile = join(dir, 'best.json');
  const best = cli(['export', 'latest', '--db', db, '--format', 'json', '--out', bestFile]);
  assert.equal(best.code, 0, best.stderr);
  const bestJson = JSON.parse(readFileSync(bestFile, 'utf8'));
  assert.match(best.stdout, new RegExp(`wrote trial ${bestJson.trial} of run 1 \\(reward \\d\\.\\d{4}\\) as json to .*best\\.json`));
  assert.equal(bestJson.run, 1);
  assert.equal(bestJson.reward, Math.max(...trials.map((trial: { reward: number }) => trial.reward)));
  const stored = trials.find((trial: { index: number }) => trial.index === bestJson.trial);
  assert.deepEqual(bestJson.architecture, stored.architecture);
  assert.equal(bestJson.key, stored.key);
  assert.deepEqual(bestJson.metrics, stored.metrics);
  const { config } = loadSearchFile(file);
  assert.ok(config);
  const decisions = compileSpace(config.space);
  assert.deepEqual(
    bestJson.decisions,
    stored.architecture.map((choice: number, i: number) => ({ name: decisions[i].name, option: decisions[i].options[choice] })),
  );
  assert.deepEqual(bestJson.graph, decodeArchitecture(config.space, stored.architecture));

  const drawing = join(dir, 'trial0.svg');
  assert.equal(cli(['export', 'latest', '0', '--db', db, '--format', 'svg', '--out', drawing]).code, 0);
  assert.match(readFileSync(drawing, 'utf8'), /^<\?xml [^]*<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^]*>classifier<\/text>/);
  const existing = cli(['export', 'latest', '0', '--db', db, '--format', 'svg', '--out', drawing]);
  assert.equal(existing.code, 1);
  assert.match(existing.stderr, /trial0\.svg exists; choose another --out, or add --force to replace it/);
  assert.equal(cli(['export', 'latest', '0', '--db', db, '--format', 'svg', '--out', drawing, '--force']).code, 0);
  const missing = cli(['export', 'latest', '7', '--db', db, '--format', 'svg', '--out', join(dir, 'none.svg')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /run 1 has no trial "7"/);
});

test('front prints the Pareto front of done trials, validation accuracy against params, fewest params first', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-cli-front-'));
  const db = join(dir, 'runs.db');
  const file = join(dir, 'front.nas.yaml');
  writeFileSync(
    file,
    'name: front\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular, dataset: cifar10 }\n' +
      'strategy: { kind: evolution, pareto: { minimise: [params] } }\nbudget: { trials: 40 }\n',
  );
  assert.equal(cli(['search', file, '--db', db]).code, 0);
  const trials: { index: number; metrics: { valAccuracy: number; params: number } }[] = JSON.parse(
    cli(['trials', 'latest', '--db', db, '--json']).stdout,
  );
  const front: typeof trials = JSON.parse(cli(['front', 'latest', '--db', db, '--json']).stdout);
  const beats = (a: (typeof trials)[0], b: (typeof trials)[0]) =>
    a.metrics.valAccuracy >= b.metrics.valAccuracy &&
    a.metrics.params <= b.metrics.params &&
    (a.metrics.valAccuracy > b.metrics.valAccuracy || a.metrics.params < b.metrics.params);
  const expected = trials.filter((t) => !trials.some((other) => beats(other, t)));
  assert.deepEqual(
    front.map((t) => t.index).sort((a, b) => a - b),
    expected.map((t) => t.index),
  );
  assert.ok(front.length >= 2);
  // Along the front, more parameters buy more accuracy.
  for (let i = 1; i < front.length; i++) {
    assert.ok(front[i].metrics.params >= front[i - 1].metrics.params);
    assert.ok(front[i].metrics.valAccuracy > front[i - 1].metrics.valAccuracy);
  }
  const text = cli(['front', 'latest', '--db', db]);
  assert.equal(text.code, 0);
  const lines = text.stdout.trim().split('\n');
  assert.match(lines[0], /^trial +val_acc +test_acc +params +architecture$/);
  assert.deepEqual(
    lines.slice(2).map((line) => Number(line.split(/ +/)[0])),
    front.map((t) => t.index),
  );
  assert.equal(cli(['front', '7', '--db', db]).code, 2);
});

test('front of a run whose Pareto evolution minimised latency: trained children measured by the built trainer, a latency_ms column', () => {
  const db = freshDb();
  const file = tinySearchFile({ strategy: 'random', trials: 4 });
  const pareto = 'strategy: { kind: evolution, population_size: 2, sample_size: 2, pareto: { minimise: [latency] } }';
  writeFileSync(file, readFileSync(file, 'utf8').replace('strategy: { kind: random }', pareto));
  assert.equal(cli(['search', file, '--db', db]).code, 0);
  const front: { index: number; metrics: { valAccuracy: number; latencyMs: number } }[] = JSON.parse(
    cli(['front', 'latest', '--db', db, '--json']).stdout,
  );
  assert.ok(front.length >= 1);
  // Along the front, fastest first, more latency buys more accuracy.
  for (let i = 1; i < front.length; i++) {
    assert.ok(front[i].metrics.latencyMs >= front[i - 1].metrics.latencyMs);
    assert.ok(front[i].metrics.valAccuracy > front[i - 1].metrics.valAccuracy);
  }
  const lines = cli(['front', 'latest', '--db', db]).stdout.trim().split('\n');
  assert.match(lines[0], /^trial +val_acc +test_acc +params +latency_ms +architecture$/);
  assert.deepEqual(
    lines.slice(2).map((line) => Number(line.split(/ +/)[4])),
    front.map((t) => Number(t.metrics.latencyMs.toFixed(3))),
  );
});

test('export refuses a trial that has not finished, saying its status, and a run with no finished trial', () => {
  const { db, store, runId } = runWithTrialStarted('unfinished', 'train-from-scratch');
  const architecture = [0, 0, 0, 0, 0, 0, 0];
  store.startTrial(
    runId,
    1,
    architecture,
    'f',
    decodeArchitecture(store.runConfig(runId).config.space, architecture),
    'train-from-scratch',
  );
  store.finishTrial({ runId, index: 1, status: 'failed', reward: null, measurements: null, error: 'out of memory' });
  store.close();
  const out = join(mkdtempSync(join(tmpdir(), 'nas-cli-export-')), 'trial.json');
  const running = cli(['export', 'latest', '0', '--db', db, '--format', 'json', '--out', out]);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /trial 0 of run 1 is (running|interrupted), not finished; export a done trial/);
  const failed = cli(['export', 'latest', '1', '--db', db, '--format', 'svg', '--out', out]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /trial 1 of run 1 is failed, not finished/);
  const none = cli(['export', 'latest', '--db', db, '--format', 'json', '--out', out]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /run 1 has no finished trial to export/);
  assert.ok(!existsSync(out), 'nothing written');
});

/** A database with one run of the tiny search (as created, before its trial) and its trial 0 started, key `k`. */
function runWithTrialStarted(name: string, evaluator: TrialEvaluator) {
  const db = freshDb();
  const store = new Store(db);
  const file = tinySearchFile();
  const { text, config } = loadSearchFile(file);
  assert.ok(config);
  const runId = store.createRun({ name, spaceFile: file, spaceText: text, config });
  const run = store.getRun(runId)!;
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  store.startTrial(runId, 0, architecture, 'k', decodeArchitecture(config.space, architecture), evaluator);
  return { db, store, runId, run };
}

test("trials and show print '-' for what a training command did not report, its extra numbers, and the end of its log", () => {
  const { db, store, runId } = runWithTrialStarted('own script', 'command');
  const log = Array.from({ length: 45 }, (_, i) => `line ${i + 1}`).join('\n') + '\n';
  const curve: EpochMetrics[] = [
    { epoch: 1, trainLoss: null, trainAccuracy: null, valLoss: null, valAccuracy: 0.5, seconds: 2, extra: { lr: 0.1 } },
    { epoch: 2, trainLoss: 0.25, trainAccuracy: null, valLoss: null, valAccuracy: 0.75, seconds: 2, extra: { lr: 0.01, grad_norm: 2 } },
  ];
  const measurements = { valAccuracy: 0.75, testAccuracy: null, params: null, flops: null, seconds: 4, curve, log };
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.75, measurements, error: null });
  store.close();

  const trials = cli(['trials', 'latest', '--db', db]);
  assert.equal(trials.code, 0, trials.stderr);
  assert.match(trials.stdout, /^0 +done +0\.7500 +0\.7500 +- +- +4\.0s +k$/m);
  const shown = cli(['show', 'latest', '0', '--db', db]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /val_acc 0\.7500 +test_acc - +params - +flops -/);
  assert.match(shown.stdout, /^epoch +train_loss +train_acc +val_loss +val_acc +time +lr +grad_norm$/m);
  assert.match(shown.stdout, /^1 +- +- +- +0\.5000 +2\.0s +0\.1000 +-$/m);
  assert.match(shown.stdout, /^2 +0\.2500 +- +- +0\.7500 +2\.0s +0\.0100 +2\.0000$/m);
  const printedLog = shown.stdout
    .slice(shown.stdout.indexOf('\nlog:\n') + '\nlog:\n'.length)
    .trimEnd()
    .split('\n');
  assert.deepEqual(printedLog, ['(5 earlier lines; --json has them all)', ...log.trimEnd().split('\n').slice(5)]);
  const json = JSON.parse(cli(['show', 'latest', '0', '--db', db, '--json']).stdout);
  assert.equal(json.log, log);
  assert.equal(json.evaluator, 'command');
  assert.deepEqual(json.epochs, curve);
});

test("a language model's trials and show print its perplexity; sample continues a prompt from its kept weights", async () => {
  const db = freshDb();
  const store = new Store(db);
  const file = tinyRecurrentSearchFile();
  const { text, config } = loadSearchFile(file);
  assert.ok(config && config.space.kind === 'recurrent');
  const runId = store.createRun({ name: 'lm', spaceFile: file, spaceText: text, config });
  const graph: RecurrentGraph = {
    kind: 'recurrent',
    nodes: [
      { input: -1, activation: 'tanh' },
      { input: 0, activation: 'relu' },
    ],
  };
  const vocabulary = [...new Set(TINY_CORPUS)].sort();
  // Untrained weights sample as well as trained ones: the CLI's part is the plumbing.
  const model = new LanguageModel(searchedCell(graph, config.space, 1), { vocabulary: vocabulary.length, hidden: 8, tieWeights: true }, 1);
  const weights = await exportWeights(model, { tokens: 'char', vocabulary });
  model.dispose();
  const measured = {
    valAccuracy: 0.25,
    testAccuracy: 0.2,
    valPerplexity: 12.345,
    testPerplexity: 13.5,
    params: 735,
    flops: null,
    seconds: 1,
    curve: [],
  };
  for (const index of [0, 1]) store.startTrial(runId, index, [0, 0, 1], `k${index}`, graph);
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.04, measurements: { ...measured, weights }, error: null });
  store.finishTrial({ runId, index: 1, status: 'pruned', reward: 0.04, measurements: { ...measured, testPerplexity: null }, error: null });
  store.close();

  const trials = cli(['trials', 'latest', '--db', db]);
  assert.equal(trials.code, 0, trials.stderr);
  assert.match(trials.stdout, /^trial +status +reward +val_ppl +test_ppl +val_acc +test_acc /m);
  assert.match(trials.stdout, /^0 +done +0\.0400 +12\.35 +13\.50 +0\.2500 +0\.2000 /m);
  assert.match(trials.stdout, /^1 +pruned @ epoch 0 +0\.0400 +12\.35 +- +0\.2500 /m);
  assert.match(cli(['show', 'latest', '0', '--db', db]).stdout, /^val_ppl 12\.35 +test_ppl 13\.50 +val_acc 0\.2500/m);

  const sampled = cli(['sample', 'latest', '0', '--db', db, '--length', '50', '--temperature', '1.2', '--seed', '4']);
  assert.equal(sampled.code, 0, sampled.stderr);
  assert.ok(sampled.stdout.startsWith('ROMEO:'), sampled.stdout);
  assert.equal([...sampled.stdout.slice('ROMEO:'.length).replace(/\n$/, '')].length, 50, sampled.stdout);
  assert.equal(cli(['sample', 'latest', '0', '--db', db, '--length', '50', '--temperature', '1.2', '--seed', '4']).stdout, sampled.stdout);
  const pruned = cli(['sample', 'latest', '1', '--db', db]);
  assert.equal(pruned.code, 1);
  assert.match(pruned.stderr, /trial 1 of run 1 kept no trained weights to sample from/);
  assert.equal(cli(['sample', 'latest', '0', '--db', db, '--temperature', '0']).code, 2);
});

test('retrain a language model: the final recipe on training and validation text, test perplexity each epoch, sampled after', () => {
  const db = freshDb();
  const search = cli(['search', tinyRecurrentSearchFile(), '--db', db]);
  assert.equal(search.code, 0, search.stderr);
  const retrain = cli(['retrain', 'latest', '--epochs', '2', '--db', db]);
  assert.equal(retrain.code, 0, retrain.stderr);
  assert.match(retrain.stderr, /^retraining trial \d of run 1 on cpu: 2 epochs on the training and validation examples/m);
  assert.match(retrain.stderr, /^epoch 1: train_ppl \d+\.\d\d, test_ppl \d+\.\d\d \(/m);
  assert.match(retrain.stderr, /^epoch 2: train_ppl \d+\.\d\d, test_ppl \d+\.\d\d \(/m);
  const result = /^trial 2 of run 1 retrains trial (\d): test_ppl (\d+\.\d\d) after 2 epochs; its weights are kept in the database$/m.exec(
    retrain.stdout,
  );
  assert.ok(result, retrain.stdout);
  assert.match(retrain.stdout, /^sample from it with: nas-studio sample 1 2$/m);
  const [retrained] = (JSON.parse(cli(['trials', '1', '--json', '--db', db]).stdout) as TrialRecord[]).filter((t) => t.index === 2);
  assert.equal(retrained.retrainedFrom, Number(result[1]));
  assert.equal(retrained.reward, null);
  assert.equal(retrained.metrics!.testPerplexity!.toFixed(2), result[2]);
  // What it held out is the test text: no validation figures of its own.
  assert.match(
    cli(['trials', '1', '--db', db]).stdout,
    new RegExp(`^2 +done, retrains ${result[1]} +- +- +${result[2]} +- +0\\.\\d{4} `, 'm'),
  );
  assert.match(cli(['show', '1', '2', '--db', db]).stdout, new RegExp(`^test_ppl ${result[2]}  test_acc 0\\.\\d{4}  params`, 'm'));
  const sampled = cli(['sample', '1', '2', '--db', db, '--length', '20']);
  assert.equal(sampled.code, 0, sampled.stderr);
  assert.equal([...sampled.stdout.slice('ROMEO:'.length).replace(/\n$/, '')].length, 20);
  const exported = cli(['export', '1', '2', '--format', 'tfjs', '--out', join(dirname(db), 'model'), '--db', db]);
  assert.equal(exported.code, 1);
  assert.match(exported.stderr, /run 1 trains no image classifier NAS Studio builds; .*nas-studio sample 1 2/);
});

test('trials, show and the progress lines say where a pruned trial stopped; its reward is never the best so far', () => {
  const { db, store, runId, run } = runWithTrialStarted('pruned', 'train-from-scratch');
  const curve: EpochMetrics[] = [{ epoch: 1, trainLoss: 1, trainAccuracy: 0.4, valLoss: 1.2, valAccuracy: 0.9, seconds: 1 }];
  const measurements = { valAccuracy: 0.9, testAccuracy: 0.5, params: 100, flops: 1000, seconds: 1, curve };
  store.finishTrial({ runId, index: 0, status: 'pruned', reward: 0.9, measurements, error: null });
  const pruned = store.getTrial(runId, 0)!;
  store.close();

  const trials = cli(['trials', 'latest', '--db', db]);
  assert.equal(trials.code, 0, trials.stderr);
  assert.match(trials.stdout, /^0 +pruned @ epoch 1 +0\.9000 +0\.9000 /m);
  assert.match(cli(['show', 'latest', '0', '--db', db]).stdout, /^run 1, trial 0: pruned @ epoch 1, reward 0\.9000$/m);

  const lines: string[] = [];
  const progress = new ProgressLine((text) => lines.push(text));
  progress.onEvent({ type: 'run-started', run, resumed: false, backend: 'cpu', backendDetail: '', log10SpaceSize: 1 });
  progress.onEvent({ type: 'trial-finished', trial: pruned });
  progress.end();
  const printed = lines.join('');
  assert.match(printed, /^trial 0 pruned @ epoch 1$/m);
  assert.match(printed, /^trial 1\/3 +best reward - /m);
});

test('a writer killed with SIGKILL mid-run leaves a database that opens, and resume finishes the run', async () => {
  const db = freshDb();
  const file = tinySearchFile({ trials: 6, strategy: 'reinforce' });
  const child = spawn(process.execPath, [CLI, 'search', file, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/trial 2\/6/.test(seen)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`the search ended before it could be killed:\n${seen}`)));
  });
  await new Promise((resolve) => child.on('exit', resolve));

  const killed = new Store(db);
  assert.equal(killed.db.pragma('integrity_check', { simple: true }) as string, 'ok');
  const before = killed.listTrials(1);
  const finishedBefore = before.filter((t) => t.status === 'done');
  assert.ok(finishedBefore.length >= 2);
  assert.equal(killed.getRun(1)?.status, 'running', 'a killed writer could not mark its run');
  killed.close();

  const resumed = cli(['resume', '1', '--db', db]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming run 1/);
  const store = new Store(db);
  const run = store.getRun(1);
  assert.equal(run?.status, 'done');
  assert.equal(run?.trialsDone, 6);
  const after = store.listTrials(1);
  for (const trial of finishedBefore)
    assert.deepEqual(
      after.find((t) => t.index === trial.index),
      trial,
      'no finished trial is lost or changed',
    );
  assert.equal(new Set(after.map((t) => t.index)).size, after.length, 'no trial index repeats');
  assert.ok(after.every((t) => t.status === 'done' || t.status === 'interrupted'));
  store.close();
  assert.match(cli(['resume', '1', '--db', db]).stdout, /already done/);
});

test(
  'Ctrl-C (SIGINT to the whole process group) stops the search: the run is stopped, trials in ' + 'training interrupted, exit 0',
  async () => {
    const db = freshDb();
    const child = spawn(process.execPath, [CLI, 'search', tinySearchFile({ trials: 40 }), '--db', db], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await new Promise<void>((resolve) => {
      let seen = '';
      child.stderr.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/trial 1\/40/.test(seen)) resolve();
      });
    });
    process.kill(-child.pid!, 'SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0);
    assert.match(stdout, /: stopped, \d+\/40 trials/);
    const store = new Store(db);
    const trials = store.listTrials(1);
    assert.equal(store.getRun(1)?.status, 'stopped');
    assert.ok(
      trials.every((t) => t.status === 'done' || t.status === 'interrupted'),
      trials.map((t) => t.status).join(','),
    );
    store.close();
  },
);

test('analyze: Table 1 of a reinforce run as JSON and as a table; a run of another strategy is refused', () => {
  const db = freshDb();
  assert.equal(cli(['search', tinySearchFile({ trials: 4, strategy: 'reinforce' }), '--db', db]).code, 0);
  const result = cli(['analyze', 'latest', '--db', db, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const insight = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(insight.spearman), [
    'common_ops',
    'common_connections',
    'ged',
    'reward_gap',
    'pairs',
    'reward_pairs',
    'distinct_architectures',
  ]);
  assert.equal(insight.spearman.pairs, 4950);
  assert.equal(insight.controller, 'unsupervised');
  assert.equal(insight.table.supervised, null, 'no memory buffer in this run');
  assert.equal(insight.ged_method, 'exact');
  assert.ok(insight.spearman.reward_pairs < 4950, 'only architectures the run trained have a reward');
  assert.equal(insight.decisions.length, 7);

  const text = cli(['analyze', '1', '--db', db]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /random \(fresh init\) +[- ]\d\.\d{3}/);
  assert.match(text.stdout, /supervised \(memory buffer\) +absent .* -0\.404 -0\.160 0\.100 0\.163/);

  const randomDb = freshDb();
  assert.equal(cli(['search', tinySearchFile({ trials: 2, strategy: 'random' }), '--db', randomDb]).code, 0);
  const refused = cli(['analyze', '1', '--db', randomDb]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /used the random strategy; controller insight analyses the LSTM controller of a reinforce or enas run/);
});

test('doctor: every backend in auto order with usable and detail, as JSON and as text with what auto picks; it exits by itself', () => {
  // spawnSync returns only once the process has exited: the explicit exit, though Dawn was loaded.
  const result = cli(['doctor', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const reports: { name: string; usable: boolean; detail: string; pickedByAuto: boolean }[] = JSON.parse(result.stdout);
  assert.deepEqual(
    reports.map((report) => report.name),
    ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'],
  );
  assert.ok(reports.every((report) => typeof report.usable === 'boolean' && report.detail.length > 0));
  assert.equal(reports.at(-1)?.usable, true, 'cpu is always usable');
  const picked = reports.filter((report) => report.pickedByAuto);
  assert.deepEqual(picked, [reports.find((report) => report.usable)]);

  const text = cli(['doctor']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^cpu +usable +always there$/m);
  assert.match(text.stdout, /^webgpu +(not usable|usable) +\S/m);
  assert.match(text.stdout, new RegExp(`^auto picks: ${picked[0].name}$`, 'm'));
  assert.match(cli(['--help']).stdout, /nas-studio doctor \[--json\]/);
});
