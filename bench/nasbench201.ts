// NAS-Bench-201 in seconds: every strategy searches the NAS-Bench-201 cell by table lookup, through
// the real search loop and the real store (SQLite in a temporary folder), with the paper's protocol:
// E evaluations per search, the same seeds for every strategy, the architecture returned is the best
// by validation accuracy, and what is reported is its 200-epoch test accuracy, mean ± std over seeds.
//
//   npm run bench:nasbench201 -- [--seeds N] [--evaluations E] [--dataset cifar10|cifar100|imagenet16|all]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import schema from '../schemas/nas-search.schema.json';
import { shippedNasBench201Table } from '../src/engine/data/nas-bench-201.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import { TABULAR_DATASETS, type TabularDataset } from '../src/space/config.ts';
import { everyNasBench201Architecture } from '../src/space/nasbench201.ts';
import { markdownTable } from './report.ts';

/**
 * Each strategy's settings for this space, the rest being the schema's defaults. Tuned here on 100
 * seeds of CIFAR-10: evolution with a larger population and tournament than its defaults (10, 3);
 * REINFORCE with a smaller controller, 5 architectures per update and a 57 times higher learning rate
 * than its defaults (made for a few dozen trained children, not 100 lookups).
 */
const STRATEGIES: Record<string, string> = {
  random: '{ kind: random }',
  evolution: '{ kind: evolution, population_size: 20, sample_size: 5 }',
  reinforce: '{ kind: reinforce, controller: { hidden: 32, batch_size: 5, learning_rate: 0.02 } }',
  local: '{ kind: local }',
  bayesian: '{ kind: bayesian }',
};

/** CIFAR-10 test accuracy (%) after 200 epochs, NAS-Bench-201 paper, Table 5 (100 evaluations). */
const PAPER_CIFAR10: Record<string, string> = {
  random: '93.70 ± 0.36',
  reinforce: '93.85 ± 0.37',
  evolution: '93.92 ± 0.30',
};
const PAPER_BEST_CELL = '94.37';

interface Result {
  strategy: string;
  dataset: TabularDataset;
  mean: number;
  std: number;
  trialsPerSecond: number;
}

function searchText(strategy: string, dataset: TabularDataset, evaluations: number): string {
  return `name: nasbench201-${strategy}
space: { kind: nasbench201 }
evaluation: { kind: tabular, dataset: ${dataset} }
strategy: ${STRATEGIES[strategy]}
budget: { trials: ${evaluations} }
`;
}

async function benchStrategy(strategy: string, dataset: TabularDataset, evaluations: number, seeds: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench201-'));
  const store = new Store(join(dir, 'runs.db'));
  try {
    const file = join(dir, `${strategy}.nas.yaml`);
    writeFileSync(file, searchText(strategy, dataset, evaluations));
    const tests: number[] = [];
    let seconds = 0;
    for (let seed = 1; seed <= seeds; seed++) {
      const runId = createRunFromFile(store, file, { seed });
      const started = performance.now();
      await runSearch(store, runId, { onEvent: () => {} });
      seconds += (performance.now() - started) / 1000;
      // The architecture a search returns: the best it saw by validation accuracy (the first of equals).
      let best: { val: number; test: number | null } | undefined;
      for (const trial of store.listTrials(runId)) {
        const m = trial.metrics;
        if (m && (best === undefined || m.valAccuracy > best.val)) best = { val: m.valAccuracy, test: m.testAccuracy };
      }
      if (!best) throw new Error(`${strategy}, seed ${seed}: no trial finished`);
      if (best.test === null) throw new Error(`${strategy}, seed ${seed}: the best trial has no test accuracy`);
      tests.push(best.test * 100);
    }
    const mean = tests.reduce((a, b) => a + b, 0) / tests.length;
    const std = Math.sqrt(tests.reduce((sum, x) => sum + (x - mean) ** 2, 0) / tests.length);
    return { strategy, dataset, mean, std, trialsPerSecond: (seeds * evaluations) / seconds };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The highest 200-epoch test accuracy (%) of any cell: the limit of every search. */
function bestCell(dataset: TabularDataset): number {
  const table = shippedNasBench201Table();
  return Math.max(...everyNasBench201Architecture().map((a) => table.accuracies(a, dataset).testAccuracy * 100));
}

function table(results: Result[]): string {
  const rows = [['strategy', 'dataset', 'paper (CIFAR-10)', 'NAS Studio', 'gap to best cell']];
  for (const dataset of new Set(results.map((r) => r.dataset))) {
    const limit = bestCell(dataset);
    for (const r of results.filter((result) => result.dataset === dataset)) {
      rows.push([
        r.strategy,
        dataset,
        dataset === 'cifar10' ? (PAPER_CIFAR10[r.strategy] ?? '-') : '-',
        `${r.mean.toFixed(2)} ± ${r.std.toFixed(2)}`,
        (limit - r.mean).toFixed(2),
      ]);
    }
    rows.push(['best cell', dataset, dataset === 'cifar10' ? PAPER_BEST_CELL : '-', limit.toFixed(2), '0.00']);
  }
  return markdownTable(rows);
}

export async function runNasBench201Bench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string', default: '100' },
      evaluations: { type: 'string', default: '100' },
      dataset: { type: 'string', default: 'cifar10' },
    },
  });
  const seeds = Number(values.seeds);
  const evaluations = Number(values.evaluations);
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`--seeds must be a positive integer, got "${values.seeds}"`);
  if (!Number.isInteger(evaluations) || evaluations < 1)
    throw new Error(`--evaluations must be a positive integer, got "${values.evaluations}"`);
  const datasets = values.dataset === 'all' ? [...TABULAR_DATASETS] : [values.dataset as TabularDataset];
  if (!datasets.every((d) => TABULAR_DATASETS.includes(d)))
    throw new Error(`--dataset must be one of ${TABULAR_DATASETS.join(', ')} or all, got "${values.dataset}"`);
  // Strategies another branch has not registered yet are left out rather than failing the file.
  const registered = schema.properties.strategy.properties.kind.enum as string[];
  const results: Result[] = [];
  for (const dataset of datasets) {
    for (const strategy of Object.keys(STRATEGIES).filter((s) => registered.includes(s))) {
      const r = await benchStrategy(strategy, dataset, evaluations, seeds);
      results.push(r);
      console.log(
        `strategy=${r.strategy} dataset=${r.dataset} evaluations=${evaluations} seeds=${seeds} ` +
          `test_mean=${r.mean.toFixed(2)} test_std=${r.std.toFixed(2)} trials_per_s=${r.trialsPerSecond.toFixed(0)}`,
      );
    }
  }
  console.log(`\n${table(results)}`);
}

if (require.main === module) {
  runNasBench201Bench(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
