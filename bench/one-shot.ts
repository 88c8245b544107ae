// Weight sharing on digits, measured side by side in one run (printed, not asserted):
// 1. the cost of evaluating one architecture with shared weights against training it from scratch;
// 2. the rank correlation (Kendall tau) between shared-weight and from-scratch accuracy over 20
//    architectures, the known pitfall of weight sharing;
// 3. per one-shot strategy on the same space: the shared-weight validation accuracy of its final
//    samples (the controller's choices for enas), its pick retrained from scratch, and the best of a
//    random search (children trained from scratch as the pick is) given the same wall time;
// 4. DARTS's collapse note, when its run collapses (identity taking over the normal cell).
// Every search is one run of the engine (runSearch) on examples/digits-enas.nas.yaml with its space and strategy swapped.
// `--quick` leaves DARTS out.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { kendallTau } from '../src/engine/analysis/rank-correlation.ts';
import { splitDataset } from '../src/engine/data/dataset.ts';
import { loadDataset } from '../src/engine/data/load.ts';
import { prepareTrainingData } from '../src/engine/evaluators/train-from-scratch.ts';
import { TrainerPool } from '../src/engine/evaluators/trainer-pool.ts';
import { sharedWeightsAccuracy } from '../src/engine/oneshot/image-shared-weights.ts';
import type { WeightSharingState } from '../src/engine/oneshot/weight-sharing.ts';
import { Supernet } from '../src/engine/oneshot/supernet.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import { trainingSetup, type SearchConfig } from '../src/space/config.ts';
import { requireImageDataset } from '../src/space/kinds/datasets/registry.ts';
import { compileSpace, decodeArchitecture } from '../src/space/graph.ts';
import { createRng } from '../src/space/rng.ts';

const EXAMPLE = join(__dirname, '..', 'examples', 'digits-enas.nas.yaml');
const ARCHITECTURES = 20;
const QUICK = process.argv.includes('--quick');

/** The standard space the issue measures one-shot on: the 7 operations of the cell space, 3 nodes. */
const SPACE =
  '{ kind: cell, nodes: 3, operations: [conv3x3, conv5x5, sep_conv3x3, sep_conv5x5, max_pool, avg_pool, identity], ' +
  'cells_per_stage: 1, stages: 2, filters: 8 }';

/** The example with its space replaced by SPACE and its strategy block by `strategy` (YAML flow text). */
function withStrategy(strategy: string): string {
  return readFileSync(EXAMPLE, 'utf8')
    .replace(/^space:\n( {2}.*\n)+/m, `space: ${SPACE}\n`)
    .replace(/^strategy:\n( {2}.*\n)+/m, `strategy: ${strategy}\n`);
}

const STRATEGIES: Record<string, string> = {
  enas:
    '{ kind: enas, epochs: 60, batch_size: 32, learning_rate: 0.01, children_per_epoch: 8, final_samples: ' +
    '10, controller: { hidden: 32, learning_rate: 0.0035, batch_size: 4, temperature: 5, tanh_constant: ' +
    '2.5 } }',
  'random-ws': '{ kind: random-ws, epochs: 60, batch_size: 32, learning_rate: 0.01, children_per_epoch: 8, final_samples: 10 }',
  // Same space and epochs over the training set; DARTS's own defaults otherwise.
  darts: '{ kind: darts, epochs: 4, batch_size: 32, retrain: 1 }',
};

/** One architecture trained from scratch, and when it finished (seconds since the random search began). */
interface ScratchResult {
  valAccuracy: number;
  finishedAt: number;
}

interface SearchOutcome {
  store: Store;
  runId: number;
  config: SearchConfig;
  seconds: number;
}

async function search(dir: string, kind: string): Promise<SearchOutcome> {
  const file = join(dir, `${kind}.nas.yaml`);
  writeFileSync(file, withStrategy(STRATEGIES[kind]));
  const store = new Store(join(dir, `${kind}.db`));
  const runId = createRunFromFile(store, file, {});
  const started = performance.now();
  await runSearch(store, runId, { onEvent: () => {} });
  return { store, runId, config: store.runConfig(runId).config, seconds: (performance.now() - started) / 1000 };
}

export async function runOneShotBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-oneshot-'));
  try {
    const outcomes = new Map<string, SearchOutcome>();
    for (const kind of Object.keys(STRATEGIES).filter((k) => !QUICK || k !== 'darts')) outcomes.set(kind, await search(dir, kind));

    // 1 and 2 on random-ws's trained supernet: its children were sampled uniformly, like the 20 below.
    const randomWs = outcomes.get('random-ws')!;
    const { config } = randomWs;
    const state = randomWs.store.latestCheckpoint(randomWs.runId)!.state as WeightSharingState;
    const { dataset, evaluation } = trainingSetup(config);
    const images = requireImageDataset(dataset);
    const data = prepareTrainingData(splitDataset(await loadDataset(images, dirname(EXAMPLE)), images));
    const supernet = new Supernet(config.space, { inputShape: data.shape, classes: data.classes, seed: config.runtime.seed });
    supernet.setState(state.supernet);
    const decisions = compileSpace(config.space);
    const rng = createRng(12345);
    const randomArchitecture = () => decisions.map((d) => rng.int(d.options.length));
    const architectures = Array.from({ length: ARCHITECTURES }, randomArchitecture);
    const graphs = architectures.map((architecture) => decodeArchitecture(config.space, architecture));
    const allValidation = Int32Array.from({ length: data.validation.count }, (_, i) => i);
    const sharedStarted = performance.now();
    const shared: number[] = [];
    for (const graph of graphs) shared.push((await sharedWeightsAccuracy(supernet, graph, data.validation, allValidation)).accuracy);
    const sharedSeconds = (performance.now() - sharedStarted) / 1000 / ARCHITECTURES;
    supernet.dispose();

    // The random search: uniform architectures trained from scratch as the one-shot picks are, on the
    // run's backend, `pool.size` at a time, until the longest one-shot run's wall time has passed. Its
    // first 20 are the architectures above.
    const budget = Math.max(...[...outcomes.values()].map((o) => o.seconds));
    const pool = await TrainerPool.start({ backend: config.runtime.backend, dataset, baseDir: dirname(EXAMPLE) }, evaluation, (message) =>
      console.warn(message),
    );
    const scratchStarted = performance.now();
    const elapsed = () => (performance.now() - scratchStarted) / 1000;
    const scratch: ScratchResult[] = [];
    const trainNext = async (): Promise<void> => {
      while (scratch.length < ARCHITECTURES || elapsed() < budget) {
        const i = scratch.length;
        const architecture = i < ARCHITECTURES ? architectures[i] : randomArchitecture();
        const graph = i < ARCHITECTURES ? graphs[i] : decodeArchitecture(config.space, architecture);
        scratch.push({ valAccuracy: NaN, finishedAt: Infinity });
        const measured = await pool.evaluate({ architecture, graph, space: config.space, seed: 1000 + i }, () => {});
        scratch[i] = { valAccuracy: measured.valAccuracy, finishedAt: elapsed() };
      }
    };
    await Promise.all(Array.from({ length: pool.size }, trainNext));
    const firstTwenty = scratch.slice(0, ARCHITECTURES);
    // The pool trains `size` children at once: the cost of one is the wall time times the parallelism.
    const parallelism = pool.size;
    const scratchSeconds = (Math.max(...firstTwenty.map((r) => r.finishedAt)) / ARCHITECTURES) * parallelism;
    await pool.close();
    const randomSearchBest = (seconds: number) => {
      const finished = scratch.filter((r) => r.finishedAt <= seconds);
      return { best: Math.max(...finished.map((r) => r.valAccuracy)), count: finished.length };
    };

    const trainings = randomWs.store.listTrials(randomWs.runId).filter((t) => t.evaluator === 'shared-weights');
    const amortised =
      (randomWs.seconds -
        (randomWs.store.listTrials(randomWs.runId).find((t) => t.evaluator === 'train-from-scratch')?.metrics?.seconds ?? 0)) /
      trainings.length;
    console.log(
      `one_shot cost_per_architecture shared_weights_s=${sharedSeconds.toFixed(3)} (whole validation set, trained supernet) ` +
        `from_scratch_s=${scratchSeconds.toFixed(2)} (${evaluation.epochs} epochs) ratio=${(scratchSeconds / sharedSeconds).toFixed(0)}x`,
    );
    console.log(
      `one_shot cost_per_architecture_with_supernet_training amortised_s=${amortised.toFixed(2)} ` +
        `over ${trainings.length} scored children ratio=${(scratchSeconds / amortised).toFixed(1)}x`,
    );
    const fmt = (values: number[]) => values.map((v) => v.toFixed(3)).join(' ');
    console.log(
      `one_shot kendall_tau architectures=${ARCHITECTURES} tau=${kendallTau(
        shared,
        firstTwenty.map((m) => m.valAccuracy),
      ).toFixed(3)}`,
    );
    console.log(`  shared-weight val accuracy: ${fmt(shared)}`);
    console.log(`  from-scratch val accuracy:  ${fmt(firstTwenty.map((m) => m.valAccuracy))}`);

    const shape = config.space.kind === 'cell' ? `, ${config.space.operations.length} operations, ${config.space.nodes} nodes` : '';
    console.log(
      `one_shot side_by_side (same cell space${shape}; ` +
        `final_shared_val: the final samples scored with the shared weights, mean and best; ` +
        `random_search_best: the best of the children trained from scratch within the run's wall time, ${parallelism} at a time):`,
    );
    console.log(
      '  strategy    search+retrain_s  final_shared_val(mean/best)  retrained_val  retrained_test  params  random_search_best(of n)',
    );
    for (const [kind, outcome] of outcomes) {
      const trials = outcome.store.listTrials(outcome.runId);
      const retrained = trials
        .filter((t) => t.evaluator === 'train-from-scratch' && t.metrics)
        .sort((a, b) => b.metrics!.valAccuracy - a.metrics!.valAccuracy)[0];
      const finalFrom = (outcome.store.latestCheckpoint(outcome.runId)?.state as WeightSharingState | undefined)?.progress?.finalFrom;
      const finals = trials
        .filter((t) => t.evaluator === 'shared-weights' && t.metrics && finalFrom != null && t.index >= finalFrom)
        .map((t) => t.metrics!.valAccuracy);
      const sharedFigure = finals.length
        ? `${(finals.reduce((a, b) => a + b, 0) / finals.length).toFixed(3)}/${Math.max(...finals).toFixed(3)}`
        : '-';
      const random = randomSearchBest(outcome.seconds);
      const randomFigure = random.count ? `${random.best.toFixed(3)} (of ${random.count})` : 'none finished';
      const m = retrained?.metrics;
      console.log(
        `  ${kind.padEnd(10)}  ${outcome.seconds.toFixed(1).padStart(16)}  ${sharedFigure.padStart(27)} ` +
          ` ${(m ? m.valAccuracy.toFixed(3) : '-').padStart(13)}  ${(m?.testAccuracy?.toFixed(3) ?? '-').padStart(14)} ` +
          ` ${String(m ? m.params : '-').padStart(6)}  ${randomFigure}`,
      );
      if (kind === 'darts') {
        const collapse = outcome.store.runNotes(outcome.runId).find((note) => note.message.startsWith('DARTS collapse'));
        console.log(`  darts collapse: ${collapse ? collapse.message : 'none on this run (identity did not take over the normal cell)'}`);
      }
      outcome.store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) void runOneShotBench();
