// Killing the trainers that retrain the best architecture of a one-shot search (DARTS, ENAS): the
// retrain is retried on a fresh trainer, and the run ends done with its retrained trial done, never
// "done" with its only retrained trial failed (issue 14, item 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabase, childPids, freshDb, startSearch } from './support.ts';

const DATA = 'dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 400 }';
// The retraining is long enough (4 epochs of 400 digits) to be killed in the middle.
const EVALUATION = 'evaluation: { epochs: 4, batch_size: 16, learning_rate: 0.003 }\nruntime: { backend: cpu, seed: 11 }';
const SEARCHES = {
  DARTS: {
    text: `name: darts-retrain\n${DATA}
space: { kind: cell, nodes: 2, operations: [conv3x3, max_pool, identity], cells_per_stage: 1, stages: 2, filters: 4 }
strategy: { kind: darts, epochs: 1, batch_size: 32, alpha_learning_rate: 0.01, retrain: 1 }\n${EVALUATION}\n`,
    retraining: /info: derived cell/,
  },
  ENAS: {
    text: `name: enas-retrain\n${DATA}
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: enas, epochs: 1, batch_size: 32, children_per_epoch: 2, final_samples: 2, controller: { hidden: 8, batch_size: 2 } }
${EVALUATION}\n`,
    retraining: /info: best of the final samples, retrained from scratch/,
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [kind, { text, retraining }] of Object.entries(SEARCHES)) {
  test(`killing the ${kind} retrainers: the retrain is retried on a fresh trainer, and the run ends done with it done`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nas-retrainer-')), 'search.nas.yaml');
    writeFileSync(file, text);
    const db = freshDb();
    const search = startSearch([file, '--db', db]);
    await search.seen(retraining);
    // The trainers start once the supernet is freed; the child goes to the first that is ready.
    let trainers: number[] = [];
    for (let waited = 0; trainers.length === 0 && waited < 30_000; waited += 100) {
      await sleep(100);
      trainers = childPids(search.child.pid!);
    }
    assert.ok(trainers.length > 0, 'the retraining has trainer processes');
    await sleep(2500);
    for (const pid of childPids(search.child.pid!)) process.kill(pid, 'SIGKILL');
    const code = await search.exit;
    const { stdout, stderr } = search.output();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /a trainer process exited \(.*SIGKILL.*\); starting another/);
    assert.match(stdout, /: done/);
    const { run } = checkDatabase(db);
    assert.equal(run.status, 'done');
    const raw = new Database(db, { readonly: true });
    try {
      const retrained = raw
        .prepare("SELECT idx, status, error FROM trials WHERE run_id = 1 AND evaluator = 'train-from-scratch'")
        .all() as { idx: number; status: string; error: string | null }[];
      assert.deepEqual(
        retrained.map((t) => t.status),
        ['done'],
        `one retrained trial, done: ${JSON.stringify(retrained)}`,
      );
    } finally {
      raw.close();
    }
  });
}
