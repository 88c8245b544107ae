import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { LstmController, type ControllerState } from '../../src/engine/strategies/controller.ts';
import { savedValues } from '../../src/engine/strategies/saved-tensor.ts';
import { log10SpaceSize, type AnchorRef, type Architecture, type Decision } from '../../src/space/decisions.ts';
import type { ControllerConfig } from '../../src/space/config.ts';
import { createRng } from '../../src/space/rng.ts';

before(async () => {
  await tf.setBackend('cpu');
});

const categorical = (name: string, count: number): Decision => ({
  kind: 'categorical',
  name,
  options: Array.from({ length: count }, (_, i) => `${name}_${i}`),
});
const skip = (name: string, anchor: AnchorRef): Decision => ({
  kind: 'skip',
  name,
  options: ['no', 'yes'],
  anchor,
});

/** Six operations, three input choices over step and fixed anchors, three skips. */
const DECISIONS: Decision[] = [
  categorical('op0', 4),
  categorical('op1', 3),
  { kind: 'input', name: 'in1', options: ['x', 'op0'], anchors: [{ fixed: 0 }, { step: 0 }] },
  categorical('op2', 4),
  {
    kind: 'input',
    name: 'in2',
    options: ['x0', 'x1', 'op0', 'op1'],
    anchors: [{ fixed: 0 }, { fixed: 1 }, { step: 0 }, { step: 1 }],
  },
  skip('skip2_op0', { step: 0 }),
  categorical('op3', 3),
  skip('skip3_op1', { step: 1 }),
  skip('skip3_x1', { fixed: 1 }),
  categorical('op4', 4),
  { kind: 'input', name: 'in4', options: ['x0', 'op2', 'op3'], anchors: [{ fixed: 0 }, { step: 3 }, { step: 6 }] },
  categorical('op5', 3),
];

const CONFIG: ControllerConfig = {
  hidden: 32,
  learning_rate: 0.02,
  entropy_weight: 0.001,
  baseline_decay: 0.9,
  temperature: 1,
  tanh_constant: 0,
  batch_size: 8,
};

/** P(architecture), teacher-forced: the product of the probability of each of its choices. */
function probabilityOf(controller: LstmController, architecture: Architecture): number {
  return controller.probabilitiesOf(architecture).reduce((product, distribution, i) => product * distribution[architecture[i]], 1);
}

test('the same seed gives the same samples, and every distribution has the right shape', () => {
  const config = { ...CONFIG, temperature: 1.5, tanh_constant: 1 };
  const a = new LstmController(DECISIONS, config, 11);
  const b = new LstmController(DECISIONS, config, 11);
  const other = new LstmController(DECISIONS, config, 12);
  const rngA = createRng(5);
  const rngB = createRng(5);
  for (let i = 0; i < 5; i++) assert.deepEqual(a.sample(rngA), b.sample(rngB));

  const drawn = a.sample(createRng(6));
  assert.notDeepEqual(other.sample(createRng(6)).probabilities, drawn.probabilities);
  assert.equal(drawn.architecture.length, DECISIONS.length);
  assert.equal(drawn.finalHidden.length, config.hidden);
  DECISIONS.forEach((decision, i) => {
    const distribution = drawn.probabilities[i];
    const expectedLength = decision.kind === 'input' ? decision.anchors.length : decision.options.length;
    assert.equal(distribution.length, expectedLength, decision.name);
    if (decision.kind === 'skip') assert.equal(distribution.length, 2);
    assert.ok(Math.abs(distribution.reduce((s, p) => s + p, 0) - 1) < 1e-5, decision.name);
    // tanh clipping bounds the logits to [-C, C], so no option is more than e^(2C) times likelier.
    assert.ok(Math.max(...distribution) / Math.min(...distribution) <= Math.exp(2 * config.tanh_constant) + 1e-4);
  });

  // The sampled log-probability and entropy agree with teacher forcing along the same architecture.
  const forced = a.probabilitiesOf(drawn.architecture);
  forced.forEach((distribution, i) => {
    distribution.forEach((p, k) => assert.ok(Math.abs(p - drawn.probabilities[i][k]) < 1e-6));
  });
  assert.ok(Math.abs(Math.log(probabilityOf(a, drawn.architecture)) - drawn.logProb) < 1e-4);
  const entropy = forced.flat().reduce((s, p) => s - p * Math.log(p), 0);
  assert.ok(Math.abs(entropy - drawn.entropy) < 1e-4);
  // The most likely architecture's distributions are those teacher forcing gives along it.
  const greedy = a.mostLikely();
  assert.equal(greedy.architecture.length, DECISIONS.length);
  a.probabilitiesOf(greedy.architecture).forEach((distribution, i) => {
    distribution.forEach((p, k) => assert.ok(Math.abs(p - greedy.probabilities[i][k]) < 1e-6));
    assert.equal(greedy.architecture[i], distribution.indexOf(Math.max(...distribution)));
  });
  [a, b, other].forEach((c) => c.dispose());
});

test('a step anchor must name an earlier decision', () => {
  const bad: Decision[] = [categorical('op0', 2), skip('skip_to_self', { step: 1 })];
  assert.throws(() => new LstmController(bad, CONFIG, 1), /not an earlier decision/);
});

test('REINFORCE concentrates on the best architecture; random search stays at 1/|space|', (t) => {
  const target = [2, 0, 1, 3, 2, 1, 1, 0, 1, 0, 2, 2];
  // NAS-RL's shaped reward: the fraction of decisions that match the target, cubed.
  const reward = (a: Architecture) => (a.filter((choice, i) => choice === target[i]).length / a.length) ** 3;
  const maxUpdates = 300;
  const controller = new LstmController(DECISIONS, CONFIG, 3);
  const rng = createRng(4);
  const initial = probabilityOf(controller, target);
  assert.ok(initial < 1e-3, `the untrained controller already likes the target (${initial})`);

  let updates = 0;
  let learned = initial;
  while (updates < maxUpdates && learned <= 0.5) {
    const batch = Array.from({ length: CONFIG.batch_size }, () => {
      const architecture = controller.sample(rng).architecture;
      return { architecture, reward: reward(architecture) };
    });
    controller.update(batch);
    updates++;
    if (updates % 5 === 0) learned = probabilityOf(controller, target);
  }
  t.diagnostic(`P(target) = ${learned.toFixed(3)} after ${updates} updates`);
  assert.ok(learned > 0.5, `P(target) = ${learned} after ${updates} updates`);
  assert.ok(updates <= maxUpdates);

  // Random search draws every decision uniformly whatever the rewards, so over the same budget
  // its probability of the target never moves from 1/|space|.
  const uniform = DECISIONS.map((d) => d.options.map(() => 1 / d.options.length));
  const randomProbability = uniform.reduce((product, distribution, i) => product * distribution[target[i]], 1);
  assert.ok(Math.abs(Math.log10(randomProbability) + log10SpaceSize(DECISIONS)) < 1e-9);
  assert.ok(randomProbability < 1e-5);
  assert.ok(learned > 1e4 * randomProbability);
  controller.dispose();
});

test('getState and setState resume a controller exactly', async () => {
  const original = new LstmController(DECISIONS, CONFIG, 21);
  const rng = createRng(22);
  const batchOf = (r: ReturnType<typeof createRng>) =>
    Array.from({ length: 4 }, (_, i) => ({ architecture: original.sample(r).architecture, reward: i / 4 }));
  original.update(batchOf(rng));
  original.update(batchOf(rng));

  const state = JSON.parse(JSON.stringify(await original.getState())) as ControllerState;
  assert.ok(state.optimizer.slots.length > 0);
  assert.equal(typeof state.baseline, 'number');
  const restored = new LstmController(DECISIONS, CONFIG, 99);
  await restored.setState(state);

  const rngState = rng.state();
  const fromOriginal = original.sample(createRng(0, rngState));
  const fromRestored = restored.sample(createRng(0, rngState));
  assert.deepEqual(fromRestored, fromOriginal);

  const next = batchOf(createRng(0, rngState));
  const originalUpdate = original.update(next);
  const restoredUpdate = restored.update(next);
  assert.deepEqual(restoredUpdate, originalUpdate);

  // Adam rebuilds beta^t with pow rather than repeated products, so weights agree to rounding.
  const after = await original.getState();
  const restoredAfter = await restored.getState();
  after.weights.forEach((w, i) => {
    const restoredValues = savedValues(restoredAfter.weights[i]);
    savedValues(w).forEach((v, k) => assert.ok(Math.abs(v - restoredValues[k]) < 1e-6, w.name));
  });
  assert.equal(restoredAfter.baseline, after.baseline);

  const wider = new LstmController(DECISIONS, { ...CONFIG, hidden: CONFIG.hidden * 2 }, 21);
  await assert.rejects(wider.setState(state), /shape/);
  [original, restored, wider].forEach((c) => c.dispose());
});

test('sampling, updating and checkpointing leak no tensors', async () => {
  const beforeConstruction = tf.memory().numTensors;
  const controller = new LstmController(DECISIONS, CONFIG, 31);
  const rng = createRng(32);
  const batch = () => Array.from({ length: 4 }, () => ({ architecture: controller.sample(rng).architecture, reward: rng.next() }));
  // The first update creates Adam's slots, which live as long as the controller.
  controller.update(batch());
  const settled = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    controller.sample(rng);
    controller.update(batch());
  }
  controller.probabilitiesOf(controller.mostLikely().architecture);
  await controller.setState(await controller.getState());
  assert.equal(tf.memory().numTensors, settled);
  controller.dispose();
  assert.equal(tf.memory().numTensors, beforeConstruction);
});
