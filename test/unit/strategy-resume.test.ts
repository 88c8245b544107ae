import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Architecture, Decision } from '../../src/space/decisions.ts';
import { createRng } from '../../src/space/rng.ts';
import { compileNasBench201 } from '../../src/space/nasbench201.ts';
import { BayesianStrategy } from '../../src/engine/strategies/bayesian.ts';
import { LocalSearchStrategy } from '../../src/engine/strategies/local.ts';
import type { Strategy } from '../../src/engine/strategies/strategy.ts';

const DECISIONS: Decision[] = compileNasBench201();

/** A smooth score with interactions, so that the searches climb and the model has something to learn. */
function reward(architecture: Architecture): number {
  const convolutions = architecture.filter((op) => op === 2 || op === 3).length;
  return 0.5 + 0.05 * convolutions + 0.02 * Math.sin(architecture.reduce((sum, op, i) => sum + op * (i + 1), 0));
}

const STRATEGIES: { name: string; create: () => Strategy }[] = [
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
