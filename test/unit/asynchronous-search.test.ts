// runtime.asynchronous: an adaptive strategy learns from results in the order they arrive (as NAS-RL's
// controller did with 800 GPUs), asks again as soon as an evaluation is free, and a stop and resume
// tells every trial exactly once: none twice (those told out of order are in the checkpoint), none lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../../src/protocol/engine.ts';
import type { Evaluator, StartEvaluator } from '../../src/engine/evaluators/evaluator.ts';
import { EvaluationFailed } from '../../src/engine/evaluators/evaluator.ts';
import { TabularEvaluator } from '../../src/engine/evaluators/tabular.ts';
import { shippedNasBench201Table } from '../../src/engine/data/nas-bench-201.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const newDir = freshDirs('nas-async-');
const BUDGET = 24;
// One controller update per tell: the number of updates counts the tells.
const BATCH = 1;

function searchFile(asynchronous: boolean): string {
  const file = join(newDir(), 'async.nas.yaml');
  writeFileSync(
    file,
    `name: asynchronous
space: { kind: nasbench201 }
evaluation: { kind: tabular, dataset: cifar10 }
strategy: { kind: reinforce, controller: { hidden: 8, batch_size: ${BATCH} } }
budget: { trials: ${BUDGET} }
runtime: { seed: 3, asynchronous: ${asynchronous} }
`,
  );
  return file;
}

/** Table lookups four at a time, every fourth one slow: results arrive out of index order. Cancels reject what is in flight. */
function outOfOrderEvaluator(finished: number[]): StartEvaluator {
  return async () => {
    const table = new TabularEvaluator(shippedNasBench201Table(), 'cifar10');
    const cancels = new Set<() => void>();
    const evaluator: Evaluator = {
      backend: 'cpu',
      backendDetail: 'out-of-order test evaluator',
      size: 4,
      async evaluate(request) {
        await new Promise<void>((resolve, reject) => {
          const cancel = () => reject(new EvaluationFailed('cancelled', true));
          cancels.add(cancel);
          setTimeout(() => (cancels.delete(cancel), resolve()), request.index! % 4 === 0 ? 40 : 5);
        });
        finished.push(request.index!);
        return table.evaluate(request);
      },
      cancelAll: () => [...cancels].forEach((cancel) => cancel()),
      close: async () => {},
    };
    return evaluator;
  };
}

test('an asynchronous search tells results as they arrive, says it is not reproducible, and learns from every trial once', async () => {
  const store = new Store(':memory:');
  try {
    const finished: number[] = [];
    const runId = createRunFromFile(store, searchFile(true), {});
    const status = await runSearch(store, runId, { onEvent: () => {}, startEvaluator: outOfOrderEvaluator(finished) });
    assert.equal(status, 'done');
    assert.notDeepEqual(
      finished,
      [...finished].sort((a, b) => a - b),
      'results arrived out of index order',
    );
    assert.equal(store.controllerSteps(runId).length, BUDGET / BATCH, 'one controller update per batch: no trial told twice');
    assert.match(
      store
        .runNotes(runId)
        .map((note) => note.message)
        .join('\n'),
      /not reproducible from its seed/,
    );
    const checkpoint = store.latestCheckpoint(runId)!;
    assert.equal(checkpoint.toldThrough, BUDGET - 1);
    assert.equal(checkpoint.toldBeyond, undefined);
  } finally {
    store.close();
  }
});

test('an asynchronous search whose engine died with an early trial in flight resumes telling every trial exactly once', async () => {
  const dir = newDir();
  const live = new Store(join(dir, 'live.db'));
  const crashed = join(dir, 'crashed.db');
  try {
    const runId = createRunFromFile(live, searchFile(true), {});
    let snapshot: { toldThrough: number; toldBeyond?: number[] } | undefined;
    // The database as a killed engine would leave it: trial 0 (slow) still in flight, later ones told out of order.
    const onEvent = (event: EngineEvent) => {
      if (snapshot || event.type !== 'trial-finished' || event.trial.index !== 3) return;
      snapshot = live.latestCheckpoint(runId);
      live.db.exec(`VACUUM INTO '${crashed}'`);
    };
    await runSearch(live, runId, { onEvent, startEvaluator: outOfOrderEvaluator([]) });
    assert.equal(snapshot?.toldThrough, -1, 'trial 0 had not been told');
    assert.ok(snapshot?.toldBeyond?.length, 'later trials had been told out of order');
  } finally {
    live.close();
  }
  const store = new Store(crashed);
  try {
    store.db.prepare('UPDATE runs SET writer_pid = NULL').run();
    assert.equal(await runSearch(store, 1, { onEvent: () => {}, startEvaluator: outOfOrderEvaluator([]) }), 'done');
    const done = store.listTrials(1).filter((trial) => trial.status === 'done').length;
    assert.equal(done, BUDGET);
    assert.equal(store.controllerSteps(1).length, BUDGET, 'every measured trial told once');
  } finally {
    store.close();
  }
});

test('without runtime.asynchronous the same search tells in index order and is repeated by its seed', async () => {
  const architectures = async () => {
    const store = new Store(':memory:');
    try {
      const runId = createRunFromFile(store, searchFile(false), {});
      await runSearch(store, runId, { onEvent: () => {}, startEvaluator: outOfOrderEvaluator([]) });
      assert.equal(store.runNotes(runId).filter((note) => /not reproducible/.test(note.message)).length, 0);
      return store.listTrials(runId).map((trial) => trial.key);
    } finally {
      store.close();
    }
  };
  assert.deepEqual(await architectures(), await architectures());
});
