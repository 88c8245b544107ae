// Recurrent cells on Tiny Shakespeare (char level): does a searched cell beat a plain tanh RNN and
// reach an LSTM, as NAS-RL's cell did on PTB? The bench runs the main recurrent example (REINFORCE,
// timed: its target is under 10 minutes on 2 cores) and the ENAS example, then trains their best
// cells, a tanh RNN and an LSTM with the same trainer, for the same epochs on the same text, each
// sized to the searched cell's parameter count. It prints validation and test perplexity, the
// search times and the cost of one recurrent child.
//
//   npm run bench:recurrent -- [--epochs E] [--train-tokens N] [--skip-reinforce] [--skip-enas]

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src/engine/backend.ts';
import { loadTextCorpus } from '../src/engine/data/load.ts';
import { trainLanguageModel, type LanguageData, type LanguageRecipe } from '../src/engine/evaluators/train-language-model.ts';
import { LanguageModel, lstmCell, searchedCell, type RecurrentCell } from '../src/engine/model/recurrent.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import type { TrialRecord } from '../src/protocol/engine.ts';
import { trainingSetup, type RecurrentSpaceConfig, type SearchConfig } from '../src/space/config.ts';
import { drawArchitecture, type RecurrentGraph } from '../src/space/graph.ts';
import { recurrentParameters } from '../src/space/kinds/spaces/recurrent.ts';
import { loadSearchFile } from '../src/space/parse.ts';
import { markdownTable } from './report.ts';

const EXAMPLES = join(__dirname, '..', 'examples');
const REINFORCE_EXAMPLE = join(EXAMPLES, 'shakespeare-recurrent.nas.yaml');
const ENAS_EXAMPLE = join(EXAMPLES, 'shakespeare-enas.nas.yaml');
const EXAMPLE_TARGET_SECONDS = 600;

interface SearchOutcome {
  name: string;
  seconds: number;
  best: TrialRecord;
  trials: TrialRecord[];
}

function searchConfig(file: string): SearchConfig {
  const { config, problems } = loadSearchFile(file);
  if (!config) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
  return config;
}

/** Runs a search file to its end, timed from its start to its finish. */
async function search(name: string, file: string): Promise<SearchOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-recurrent-'));
  const store = new Store(join(dir, 'runs.db'));
  try {
    const started = performance.now();
    const runId = createRunFromFile(store, file, {});
    const status = await runSearch(store, runId, { onEvent: () => undefined });
    const seconds = (performance.now() - started) / 1000;
    if (status !== 'done') throw new Error(`${name}: the search ended ${status}`);
    const trials = store.listTrials(runId);
    // The one a user takes home: a retrained child when the strategy retrains one (ENAS), else the best reward.
    const retrained = trials.filter((trial) => trial.status === 'done' && trial.evaluator === 'train-from-scratch' && trial.metrics);
    const best = [...retrained].sort((a, b) => (b.reward ?? -Infinity) - (a.reward ?? -Infinity))[0];
    if (!best) throw new Error(`${name}: no trial finished`);
    return { name, seconds, best, trials };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The smallest hidden width whose model has at least `target` parameters. */
function hiddenFor(target: number, parameters: (hidden: number) => number): number {
  let hidden = 1;
  while (parameters(hidden) < target) hidden++;
  return hidden;
}

interface Contender {
  name: string;
  hidden: number;
  cell: (hidden: number, seed: number) => RecurrentCell;
  parameters: number;
}

const TIMED_WINDOWS = 8;

/** The example's best cell on each CPU backend: an epoch of a few training windows (and two validation windows), per training window. */
async function compareBackends(graph: RecurrentGraph, space: RecurrentSpaceConfig, evaluation: LanguageRecipe, data: LanguageData) {
  const tokens = TIMED_WINDOWS * evaluation.batch_size * evaluation.bptt + evaluation.batch_size;
  const short = {
    ...data,
    train: data.train.subarray(0, tokens),
    validation: data.validation.subarray(0, 2 * evaluation.batch_size * evaluation.bptt),
  };
  const perWindow = new Map<string, number>();
  for (const backend of ['wasm', 'cpu'] as const) {
    await selectBackend(backend);
    const model = new LanguageModel(
      searchedCell(graph, space, 1),
      { vocabulary: data.vocabulary.length, hidden: space.hidden, tieWeights: space.tie_weights },
      1,
    );
    const measured = await trainLanguageModel(
      model,
      { ...evaluation, epochs: 1, reward_epochs: 1 },
      short,
      1,
      () => undefined,
      () => false,
    );
    model.dispose();
    perWindow.set(backend, (measured.curve[0].seconds * 1000) / TIMED_WINDOWS);
  }
  const [wasm, cpu] = [perWindow.get('wasm')!, perWindow.get('cpu')!];
  console.log(
    `\nper training window (${evaluation.batch_size} streams x ${evaluation.bptt} tokens, the example's best cell; ` +
      `an epoch of ${TIMED_WINDOWS} and 2 validation windows, divided by ${TIMED_WINDOWS}): ` +
      `wasm ${wasm.toFixed(0)} ms, cpu ${cpu.toFixed(0)} ms (cpu/wasm ${(cpu / wasm).toFixed(1)}x)`,
  );
}

export async function runRecurrentBench(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      epochs: { type: 'string', default: '3' },
      'train-tokens': { type: 'string', default: '200000' },
      'skip-reinforce': { type: 'boolean', default: false },
      'skip-enas': { type: 'boolean', default: false },
    },
  });
  const epochs = Number(values.epochs);
  const trainTokens = Number(values['train-tokens']);
  if (!(Number.isInteger(epochs) && epochs > 0)) throw new Error(`--epochs must be a positive integer, got "${values.epochs}"`);
  if (!(Number.isInteger(trainTokens) && trainTokens > 0))
    throw new Error(`--train-tokens must be a positive integer, got "${values['train-tokens']}"`);
  console.log(`recurrent bench: Tiny Shakespeare, char level; backend wasm; cpus=${cpus().length} load=${loadavg()[0].toFixed(2)}`);

  const searches: SearchOutcome[] = [];
  if (values['skip-reinforce']) console.log('REINFORCE search (the main example) skipped: --skip-reinforce');
  else searches.push(await search('REINFORCE (the main example)', REINFORCE_EXAMPLE));
  if (values['skip-enas']) console.log('ENAS search skipped: --skip-enas');
  else if (!existsSync(ENAS_EXAMPLE)) console.log(`ENAS search skipped: ${ENAS_EXAMPLE} is missing`);
  else searches.push(await search('ENAS', ENAS_EXAMPLE));
  if (searches.length === 0) throw new Error('no search left to compare: drop --skip-reinforce or --skip-enas');

  const example = searchConfig(REINFORCE_EXAMPLE);
  const { dataset, evaluation } = trainingSetup(example);
  const space = example.space as RecurrentSpaceConfig;
  console.log('\nsearches:');
  for (const outcome of searches) {
    const trained = outcome.trials.filter((trial) => trial.metrics);
    const perChild = trained.reduce((sum, trial) => sum + trial.metrics!.seconds, 0) / trained.length;
    const target = outcome.name.startsWith('REINFORCE')
      ? ` (target under ${EXAMPLE_TARGET_SECONDS} s: ${outcome.seconds < EXAMPLE_TARGET_SECONDS ? 'met' : 'missed'})`
      : '';
    console.log(
      `  ${outcome.name}: ${outcome.trials.length} trials in ${outcome.seconds.toFixed(0)} s${target}; ` +
        `${perChild.toFixed(1)} s per trained child; best validation perplexity ${outcome.best.metrics!.valPerplexity?.toFixed(2)}\n` +
        drawArchitecture(outcome.best.graph)
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n'),
    );
  }

  const corpus = await loadTextCorpus({ ...dataset, max_train_tokens: trainTokens } as typeof dataset, EXAMPLES);
  const data: LanguageData = corpus;
  const vocabulary = corpus.vocabulary.length;
  await compareBackends(searches[0].best.graph as RecurrentGraph, space, evaluation, data);
  await selectBackend('wasm');
  const searchedParameters = recurrentParameters(space, vocabulary);
  const softmaxParameters = (hidden: number) => vocabulary * hidden + vocabulary;
  const contenders: Contender[] = searches.map((outcome) => ({
    name: `searched cell, ${outcome.name}`,
    hidden: space.hidden,
    cell: (hidden, seed) => searchedCell(outcome.best.graph as RecurrentGraph, { hidden, highway: space.highway }, seed),
    parameters: searchedParameters,
  }));
  const tanhGraph: RecurrentGraph = { kind: 'recurrent', nodes: [{ input: -1, activation: 'tanh' }] };
  const tanhHidden = hiddenFor(searchedParameters, (h) => softmaxParameters(h) + 2 * h * h);
  contenders.push({
    name: 'tanh RNN',
    hidden: tanhHidden,
    cell: (hidden, seed) => searchedCell(tanhGraph, { hidden, highway: false }, seed),
    parameters: softmaxParameters(tanhHidden) + 2 * tanhHidden * tanhHidden,
  });
  const lstmHidden = hiddenFor(searchedParameters, (h) => softmaxParameters(h) + 8 * h * h + 4 * h);
  contenders.push({
    name: 'LSTM',
    hidden: lstmHidden,
    cell: lstmCell,
    parameters: softmaxParameters(lstmHidden) + 8 * lstmHidden * lstmHidden + 4 * lstmHidden,
  });

  console.log(
    `\nfinal training: ${epochs} epochs on ${corpus.train.length} training tokens, validation ${corpus.validation.length}, ` +
      `test ${corpus.test.length}; the example's recipe (${evaluation.optimizer} ${evaluation.learning_rate}, ` +
      `batch ${evaluation.batch_size}, bptt ${evaluation.bptt}, clip ${evaluation.clip_norm}), tied softmax, seed 1`,
  );
  const rows = [['model', 'hidden', 'parameters', 'val perplexity', 'test perplexity', 'seconds']];
  const results = new Map<string, number>();
  for (const contender of contenders) {
    const model = new LanguageModel(contender.cell(contender.hidden, 1), { vocabulary, hidden: contender.hidden, tieWeights: true }, 1);
    if (model.countParams() !== contender.parameters)
      throw new Error(`${contender.name}: ${model.countParams()} parameters, expected ${contender.parameters}`);
    const measured = await trainLanguageModel(
      model,
      { ...evaluation, epochs, reward_epochs: 1 },
      data,
      1,
      () => undefined,
      () => false,
    );
    model.dispose();
    results.set(contender.name, measured.testPerplexity!);
    rows.push([
      contender.name,
      String(contender.hidden),
      String(contender.parameters),
      measured.valPerplexity!.toFixed(3),
      measured.testPerplexity!.toFixed(3),
      measured.seconds.toFixed(0),
    ]);
    console.log(`  trained ${contender.name}: test perplexity ${measured.testPerplexity!.toFixed(3)} in ${measured.seconds.toFixed(0)} s`);
  }
  console.log(`\n${markdownTable(rows)}\n`);
  const rnn = results.get('tanh RNN')!;
  const lstm = results.get('LSTM')!;
  for (const outcome of searches) {
    const searched = results.get(`searched cell, ${outcome.name}`)!;
    console.log(
      `goal, ${outcome.name}: beats the tanh RNN ${searched < rnn ? 'yes' : 'no'} (${searched.toFixed(3)} vs ${rnn.toFixed(3)}); ` +
        `reaches the LSTM ${searched <= lstm ? 'yes' : 'no'} ` +
        `(${searched.toFixed(3)} vs ${lstm.toFixed(3)}, ratio ${(searched / lstm).toFixed(3)})`,
    );
  }
}

if (require.main === module) void runRecurrentBench(process.argv.slice(2));
