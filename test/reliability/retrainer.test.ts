// Killing the trainers that retrain the best architecture of a one-shot search (DARTS, ENAS): the
// retrain is retried on a fresh trainer, and the run ends done with its retrained trial done, never
// "done" with its only retrained trial failed (issue 14, item 1).
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabase, freshDb } from './support.ts';

const DATA = 'dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 200 }';
// Two epochs: the trainers are killed after the first.
const EVALUATION = 'evaluation: { epochs: 2, batch_size: 16, learning_rate: 0.003 }\nruntime: { backend: cpu, seed: 11 }';
const SEARCHES = {
  DARTS: {
    text: `name: darts-retrain\n${DATA}
space: { kind: cell, nodes: 2, operations: [conv3x3, max_pool, identity], cells_per_stage: 1, stages: 2, filters: 4 }
strategy: { kind: darts, epochs: 1, batch_size: 32, alpha_learning_rate: 0.01, retrain: 1 }\n${EVALUATION}\n`,
  },
  ENAS: {
    text: `name: enas-retrain\n${DATA}
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: enas, epochs: 1, batch_size: 32, children_per_epoch: 2, final_samples: 2, controller: { hidden: 8, batch_size: 2 } }
${EVALUATION}\n`,
  },
};

const WORKER = join(import.meta.dirname, 'kill-worker.ts');

/** Searches FILE in the kill worker, which kills its trainers at the retraining's first epoch; its exit code and log. */
function searchKillingRetrainers(file: string, db: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, 'retrain', file, db], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

for (const [kind, { text }] of Object.entries(SEARCHES)) {
  test(`killing the ${kind} retrainers: the retrain is retried on a fresh trainer, and the run ends done with it done`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'nas-retrainer-')), 'search.nas.yaml');
    writeFileSync(file, text);
    const db = freshDb();
    const { code, stderr } = await searchKillingRetrainers(file, db);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /killing the trainers \d+.* after epoch 1 of trial \d+/);
    assert.match(stderr, /a trainer process exited \(.*SIGKILL.*\); starting another/);
    assert.match(stderr, /run 1 done/);
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
