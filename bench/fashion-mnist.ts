// Fashion-MNIST end to end (not in CI): examples/fashion-mnist.nas.yaml searched by the engine, then its
// best architecture retrained from scratch on the whole training set with a longer schedule, and its
// test accuracy (the archive's own 10,000 test images) printed beside the published baselines.
//
//   npm run bench:fashion-mnist                      the full run (search, then retraining)
//   FASHION_TRIALS=4 FASHION_RETRAIN_EPOCHS=1 ...    a quick look
//
// Needs Debian's dataset-fashion-mnist; without it the bench says so and exits.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TrainerPool } from '../src/engine/evaluators/trainer-pool.ts';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import { trainingSetup } from '../src/space/config.ts';
import { requireImageDataset } from '../src/space/kinds/datasets/registry.ts';
import { drawArchitecture } from '../src/space/graph.ts';

const EXAMPLE = join(__dirname, '..', 'examples', 'fashion-mnist.nas.yaml');
const ARCHIVE = '/usr/share/datasets/fashion-mnist';
const TRIALS = Number(process.env.FASHION_TRIALS ?? 30);
const RETRAIN_EPOCHS = Number(process.env.FASHION_RETRAIN_EPOCHS ?? 10);
const BACKEND = (process.env.FASHION_BACKEND ?? 'wasm') as 'wasm';

/** Test accuracies from the benchmark table of the package's README (/usr/share/doc/dataset-fashion-mnist). */
const BASELINES: Array<[string, number]> = [
  ['2 Conv+pooling (TensorFlow tutorial)', 0.916],
  ['2 Conv, <100K parameters', 0.925],
  ['3 Conv+pooling+2 FC+dropout', 0.926],
  ['ResNet18 with augmentation', 0.949],
];
const GOAL = 0.925;
const MOONSHOT = 0.94;

const minutes = (ms: number) => (ms / 60000).toFixed(1);

async function main(): Promise<void> {
  if (!existsSync(join(ARCHIVE, 'train-images-idx3-ubyte.gz'))) {
    console.log(`fashion_mnist skipped: ${ARCHIVE} is missing (apt-get install dataset-fashion-mnist)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-fashion-'));
  const store = new Store(join(dir, 'runs.db'));
  try {
    const started = performance.now();
    const runId = createRunFromFile(store, EXAMPLE, { trials: TRIALS, backend: BACKEND });
    const status = await runSearch(store, runId, { onEvent: () => {} });
    const searchMs = performance.now() - started;
    const trials = store.listTrials(runId).filter((t) => t.metrics);
    const best = trials.sort((a, b) => b.metrics!.valAccuracy - a.metrics!.valAccuracy)[0];
    console.log(
      `fashion_mnist search status=${status} trials=${trials.length} minutes=${minutes(searchMs)} ` +
        `backend=${BACKEND} cpus=${cpus().length} best_val=${best.metrics!.valAccuracy.toFixed(4)} ` +
        `best_test=${best.metrics!.testAccuracy?.toFixed(4) ?? '-'} params=${best.metrics!.params}`,
    );
    console.log(`  best architecture (trial ${best.index}):\n${drawArchitecture(best.graph)}`);

    // Retraining: every training image, more epochs, the same recipe (its cosine spans the longer run).
    const { config } = store.runConfig(runId);
    const { dataset, evaluation } = trainingSetup(config);
    const images = requireImageDataset(dataset);
    const retrainEvaluation = { ...evaluation, epochs: RETRAIN_EPOCHS, reward_epochs: 1 };
    const retrainStarted = performance.now();
    const pool = await TrainerPool.start(
      { backend: BACKEND, dataset: { ...images, max_train_examples: undefined }, baseDir: dirname(EXAMPLE) },
      retrainEvaluation,
      (message) => console.warn(message),
    );
    try {
      const retrained = await pool.evaluate({ architecture: best.architecture, graph: best.graph, space: config.space, seed: 1 }, (m) =>
        console.log(
          `  retrain epoch ${m.epoch}/${RETRAIN_EPOCHS} val=${m.valAccuracy.toFixed(4)} train_loss=${m.trainLoss?.toFixed(4) ?? '-'} ` +
            `${m.seconds.toFixed(0)} s`,
        ),
      );
      const retrainMs = performance.now() - retrainStarted;
      const test = retrained.testAccuracy;
      if (test === null) throw new Error('the retrained child reported no test accuracy');
      console.log(
        `fashion_mnist retrained epochs=${RETRAIN_EPOCHS} minutes=${minutes(retrainMs)} val=${retrained.valAccuracy.toFixed(4)} ` +
          `test=${test.toFixed(4)} params=${retrained.params}`,
      );
      const totalMinutes = (searchMs + retrainMs) / 60000;
      console.log(
        `fashion_mnist total_minutes=${totalMinutes.toFixed(1)} (target <= 90) test=${test.toFixed(4)} ` +
          `goal=${GOAL} ${test >= GOAL ? 'met' : 'not met'}, moonshot=${MOONSHOT} ${test >= MOONSHOT ? 'met' : 'not met'}`,
      );
      for (const [name, accuracy] of BASELINES) {
        console.log(`  vs ${name.padEnd(38)} ${accuracy.toFixed(3)}  difference ${((test - accuracy) * 100).toFixed(1)} points`);
      }
    } finally {
      await pool.close();
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
