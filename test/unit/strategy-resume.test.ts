import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Architecture, Decision } from '../../src/space/decisions.ts';
import { createRng } from '../../src/space/rng.ts';
import { compileNasBench201 } from '../../src/space/nasbench201.ts';
import { BayesianStrategy } from '../../src/engine/strategies/bayesian.ts';
import { LocalSearchStrategy } from '../../src/engine/strategies/local.ts';
import { ReinforceStrategy } from '../../src/engine/strategies/reinforce.ts';
import type { ControllerConfig } from '../../src/space/config.ts';
import type { Strategy } from '../../src/engine/strategies/strategy.ts';

const DECISIONS: Decision[] = compileNasBench201();

/** A smooth score with interactions, so that the searches climb and the model has something to learn. */
function reward(architecture: Architecture): number {
  const convolutions = architecture.filter((op) => op === 2 || op === 3).length;
  return 0.5 + 0.05 * convolutions + 0.02 * Math.sin(architecture.reduce((sum, op, i) => sum + op * (i + 1), 0));
}

/** A memory buffer that fills within the first updates and is replacing entries by the time the state is saved. */
const WITH_BUFFER: ControllerConfig = {
  hidden: 8,
  learning_rate: 0.01,
  entropy_weight: 0.0001,
  baseline_decay: 0.9,
  temperature: 1,
  tanh_constant: 2.5,
  batch_size: 2,
  memory_buffer: { start_step: 1, size: 6, add_per_step: 3, replace: 2, loss_start_step: 2, batch_size: 4 },
};

const STRATEGIES: { name: string; create: () => Strategy }[] = [
  { name: 'reinforce with a memory buffer', create: () => new ReinforceStrategy(DECISIONS, WITH_BUFFER, 11, createRng(11)) },
  { name: 'local', create: () => new LocalSearchStrategy(DECISIONS, { initial: 3 }, 11, createRng(11)) },
  { name: 'bayesian', create: () => new BayesianStrategy(DECISIONS, { initial: 5, parents: 3, random_candidates: 10 }, 11, createRng(11)) },
];

/** Asks `count` architectures, keeping `inFlight` asked ahead of the tells, and tells each in order. */
function drive(strategy: Strategy, count: number, inFlight: Architecture[], window: number): Architecture[] {
  const asked: Architecture[] = [];
  for (let i = 0; i < count; i++) {
    while (inFlight.length < window) {
      const proposal = strategy.ask();
      asked.push(proposal);
      inFlight.push(proposal);
    }
    const finished = inFlight.shift()!;
    strategy.tell(finished, reward(finished));
  }
  return asked;
}

for (const { name, create } of STRATEGIES) {
  test(`${name}: a restored state continues with the same proposals`, async () => {
    const original = create();
    drive(original, 25, [], 1);
    const saved = JSON.parse(JSON.stringify(await original.getState())) as unknown;
    const restored = create();
    await restored.setState(saved);
    assert.deepEqual(drive(restored, 25, [], 1), drive(original, 25, [], 1));
  });

  test(`${name}: a state saved with proposals in flight continues the same once they are told`, async () => {
    // As the search loop resumes: the finished trials the checkpoint had not learned from are told first.
    const original = create();
    const inFlight: Architecture[] = [];
    drive(original, 20, inFlight, 3);
    const saved = JSON.parse(JSON.stringify(await original.getState())) as unknown;
    const restored = create();
    await restored.setState(saved);
    for (const strategy of [original, restored]) for (const finished of inFlight) strategy.tell(finished, reward(finished));
    assert.deepEqual(drive(restored, 25, [], 3), drive(original, 25, [], 3));
  });
}

test('the memory buffer fills add_per_step at a time from start_step, then replaces its oldest entries', () => {
  const strategy = new ReinforceStrategy(DECISIONS, WITH_BUFFER, 5, createRng(5));
  const sizes: number[] = [];
  const snapshots: Architecture[][] = [];
  for (let step = 0; step < 5; step++) {
    for (let i = 0; i < WITH_BUFFER.batch_size; i++) {
      const architecture = strategy.ask();
      strategy.tell(architecture, reward(architecture));
    }
    sizes.push(strategy.bufferedArchitectures().length);
    snapshots.push([...strategy.bufferedArchitectures()]);
  }
  // Updates 1..5: nothing at update 1 (start_step 1), then +3, +3 (full at 6), then 2 replaced each time.
  assert.deepEqual(sizes, [0, 3, 6, 6, 6]);
  assert.deepEqual(snapshots[3].slice(0, 4), snapshots[2].slice(2), 'the two oldest left, the rest moved up');
  assert.notDeepEqual(snapshots[3].slice(4), snapshots[2].slice(0, 2));
  strategy.dispose();
});
