// Regularized evolution on a tiny synthetic space: the population's aging, the tournament and the
// one-decision mutation, and a checkpoint that continues the same search.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvolutionStrategy } from '../../src/engine/strategies/evolution.ts';
import type { EvolutionConfig } from '../../src/space/config.ts';
import type { Architecture, Decision } from '../../src/space/decisions.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { createRng } from '../../src/space/rng.ts';

const DECISIONS: Decision[] = Array.from({ length: 3 }, (_, i) => ({ kind: 'categorical', name: `d${i}`, options: ['a', 'b', 'c', 'd'] }));

function evolution(config: Partial<EvolutionConfig> = {}, seed = 1) {
  return new EvolutionStrategy(DECISIONS, { population_size: 4, sample_size: 2, mutated_decisions: 1, ...config }, seed, createRng(seed));
}

const differences = (a: Architecture, b: Architecture) => a.filter((choice, i) => choice !== b[i]).length;

async function populationOf(strategy: EvolutionStrategy) {
  return (await strategy.getState()).population;
}

// Four members three decisions apart from each other: a child one decision away names its parent.
const SPREAD: { architecture: Architecture; reward: number }[] = [
  { architecture: [0, 0, 0], reward: 0.1 },
  { architecture: [1, 1, 1], reward: 0.4 },
  { architecture: [2, 2, 2], reward: 0.3 },
  { architecture: [3, 3, 3], reward: 0.2 },
];

test('the first P proposals are random; the population keeps the P latest tells, oldest first, whatever their reward', async () => {
  const strategy = evolution();
  const initial = Array.from({ length: 4 }, () => strategy.ask());
  assert.equal(new Set(initial.map(String)).size > 1, true);
  SPREAD.forEach(({ architecture, reward }) => strategy.tell(architecture, reward));
  assert.deepEqual(await populationOf(strategy), SPREAD);
  // The best member is retired too once it is the oldest: aging, not culling.
  strategy.tell([0, 1, 2], 0.05);
  strategy.tell([0, 1, 3], 0.06);
  const population = await populationOf(strategy);
  assert.equal(population.length, 4);
  assert.deepEqual(population, [...SPREAD.slice(2), { architecture: [0, 1, 2], reward: 0.05 }, { architecture: [0, 1, 3], reward: 0.06 }]);
});

test('each child differs from a tournament winner in exactly one decision; the worst member never wins a tournament of 2', () => {
  const strategy = evolution({ sample_size: 2 });
  for (let i = 0; i < 4; i++) strategy.ask();
  SPREAD.forEach(({ architecture, reward }) => strategy.tell(architecture, reward));
  const wins = new Map<number, number>();
  for (let i = 0; i < 600; i++) {
    const child = strategy.ask();
    const parents = SPREAD.filter((member) => differences(member.architecture, child) === 1);
    assert.equal(parents.length, 1, `child ${child} has exactly one parent`);
    wins.set(parents[0].reward, (wins.get(parents[0].reward) ?? 0) + 1);
  }
  // P(win) for a sample of 2 of 4 distinct members: best 1/2, second 1/3, third 1/6, worst 0.
  assert.equal(wins.get(0.1), undefined);
  assert.ok(wins.get(0.4)! > wins.get(0.3)! && wins.get(0.3)! > wins.get(0.2)!, JSON.stringify([...wins]));
  assert.ok(Math.abs(wins.get(0.4)! / 600 - 1 / 2) < 0.08);
});

test('a tournament over the whole population always mutates its best member; a failed member never wins', () => {
  const strategy = evolution({ sample_size: 4 });
  for (let i = 0; i < 4; i++) strategy.ask();
  strategy.tell([0, 0, 0], 0.1);
  strategy.tell([1, 1, 1], null);
  strategy.tell([2, 2, 2], 0.3);
  strategy.tell([3, 3, 3], 0.2);
  for (let i = 0; i < 100; i++) assert.equal(differences(strategy.ask(), [2, 2, 2]), 1);
});

test('mutated_decisions changes that many distinct decisions', () => {
  const strategy = evolution({ sample_size: 4, mutated_decisions: 2 });
  for (let i = 0; i < 4; i++) strategy.ask();
  SPREAD.forEach(({ architecture, reward }) => strategy.tell(architecture, reward));
  for (let i = 0; i < 100; i++) assert.equal(differences(strategy.ask(), [1, 1, 1]), 2);
});

test('a strategy restored from a checkpoint proposes what the original would have', async () => {
  const original = evolution({}, 9);
  for (let i = 0; i < 7; i++) original.tell(original.ask(), i / 10);
  const restored = evolution({}, 9);
  await restored.setState(JSON.parse(JSON.stringify(await original.getState())));
  for (let i = 0; i < 20; i++) {
    const proposal = original.ask();
    assert.deepEqual(restored.ask(), proposal);
    original.tell(proposal, (i % 5) / 5);
    restored.tell(proposal, (i % 5) / 5);
  }
});

test('sample_size above population_size, and more mutated decisions than the space has, are positioned errors', () => {
  const text = `name: evo
space: { kind: nasbench201 }
evaluation: { kind: tabular }
strategy: { kind: evolution, population_size: 5, sample_size: 6, mutated_decisions: 7 }
`;
  const { problems } = parseSearchText(text, 'evo.nas.yaml');
  assert.deepEqual(
    problems.map(({ line, column, rule }) => ({ line, column, rule })),
    [
      { line: 4, column: 63, rule: 'sample-size' },
      { line: 4, column: 85, rule: 'mutated-decisions' },
    ],
  );
  assert.match(problems[0].message, /must be at most strategy.population_size \(5\), got 6/);
  assert.match(problems[1].message, /must be at most 6, the decisions of this space/);
  const defaults = parseSearchText(
    'name: evo\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular }\nstrategy: { kind: evolution }\n',
    'evo.nas.yaml',
  );
  assert.deepEqual(defaults.config?.strategy, {
    kind: 'evolution',
    population_size: 10,
    sample_size: 3,
    mutated_decisions: 1,
    reward: { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 },
  });
});

// Pareto mode: reward against parameter count. [0, 0, 0] is dominated by [1, 1, 1] (less accurate, larger).
const PARETO_SPREAD: { architecture: Architecture; reward: number; params: number }[] = [
  { architecture: [1, 1, 1], reward: 0.4, params: 50 },
  { architecture: [0, 0, 0], reward: 0.1, params: 100 },
  { architecture: [2, 2, 2], reward: 0.3, params: 10 },
  { architecture: [3, 3, 3], reward: 0.2, params: 5 },
];

function paretoEvolution(config: Partial<EvolutionConfig> = {}, seed = 1) {
  const strategy = evolution({ pareto: { minimise: ['params'] }, ...config }, seed);
  for (let i = 0; i < 4; i++) strategy.ask();
  PARETO_SPREAD.forEach(({ architecture, reward, params }) => strategy.tell(architecture, reward, { params, flops: null }));
  return strategy;
}

test('Pareto mode retires the dominated member, then the most crowded of the front, not the oldest', async () => {
  const strategy = paretoEvolution();
  strategy.tell([0, 1, 2], 0.5, { params: 60, flops: null });
  const architectures = async () => (await populationOf(strategy)).map((member) => member.architecture);
  assert.deepEqual(await architectures(), [
    [1, 1, 1],
    [2, 2, 2],
    [3, 3, 3],
    [0, 1, 2],
  ]);
  // All five on the front; crowding distances: [1, 1, 1] 1.05, [2, 2, 2] 0.95, [0, 1, 3] 1.06, the ends infinite.
  strategy.tell([0, 1, 3], 0.35, { params: 30, flops: null });
  assert.deepEqual(await architectures(), [
    [1, 1, 1],
    [3, 3, 3],
    [0, 1, 2],
    [0, 1, 3],
  ]);
  // A member whose cost was not measured ranks below every measured one, though it is the most accurate.
  strategy.tell([3, 2, 1], 0.9);
  assert.deepEqual(await architectures(), [
    [1, 1, 1],
    [3, 3, 3],
    [0, 1, 2],
    [0, 1, 3],
  ]);
});

test('Pareto mode: a whole-population tournament mutates an end of the front, never a dominated or crowded member', () => {
  const strategy = paretoEvolution({ sample_size: 4 });
  const parents = new Map<string, number>();
  for (let i = 0; i < 200; i++) {
    const child = strategy.ask();
    const parent = PARETO_SPREAD.filter((member) => differences(member.architecture, child) === 1);
    assert.equal(parent.length, 1);
    parents.set(String(parent[0].architecture), (parents.get(String(parent[0].architecture)) ?? 0) + 1);
  }
  // [1, 1, 1] and [3, 3, 3] are the front's ends (infinite crowding distance); [2, 2, 2] lies between them.
  assert.deepEqual([...parents.keys()].sort(), ['1,1,1', '3,3,3']);
});

test('a Pareto strategy restored from a checkpoint keeps the costs and proposes what the original would have', async () => {
  const original = evolution({ pareto: { minimise: ['params', 'flops'] } }, 9);
  const cost = (i: number) => ({ params: (i * 37) % 11, flops: (i * 13) % 7 });
  for (let i = 0; i < 7; i++) original.tell(original.ask(), i / 10, cost(i));
  const restored = evolution({ pareto: { minimise: ['params', 'flops'] } }, 9);
  await restored.setState(JSON.parse(JSON.stringify(await original.getState())));
  assert.deepEqual(await populationOf(restored), await populationOf(original));
  for (let i = 0; i < 20; i++) {
    const proposal = original.ask();
    assert.deepEqual(restored.ask(), proposal);
    original.tell(proposal, (i % 5) / 5, cost(i + 7));
    restored.tell(proposal, (i % 5) / 5, cost(i + 7));
  }
  assert.deepEqual(await populationOf(restored), await populationOf(original));
});

test('pareto.minimise parses, and a cost that is not measured by name is a schema error', () => {
  const file = (minimise: string) =>
    'name: evo\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular }\n' +
    `strategy: { kind: evolution, pareto: { minimise: ${minimise} } }\n`;
  const parsed = parseSearchText(file('[params, flops]'), 'evo.nas.yaml');
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual((parsed.config?.strategy as EvolutionConfig).pareto, { minimise: ['params', 'flops'] });
  assert.notDeepEqual(parseSearchText(file('[energy]'), 'evo.nas.yaml').problems, []);
});
