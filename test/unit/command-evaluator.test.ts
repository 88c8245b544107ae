// The command evaluator against real programs: stdlib-only Python trial scripts (test/fixtures/command-trials)
// that behave, crash, hang, print garbage on the report channel, never report, report NaN, or leave a
// grandchild behind. Skipped, with the reason, where there is no python3.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandEvaluator } from '../../src/engine/evaluators/command.ts';
import { EvaluationFailed, type EvaluationRequest } from '../../src/engine/evaluators/evaluator.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import type { EpochMetrics } from '../../src/protocol/engine.ts';
import type { CommandEvaluationConfig, SearchConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { parseSearchText } from '../../src/space/parse.ts';

const FIXTURES = join(__dirname, '..', 'fixtures', 'command-trials');
const python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import json']).status === 0);

const SEARCH = parseSearchText(
  `name: command
dataset: { kind: digits }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: random }
evaluation: { kind: command, command: [python3, normal.py], epochs: 2 }
`,
  join(FIXTURES, 'command.nas.yaml'),
);

function evaluator(
  script: string,
  changes: Partial<CommandEvaluationConfig> = {},
  gpus: string[] = [],
  args: string[] = [],
  config = SEARCH.config as SearchConfig,
) {
  // Python's scripts run under the Python found, the Node twin's under this Node.
  const program = script.endsWith('.mjs') ? process.execPath : python!;
  const evaluation = { ...(config.evaluation as CommandEvaluationConfig), command: [program, join(FIXTURES, script), ...args], ...changes };
  return new CommandEvaluator(evaluation, config, FIXTURES, gpus);
}

const architecture = compileSpace(SEARCH.config!.space).map(() => 1);
const REQUEST: EvaluationRequest = {
  runId: 4,
  index: 2,
  architecture,
  graph: decodeArchitecture(SEARCH.config!.space, architecture),
  space: SEARCH.config!.space,
  seed: 9,
};

function needsPython(t: TestContext): boolean {
  if (python) return true;
  console.log('SKIP command evaluator tests: no python3 on PATH and no /usr/bin/python3');
  t.skip('no python3');
  return false;
}

async function failure(promise: Promise<unknown>): Promise<EvaluationFailed> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof EvaluationFailed, String(error));
    return error;
  }
  assert.fail('the trial was expected to fail');
}

test('the search file validates with evaluation kind command', () => {
  assert.deepEqual(SEARCH.problems, []);
  assert.deepEqual((SEARCH.config!.evaluation as CommandEvaluationConfig).command, ['python3', 'normal.py']);
});

test('a script the command names must exist beside the search file: file, line and rule otherwise', () => {
  const text = (script: string) =>
    `name: c\ndataset: { kind: digits }\nspace: { kind: macro, layers: 1, filter_heights: [3], filter_widths: [3], filters: [4] }\n` +
    `strategy: { kind: random }\nevaluation:\n  kind: command\n  command: [python3, ${script}]\n`;
  assert.deepEqual(parseSearchText(text('normal.py'), join(FIXTURES, 'c.nas.yaml')).problems, []);
  const [problem, ...more] = parseSearchText(text('trian.py'), join(FIXTURES, 'c.nas.yaml')).problems;
  assert.deepEqual(more, []);
  assert.deepEqual([problem.line, problem.rule], [7, 'file-not-found']);
  assert.match(problem.message, /^evaluation\.command\[1\]: trian\.py not found: .*trian\.py \(rule: file-not-found\)/);
});

test('a trial that reports its epochs and result: the curve, the result, extras, the log, its GPU', async (t) => {
  if (!needsPython(t)) return;
  const epochs: EpochMetrics[] = [];
  const measured = await evaluator('normal.py', {}, ['3']).evaluate(REQUEST, (metrics) => void epochs.push(metrics));
  // As normal.py computes it, in the same double-precision arithmetic.
  const accuracy = (epoch: number) => 0.5 + 0.1 * epoch + 0.001 * architecture.length;
  assert.deepEqual(
    epochs.map((e) => [e.epoch, e.valAccuracy, e.trainLoss, e.trainAccuracy, e.valLoss, e.extra]),
    [
      [1, accuracy(1), 1, null, null, { learning_rate: 0.1 }],
      [2, accuracy(2), 0.5, null, null, { learning_rate: 0.1 }],
    ],
  );
  assert.deepEqual(measured.curve, epochs);
  assert.equal(measured.valAccuracy, accuracy(2));
  assert.equal(measured.testAccuracy, accuracy(2) - 0.01);
  assert.equal(measured.params, 1234);
  assert.equal(measured.flops, null);
  assert.match(measured.log ?? '', new RegExp(`^training ${architecture.length} decisions, seed 9 dataset digits$`, 'm'));
  assert.match(measured.log ?? '', /^epoch 2 done$/m);
  assert.match(measured.log ?? '', /^GPU 3$/m);
});

test('a Node trainer through helpers/nas-studio.mjs reports as the Python helper does', async () => {
  const epochs: EpochMetrics[] = [];
  const measured = await evaluator('normal.mjs').evaluate(REQUEST, (metrics) => void epochs.push(metrics));
  const accuracy = (epoch: number) => 0.5 + 0.1 * epoch + 0.001 * architecture.length;
  assert.deepEqual(
    epochs.map((e) => [e.epoch, e.valAccuracy, e.trainLoss, e.extra]),
    [
      [1, accuracy(1), 1, { learning_rate: 0.1 }],
      [2, accuracy(2), 0.5, { learning_rate: 0.1 }],
    ],
  );
  assert.deepEqual([measured.valAccuracy, measured.testAccuracy, measured.params], [accuracy(2), accuracy(2) - 0.01, 1234]);
  assert.match(measured.log ?? '', /^epoch 2 done$/m);
});

test('a pruned trial: the helpers hear the stop and the program ends with its final report', async (t) => {
  if (!needsPython(t)) return;
  for (const script of ['normal.py', 'normal.mjs']) {
    const epochs: number[] = [];
    const measured = await evaluator(script, { epochs: 5 }).evaluate(REQUEST, (metrics) => {
      epochs.push(metrics.epoch);
      return metrics.epoch === 2 ? 'stop' : 'continue';
    });
    assert.deepEqual(epochs, [1, 2], script);
    assert.deepEqual(
      measured.curve.map((e) => e.epoch),
      [1, 2],
    );
    assert.equal(measured.valAccuracy, 0.5 + 0.1 * 2 + 0.001 * architecture.length, 'its own final report');
    assert.match(measured.log ?? '', /^pruned after epoch 2$/m, script);
  }
});

test('a pruned trial that ignores the stop is ended after the grace period, measured by its last report', async (t) => {
  if (!needsPython(t)) return;
  const started = performance.now();
  const measured = await evaluator('deaf.py', { epochs: 99 }).evaluate(REQUEST, (metrics) => (metrics.epoch === 2 ? 'stop' : 'continue'));
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds >= 10 && seconds < 30, `ended ${seconds.toFixed(1)} s after it started: the grace is 10 s`);
  assert.equal(measured.curve[1].epoch, 2);
  assert.equal(measured.valAccuracy, measured.curve[measured.curve.length - 1].valAccuracy);
  assert.equal(measured.testAccuracy, null);
});

test('the trial file holds the run, the trial, the decisions, the graph and the data set with its path made absolute', async (t) => {
  if (!needsPython(t)) return;
  const dump = join(mkdtempSync(join(tmpdir(), 'nas-command-')), 'trial.json');
  const withFiles: SearchConfig = {
    ...SEARCH.config!,
    dataset: {
      kind: 'csv',
      path: 'data/train.csv',
      image_shape: [8, 8, 1],
      pixel_scale: 255,
      validation_split: 0.2,
      test_split: 0.1,
      seed: 1,
    },
  };
  await failure(evaluator('copy-trial.py', {}, [], [dump], withFiles).evaluate(REQUEST, () => {}));
  const trial = JSON.parse(readFileSync(dump, 'utf8'));
  assert.deepEqual(
    { run: trial.run, trial: trial.trial, seed: trial.seed, decisions: trial.decisions, epochs: trial.epochs },
    { run: 4, trial: 2, seed: 9, decisions: architecture, epochs: 2 },
  );
  assert.deepEqual(trial.graph, REQUEST.graph);
  assert.equal(trial.dataset.path, join(FIXTURES, 'data', 'train.csv'));
});

test("the trial file holds a text corpus's three files with their paths made absolute", async (t) => {
  if (!needsPython(t)) return;
  const dump = join(mkdtempSync(join(tmpdir(), 'nas-command-')), 'trial.json');
  const withText: SearchConfig = {
    ...SEARCH.config!,
    dataset: {
      kind: 'text',
      train: 'a.txt',
      validation: 'b.txt',
      test: '/c.txt',
      tokens: 'word',
      max_vocabulary: 50,
      validation_split: 0.05,
      test_split: 0.05,
    },
  };
  await failure(evaluator('copy-trial.py', {}, [], [dump], withText).evaluate(REQUEST, () => {}));
  const { dataset } = JSON.parse(readFileSync(dump, 'utf8'));
  assert.deepEqual([dataset.train, dataset.validation, dataset.test], [join(FIXTURES, 'a.txt'), join(FIXTURES, 'b.txt'), '/c.txt']);
  assert.equal(dataset.path, undefined);
});

const faults: [string, string, Partial<CommandEvaluationConfig>, RegExp][] = [
  ['a crash', 'crash.py', {}, /exited with code 1:\n[^]*RuntimeError: CUDA out of memory \(a stand-in\)$/],
  ['a hang, stopped by the timeout', 'hang.py', { timeout_minutes: 0.01 }, /^timed out after 0\.01 minutes$/],
  ['garbage on the report channel', 'garbage.py', {}, /^report line 1 is not valid JSON: loss went down, I think$/],
  ['no final report', 'silent.py', {}, /^the program ended without its final report/],
  ['a NaN accuracy', 'nan.py', {}, /^report line 1 is not valid JSON \(NaN and Infinity are not numbers in JSON\)/],
];
for (const [what, script, changes, reason] of faults) {
  test(`${what} fails the trial with the reason`, async (t) => {
    if (!needsPython(t)) return;
    const error = await failure(evaluator(script, changes).evaluate(REQUEST, () => {}));
    assert.equal(error.cancelled, false);
    assert.match(error.message, reason);
    if (script === 'crash.py') assert.match(error.log ?? '', /Traceback[^]*RuntimeError/, 'the failed trial keeps its output');
  });
}

test('a stopped trial ends its whole process group: no grandchild is left', async (t) => {
  if (!needsPython(t)) return;
  const pidFile = join(mkdtempSync(join(tmpdir(), 'nas-command-')), 'worker.pid');
  const running = evaluator('grandchild.py', {}, [], [pidFile]);
  const trial = running.evaluate(REQUEST, () => {});
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await new Promise((resolve) => setTimeout(resolve, 50));
  const worker = Number(readFileSync(pidFile, 'utf8'));
  running.cancelAll();
  const error = await failure(trial);
  assert.equal(error.cancelled, true);
  const alive = () => {
    try {
      process.kill(worker, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (let waited = 0; alive() && waited < 7000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(alive(), false, `the grandchild ${worker} outlived its trial`);
});

test('a search whose trials run a command: epochs stored with what was reported, rewards from the final reports, logs kept', async (t) => {
  if (!needsPython(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'nas-command-search-'));
  const store = new Store(join(dir, 'runs.db'));
  const searchFile = (name: string, script: string) => {
    const file = join(dir, `${name}.nas.yaml`);
    writeFileSync(
      file,
      `name: ${name}
dataset: { kind: digits }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: random }
evaluation: { kind: command, command: [${JSON.stringify(python)}, ${JSON.stringify(join(FIXTURES, script))}], epochs: 2 }
budget: { trials: 3 }
`,
    );
    return createRunFromFile(store, file, {});
  };
  const good = searchFile('good', 'normal.py');
  assert.equal(await runSearch(store, good, { onEvent: () => {} }), 'done');
  const trials = store.listTrials(good);
  assert.equal(trials.length, 3);
  for (const trial of trials) {
    assert.equal(trial.status, 'done');
    assert.equal(trial.evaluator, 'command');
    const accuracy = 0.5 + 0.1 * 2 + 0.001 * trial.architecture.reduce((sum, d) => sum + d, 0);
    assert.equal(trial.reward, accuracy, "the reward is the final report's val_accuracy");
    const epochs = store.trialEpochs(good, trial.index);
    assert.deepEqual(
      epochs.map((e) => [e.epoch, e.trainLoss, e.valLoss, e.extra]),
      [
        [1, 1, null, { learning_rate: 0.1 }],
        [2, 0.5, null, { learning_rate: 0.1 }],
      ],
    );
    assert.match(store.trialLog(good, trial.index) ?? '', /^epoch 2 done$/m);
  }
  // Every trial fails; the search does not.
  const bad = searchFile('bad', 'crash.py');
  assert.equal(await runSearch(store, bad, { onEvent: () => {} }), 'done');
  for (const trial of store.listTrials(bad)) {
    assert.equal(trial.status, 'failed');
    assert.match(trial.error ?? '', /CUDA out of memory/);
    assert.match(store.trialLog(bad, trial.index) ?? '', /Traceback/);
  }
  store.close();
});
