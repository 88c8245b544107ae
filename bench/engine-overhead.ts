// Engine overhead outside training: ask, tell and the store's writes, per trial, with an evaluator
// that does nothing. Printed, not asserted.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import type { Evaluator } from '../src/engine/evaluators/evaluator.ts';

const EXAMPLE = join(__dirname, '..', 'examples', 'digits-macro.nas.yaml');

const instantEvaluator: Evaluator = {
  backend: 'cpu',
  backendDetail: 'no training: measures the engine alone',
  size: 1,
  evaluate: async () => ({
    valAccuracy: Math.random(),
    testAccuracy: 0.5,
    params: 1000,
    flops: 2000,
    seconds: 0,
    curve: [{ epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 0 }],
  }),
  cancelAll: () => {},
  close: async () => {},
};

async function overheadPerTrial(strategy: 'random' | 'reinforce', trials: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-'));
  const store = new Store(join(dir, 'runs.db'));
  try {
    // The main job's search file, with its strategy swapped for random search where asked.
    const file = join(dir, 'bench.nas.yaml');
    const example = readFileSync(EXAMPLE, 'utf8');
    writeFileSync(file, strategy === 'random' ? example.replace(/^strategy:\n( {2}.*\n)+/m, 'strategy: { kind: random }\n') : example);
    const runId = createRunFromFile(store, file, { trials });
    const started = performance.now();
    await runSearch(store, runId, { onEvent: () => {}, startEvaluator: async () => instantEvaluator });
    return (performance.now() - started) / trials;
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runEngineOverheadBench(): Promise<void> {
  const random = await overheadPerTrial('random', 1000);
  console.log(`engine_overhead strategy=random trials=1000 ms_per_trial=${random.toFixed(3)}`);
  // The controller's update and checkpoint dominate REINFORCE's share; fewer trials keep the bench short.
  const reinforce = await overheadPerTrial('reinforce', 200);
  console.log(
    `engine_overhead strategy=reinforce trials=200 ms_per_trial=${reinforce.toFixed(3)} ` +
      `ratio_to_random=${(reinforce / random).toFixed(1)}x`,
  );
}

if (require.main === module) void runEngineOverheadBench();
