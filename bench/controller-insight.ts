// Does the memory buffer make the controller's hidden state encode its architecture? Adam & Lorraine's
// Table 1 measured here: REINFORCE searches with and without strategy.controller.memory_buffer, through
// the real search loop and store, then the controller-insight analysis of each run (100 architectures
// sampled per controller, Spearman over their 4,950 pairs), averaged over seeds and printed beside the
// paper's figures (ENAS on its recurrent cells; only `--space recurrent` searches one: compare directions, not values).
//
//   npm run bench:insight -- [--seeds N] [--evaluations E] [--digits-trials T] [--skip-digits]
//   npm run bench:insight -- --space recurrent [--seeds N] [--recurrent-epochs P]
//
// NAS-Bench-201: table lookups, so E evaluations per run take about a second. Digits: children are
// trained (a small macro space, one short epoch each), T trials per run, one seed; --skip-digits leaves it out.
// Recurrent (`--space recurrent`, alone): ENAS itself on its recurrent cell, as the paper measured it, on
// Tiny Shakespeare (characters, a 20,000-token training part), P epochs of shared weights per run, N
// seeds; every scored child is a trial whose reward is c / perplexity^3 with the shared weights. About 3.5
// minutes per run on 2 contended cores (20 minutes for 3 seeds), most of it the shared weights' training.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { controllerInsight } from '../src/engine/analysis/controller-insight.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import { PAPER_TABLE1, SPEARMAN_COLUMNS, type ControllerRow, type SpearmanRow } from '../src/protocol/insight.ts';
import { markdownTable, meanAndSpread } from './report.ts';

/** The buffer, counted in controller updates: it starts filling after 5, the supervised loss joins after 10. */
const MEMORY_BUFFER = '{ start_step: 5, size: 100, add_per_step: 10, replace: 5, loss_start_step: 10, batch_size: 20 }';

const NASBENCH201 = (buffer: boolean, evaluations: number) =>
  `name: insight-nasbench201${buffer ? '-buffer' : ''}
space: { kind: nasbench201 }
evaluation: { kind: tabular, dataset: cifar10 }
strategy: { kind: reinforce, controller: { hidden: 32, batch_size: 5, learning_rate: ` +
  `0.02${buffer ? `, memory_buffer: ${MEMORY_BUFFER}` : ''} } }
budget: { trials: ${evaluations} }
`;

const DIGITS_MEMORY_BUFFER = MEMORY_BUFFER.replace('start_step: 5', 'start_step: 2').replace('loss_start_step: 10', 'loss_start_step: 3');
const DIGITS = (buffer: boolean, trials: number) =>
  `name: insight-digits${buffer ? '-buffer' : ''}
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 256 }
space: { kind: macro, layers: 3, filter_heights: [1, 3, 5], filter_widths: [1, 3, 5], filters: [4, 8], skip_connections: true }
strategy: { kind: reinforce, controller: ` +
  `{ hidden: 32, batch_size: 2, learning_rate: 0.01` +
  `${buffer ? `, memory_buffer: ${DIGITS_MEMORY_BUFFER}` : ''} ` +
  `} }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
budget: { trials: ${trials} }
runtime: { backend: cpu }
`;

// ENAS's controller updates every 2 scored children: 10 per epoch, so the buffer fills from the second epoch.
const RECURRENT = (buffer: boolean, epochs: number) =>
  `name: insight-recurrent${buffer ? '-buffer' : ''}
dataset: { kind: text, tokens: char, max_train_tokens: 20000 }
space: { kind: recurrent, nodes: 5, hidden: 32 }
strategy: { kind: enas, epochs: ${epochs}, batch_size: 32, learning_rate: 0.005, children_per_epoch: 20, final_samples: 5, ` +
  `controller: { hidden: 32, batch_size: 2, learning_rate: 0.005` +
  `${buffer ? `, memory_buffer: ${MEMORY_BUFFER}` : ''} } }
evaluation: { epochs: 1, batch_size: 32, bptt: 35, learning_rate: 0.005 }
runtime: { backend: cpu }
`;

type Rows = Record<ControllerRow, SpearmanRow[]>;

interface Measured {
  rows: Rows;
  /** Over each controller's distinct architectures only. */
  distinctRows: Rows;
  seconds: number;
}

async function measure(name: string, text: (buffer: boolean) => string, seeds: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-insight-bench-'));
  const store = new Store(join(dir, 'runs.db'));
  const rows: Rows = { random: [], unsupervised: [], supervised: [] };
  const distinctRows: Rows = { random: [], unsupervised: [], supervised: [] };
  const started = performance.now();
  try {
    for (const buffer of [false, true]) {
      const file = join(dir, `${name}-${buffer}.nas.yaml`);
      writeFileSync(file, text(buffer));
      for (let seed = 1; seed <= seeds; seed++) {
        const runId = createRunFromFile(store, file, { seed });
        await runSearch(store, runId, { onEvent: () => {} });
        const insight = await controllerInsight(store, runId);
        // Both variants start from the same fresh controller for a seed: its row is counted once.
        if (!buffer) rows.random.push(insight.spearman.random!);
        if (!buffer) distinctRows.random.push(insight.spearmanDistinct.random!);
        rows[insight.trainedAs].push(insight.spearman[insight.trainedAs]!);
        distinctRows[insight.trainedAs].push(insight.spearmanDistinct[insight.trainedAs]!);
        const trained = insight.spearman[insight.trainedAs]!;
        console.log(
          `space=${name} buffer=${buffer} seed=${seed} steps=${insight.controllerSteps} ` +
            `${SPEARMAN_COLUMNS.map((c) => `${c}=${trained[c]?.toFixed(3) ?? 'null'}`).join(' ')} ` +
            `distinct=${trained.distinct_architectures} ged_method=${insight.gedMethod}`,
        );
      }
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, distinctRows, seconds: (performance.now() - started) / 1000 };
}

function table(title: string, rows: Rows): string {
  const names = { random: 'Random', supervised: 'Supervised (memory buffer)', unsupervised: 'Unsupervised' } as const;
  const lines = [['controller', ...SPEARMAN_COLUMNS, 'distinct archs', 'paper: common_ops, common_connections, ged, reward_gap']];
  for (const row of ['random', 'supervised', 'unsupervised'] as const) {
    const distinctCount = meanAndSpread(
      rows[row].map((r) => r.distinct_architectures),
      1,
    );
    lines.push([
      names[row],
      ...SPEARMAN_COLUMNS.map((column) => meanAndSpread(rows[row].map((r) => r[column]))),
      distinctCount,
      PAPER_TABLE1[row].map((x) => x.toFixed(3)).join(', '),
    ]);
  }
  return `${title}\n${markdownTable(lines)}`;
}

/** The paper's direction: the buffer makes hidden-state distance follow shared operations more (a more negative correlation). */
function direction(rows: Rows): string {
  const mean = (list: SpearmanRow[]) => list.reduce((sum, r) => sum + (r.common_ops ?? 0), 0) / list.length;
  const supervised = mean(rows.supervised);
  const unsupervised = mean(rows.unsupervised);
  const verdict = supervised < unsupervised ? 'reproduced' : 'not reproduced';
  return (
    `common_ops: supervised ${supervised.toFixed(3)} vs unsupervised ${unsupervised.toFixed(3)} ` +
    `(paper -0.404 vs -0.315): direction ${verdict}`
  );
}

export async function runControllerInsightBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string', default: '5' },
      evaluations: { type: 'string', default: '500' },
      'digits-trials': { type: 'string', default: '40' },
      'skip-digits': { type: 'boolean', default: false },
      space: { type: 'string' },
      'recurrent-epochs': { type: 'string', default: '6' },
    },
  });
  const count = (name: string, raw: string | undefined) => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
    return value;
  };
  const seeds = count('seeds', values.seeds);
  const evaluations = count('evaluations', values.evaluations);
  const digitsTrials = count('digits-trials', values['digits-trials']);
  if (values.space !== undefined && values.space !== 'recurrent') {
    throw new Error(`--space takes recurrent (NAS-Bench-201 and digits run without it), got "${values.space}"`);
  }
  if (values.space === 'recurrent') {
    const epochs = count('recurrent-epochs', values['recurrent-epochs']);
    const recurrent = await measure('recurrent', (buffer) => RECURRENT(buffer, epochs), seeds);
    console.log(
      `\n${table(
        `ENAS on a 5-node recurrent cell, Tiny Shakespeare (chars, 20,000 training tokens), ${epochs} epochs of shared ` +
          `weights, ${seeds} seed(s); common_ops counts common activations; mean ± std over seeds; ${recurrent.seconds.toFixed(0)} s`,
        recurrent.rows,
      )}`,
    );
    console.log(direction(recurrent.rows));
    console.log(`\n${table("The same over each controller's distinct architectures only", recurrent.distinctRows)}`);
    console.log(direction(recurrent.distinctRows));
    return;
  }

  const nasbench = await measure('nasbench201', (buffer) => NASBENCH201(buffer, evaluations), seeds);
  console.log(
    `\n${table(
      `NAS-Bench-201 (cifar10 table), ${evaluations} evaluations per run, ${seeds} seed(s), ` +
        `mean ± std over seeds; ${nasbench.seconds.toFixed(0)} s`,
      nasbench.rows,
    )}`,
  );
  console.log(direction(nasbench.rows));
  console.log(`\n${table("The same over each controller's distinct architectures only", nasbench.distinctRows)}`);
  console.log(direction(nasbench.distinctRows));
  if (values['skip-digits']) return;
  const digits = await measure('digits', (buffer) => DIGITS(buffer, digitsTrials), 1);
  console.log(
    `\n${table(
      `Digits (macro space, 3 layers, trained children), ${digitsTrials} trials per run, 1 seed; reward_gap over ` +
        `trained architectures only; ${digits.seconds.toFixed(0)} s`,
      digits.rows,
    )}`,
  );
  console.log(direction(digits.rows));
  console.log(`\n${table("The same over each controller's distinct architectures only", digits.distinctRows)}`);
  console.log(direction(digits.distinctRows));
}

if (require.main === module) {
  runControllerInsightBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
