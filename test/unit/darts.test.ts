// DARTS: alpha learns (its gradients are not zero), the derived cell belongs to the cell space, a
// stopped run resumes to exactly where an uninterrupted one goes, and the collapse warning fires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { AlphaWeights, EngineEvent } from '../../src/protocol/engine.ts';
import { selectBackend } from '../../src/engine/backend.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { prepareTrainingData, rangeBatchOf } from '../../src/engine/evaluators/train-from-scratch.ts';
import { buildModel } from '../../src/engine/model/build.ts';
import { DartsSearch } from '../../src/engine/oneshot/darts-search.ts';
import { dartsEdges, DartsSupernet, deriveCell, mixedOperations } from '../../src/engine/oneshot/darts-supernet.ts';
import { collapseWarning, type DartsState } from '../../src/engine/oneshot/darts.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import type { CellSpaceConfig } from '../../src/space/config.ts';
import { decodeArchitecture, encodeGraph } from '../../src/space/graph.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { toAlphaPoint } from '../../src/protocol/webview.ts';
import { SMALL_DARTS, SMALL_DARTS_CELL } from '../support/spaces.ts';
import { inProcessEvaluator } from '../support/in-process-evaluator.ts';

const SPACE = SMALL_DARTS_CELL;
const DARTS = SMALL_DARTS;

async function tinyData() {
  await selectBackend('cpu');
  return prepareTrainingData(splitDataset(loadDigits(), { validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 64 }));
}

const sumAbs = (t: tf.Tensor) => tf.tidy(() => tf.sum(tf.abs(t)).dataSync()[0]);

test('alpha gets a non-zero gradient in both cells, at first and second order', async () => {
  const data = await tinyData();
  for (const order of ['first', 'second'] as const) {
    const search = new DartsSearch(SPACE, { ...DARTS, order }, data, 3);
    tf.tidy(() => {
      const gradients = search.alphaGradients(rangeBatchOf(data.train, 0, 16), rangeBatchOf(data.validation, 0, 16), 0.05);
      for (const alpha of [search.supernet.alphas.normal, search.supernet.alphas.reduction]) {
        const gradient = gradients[alpha.name];
        assert.deepEqual(gradient.shape, [dartsEdges(SPACE.nodes).length, mixedOperations(SPACE).length]);
        assert.ok(sumAbs(gradient) > 0, `${order} order: ${alpha.name} has a gradient`);
      }
    });
    search.dispose();
  }
});

test('the derived cell is a cell-space architecture: it encodes, decodes back and builds', async () => {
  const data = await tinyData();
  const search = new DartsSearch(SPACE, DARTS, data, 5);
  await search.step(
    Int32Array.from({ length: 16 }, (_, i) => i),
    Int32Array.from({ length: 16 }, (_, i) => i),
    0.05,
  );
  const graph = deriveCell(SPACE, await search.supernet.alphaWeights());
  search.dispose();
  graph.normal.concat(graph.reduction).forEach((node, j) => {
    const position = j % SPACE.nodes;
    assert.notEqual(node.inputs[0], node.inputs[1], 'two different incoming edges');
    assert.ok(
      node.inputs.every((input) => input < position + 2),
      'inputs come from earlier states',
    );
  });
  const architecture = encodeGraph(SPACE, graph);
  assert.deepEqual(decodeArchitecture(SPACE, architecture), graph);
  const model = await buildModel(graph, SPACE, { inputShape: data.shape, classes: data.classes, seed: 1 });
  assert.ok(model.countParams() > 0);
  model.dispose();
});

test('derivation keeps the two edges whose strongest real operation weighs most, never none', () => {
  const space: CellSpaceConfig = { ...SPACE, nodes: 2 };
  const columns = mixedOperations(space).length;
  const row = (operation: number, weight: number) =>
    Array.from({ length: columns }, (_, c) => (c === operation ? weight : (1 - weight) / (columns - 1)));
  const none = columns - 1;
  // Node 1 has edges from input0, input1 and node0: input1 is mostly none, so input0 and node0 win.
  const normal = [row(0, 0.5), row(1, 0.5), row(2, 0.4), row(none, 0.9), row(3, 0.6)];
  const weights: AlphaWeights = { normal, reduction: normal };
  const graph = deriveCell(space, weights);
  assert.deepEqual(graph.normal[0], { inputs: [0, 1], operations: ['conv3x3', 'sep_conv3x3'] });
  assert.deepEqual(graph.normal[1], { inputs: [0, 2], operations: ['max_pool', 'identity'] });
});

test('the collapse warning fires when identity dominates the normal cell, not for near-uniform alphas', () => {
  const columns = mixedOperations(SPACE).length;
  const identity = SPACE.operations.indexOf('identity');
  const edges = dartsEdges(SPACE.nodes).length;
  const uniform = Array.from({ length: edges }, () => Array<number>(columns).fill(1 / columns));
  const skewed = uniform.map((row) => row.map((_, c) => (c === identity ? 0.7 : 0.3 / (columns - 1))));
  const collapsed: AlphaWeights = { normal: skewed, reduction: uniform };
  const message = collapseWarning(SPACE, collapsed, deriveCell(SPACE, collapsed), 4);
  assert.match(message ?? '', /DARTS collapse: identity is 6 of the 6 operations .* epoch 4/);
  // Identity wins every argmax by a hair: still about uniform, so no warning.
  const barely = uniform.map((row) => row.map((w, c) => (c === identity ? w + 0.01 : w - 0.01 / (columns - 1))));
  const early: AlphaWeights = { normal: barely, reduction: uniform };
  assert.equal(collapseWarning(SPACE, early, deriveCell(SPACE, early), 1), undefined);
});

const SEARCH_FILE = `name: darts-tiny
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 64 }
space: { kind: cell, nodes: 2, operations: [conv3x3, max_pool, identity], cells_per_stage: 1, stages: 2, filters: 4 }
strategy: { kind: darts, epochs: 2, batch_size: 16, alpha_learning_rate: 0.01 }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 11 }
`;

test('a stopped DARTS run resumes from its checkpoint (w, alpha, optimizers) to the same alphas as an uninterrupted run', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-darts-'));
  const file = join(dir, 'darts.nas.yaml');
  writeFileSync(file, SEARCH_FILE);
  const store = new Store(join(dir, 'runs.db'));
  const hooks = (onEvent: (event: EngineEvent) => void = () => {}, signal?: AbortSignal) => ({
    onEvent,
    signal,
    startEvaluator: inProcessEvaluator,
  });

  const whole = createRunFromFile(store, file, {});
  assert.equal(await runSearch(store, whole, hooks()), 'done');

  const split = createRunFromFile(store, file, {});
  const stop = new AbortController();
  const stopAt = 5;
  const stopped = await runSearch(
    store,
    split,
    hooks((event) => event.type === 'alpha-snapshot' && event.snapshot.step === stopAt && stop.abort(), stop.signal),
  );
  assert.equal(stopped, 'stopped');
  const checkpoint = store.latestCheckpoint(split);
  assert.ok(checkpoint);
  const saved = checkpoint.state as DartsState;
  assert.equal(saved.progress.alphaSteps, stopAt);
  assert.equal(saved.progress.epoch, 1, 'stopped in the second epoch');

  // The state a resume starts from is exactly the saved one.
  const data = await tinyData();
  const parsed = parseSearchText(SEARCH_FILE, file);
  assert.ok(parsed.config?.strategy.kind === 'darts' && parsed.config.space.kind === 'cell');
  const restored = new DartsSearch(parsed.config.space, parsed.config.strategy, data, 99);
  await restored.setState(saved.tensors);
  assert.deepEqual(await restored.getState(), saved.tensors);
  restored.dispose();

  assert.equal(await runSearch(store, split, hooks()), 'done');
  const alphasOf = (runId: number) => store.alphaSnapshots(runId).map((s) => [s.step, s.epoch, s.weights]);
  assert.deepEqual(alphasOf(split), alphasOf(whole), 'every alpha snapshot, the last included, matches the uninterrupted run');
  const trialsOf = (runId: number) => store.listTrials(runId).map((t) => [t.evaluator, t.key, t.reward]);
  assert.deepEqual(trialsOf(split), trialsOf(whole));
  assert.deepEqual(
    store.listTrials(whole).map((t) => t.evaluator),
    ['shared-weights', 'shared-weights', 'train-from-scratch'],
    'one trial per search epoch, then the retrained cell',
  );
  assert.equal(store.getRun(whole)?.budgetTrials, 3);
  store.close();
});

test('a darts strategy gets the paper defaults, its budget is its epochs plus retrained cells, and it needs a cell space', () => {
  const file = '/virtual/darts.nas.yaml';
  const parsed = parseSearchText('name: d\ndataset: { kind: digits }\nspace: { kind: cell }\nstrategy: { kind: darts }\n', file);
  assert.deepEqual(parsed.problems, []);
  assert.ok(parsed.config?.strategy.kind === 'darts');
  const { kind, reward, ...defaults } = parsed.config.strategy;
  assert.equal(kind, 'darts');
  assert.deepEqual(reward, { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 });
  assert.deepEqual(defaults, { ...DARTS, epochs: 50, batch_size: 64, w_learning_rate: 0.025, alpha_learning_rate: 3e-4 });
  assert.equal(parsed.config.budget.trials, 51);

  const macro = parseSearchText('name: d\ndataset: { kind: digits }\nspace: { kind: macro, layers: 2 }\nstrategy: { kind: darts }\n', file);
  assert.deepEqual(
    macro.problems.map((p) => [p.rule, p.line]),
    [['darts-space', 3]],
  );
  const budget = parseSearchText(
    'name: d\ndataset: { kind: digits }\nspace: { kind: cell }\nstrategy: { kind: darts, epochs: 4 }\nbudget: { trials: 20 }\n',
    file,
  );
  assert.deepEqual(
    budget.problems.map((p) => [p.rule, p.line]),
    [['darts-budget', 5]],
  );
  assert.match(budget.problems[0].message, /strategy.epochs \+ strategy.retrain = 5, got 20/);
});

test("the dashboard gets each alpha snapshot as the mean weight of every operation over a cell's edges", () => {
  const weights: AlphaWeights = {
    normal: [
      [0.6, 0.4],
      [0.2, 0.8],
    ],
    reduction: [
      [1, 0],
      [0, 1],
    ],
  };
  assert.deepEqual(toAlphaPoint({ runId: 1, step: 7, epoch: 2, weights }), {
    step: 7,
    epoch: 2,
    normal: [0.4, 0.6000000000000001],
    reduction: [0.5, 0.5],
  });
});

test('with batch norm (affine=false) only the classifier has a bias; a second-order step moves alpha, every weight finite', async () => {
  const data = await tinyData();
  const withNorm = new DartsSearch(SPACE, { ...DARTS, order: 'second' }, data, 3);
  const withoutNorm = new DartsSearch({ ...SPACE, batch_norm: false }, DARTS, data, 3);
  const biases = (search: DartsSearch) => search.supernet.weights.filter((w) => w.name.endsWith('/bias')).length;
  assert.equal(biases(withNorm), 1, 'only the classifier has a bias: batch norm without a shift follows every convolution');
  assert.ok(biases(withoutNorm) > 1);
  withoutNorm.dispose();

  const before = tf.tidy(() => tf.concat([withNorm.supernet.alphas.normal, withNorm.supernet.alphas.reduction]));
  const indices = Int32Array.from({ length: 16 }, (_, i) => i);
  await withNorm.step(indices, indices, 0.05);
  const moved = tf.tidy(() => sumAbs(tf.sub(tf.concat([withNorm.supernet.alphas.normal, withNorm.supernet.alphas.reduction]), before)));
  assert.ok(moved > 0, 'alpha moved');
  for (const weight of [...withNorm.supernet.weights, withNorm.supernet.alphas.normal, withNorm.supernet.alphas.reduction]) {
    assert.ok(Number.isFinite(sumAbs(weight)), `${weight.name} is finite`);
  }
  before.dispose();
  withNorm.dispose();
});

test('the search network pools before its classifier where the retrained cell does: head gap, or auto at 16x16', async () => {
  await selectBackend('cpu');
  const classes = 10;
  const cases: Array<[CellSpaceConfig, [number, number, number], number]> = [
    // After the one reduction cell: twice the filters, on a side halved (8 to 4); flattened, or pooled.
    [SPACE, [8, 8, 1], 2 * SPACE.filters * 4 * 4],
    [{ ...SPACE, head: 'gap' }, [8, 8, 1], 2 * SPACE.filters],
    [SPACE, [16, 16, 1], 2 * SPACE.filters],
  ];
  for (const [space, inputShape, features] of cases) {
    const supernet = new DartsSupernet(space, inputShape, classes, 1);
    try {
      const classifier = supernet.weights.find((w) => w.name.endsWith('classifier/kernel'));
      assert.deepEqual(classifier?.shape, [features, classes], `${space.head} at ${inputShape}`);
      const logits = tf.tidy(() => supernet.logits(tf.zeros([2, ...inputShape]), { kind: 'mixed', weights: supernet.mixingWeights() }));
      assert.deepEqual(logits.shape, [2, classes]);
      logits.dispose();
    } finally {
      supernet.dispose();
    }
  }
});
