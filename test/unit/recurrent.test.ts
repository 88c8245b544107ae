import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { cellStep, LanguageModel, searchedCell } from '../../src/engine/model/recurrent.ts';
import {
  measureLanguageModel,
  trainLanguageModel,
  TokenStreams,
  type LanguageRecipe,
} from '../../src/engine/evaluators/train-language-model.ts';
import { applyReward } from '../../src/engine/trial-lifecycle.ts';
import type { RecurrentSpaceConfig, RewardConfig } from '../../src/space/config.ts';
import {
  architectureKey,
  compileSpace,
  decodeArchitecture,
  drawArchitecture,
  encodeGraph,
  type RecurrentGraph,
} from '../../src/space/graph.ts';
import { recurrentLeaves, recurrentParameters } from '../../src/space/kinds/spaces/recurrent.ts';
import { parseSearchText } from '../../src/space/parse.ts';

const SPACE: RecurrentSpaceConfig = {
  kind: 'recurrent',
  nodes: 3,
  activations: ['tanh', 'relu', 'sigmoid', 'identity'],
  hidden: 2,
  highway: false,
  tie_weights: true,
};

test('a recurrent space compiles to an activation per node and an input per later node, and decodes back', () => {
  const decisions = compileSpace(SPACE);
  assert.deepEqual(
    decisions.map((d) => [d.name, d.options]),
    [
      ['node1.activation', ['tanh', 'relu', 'sigmoid', 'identity']],
      ['node2.input', ['node1']],
      ['node2.activation', ['tanh', 'relu', 'sigmoid', 'identity']],
      ['node3.input', ['node1', 'node2']],
      ['node3.activation', ['tanh', 'relu', 'sigmoid', 'identity']],
    ],
  );
  // The anchor of "node k" is the step of node k's activation decision.
  const node3Input = decisions[3];
  assert.ok(node3Input.kind === 'input');
  assert.deepEqual(node3Input.anchors, [{ step: 0 }, { step: 2 }]);
  const graph = decodeArchitecture(SPACE, [0, 0, 1, 0, 2]) as RecurrentGraph;
  assert.deepEqual(graph.nodes, [
    { input: -1, activation: 'tanh' },
    { input: 0, activation: 'relu' },
    { input: 0, activation: 'sigmoid' },
  ]);
  assert.deepEqual(encodeGraph(SPACE, graph), [0, 0, 1, 0, 2]);
  assert.deepEqual(recurrentLeaves(graph.nodes), [1, 2]);
  assert.equal(architectureKey(graph), 'recurrent[tanh;1>relu;1>sigmoid]');
  assert.equal(
    drawArchitecture(graph),
    [
      'recurrent cell:',
      '  node1 = tanh(x_t, h_{t-1})',
      '  node2 = relu(node1)',
      '  node3 = sigmoid(node1)',
      '  h_t = mean(node2, node3)',
    ].join('\n'),
  );
});

/** Plain-number forms of the ops, for the hand computation. */
const matVec = (v: number[], m: number[][]) => m[0].map((_, j) => v.reduce((sum, x, i) => sum + x * m[i][j], 0));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test("a 3-node cell's step equals the hand computation, with and without highway gates", () => {
  const graph = decodeArchitecture(SPACE, [0, 0, 1, 0, 2]) as RecurrentGraph;
  const x = [0.5, -1];
  const h = [0.25, 0.75];
  for (const highway of [false, true]) {
    const width = highway ? 4 : 2;
    const fill = (rows: number, offset: number) =>
      Array.from({ length: rows }, (_, i) => Array.from({ length: width }, (_, j) => Math.sin(offset + i * width + j) / 2));
    const first = fill(4, 0);
    const edges = [fill(2, 10), fill(2, 20)];
    const act = { tanh: Math.tanh, relu: (v: number) => Math.max(0, v), sigmoid, identity: (v: number) => v };
    const node = (input: number[], carried: number[], w: number[][], activation: keyof typeof act) => {
      const pre = matVec(input, w);
      if (!highway) return pre.map(act[activation]);
      // The gate's columns come first.
      return carried.map((c, j) => {
        const gate = sigmoid(pre[j]);
        return gate * act[activation](pre[2 + j]) + (1 - gate) * c;
      });
    };
    const n1 = node([...x, ...h], h, first, 'tanh');
    const n2 = node(n1, n1, edges[0], 'relu');
    const n3 = node(n1, n1, edges[1], 'sigmoid');
    const expected = n2.map((v, j) => (v + n3[j]) / 2);

    const actual = tf.tidy(() =>
      cellStep(graph, highway, tf.tensor2d([x]), tf.tensor2d([h]), {
        first: tf.tensor2d(first),
        edge: (k) => tf.tensor2d(edges[k - 1]),
      }).arraySync(),
    );
    actual[0].forEach((value, j) => assert.ok(Math.abs(value - expected[j]) < 1e-6, `highway ${highway}: ${value} vs ${expected[j]}`));
  }
});

test('the language model counts the parameters the space module predicts, with and without tied weights', () => {
  const graph = decodeArchitecture({ ...SPACE, hidden: 8 }, [1, 0, 0, 1, 3]) as RecurrentGraph;
  for (const tie_weights of [true, false]) {
    for (const highway of [true, false]) {
      const space = { ...SPACE, hidden: 8, tie_weights, highway };
      const model = new LanguageModel(searchedCell(graph, space, 3), { vocabulary: 11, hidden: 8, tieWeights: tie_weights }, 3);
      assert.equal(model.countParams(), recurrentParameters(space, 11));
      model.dispose();
    }
  }
});

test('the state is carried across windows: a part measures the same with windows of 1 token as of 7', async () => {
  const graph = decodeArchitecture({ ...SPACE, hidden: 8 }, [0, 0, 0, 1, 0]) as RecurrentGraph;
  const model = new LanguageModel(searchedCell(graph, { hidden: 8, highway: true }, 5), { vocabulary: 5, hidden: 8, tieWeights: false }, 5);
  const tokens = Int32Array.from({ length: 200 }, (_, i) => (i * 7 + (i >> 3)) % 5);
  const short = await measureLanguageModel(model, tokens, 4, 1);
  const long = await measureLanguageModel(model, tokens, 4, 7);
  assert.ok(Math.abs(short.loss - long.loss) < 1e-5, `${short.loss} vs ${long.loss}`);
  // A state reset at every window would lose what the cell carries.
  assert.ok(Math.abs(short.perplexity - Math.exp(short.loss)) < 1e-9);
  model.dispose();
});

test('token streams cut the text into contiguous rows and time-major targets', () => {
  const streams = new TokenStreams(
    Int32Array.from({ length: 11 }, (_, i) => i),
    2,
  );
  assert.equal(streams.length, 5);
  assert.deepEqual(streams.windowStarts(3), [0, 3]);
  const { inputs, targets } = streams.window(3, 3);
  // Rows are [0..4] and [5..9]; the last window holds one input (3, then 8) and its target.
  assert.deepEqual(inputs.arraySync(), [[3], [8]]);
  assert.deepEqual(Array.from(targets.dataSync()), [4, 9]);
  tf.dispose([inputs, targets]);
});

const RECIPE: LanguageRecipe = {
  epochs: 30,
  batch_size: 4,
  bptt: 6,
  optimizer: 'adam',
  learning_rate: 0.03,
  nesterov: false,
  weight_decay: 0,
  lr_schedule: 'constant',
  warmup_epochs: 0,
  reward_epochs: 1,
  clip_norm: 5,
  dropout: 0,
};

test('truncated BPTT learns a periodic sequence: its loss falls to near zero, and no tensor is left behind', async () => {
  // "abcbd" repeated: after b comes c or d, which only the token before b tells: the cell must remember.
  const period = [0, 1, 2, 1, 3];
  const tokens = Int32Array.from({ length: 400 }, (_, i) => period[i % period.length]);
  const graph = decodeArchitecture({ ...SPACE, hidden: 16 }, [0, 0, 0, 1, 3]) as RecurrentGraph;
  const before = tf.memory().numTensors;
  const model = new LanguageModel(
    searchedCell(graph, { hidden: 16, highway: true }, 1),
    { vocabulary: 4, hidden: 16, tieWeights: false },
    1,
  );
  const measured = await trainLanguageModel(
    model,
    RECIPE,
    {
      tokens: 'char',
      vocabulary: ['a', 'b', 'c', 'd'],
      train: tokens,
      validation: tokens.subarray(0, 100),
      test: tokens.subarray(100, 200),
    },
    1,
    () => undefined,
    () => false,
  );
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
  const last = measured.curve.at(-1)!;
  assert.ok(last.trainLoss! < 0.05, `train loss ${last.trainLoss}`);
  assert.ok(measured.valPerplexity! < 1.05, `validation perplexity ${measured.valPerplexity}`);
  assert.ok(measured.testPerplexity! < 1.05 && measured.testAccuracy! > 0.98, `test ${measured.testPerplexity}, ${measured.testAccuracy}`);
});

test("a language model's reward: NAS-RL's c / perplexity^k, or -log perplexity", () => {
  const reward = (r: Partial<RewardConfig>) =>
    applyReward({ metric: 'val_perplexity', transform: 'inverse_power', c: 80, k: 3, ...r }, { valAccuracy: 0.3, valPerplexity: 4 });
  assert.equal(reward({}), 80 / 64);
  assert.equal(reward({ c: 1, k: 1 }), 0.25);
  assert.equal(reward({ transform: 'neg_log' }), -Math.log(4));
  assert.equal(applyReward({ metric: 'val_accuracy', transform: 'cube', c: 80, k: 3 }, { valAccuracy: 0.5 }), 0.125);
  assert.throws(() => applyReward({ metric: 'val_perplexity', transform: 'neg_log', c: 80, k: 3 }, { valAccuracy: 0.5 }), /measured none/);
});

test('a search of a text data set is scored by c / perplexity^3 unless its file says otherwise', () => {
  const file = (reward = '') => `name: lm
dataset: { kind: text }
space: { kind: recurrent }
strategy: { kind: random${reward} }
`;
  const defaults = parseSearchText(file(), 'lm.nas.yaml', { checkFiles: false });
  assert.deepEqual(defaults.problems, []);
  assert.deepEqual(defaults.config?.strategy.reward, { metric: 'val_perplexity', transform: 'inverse_power', c: 80, k: 3 });
  assert.deepEqual(defaults.config?.evaluation, { ...defaults.config?.evaluation, bptt: 35, clip_norm: 0.25, dropout: 0 });
  const negLog = parseSearchText(file(', reward: { transform: neg_log }'), 'lm.nas.yaml', { checkFiles: false });
  assert.equal(negLog.config?.strategy.reward.metric, 'val_perplexity');
  assert.equal(negLog.config?.strategy.reward.transform, 'neg_log');
});
