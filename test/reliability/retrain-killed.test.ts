// A `nas-studio retrain` holds its run while it trains: a second retraining and a deletion are refused with
// the process that holds it. SIGKILLed mid-training (its group, trainers included), it leaves its trial marked
// running in the file, yet every reader shows that trial interrupted and the run as it was (done); the next
// retraining records the trial interrupted for good and trains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { tinySearchFile } from '../support/tiny.ts';
import { CLI, checkDatabase, cli, freshDb } from './support.ts';

interface StoredTrial {
  idx: number;
  status: string;
  retrained_from: number | null;
}

function storedTrials(db: string): StoredTrial[] {
  const raw = new Database(db, { readonly: true });
  try {
    return raw.prepare('SELECT idx, status, retrained_from FROM trials WHERE run_id = 1 ORDER BY idx').all() as StoredTrial[];
  } finally {
    raw.close();
  }
}

test('a retraining SIGKILLed mid-training: others refused while it lives, its trial interrupted after; the next one trains', async () => {
  const db = freshDb();
  const search = cli(['search', tinySearchFile({ trials: 2, strategy: 'random' }), '--db', db]);
  assert.equal(search.code, 0, search.stderr);

  const retraining = spawn(process.execPath, [CLI, 'retrain', '1', '0', '--epochs', '500', '--db', db], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  retraining.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => retraining.on('exit', resolve));
  try {
    // Epochs reach the file when the trial ends: its first printed epoch says it trains.
    for (let waited = 0; !/^epoch 1: /m.test(stderr); waited += 100) {
      assert.ok(waited < 120_000, `the retraining did not train an epoch: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const holder = new RegExp(`run 1 is being retrained by process ${retraining.pid}; retrain once it has finished`);
    const second = cli(['retrain', '1', '1', '--epochs', '1', '--db', db]);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, holder);
    const deletion = cli(['delete', '1', '--db', db]);
    assert.equal(deletion.code, 1, deletion.stderr);
    assert.match(deletion.stderr, /run 1 is being written by a live process \(a search or a retraining\)/);
    assert.equal(JSON.parse(cli(['runs', '--json', '--db', db]).stdout)[0].status, 'done', 'the run stays done while it is retrained');
  } finally {
    process.kill(-retraining.pid!, 'SIGKILL');
    await exited;
  }

  const killed = storedTrials(db).find((trial) => trial.retrained_from === 0)!;
  assert.equal(killed.status, 'running', 'nothing was left to record it');
  const shown = JSON.parse(cli(['trials', '1', '--json', '--db', db]).stdout) as { index: number; status: string }[];
  assert.equal(shown.find((trial) => trial.index === killed.idx)?.status, 'interrupted', 'its dead writer shows it interrupted');
  assert.match(cli(['show', '1', String(killed.idx), '--db', db]).stdout, new RegExp(`trial ${killed.idx}: interrupted`));
  assert.equal(JSON.parse(cli(['runs', '--json', '--db', db]).stdout)[0].status, 'done');

  const next = cli(['retrain', '1', '1', '--epochs', '1', '--db', db]);
  assert.equal(next.code, 0, next.stderr);
  const after = storedTrials(db);
  assert.equal(after.find((trial) => trial.idx === killed.idx)?.status, 'interrupted', 'recorded interrupted in the file');
  assert.equal(after.at(-1)?.retrained_from, 1);
  assert.equal(after.at(-1)?.status, 'done');
  const { run } = checkDatabase(db);
  assert.equal(run.status, 'done');
  assert.equal(new Database(db, { readonly: true }).prepare('SELECT writer_pid FROM runs WHERE id = 1').pluck().get(), null, 'released');
});
