// Faults during a CLI search of digits: dead trainers and diverging children. The search reaches
// its budget every time, and the database stays sound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinySearchFile, tinySearchText } from '../support/tiny.ts';
import { checkDatabase, childPids, cli, freshDb, startSearch } from './support.ts';

const TRIALS = 6;

async function killTrainersDuringSearch(pick: (pids: number[]) => number[]): Promise<void> {
  const db = freshDb();
  const search = startSearch([tinySearchFile({ trials: TRIALS }), '--db', db]);
  await search.seen(/trial 1\/6/);
  const trainers = pick(childPids(search.child.pid!));
  assert.ok(trainers.length > 0, 'the search has trainer processes');
  for (const pid of trainers) process.kill(pid, 'SIGKILL');
  const code = await search.exit;
  const { stdout, stderr } = search.output();
  assert.equal(code, 0, stderr);
  assert.match(stdout, /: done, 6\/6 trials/);
  const { run, trials } = checkDatabase(db);
  assert.equal(run.status, 'done');
  assert.equal(trials.length, TRIALS, 'each index once');
  assert.ok(
    trials.every((t) => t.status === 'done'),
    `a retried child is no failure: ${trials.map((t) => `${t.idx}:${t.status}`).join(' ')}`,
  );
}

test('killing one trainer mid-search: it is replaced and the search reaches its budget', { timeout: 240_000 }, async () => {
  await killTrainersDuringSearch((pids) => pids.slice(0, 1));
});

test('killing every trainer mid-search: they are restarted and the search reaches its budget', { timeout: 240_000 }, async () => {
  await killTrainersDuringSearch((pids) => pids);
});

test('a NaN loss fails its trial with the epoch and batch, and the search goes on to its budget', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-nan-'));
  const file = join(dir, 'nan.nas.yaml');
  writeFileSync(file, tinySearchText({ trials: 4 }).replace('learning_rate: 0.003', 'learning_rate: 1e30'));
  const db = freshDb();
  const search = cli(['search', file, '--db', db]);
  assert.equal(search.code, 0, search.stderr);
  const { run, trials } = checkDatabase(db);
  assert.equal(run.status, 'done');
  assert.equal(trials.length, 4);
  const shown = JSON.parse(cli(['trials', '1', '--db', db, '--json']).stdout) as { status: string; error: string | null }[];
  // Some children saturate to a finite loss instead; every one that diverges says where. With batch
  // norm a child may keep a finite training loss while its running statistics overflow: then its
  // validation loss is the one that becomes NaN.
  const failed = shown.filter((trial) => trial.status === 'failed');
  assert.ok(failed.length > 0, 'a learning rate of 1e30 makes children diverge');
  for (const trial of failed)
    assert.match(trial.error ?? '', /^(training loss became NaN at epoch 1, batch \d+|validation loss became NaN at epoch 1)$/);
});
