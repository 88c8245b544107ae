// Faults of one trial stay that trial's: a result the store refuses fails the trial, not the run, and
// table lookups are recorded as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Evaluator } from '../../src/engine/evaluators/evaluator.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';

const examples = join(import.meta.dirname, '..', '..', 'examples');

function tempStore(): Store {
  return new Store(join(mkdtempSync(join(tmpdir(), 'nas-trial-faults-')), 'runs.db'));
}

test('a result the store refuses (a NaN in the curve) fails that trial, and the search reaches its budget', async () => {
  const store = tempStore();
  try {
    const runId = createRunFromFile(store, join(examples, 'digits-macro.nas.yaml'), { trials: 4 });
    let evaluated = 0;
    const evaluator: Evaluator = {
      backend: 'cpu',
      backendDetail: 'a stand-in that measures instantly',
      size: 1,
      async evaluate() {
        evaluated += 1;
        const valLoss = evaluated === 2 ? Number.NaN : 0.5;
        const curve = [{ epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, valLoss, valAccuracy: 0.8, seconds: 0.01 }];
        return { valAccuracy: 0.8, testAccuracy: 0.8, params: 10, flops: 10, seconds: 0.01, curve };
      },
      cancelAll() {},
      async close() {},
    };
    const status = await runSearch(store, runId, { onEvent: () => {}, startEvaluator: async () => evaluator });
    assert.equal(status, 'done');
    const trials = store.listTrials(runId);
    assert.deepEqual(trials.map((t) => t.status).sort(), ['done', 'done', 'done', 'failed']);
    const failed = trials.find((t) => t.status === 'failed')!;
    assert.match(failed.error ?? '', /could not be recorded/);
    assert.equal(store.getRun(runId)!.trialsDone, 4);
  } finally {
    store.close();
  }
});

test('table lookups are recorded with evaluator tabular', async () => {
  const store = tempStore();
  try {
    const runId = createRunFromFile(store, join(examples, 'nasbench201.nas.yaml'), { trials: 5 });
    assert.equal(await runSearch(store, runId, { onEvent: () => {} }), 'done');
    assert.deepEqual(new Set(store.listTrials(runId).map((t) => t.evaluator)), new Set(['tabular']));
  } finally {
    store.close();
  }
});
