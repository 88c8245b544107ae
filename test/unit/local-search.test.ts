import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Architecture, Decision } from '../../src/space/decisions.ts';
import { createRng } from '../../src/space/rng.ts';
import { LocalSearchStrategy } from '../../src/engine/strategies/local.ts';
import { choicesKey, hammingDistance, neighbours } from '../../src/engine/strategies/neighbourhood.ts';

const categorical = (name: string, count: number): Decision => ({
  kind: 'categorical',
  name,
  options: Array.from({ length: count }, (_, i) => `${name}_${i}`),
});

/** 4 · 3 · 3 · 2 = 72 architectures. */
const DECISIONS: Decision[] = [categorical('a', 4), categorical('b', 3), categorical('c', 3), categorical('d', 2)];

/** A rugged landscape: an independent random score per architecture, so there are many local optima. */
function ruggedReward(architecture: Architecture): number {
  const rng = createRng(1 + architecture.reduce((index, option, d) => index * DECISIONS[d].options.length + option, 0));
  return rng.next();
}

interface Current {
  architecture: Architecture;
  reward: number;
}

const currentOf = async (strategy: LocalSearchStrategy) => ((await strategy.getState()) as { current: Current | null }).current;

test('local search proposes one-decision neighbours, moves on improvement, restarts at local optima, and never repeats', async () => {
  const strategy = new LocalSearchStrategy(DECISIONS, { initial: 1 }, 3, createRng(3));
  const told = new Map<string, number>();
  let moves = 0;
  let restarts = 0;
  for (let step = 0; step < 60; step++) {
    const before = await currentOf(strategy);
    const proposal = strategy.ask();
    const after = await currentOf(strategy);
    assert.ok(!told.has(choicesKey(proposal)), `step ${step}: ${choicesKey(proposal)} was already evaluated`);
    if (before === null) {
      assert.equal(after, null, 'a start is not the current architecture before it is told');
    } else if (after === null) {
      // A restart: every neighbour of the climb's architecture is known and none is better.
      restarts += 1;
      for (const neighbour of neighbours(DECISIONS, before.architecture)) {
        const reward = told.get(choicesKey(neighbour));
        assert.ok(reward !== undefined && reward <= before.reward, `step ${step}: restarted before ${choicesKey(neighbour)} was tried`);
      }
    } else {
      assert.equal(hammingDistance(proposal, after.architecture), 1, `step ${step}: not a neighbour of the current architecture`);
      // The climb may move to an already-known better neighbour without evaluating it again.
      if (choicesKey(after.architecture) !== choicesKey(before.architecture)) {
        assert.ok(after.reward > before.reward && told.get(choicesKey(after.architecture)) === after.reward);
      }
    }

    const reward = ruggedReward(proposal);
    const beforeTell = await currentOf(strategy);
    strategy.tell(proposal, reward);
    told.set(choicesKey(proposal), reward);
    const afterTell = await currentOf(strategy);
    if (beforeTell === null || reward > beforeTell.reward) {
      assert.deepEqual(afterTell, { architecture: proposal, reward }, `step ${step}: did not move to a better architecture`);
      if (beforeTell !== null) moves += 1;
    } else {
      assert.deepEqual(afterTell, beforeTell, `step ${step}: moved to an architecture that is not better`);
    }
  }
  assert.ok(moves > 0, 'never moved');
  assert.ok(restarts > 0, 'never restarted');
});

test('local search with several proposals in flight still proposes each architecture once', () => {
  const strategy = new LocalSearchStrategy(DECISIONS, { initial: 1 }, 5, createRng(5));
  const seen = new Set<string>();
  const inFlight: Architecture[] = [];
  for (let step = 0; step < 60; step++) {
    while (inFlight.length < 4) {
      const proposal = strategy.ask();
      assert.ok(!seen.has(choicesKey(proposal)), `${choicesKey(proposal)} proposed twice`);
      seen.add(choicesKey(proposal));
      inFlight.push(proposal);
    }
    const finished = inFlight.shift()!;
    strategy.tell(finished, ruggedReward(finished));
  }
});
