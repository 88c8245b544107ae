// Schedulers in a whole search: trials stopped after an epoch are recorded pruned with the curve they
// reached and counted in the budget; a search stopped and resumed prunes as the uninterrupted one did,
// for every scheduler. The evaluator is a synthetic one (a learning curve per architecture, in this
// process), so each search takes milliseconds and is the same each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochMetrics, TrialMeasurements } from '../../src/protocol/engine.ts';
import type { StartEvaluator } from '../../src/engine/evaluators/evaluator.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';

const EPOCHS = 6;

/** A curve that rises to a ceiling set by the architecture, the same for the same architecture and seed. */
function curveValue(architecture: readonly number[], seed: number, epoch: number): number {
  const ceiling = 0.4 + 0.5 * ((architecture.reduce((s, c, i) => s + c * (i + 3), 0) % 17) / 17);
  const wobble = (((seed * 7919 + epoch * 104729) % 1000) / 1000 - 0.5) * 0.02;
  return ceiling * (1 - Math.exp(-epoch / 2)) + wobble;
}

const syntheticEvaluator: StartEvaluator = async () => ({
  backend: 'cpu',
  backendDetail: 'synthetic learning curves',
  size: 1,
  async evaluate(request, onEpoch): Promise<TrialMeasurements> {
    const curve: EpochMetrics[] = [];
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      const valAccuracy = curveValue(request.architecture, request.seed, epoch);
      const metrics = { epoch, trainLoss: 1 / epoch, trainAccuracy: valAccuracy, valLoss: 1 / epoch, valAccuracy, seconds: 0.01 };
      curve.push(metrics);
      if (onEpoch(metrics) === 'stop') break;
    }
    return { valAccuracy: curve[curve.length - 1].valAccuracy, testAccuracy: null, params: 1, flops: 1, seconds: 0.01, curve };
  },
  cancelAll: () => {},
  close: async () => {},
});

function searchFile(scheduler: string, strategy: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nas-fidelity-')), 'fidelity.nas.yaml');
  writeFileSync(
    file,
    `name: fidelity
dataset: { kind: digits }
space: { kind: macro, layers: 3, filter_heights: [1, 3, 5], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: ${strategy}
evaluation: { epochs: ${EPOCHS} }
scheduler: ${scheduler}
budget: { trials: 16 }
runtime: { backend: cpu, seed: 3 }
`,
  );
  return file;
}

type Row = { status: string; epochsTrained: number; reward: number | null; architecture: number[] };
const rows = (store: Store, runId: number): Row[] =>
  store.listTrials(runId).map(({ status, epochsTrained, reward, architecture }) => ({ status, epochsTrained, reward, architecture }));

/** Searches to the budget; with `stopAfter`, stops once that many trials finished and resumes. */
async function search(file: string, stopAfter?: number): Promise<{ store: Store; runId: number }> {
  const store = new Store(':memory:');
  const runId = createRunFromFile(store, file, {});
  if (stopAfter !== undefined) {
    const stop = new AbortController();
    let finished = 0;
    const onEvent = (event: { type: string }) => {
      if (event.type === 'trial-finished' && ++finished === stopAfter) stop.abort();
    };
    assert.equal(await runSearch(store, runId, { onEvent, signal: stop.signal, startEvaluator: syntheticEvaluator }), 'stopped');
  }
  assert.equal(await runSearch(store, runId, { onEvent: () => {}, startEvaluator: syntheticEvaluator }), 'done');
  return { store, runId };
}

const SCHEDULERS = [
  '{ kind: median, grace_epochs: 1, min_trials: 3 }',
  '{ kind: asha, min_epochs: 1, reduction_factor: 2 }',
  '{ kind: hyperband, min_epochs: 1, reduction_factor: 2 }',
  '{ kind: curve, grace_epochs: 3, confidence: 0.9 }',
];
const STRATEGIES = [
  '{ kind: random }',
  '{ kind: evolution, population_size: 4, sample_size: 2 }',
  '{ kind: reinforce, controller: { hidden: 8, batch_size: 2 } }',
];

for (const scheduler of SCHEDULERS) {
  const kind = /kind: (\w+)/.exec(scheduler)![1];
  test(`${kind}: pruned trials keep their curve and count in the budget; resumed, the search prunes as uninterrupted`, async () => {
    for (const strategy of STRATEGIES) {
      const file = searchFile(scheduler, strategy);
      const whole = await search(file);
      const trials = rows(whole.store, whole.runId);
      const pruned = trials.filter((t) => t.status === 'pruned');
      assert.ok(pruned.length > 0, `${kind} with ${strategy} pruned nothing`);
      assert.ok(trials.some((t) => t.status === 'done' && t.epochsTrained === EPOCHS));
      for (const trial of pruned)
        assert.ok(trial.epochsTrained >= 1 && trial.epochsTrained < EPOCHS, `stopped before the end: ${trial.epochsTrained}`);
      // A pruned trial's reward is its value at the epoch it reached.
      for (const trial of pruned)
        assert.equal(trial.reward, curveValue(trial.architecture, 3 * 100003 + trials.indexOf(trial), trial.epochsTrained));
      assert.equal(whole.store.getRun(whole.runId)!.trialsDone, 16);
      const resumed = await search(file, 7);
      assert.deepEqual(rows(resumed.store, resumed.runId), trials, `${kind} with ${strategy}: resumed differs`);
    }
  });
}

test('none trains every trial in full', async () => {
  const { store, runId } = await search(searchFile('{ kind: none }', '{ kind: random }'));
  assert.ok(rows(store, runId).every((t) => t.status === 'done' && t.epochsTrained === EPOCHS));
});
