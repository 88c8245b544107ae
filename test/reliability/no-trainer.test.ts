// When no trainer process can be started at all, the search stops: the run ends interrupted short of
// its budget, saying why, instead of failing every trial left (issue 14, item 1). A real fault makes
// trainers impossible to start: the data set's file disappears (an unmounted disk, a deleted folder)
// after the first trainers loaded it, and every trainer is then killed, so each replacement's setup fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkDatabase, childPids, freshDb, resumeToBudget, startSearch } from './support.ts';

const TRIALS = 12;
const IMAGES = 300;

/** A CSV data set of 8x8 grey images: each row its 64 pixels, then its label. */
function writeImages(path: string): void {
  const rows = Array.from({ length: IMAGES }, (_, row) => {
    const label = row % 10;
    const pixels = Array.from({ length: 64 }, (_, p) => ((p * 7 + row * 13 + label * 29) % 256).toString());
    return [...pixels, label].join(',');
  });
  writeFileSync(path, `${rows.join('\n')}\n`);
}

function searchFile(dir: string): string {
  const file = join(dir, 'csv.nas.yaml');
  writeFileSync(
    file,
    `name: no-trainer
dataset: { kind: csv, path: images.csv, image_shape: [8, 8, 1], validation_split: 0.2, test_split: 0.1, seed: 1 }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: random }
evaluation: { epochs: 2, batch_size: 32, learning_rate: 0.003 }
budget: { trials: ${TRIALS} }
runtime: { backend: cpu, seed: 5 }
`,
  );
  return file;
}

test(
  'with no trainer left and none startable, the run ends interrupted short of its budget, and resume completes it',
  { timeout: 300_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nas-no-trainer-'));
    const images = join(dir, 'images.csv');
    writeImages(images);
    const db = freshDb();
    const search = startSearch([searchFile(dir), '--db', db]);
    await search.seen(new RegExp(`trial 1/${TRIALS}`));
    renameSync(images, `${images}.away`);
    const trainers = childPids(search.child.pid!);
    assert.ok(trainers.length > 0, 'the search has trainer processes');
    for (const pid of trainers) process.kill(pid, 'SIGKILL');
    const code = await search.exit;
    const { stderr } = search.output();
    assert.equal(code, 1, 'an interrupted search is no success');
    assert.match(stderr, /could not start a trainer process to replace one that died: .*images\.csv/);

    const { run, trials } = checkDatabase(db);
    assert.equal(run.status, 'interrupted');
    const finished = trials.filter((t) => t.status === 'done' || t.status === 'failed');
    assert.ok(
      finished.length >= 1 && finished.length < TRIALS,
      `short of the budget: ${trials.map((t) => `${t.idx}:${t.status}`).join(' ')}`,
    );
    assert.ok(
      trials.every((t) => t.status !== 'failed'),
      `no trial is failed for want of a trainer: ${trials.map((t) => `${t.idx}:${t.status}`).join(' ')}`,
    );
    const raw = new Database(db, { readonly: true });
    try {
      const { error } = raw.prepare('SELECT error FROM runs WHERE id = 1').get() as { error: string };
      const why = 'no trainer process is left, and none could be started';
      assert.equal(error, `${why}; interrupted after ${finished.length} of ${TRIALS} trials; resume continues from here`);
      const unmeasured = raw.prepare("SELECT error FROM trials WHERE run_id = 1 AND status = 'interrupted'").pluck().all() as string[];
      assert.ok(unmeasured.length > 0, 'the trials in training when the trainers died are interrupted');
      assert.ok(unmeasured.every((reason) => reason === why));
    } finally {
      raw.close();
    }

    // Once trainers can start again, resume takes the run to its budget.
    renameSync(`${images}.away`, images);
    resumeToBudget(db);
  },
);
