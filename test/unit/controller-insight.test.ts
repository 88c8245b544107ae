import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { averageRanks, kendallTau, spearman } from '../../src/engine/analysis/rank-correlation.ts';
import { EXACT_GED_MAX_NODES, graphEditDistance, hungarian, type LabelledGraph } from '../../src/engine/analysis/graph-edit-distance.ts';
import {
  architectureEditDistance,
  commonConnections,
  commonOperations,
  similarityView,
} from '../../src/engine/analysis/graph-similarity.ts';
import { controllerInsight } from '../../src/engine/analysis/controller-insight.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { LstmController } from '../../src/engine/strategies/controller.ts';
import type { CellSpaceConfig, ControllerConfig } from '../../src/space/config.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { compileNasBench201 } from '../../src/space/nasbench201.ts';
import { createRng } from '../../src/space/rng.ts';

before(async () => {
  await tf.setBackend('cpu');
});

test('averageRanks gives tied values the mean of the ranks they span', () => {
  assert.deepEqual(averageRanks([10, 20, 10, 30]), [1.5, 3, 1.5, 4]);
  assert.deepEqual(averageRanks([7, 7, 7]), [2, 2, 2]);
});

test('spearman: monotone, reversed, tied and undefined cases, computed by hand', () => {
  assert.equal(spearman([1, 2, 3], [10, 20, 30]), 1);
  assert.equal(spearman([1, 2, 3], [3, 2, 1]), -1);
  // y's ranks with the tie at 7: [1, 2, 3.5, 5, 3.5]; covariance 8, variances 10 and 9.5.
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])! - 8 / Math.sqrt(95)) < 1e-12);
  // Ranks x [1, 2, 3, 4], y [2.5, 2.5, 1, 4] (two ties at 0.5): covariance 1.5, variances 5 and 4.5.
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [0.5, 0.5, 0.2, 0.9])! - 1.5 / Math.sqrt(22.5)) < 1e-12);
  assert.equal(spearman([1, 2, 3], [4, 4, 4]), null, 'a constant side has no ranking');
  assert.equal(spearman([1], [2]), null);
  assert.throws(() => spearman([1, 2], [1]), /paired samples/);
});

const path = (labels: string[], edgeLabel = 'e'): LabelledGraph => ({
  nodes: labels,
  edges: new Map(labels.slice(1).map((_, i) => [`${i}>${i + 1}`, edgeLabel])),
});

test('graph edit distance: identical graphs give 0, one changed label or edge gives 1', () => {
  const a = path(['in', 'x', 'y', 'out']);
  assert.deepEqual(graphEditDistance(a, path(['in', 'x', 'y', 'out'])), { distance: 0, method: 'exact' });
  assert.equal(graphEditDistance(a, path(['in', 'x', 'z', 'out'])).distance, 1, 'a node relabelled');
  assert.equal(graphEditDistance(a, path(['in', 'x', 'y', 'out'], 'f')).distance, 3, 'three edges relabelled');
  const withShortcut: LabelledGraph = { nodes: a.nodes, edges: new Map([...a.edges, ['0>3', 'e']]) };
  assert.equal(graphEditDistance(a, withShortcut).distance, 1, 'one edge inserted');
  // Deleting a node also deletes its edge: 2 edits.
  assert.equal(graphEditDistance(path(['in', 'out']), { nodes: ['in'], edges: new Map() }).distance, 2);
  // Node order does not matter: the same graph listed in another order is at distance 0.
  const reordered: LabelledGraph = {
    nodes: ['out', 'y', 'x', 'in'],
    edges: new Map([
      ['3>2', 'e'],
      ['2>1', 'e'],
      ['1>0', 'e'],
    ]),
  };
  assert.equal(graphEditDistance(a, reordered).distance, 0);
});

test('graph edit distance: larger graphs use the bipartite approximation, an upper bound that is exact on easy cases', () => {
  const labels = Array.from({ length: EXACT_GED_MAX_NODES + 2 }, (_, i) => `n${i % 3}`);
  const big = path(labels);
  assert.deepEqual(graphEditDistance(big, path(labels)), { distance: 0, method: 'bipartite-approximation' });
  const changed = [...labels];
  changed[4] = 'other';
  assert.equal(graphEditDistance(big, path(changed)).distance, 1);
});

test('hungarian finds the cheapest assignment', () => {
  assert.deepEqual(
    hungarian([
      [4, 1, 3],
      [2, 0, 5],
      [3, 2, 2],
    ]),
    [1, 0, 2],
  );
});

test(
  'NAS-Bench-201 and cell architectures: one changed operation is one edit, and the shared operations ' + 'and connections are counted',
  () => {
    const space = { kind: 'nasbench201' } as const;
    const a = similarityView(decodeArchitecture(space, [3, 3, 2, 1, 0, 4]));
    const b = similarityView(decodeArchitecture(space, [3, 3, 2, 1, 4, 4]));
    assert.equal(architectureEditDistance(a, a).distance, 0);
    assert.equal(architectureEditDistance(a, b).distance, 1, 'none -> avg_pool inserts one edge');
    assert.equal(commonOperations(a, b), 5);
    assert.equal(commonConnections(a, b), 5);

    const cell: CellSpaceConfig = {
      kind: 'cell',
      nodes: 2,
      operations: ['conv3x3', 'max_pool', 'identity'],
      cells_per_stage: 1,
      stages: 1,
      filters: 4,
      batch_norm: false,
      head: 'auto',
    };
    const base = [0, 0, 1, 1, 2, 0, 0, 2, 1, 0, 0, 1, 2, 2, 1, 0];
    const changedOp = [...base];
    changedOp[3] = 2;
    const x = similarityView(decodeArchitecture(cell, base));
    const y = similarityView(decodeArchitecture(cell, changedOp));
    assert.deepEqual(architectureEditDistance(x, y), { distance: 1, method: 'exact' });
    assert.equal(commonOperations(x, x), 8);
    assert.equal(commonOperations(x, y), 7);
  },
);

test('recurrent cells: activations shared node by node, the inputs nodes 2..N share, and the edit distance of the cell graphs', () => {
  // a: node3 = tanh(node1); b: node3 = identity(node2); the rest alike (node4 = sigmoid(node2), leaves node3 and node4).
  const a = similarityView({
    kind: 'recurrent',
    nodes: [
      { input: -1, activation: 'tanh' },
      { input: 0, activation: 'relu' },
      { input: 0, activation: 'tanh' },
      { input: 1, activation: 'sigmoid' },
    ],
  });
  const b = similarityView({
    kind: 'recurrent',
    nodes: [
      { input: -1, activation: 'tanh' },
      { input: 0, activation: 'relu' },
      { input: 1, activation: 'identity' },
      { input: 1, activation: 'sigmoid' },
    ],
  });
  assert.deepEqual(a.components[0].nodes, ['x_t,h_t-1', 'tanh', 'relu', 'tanh', 'sigmoid', 'mean']);
  assert.deepEqual([...a.components[0].edges.keys()].sort(), ['0>1', '1>2', '1>3', '2>4', '3>5', '4>5']);
  assert.equal(commonOperations(a, a), 4);
  assert.equal(commonOperations(a, b), 3, 'node3: tanh against identity');
  assert.equal(commonConnections(a, a), 3);
  assert.equal(commonConnections(a, b), 2, 'node2 reads node1 and node4 reads node2 in both');
  // One relabelled node, and node3's input edge moved (a deletion and an insertion): the graphs are not isomorphic.
  assert.deepEqual(architectureEditDistance(a, b), { distance: 3, method: 'exact' });
  assert.deepEqual(architectureEditDistance(a, a), { distance: 0, method: 'exact' });
});

const CONTROLLER: ControllerConfig = {
  hidden: 16,
  learning_rate: 0.01,
  entropy_weight: 0,
  baseline_decay: 0.9,
  temperature: 1,
  tanh_constant: 2.5,
  batch_size: 1,
};

test('with a memory buffer, the supervised loss decreases on a fixed buffer', () => {
  const controller = new LstmController(compileNasBench201(), CONTROLLER, 3);
  const rng = createRng(5);
  const buffer = Array.from({ length: 8 }, () => Array.from({ length: 6 }, () => rng.int(5)));
  const before = controller.negativeLogLikelihood(buffer);
  const losses: number[] = [];
  // A constant reward leaves no advantage: only L_sup moves the controller.
  for (let step = 0; step < 40; step++) losses.push(controller.update([{ architecture: buffer[0], reward: 0.5 }], buffer).supervisedLoss!);
  const after = controller.negativeLogLikelihood(buffer);
  assert.ok(Math.abs(losses[0] - before) < 1e-5, 'the first step reports the loss before it');
  assert.ok(after < before - 0.5, `NLL ${before.toFixed(3)} -> ${after.toFixed(3)}`);
  for (let i = 10; i < losses.length; i += 10) assert.ok(losses[i] < losses[i - 10], `loss at step ${i} below step ${i - 10}`);
  assert.equal(controller.update([{ architecture: buffer[0], reward: 0.5 }]).supervisedLoss, null, 'no buffer batch, no supervised loss');
  controller.dispose();
});

test('controller insight of a tabular REINFORCE run: profiles, hidden states, and a Spearman row per controller', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-insight-'));
  const file = join(dir, 'nb201.nas.yaml');
  writeFileSync(
    file,
    `name: insight
space: { kind: nasbench201 }
evaluation: { kind: tabular, dataset: cifar10 }
strategy: ` +
      `{ kind: reinforce, controller: { hidden: 12, batch_size: 5, learning_rate: 0.02, memory_buffer: ` +
      `{ size: 20, add_per_step: 5, replace: 2, batch_size: 10 } } }
budget: { trials: 30 }
runtime: { seed: 2 }
`,
  );
  const store = new Store(join(dir, 'runs.db'));
  const runId = createRunFromFile(store, file, {});
  await runSearch(store, runId, { onEvent: () => {} });
  assert.equal(store.hiddenStates(runId).length, 30, 'one recorded hidden state per trial');
  assert.equal(store.hiddenStates(runId)[0].hidden.length, 12);

  const insight = await controllerInsight(store, runId, 20);
  assert.equal(insight.trainedAs, 'supervised');
  assert.equal(insight.controllerSteps, 6);
  assert.equal(insight.trained.argmax.length, 6);
  assert.ok(insight.fresh.entropy.every((h) => h > 0 && h <= Math.log(5) + 1e-9));
  assert.equal(insight.hiddenStates.length, 20);
  assert.equal(insight.hiddenVariance.length, 12);
  assert.equal(insight.spearman.unsupervised, null);
  for (const row of [insight.spearman.random!, insight.spearman.supervised!, insight.recorded!]) {
    assert.equal(row.pairs, row === insight.recorded ? (20 * 19) / 2 : 190);
    for (const value of [row.common_ops, row.common_connections, row.ged, row.reward_gap])
      assert.ok(value === null || (value >= -1 && value <= 1));
  }
  assert.equal(insight.spearman.random!.reward_pairs, 190, 'tabular rewards are all known');
  // Deduplicated: every pair of distinct architectures, once.
  const distinct = insight.spearman.supervised!.distinct_architectures;
  assert.ok(distinct >= 2 && distinct <= 20);
  assert.equal(insight.spearmanDistinct.supervised!.pairs, (distinct * (distinct - 1)) / 2);
  assert.equal(insight.spearmanDistinct.supervised!.distinct_architectures, distinct);
  assert.equal(insight.spearmanDistinct.unsupervised, null);
  assert.equal(insight.gedMethod, 'exact');
  store.close();
});

test("Kendall's tau-b against hand-computed cases, including ties", () => {
  assert.equal(kendallTau([1, 2, 3], [1, 2, 3]), 1);
  assert.equal(kendallTau([1, 2, 3], [3, 2, 1]), -1);
  // Pairs (0,1) and (0,2) agree, (1,2) disagrees.
  assert.ok(Math.abs(kendallTau([1, 2, 3], [1, 3, 2]) - 1 / 3) < 1e-12);
  // A tie in the first list: 2 concordant of 3 pairs, normalised by sqrt(2 x 3).
  assert.ok(Math.abs(kendallTau([1, 1, 2], [1, 2, 3]) - 2 / Math.sqrt(6)) < 1e-12);
});
