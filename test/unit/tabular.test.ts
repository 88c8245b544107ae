// The tabular evaluator: NAS-Bench-201 lookups through the real search loop and the real store, and
// the guarantee that a strategy learns from validation accuracy only, never from test accuracy.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError } from '../../src/engine/data/dataset.ts';
import { findShippedFile } from '../../src/engine/data/files.ts';
import { NasBench201Table, shippedNasBench201Table } from '../../src/engine/data/nas-bench-201.ts';
import { TabularEvaluator } from '../../src/engine/evaluators/tabular.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { BayesianStrategy } from '../../src/engine/strategies/bayesian.ts';
import { EvolutionStrategy } from '../../src/engine/strategies/evolution.ts';
import { LocalSearchStrategy } from '../../src/engine/strategies/local.ts';
import { ReinforceStrategy } from '../../src/engine/strategies/reinforce.ts';
import { RandomStrategy } from '../../src/engine/strategies/random.ts';
import type { Architecture } from '../../src/space/decisions.ts';
import { tabularImageShape } from '../../src/space/kinds/evaluations/tabular.ts';
import {
  NASBENCH201_OPERATIONS,
  architectureOfCellString,
  everyNasBench201Architecture,
  nasBench201Cost,
} from '../../src/space/nasbench201.ts';

const TABLE_TEXT = readFileSync(findShippedFile(join('data', 'nas-bench-201', 'nas-bench-201.csv')), 'utf8');
const EXAMPLE_CELL = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

/** The table with every 200-epoch test accuracy replaced (by 100 minus it): what no search may notice. */
function tableWithOtherTestAccuracies(): NasBench201Table {
  const [header, ...rows] = TABLE_TEXT.trimEnd().split('\n');
  const columns = header.split(',');
  const testColumns = columns.flatMap((name, i) => (name.endsWith('_test_200ep') ? [i] : []));
  const altered = rows.map((row) =>
    row
      .split(',')
      .map((cell, i) => (testColumns.includes(i) ? String(100 - Number(cell)) : cell))
      .join(','),
  );
  return NasBench201Table.parse([header, ...altered].join('\n'), 'altered.csv');
}

test('the shipped table: the example cell and the best cell by CIFAR-10 validation accuracy', () => {
  const table = shippedNasBench201Table();
  const close = (actual: { valAccuracy: number; testAccuracy: number }, expected: { valAccuracy: number; testAccuracy: number }) => {
    assert.ok(
      Math.abs(actual.valAccuracy - expected.valAccuracy) < 1e-12 && Math.abs(actual.testAccuracy - expected.testAccuracy) < 1e-12,
      JSON.stringify(actual),
    );
  };
  close(table.accuracies(architectureOfCellString(EXAMPLE_CELL), 'cifar10'), { valAccuracy: 0.82834, testAccuracy: 0.9366 });
  close(table.accuracies(architectureOfCellString(EXAMPLE_CELL), 'imagenet16'), { valAccuracy: 0.354333, testAccuracy: 0.440333 });
  let best = { valAccuracy: -1, testAccuracy: -1 };
  for (const architecture of everyNasBench201Architecture()) {
    const measured = table.accuracies(architecture, 'cifar10');
    if (measured.valAccuracy > best.valAccuracy) best = measured;
  }
  close(best, { valAccuracy: best.valAccuracy, testAccuracy: 0.943733 });
});

test('a damaged table is refused with the file, the line and what is wrong', () => {
  const lines = TABLE_TEXT.trimEnd().split('\n');
  const parse = (text: string) => () => NasBench201Table.parse(text, 'table.csv');
  const refusal = (line: number | undefined, message: RegExp) => (error: unknown) =>
    error instanceof DatasetError && error.source === 'table.csv' && error.line === line && message.test(error.problem);
  assert.throws(
    parse(lines.map((l, i) => (i === 0 ? l.replace('cifar100_valid_12ep', 'c100') : l)).join('\n')),
    refusal(1, /no column "cifar100_valid_12ep"/),
  );
  assert.throws(
    parse(lines.map((l, i) => (i === 2 ? l.replace(',82.834,', ',,') : l)).join('\n')),
    refusal(3, /cifar10_valid_12ep must be a percentage/),
  );
  assert.throws(parse(lines.map((l, i) => (i === 2 ? l.replace('~2|', '~3|') : l)).join('\n')), refusal(3, /must be op~2/));
  assert.throws(parse([...lines, lines[5]].join('\n')), refusal(lines.length + 1, /appears a second time/));
  assert.throws(parse(lines.slice(0, -2).join('\n')), refusal(undefined, /2 of the 15625 cells are missing/));
});

function exampleSearchFile(strategy: string, trials = 60): string {
  const example = readFileSync(join(__dirname, '..', '..', 'examples', 'nasbench201.nas.yaml'), 'utf8');
  const file = join(mkdtempSync(join(tmpdir(), 'nas-tabular-')), 'search.nas.yaml');
  writeFileSync(file, example.replace(/^strategy:\n( {2}.*\n)+/m, `strategy: ${strategy}\n`).replace(/trials: \d+/, `trials: ${trials}`));
  return file;
}

interface Told {
  architecture: Architecture;
  reward: number | null;
}

/** Runs a search on the example through the real loop and store; the table is the shipped one unless given. */
async function search(strategy: string, table?: NasBench201Table) {
  const store = new Store(':memory:');
  try {
    const runId = createRunFromFile(store, exampleSearchFile(strategy), {});
    const startEvaluator = table ? async () => new TabularEvaluator(table, 'cifar10') : undefined;
    const status = await runSearch(store, runId, { onEvent: () => {}, startEvaluator });
    assert.equal(status, 'done');
    return store.listTrials(runId);
  } finally {
    store.close();
  }
}

test('a tabular search stores every lookup as a trial: validation accuracy as reward, the 200-epoch test accuracy beside it', async () => {
  const table = shippedNasBench201Table();
  const trials = await search('{ kind: random, reward: { transform: cube } }');
  assert.equal(trials.length, 60);
  for (const trial of trials) {
    const { valAccuracy, testAccuracy } = table.accuracies(trial.architecture, 'cifar10');
    assert.equal(trial.status, 'done');
    assert.equal(trial.metrics?.valAccuracy, valAccuracy);
    assert.equal(trial.metrics?.testAccuracy, testAccuracy);
    assert.equal(trial.reward, valAccuracy ** 3);
    // The table holds no cost: it is counted from the cell, on CIFAR-10's images.
    const cost = nasBench201Cost(
      trial.architecture.map((choice) => NASBENCH201_OPERATIONS[choice]),
      tabularImageShape('cifar10'),
    );
    assert.equal(trial.metrics?.params, cost.params);
    assert.equal(trial.metrics?.flops, cost.flops);
  }
});

const STRATEGIES = [
  { strategy: '{ kind: random }', prototype: RandomStrategy.prototype },
  { strategy: '{ kind: reinforce, controller: { hidden: 16 } }', prototype: ReinforceStrategy.prototype },
  { strategy: '{ kind: evolution }', prototype: EvolutionStrategy.prototype },
  { strategy: '{ kind: local }', prototype: LocalSearchStrategy.prototype },
  { strategy: '{ kind: bayesian }', prototype: BayesianStrategy.prototype },
];

for (const { strategy, prototype } of STRATEGIES) {
  test(`${strategy}: told only the validation accuracy; other test accuracies leave its search unchanged`, async (t: TestContext) => {
    const tells: Told[] = [];
    const tell = prototype.tell;
    t.mock.method(prototype, 'tell', function (this: typeof prototype, architecture: Architecture, reward: number | null) {
      tells.push({ architecture: [...architecture], reward });
      return tell.call(this, architecture, reward);
    });
    const trials = await search(strategy);
    const table = shippedNasBench201Table();
    assert.equal(tells.length, trials.length);
    for (const told of tells) assert.equal(told.reward, table.accuracies(told.architecture, 'cifar10').valAccuracy);

    const altered = await search(strategy, tableWithOtherTestAccuracies());
    assert.deepEqual(
      altered.map((trial) => trial.architecture),
      trials.map((trial) => trial.architecture),
    );
    assert.notDeepEqual(
      altered.map((trial) => trial.metrics?.testAccuracy),
      trials.map((trial) => trial.metrics?.testAccuracy),
    );
  });
}
