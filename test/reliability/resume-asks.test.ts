// An engine killed between a trial's finish and its checkpoint: resume must not propose that trial's
// architecture again (the strategy's randomness repeating the asks it lost), and must go on as the
// uninterrupted search would (issue 14, item 9).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tinySearchFile } from '../support/tiny.ts';
import { checkDatabase, cli, freshDb, resumeToBudget } from './support.ts';

const WORKER = join(import.meta.dirname, 'kill-worker.ts');
const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'nasbench201.nas.yaml');

/** Runs the kill worker; it must die of its SIGKILL. */
function killedAt(args: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`exit ${code}: ${stderr}`)))),
  );
}

/** The NAS-Bench-201 example with another strategy section. */
function tabularFile(strategy: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'nas-resume-asks-')), 'nb201.nas.yaml');
  const text = readFileSync(EXAMPLE, 'utf8').replace(/^strategy:\n( {2}.*\n)+/m, `strategy: ${strategy}\n`);
  writeFileSync(file, text);
  return file;
}

function architectures(db: string): { idx: number; status: string; architecture: string; reward: number | null }[] {
  const raw = new Database(db, { readonly: true });
  try {
    return raw.prepare('SELECT idx, status, architecture_json AS architecture, reward FROM trials WHERE run_id = 1 ORDER BY idx').all() as {
      idx: number;
      status: string;
      architecture: string;
      reward: number | null;
    }[];
  } finally {
    raw.close();
  }
}

function uninterrupted(file: string, trials: number): ReturnType<typeof architectures> {
  const db = freshDb();
  const search = cli(['search', file, '--db', db, '--trials', String(trials)]);
  assert.equal(search.code, 0, search.stderr);
  return architectures(db);
}

const TRIALS = 12;
for (const [strategy, killAt] of [
  ['{ kind: random }', 0],
  ['{ kind: random }', 5],
  ['{ kind: evolution, population_size: 4, sample_size: 2, mutated_decisions: 1 }', 7],
  ['{ kind: reinforce, controller: { hidden: 8, batch_size: 2 } }', 6],
  ['{ kind: local, initial: 3 }', 6],
  ['{ kind: bayesian, initial: 4 }', 6],
] as const) {
  test(`${/kind: (\w+)/.exec(strategy)![1]}: killed after trial ${killAt} finished, resume goes on as uninterrupted`, async () => {
    const file = tabularFile(strategy);
    const db = freshDb();
    await killedAt(['search', file, db, String(TRIALS), String(killAt)]);
    const before = checkDatabase(db);
    assert.equal(before.trials.length, killAt + 1);
    assert.equal(before.trials.at(-1)!.status, 'done', 'the kill came after the trial was stored');
    resumeToBudget(db);
    // One trial at a time (a table lookup) and nothing in flight at the kill: the very same search.
    assert.deepEqual(architectures(db), uninterrupted(file, TRIALS));
  });
}

test('random search on two trainers, killed after a trial finished with another in flight: the same ones are trained', async () => {
  const db = freshDb();
  const file = tinySearchFile({ trials: 6, strategy: 'random' });
  await killedAt(['search', file, db, '6', '2']);
  assert.ok(
    checkDatabase(db).trials.some((t) => t.status === 'running'),
    'another trial was in training at the kill',
  );
  resumeToBudget(db);
  // Random proposals do not depend on what was told: the interrupted trial's architecture is trained
  // again first, and then the search proposes what it would have without the kill.
  const done = (trials: ReturnType<typeof architectures>) => trials.filter((t) => t.status === 'done').map((t) => t.architecture);
  assert.deepEqual(done(architectures(db)), done(uninterrupted(file, 6)));
});
