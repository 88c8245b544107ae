import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kendallTau } from '../../src/engine/analysis/rank-correlation.ts';
import { shippedNasBench201Table } from '../../src/engine/data/nas-bench-201.ts';
import { BayesianStrategy } from '../../src/engine/strategies/bayesian.ts';
import { architectureEncoder } from '../../src/engine/strategies/encoding.ts';
import { choicesKey } from '../../src/engine/strategies/neighbourhood.ts';
import { compileNasBench201, everyNasBench201Architecture } from '../../src/space/nasbench201.ts';
import { createRng, shuffledIndices } from '../../src/space/rng.ts';

test('the surrogate trained on 100 random NAS-Bench-201 cells ranks 1,000 held-out cells with Kendall tau above 0.5', () => {
  const table = shippedNasBench201Table();
  const cells = everyNasBench201Architecture();
  const encode = architectureEncoder(compileNasBench201());
  const valid = (i: number) => table.accuracies(cells[i], 'cifar10').valAccuracy;
  const taus: number[] = [];
  // Three splits, so that the figure is not one lucky draw.
  for (const seed of [1, 2, 3]) {
    const order = Array.from(shuffledIndices(cells.length, createRng(seed)));
    const training = order.slice(0, 100).map((i) => ({ architecture: cells[i], reward: valid(i) }));
    const heldOut = order.slice(100, 1100);
    const model = BayesianStrategy.fitSurrogate(encode, training);
    const predicted = heldOut.map((i) => model.predict(encode(cells[i])).mean);
    taus.push(kendallTau(predicted, heldOut.map(valid)));
  }
  const mean = taus.reduce((sum, tau) => sum + tau, 0) / taus.length;
  assert.ok(mean > 0.5, `Kendall tau ${taus.map((tau) => tau.toFixed(3)).join(', ')}: mean ${mean.toFixed(3)}`);
});

test('bayesian search on NAS-Bench-201 never proposes an architecture twice and reaches the best 1% of cells in 40 evaluations', () => {
  const table = shippedNasBench201Table();
  const decisions = compileNasBench201();
  const strategy = new BayesianStrategy(decisions, { initial: 10, parents: 5, random_candidates: 20 }, 4, createRng(4));
  const seen = new Set<string>();
  let best = 0;
  for (let step = 0; step < 40; step++) {
    const proposal = strategy.ask();
    assert.ok(!seen.has(choicesKey(proposal)), `${choicesKey(proposal)} proposed twice`);
    seen.add(choicesKey(proposal));
    const reward = table.accuracies(proposal, 'cifar10').valAccuracy;
    best = Math.max(best, reward);
    strategy.tell(proposal, reward);
  }
  const sorted = everyNasBench201Architecture()
    .map((cell) => table.accuracies(cell, 'cifar10').valAccuracy)
    .sort((a, b) => b - a);
  // Within the best 1% of the 15,625 cells after 40 evaluations.
  assert.ok(best >= sorted[156], `best validation accuracy ${best}, the top 1% starts at ${sorted[156]}`);
});
