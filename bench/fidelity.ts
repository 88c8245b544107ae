// Early stopping and multi-fidelity scheduling (issue 19): does a scheduler find what `none` finds, sooner?
// Random search and REINFORCE, each with the schedulers none, median, asha and hyperband, over the same
// seeds, every search at an equal wall-time budget: it is given far more trials than it can train and
// stopped T seconds after it starts searching (at run-started, its trainers up). Children are the
// digits-macro example's, trained with a constant learning rate: under a cosine schedule a curve rises
// late, which misleads every early-stopping rule.
//
// Per data set, strategy and scheduler, over seeds:
// - best val: the best validation accuracy of a trial trained in full (a pruned trial's accuracy is at a
//   lower fidelity, and is not what a search returns), and that trial's test accuracy; Δ: the difference
//   to none's, paired by seed.
// - epochs: every epoch trained in the budget, pruned and stopped trials' too; trials: done + pruned.
// - time to none's best: the target is none's best validation accuracy at the end of its budget (same data
//   set, strategy and seed); a search reaches it when its first fully trained trial at or above it
//   finishes (seconds since it started searching). Printed as a ratio of none's own time to it, the
//   median over seeds, each seed's in brackets, '-' where the budget ran out first. Beside it the same in
//   epochs trained until then (every epoch of every trial): the compute, which the machine's other load does
//   not change, though it leaves out what a trial costs besides its epochs (building it, its test set).
// - none's top-5 pruned: the 5 best architectures of none's search by full training (same seed); of those
//   the scheduler's search evaluated too, how many it pruned. Random search proposes the same architecture
//   at the same trial index whatever the scheduler (it does not adapt, and a trial's weights are seeded by
//   its index), so there every top-5 architecture the scheduler reached counts, and what it would have
//   scored in full is what none measured. REINFORCE adapts to what it is told, so only the top-5
//   architectures it happened to propose as well count.
// Each search's line ends with the machine's 1-minute load average: on a shared machine the wall times are
// only as good as that is steady.
// Goal (issue 19): asha reaches none's best in at most 1/3 of none's time (moonshot 1/5), with a test
// accuracy no worse than none's within noise: 2 binomial standard errors of one test accuracy on that test set.
//
//   npm run bench:fidelity                         small: digits, 2 seeds, 20 s a search (about 6 minutes on 2 cores)
//   npm run bench:fidelity -- --full               5 seeds; digits 90 s, Fashion-MNIST 300 s a search (about 4.5 hours)
//   ... -- [--seeds N] [--seconds S] [--datasets digits,fashion-mnist]   either setting with those changed
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse, stringify } from 'yaml';
import { splitDataset } from '../src/engine/data/dataset.ts';
import { loadDataset } from '../src/engine/data/load.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import type { TrialRecord } from '../src/protocol/engine.ts';
import { trainingSetup } from '../src/space/config.ts';
import { requireImageDataset } from '../src/space/kinds/datasets/registry.ts';
import { loadSearchFile } from '../src/space/parse.ts';
import { markdownTable, meanAndSpread } from './report.ts';

const EXAMPLE = join(__dirname, '..', 'examples', 'digits-macro.nas.yaml');
const FASHION_ARCHIVE = '/usr/share/datasets/fashion-mnist';
/** More trials than a search trains in its time: the clock, not the count, ends every search. */
const UNREACHABLE_TRIALS = 100000;
const STRATEGIES = ['random', 'reinforce'] as const;
/** The schema's defaults, written out so that the printout says what ran. */
const SCHEDULERS = {
  none: { kind: 'none' },
  median: { kind: 'median', grace_epochs: 1, min_trials: 5 },
  asha: { kind: 'asha', min_epochs: 1, reduction_factor: 3 },
  hyperband: { kind: 'hyperband', min_epochs: 1, reduction_factor: 3 },
} as const;
type SchedulerName = keyof typeof SCHEDULERS;
const SCHEDULER_NAMES = Object.keys(SCHEDULERS) as SchedulerName[];
/**
 * An untimed search first, so that no measured one pays for what a first search does once (compiling the
 * trainer's modules, caching the data set).
 */
const WARM_UP_SECONDS = 5;
const GOAL = 1 / 3;
const MOONSHOT = 1 / 5;
const TOP = 5;

interface DatasetBench {
  name: string;
  /** Why it cannot run on this machine; undefined when it can. */
  unavailable: () => string | undefined;
  /** The search file's sections that differ from the example's. */
  sections: Record<string, unknown>;
  seconds: { small: number; full: number };
}

/** Six epochs leave room for rungs at 1 and 3 (η = 3); a few hundred training examples keep a child at seconds. */
const DATASETS: DatasetBench[] = [
  {
    name: 'digits',
    unavailable: () => undefined,
    sections: {
      dataset: { kind: 'digits', validation_split: 0.2, seed: 1, max_train_examples: 300 },
      evaluation: { epochs: 6, batch_size: 32, optimizer: 'adam', learning_rate: 0.001, lr_schedule: 'constant' },
    },
    seconds: { small: 20, full: 90 },
  },
  {
    name: 'fashion-mnist',
    unavailable: () =>
      existsSync(join(FASHION_ARCHIVE, 'train-images-idx3-ubyte.gz'))
        ? undefined
        : `${FASHION_ARCHIVE} is missing (apt-get install dataset-fashion-mnist)`,
    // Strides let a child downsample: at 28x28 without them a child takes minutes on wasm. A small validation
    // part, as every epoch of every trial measures it.
    sections: {
      dataset: { kind: 'mnist', path: FASHION_ARCHIVE, validation_split: 0.02, seed: 1, max_train_examples: 600 },
      space: {
        kind: 'macro',
        layers: 4,
        filter_heights: [1, 3, 5],
        filter_widths: [1, 3, 5],
        filters: [8, 16],
        strides: [1, 2],
        skip_connections: true,
      },
      evaluation: { epochs: 6, batch_size: 32, optimizer: 'adam', learning_rate: 0.002, lr_schedule: 'constant' },
    },
    seconds: { small: 120, full: 300 },
  },
];

type Strategy = (typeof STRATEGIES)[number];

/** One search as it ended: its trials, when each finished and when each epoch ended, in seconds since it started searching. */
interface SearchOutcome {
  trials: TrialRecord[];
  finishedAfter: Map<number, number>;
  epochsEndedAfter: number[];
}

/** One search's figures, those against none measured on the same seed. */
interface SeedFigures {
  bestVal: number;
  bestTest: number | null;
  epochs: number;
  finished: number;
  pruned: number;
  /** Time to none's best over none's own; Infinity when the budget ran out first. */
  timeRatio: number;
  /** The same in epochs trained until then: the compute, whatever else the machine was doing. */
  epochRatio: number;
  topPruned: number;
  topEvaluated: number;
}

function searchText(bench: DatasetBench, strategy: Strategy, scheduler: SchedulerName): string {
  const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  return stringify({
    ...example,
    ...bench.sections,
    name: `fidelity-${bench.name}-${strategy}-${scheduler}`,
    // REINFORCE as the example sets it up; random search with its defaults.
    strategy: strategy === 'random' ? { kind: 'random' } : example.strategy,
    scheduler: SCHEDULERS[scheduler],
    budget: { trials: UNREACHABLE_TRIALS },
    runtime: { backend: 'wasm', seed: 1 },
  });
}

/** Searches `file` with `seed` until `seconds` after it started searching, then stops it. */
async function searchFor(store: Store, file: string, seed: number, seconds: number): Promise<SearchOutcome> {
  const runId = createRunFromFile(store, file, { seed });
  const stop = new AbortController();
  const finishedAfter = new Map<number, number>();
  const epochsEndedAfter: number[] = [];
  let started = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    await runSearch(store, runId, {
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === 'run-started') {
          started = performance.now();
          timer = setTimeout(() => stop.abort(), seconds * 1000);
        } else if (event.type === 'trial-finished') finishedAfter.set(event.trial.index, (performance.now() - started) / 1000);
        else if (event.type === 'epoch') epochsEndedAfter.push((performance.now() - started) / 1000);
      },
    });
  } finally {
    clearTimeout(timer);
  }
  // A trial that ended as the stop came is past the budget.
  const trials = store.listTrials(runId).filter((trial) => trial.status === 'interrupted' || finishedAfter.get(trial.index)! <= seconds);
  return { trials, finishedAfter, epochsEndedAfter };
}

const fullyTrained = (outcome: SearchOutcome) => outcome.trials.filter((trial) => trial.status === 'done' && trial.metrics);

/** The trial a search returns: the best fully trained by validation accuracy, the earliest finished of equals. */
function bestTrial(outcome: SearchOutcome): TrialRecord | undefined {
  const after = (trial: TrialRecord) => outcome.finishedAfter.get(trial.index)!;
  return fullyTrained(outcome).sort((a, b) => b.metrics!.valAccuracy - a.metrics!.valAccuracy || after(a) - after(b))[0];
}

/** Seconds until a fully trained trial reached `target`; Infinity when none did. */
function timeTo(outcome: SearchOutcome, target: number): number {
  const reached = fullyTrained(outcome).filter((trial) => trial.metrics!.valAccuracy >= target);
  return Math.min(...reached.map((trial) => outcome.finishedAfter.get(trial.index)!));
}

function epochsUntil(outcome: SearchOutcome, seconds: number): number {
  return outcome.epochsEndedAfter.filter((after) => after <= seconds).length;
}

function figuresAgainstNone(outcome: SearchOutcome, none: SearchOutcome): SeedFigures {
  const best = bestTrial(outcome);
  const noneBest = bestTrial(none);
  if (!best || !noneBest) throw new Error('a search trained no trial in full within its budget: give it more seconds');
  const target = noneBest.metrics!.valAccuracy;
  const time = timeTo(outcome, target);
  const noneTime = timeTo(none, target);
  const top = new Set(
    fullyTrained(none)
      .sort((a, b) => b.metrics!.valAccuracy - a.metrics!.valAccuracy)
      .slice(0, TOP)
      .map((trial) => trial.key),
  );
  const evaluatedTop = outcome.trials.filter((trial) => top.has(trial.key) && (trial.status === 'done' || trial.status === 'pruned'));
  const topKeys = new Set(evaluatedTop.map((trial) => trial.key));
  // A key counts as pruned only if the search never trained it in full.
  const trainedInFull = new Set(evaluatedTop.filter((trial) => trial.status === 'done').map((trial) => trial.key));
  return {
    bestVal: best.metrics!.valAccuracy,
    bestTest: best.metrics!.testAccuracy,
    epochs: outcome.trials.reduce((sum, trial) => sum + trial.epochsTrained, 0),
    finished: outcome.trials.filter((trial) => trial.status === 'done' || trial.status === 'pruned').length,
    pruned: outcome.trials.filter((trial) => trial.status === 'pruned').length,
    timeRatio: time / noneTime,
    epochRatio: Number.isFinite(time) ? epochsUntil(outcome, time) / epochsUntil(none, noneTime) : Infinity,
    topPruned: [...topKeys].filter((key) => !trainedInFull.has(key)).length,
    topEvaluated: topKeys.size,
  };
}

/** Random search must propose the same architecture at the same index whatever the scheduler, or its top-5 count means nothing. */
function sameProposals(outcome: SearchOutcome, none: SearchOutcome): boolean {
  const noneKeys = new Map(none.trials.map((trial) => [trial.index, trial.key]));
  return outcome.trials.every((trial) => !noneKeys.has(trial.index) || noneKeys.get(trial.index) === trial.key);
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const ratioText = (ratio: number) => (Number.isFinite(ratio) ? ratio.toFixed(2) : '-');
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(3)}`;

/** Mean of the per-seed differences to none's; undefined where a value is missing. */
function pairedDifference(values: readonly (number | null)[], noneValues: readonly (number | null)[]): number | undefined {
  const differences = values.map((value, seed) => (value === null || noneValues[seed] === null ? undefined : value - noneValues[seed]));
  return differences.includes(undefined) ? undefined : mean(differences as number[]);
}

function tableRow(name: string, scheduler: SchedulerName, seeds: SeedFigures[], noneSeeds: SeedFigures[]): string[] {
  const pick = <K extends keyof SeedFigures>(key: K, from = seeds) => from.map((figures) => figures[key]);
  const valDifference = pairedDifference(pick('bestVal'), pick('bestVal', noneSeeds))!;
  const testDifference = pairedDifference(pick('bestTest'), pick('bestTest', noneSeeds));
  const perSeed = (ratios: number[]) => `${ratioText(median(ratios))} [${ratios.map(ratioText).join(' ')}]`;
  const topEvaluated = pick('topEvaluated').reduce((a, b) => a + b, 0);
  return [
    name,
    scheduler,
    meanAndSpread(pick('bestVal')),
    signed(valDifference),
    meanAndSpread(pick('bestTest')),
    testDifference === undefined ? '-' : signed(testDifference),
    `${meanAndSpread(pick('epochs'), 0)} (${(mean(pick('epochs')) / mean(pick('epochs', noneSeeds))).toFixed(2)}×)`,
    `${meanAndSpread(pick('finished'), 1)} (${(mean(pick('finished')) / mean(pick('finished', noneSeeds))).toFixed(2)}×), ` +
      `${mean(pick('pruned')).toFixed(1)} pruned`,
    perSeed(pick('timeRatio')),
    perSeed(pick('epochRatio')),
    scheduler === 'none' ? '-' : `${pick('topPruned').reduce((a, b) => a + b, 0)} of ${topEvaluated}`,
  ];
}

/** The goal for asha against none on one data set and strategy, met or missed. */
function goalLine(name: string, asha: SeedFigures[], none: SeedFigures[], testCount: number): string {
  const time = median(asha.map((figures) => figures.timeRatio));
  const epochs = median(asha.map((figures) => figures.epochRatio));
  const verdict = (limit: number) => (time <= limit ? 'met' : 'missed');
  const noneTest = mean(none.map((figures) => figures.bestTest ?? Number.NaN));
  const noise = 2 * Math.sqrt((noneTest * (1 - noneTest)) / testCount);
  const difference = pairedDifference(
    asha.map((figures) => figures.bestTest),
    none.map((figures) => figures.bestTest),
  );
  const test =
    difference === undefined
      ? 'test: a best trial has no test accuracy'
      : `test Δ ${signed(difference)} against noise ${noise.toFixed(3)} (2 SE on ${testCount} test images): ` +
        (difference >= -noise ? 'no worse within noise' : 'worse');
  return (
    `goal ${name} asha: none's best in ${ratioText(time)} × none's time, ${ratioText(epochs)} × its epochs ` +
    `(median over ${asha.length} seeds; '-': not reached in the budget); ` +
    `goal <= ${GOAL.toFixed(2)} ${verdict(GOAL)}, moonshot <= ${MOONSHOT.toFixed(2)} ${verdict(MOONSHOT)}; ${test}`
  );
}

/** How many test images the searches of `file` measure their test accuracy on. */
async function testImages(file: string): Promise<number> {
  const { config } = loadSearchFile(file);
  if (!config) throw new Error(`${file} is not a valid search file`);
  const dataset = requireImageDataset(trainingSetup(config).dataset);
  return splitDataset(await loadDataset(dataset, dirname(file)), dataset).test.count;
}

async function benchDataset(bench: DatasetBench, seeds: number, seconds: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-fidelity-'));
  const store = new Store(join(dir, 'runs.db'));
  try {
    const files = new Map<string, string>();
    for (const strategy of STRATEGIES) {
      for (const scheduler of SCHEDULER_NAMES) {
        const file = join(dir, `${strategy}-${scheduler}.nas.yaml`);
        writeFileSync(file, searchText(bench, strategy, scheduler));
        files.set(`${strategy} ${scheduler}`, file);
      }
    }
    const figures = new Map<string, SeedFigures[]>();
    await searchFor(store, files.get('random none')!, 1, WARM_UP_SECONDS);
    for (let seed = 1; seed <= seeds; seed++) {
      for (const strategy of STRATEGIES) {
        // The schedulers of one seed one after the other, so that a change in the machine's load falls on all of
        // them alike; each seed starts with the next, so that none is not always first.
        const order = SCHEDULER_NAMES.map((_, i) => SCHEDULER_NAMES[(i + seed - 1) % SCHEDULER_NAMES.length]);
        const outcomes = new Map<SchedulerName, SearchOutcome>();
        for (const scheduler of order) {
          outcomes.set(scheduler, await searchFor(store, files.get(`${strategy} ${scheduler}`)!, seed, seconds));
        }
        const none = outcomes.get('none')!;
        for (const [scheduler, outcome] of outcomes) {
          const seedFigures = figuresAgainstNone(outcome, none);
          const key = `${strategy} ${scheduler}`;
          figures.set(key, [...(figures.get(key) ?? []), seedFigures]);
          console.log(
            `fidelity dataset=${bench.name} strategy=${strategy} scheduler=${scheduler} seed=${seed} ` +
              `finished=${seedFigures.finished} pruned=${seedFigures.pruned} epochs=${seedFigures.epochs} ` +
              `best_val=${seedFigures.bestVal.toFixed(4)} best_test=${seedFigures.bestTest?.toFixed(4) ?? '-'} ` +
              `time_to_none_best=${ratioText(seedFigures.timeRatio)} epochs_to_none_best=${ratioText(seedFigures.epochRatio)} ` +
              `top${TOP}_pruned=${seedFigures.topPruned}/${seedFigures.topEvaluated} load=${loadavg()[0].toFixed(1)}`,
          );
          if (strategy === 'random' && !sameProposals(outcome, none)) {
            console.log(
              `  warning: random with ${scheduler} proposed other architectures than with none: its top-${TOP} count is not sound`,
            );
          }
        }
      }
    }

    const rows = [
      [
        'strategy',
        'scheduler',
        'best val',
        'Δ val',
        'its test',
        'Δ test',
        'epochs (× none)',
        'trials done+pruned (× none)',
        "time to none's best (× none's) [per seed]",
        "epochs to none's best (× none's)",
        `none's top-${TOP} pruned`,
      ],
    ];
    for (const strategy of STRATEGIES) {
      for (const scheduler of SCHEDULER_NAMES) {
        rows.push(tableRow(strategy, scheduler, figures.get(`${strategy} ${scheduler}`)!, figures.get(`${strategy} none`)!));
      }
    }
    console.log(`\n${bench.name}: ${seeds} seed(s), ${seconds} s a search, mean ± sd over seeds (time: median)\n${markdownTable(rows)}`);
    const testCount = await testImages(files.get('random none')!);
    for (const strategy of STRATEGIES) {
      console.log(goalLine(`${bench.name} ${strategy}`, figures.get(`${strategy} asha`)!, figures.get(`${strategy} none`)!, testCount));
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runFidelityBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      full: { type: 'boolean', default: false },
      seeds: { type: 'string' },
      seconds: { type: 'string' },
      datasets: { type: 'string' },
    },
  });
  const setting = values.full ? 'full' : 'small';
  const positive = (name: string, raw: string | undefined, fallback: number) => {
    const value = raw === undefined ? fallback : Number(raw);
    if (!(value > 0)) throw new Error(`--${name} must be a positive number, got "${raw}"`);
    return value;
  };
  const seeds = Math.round(positive('seeds', values.seeds, values.full ? 5 : 2));
  const names = values.datasets?.split(',') ?? (values.full ? DATASETS.map((d) => d.name) : ['digits']);
  const unknown = names.filter((name) => !DATASETS.some((d) => d.name === name));
  if (unknown.length > 0) throw new Error(`--datasets: unknown ${unknown.join(', ')} (known: ${DATASETS.map((d) => d.name).join(', ')})`);

  const example = parse(readFileSync(EXAMPLE, 'utf8')) as { space: unknown; strategy: unknown };
  console.log(
    `fidelity setting=${setting} seeds=${seeds} backend=wasm cpus=${cpus().length} load=${loadavg()[0].toFixed(2)}\n` +
      `  searches: the example's space ${JSON.stringify(example.space)} unless the data set says otherwise, ` +
      `stopped after their seconds; random {"kind":"random"}, reinforce ${JSON.stringify(example.strategy)}\n` +
      `  schedulers: ${SCHEDULER_NAMES.map((name) => JSON.stringify(SCHEDULERS[name])).join(' ')}`,
  );
  for (const bench of DATASETS.filter((d) => names.includes(d.name))) {
    const seconds = positive('seconds', values.seconds, bench.seconds[setting]);
    const why = bench.unavailable();
    if (why) {
      console.log(`fidelity dataset=${bench.name} skipped: ${why}`);
      continue;
    }
    console.log(`fidelity dataset=${bench.name} seconds=${seconds} ${JSON.stringify(bench.sections)}`);
    await benchDataset(bench, seeds, seconds);
  }
}

if (require.main === module) {
  runFidelityBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
