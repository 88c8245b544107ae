// The database under concurrent processes, foreign writers, read-only folders and newer schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { createRunFromFile } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { MIGRATIONS } from '../../src/engine/store/migrations.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { tinySearchFile } from '../support/tiny.ts';
import { cli, freshDb } from './support.ts';

const WORKER = join(__dirname, 'store-worker.ts');
const TSX = ['--import', 'tsx'];

function worker(args: string[], prefix: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const [command, ...rest] = [...prefix, process.execPath, ...TSX, WORKER, ...args];
  const child = spawn(command, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

function storeWithRun(db = freshDb()): { store: Store; runId: number } {
  const store = new Store(db);
  return { store, runId: createRunFromFile(store, tinySearchFile(), {}) };
}

test('two processes opening a new database at once both migrate it, once', { timeout: 120_000 }, async () => {
  for (let round = 0; round < 4; round++) {
    const db = freshDb();
    // All at the same instant, once each process has loaded.
    const at = String(Date.now() + 3000);
    const results = await Promise.all(Array.from({ length: 4 }, () => worker(['open', db, at])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const store = new Store(db);
    assert.equal(store.schemaVersion, MIGRATIONS.length);
    store.close();
  }
});

test(
  'two searches writing one database at once wait for each other instead of failing with SQLITE_BUSY',
  { timeout: 120_000 },
  async () => {
    const db = freshDb();
    new Store(db).close();
    const results = await Promise.all(Array.from({ length: 3 }, () => worker(['write', db, '300'])));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const raw = new Database(db, { readonly: true });
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(raw.pragma('foreign_key_check'), []);
    assert.deepEqual(raw.prepare("SELECT COUNT(*) AS n FROM trials WHERE status = 'done' GROUP BY run_id").pluck().all(), [300, 300, 300]);
    raw.close();
  },
);

test('a database from a newer NAS Studio is refused untouched: its journal mode is not switched first', () => {
  const db = freshDb();
  const raw = new Database(db);
  raw.exec('CREATE TABLE future (x)');
  raw.pragma('user_version = 99');
  raw.close();
  assert.throws(() => new Store(db), new RegExp(`${db.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has schema version 99`));
  const after = new Database(db, { readonly: true });
  assert.equal(after.pragma('journal_mode', { simple: true }), 'delete');
  after.close();
  const listed = cli(['runs', '--db', db]);
  assert.equal(listed.code, 1);
  assert.match(listed.stderr, /schema version 99, newer than this NAS Studio knows/);
});

test('SQLite errors name the database they come from', () => {
  const db = freshDb();
  writeFileSync(db, 'this is not a database, but it is long enough to have a header that SQLite reads and rejects.'.repeat(20));
  const listed = cli(['runs', '--db', db]);
  assert.equal(listed.code, 1);
  assert.ok(listed.stderr.includes(`${db}: file is not a database`), listed.stderr);
});

test('a database in a read-only folder can still be listed (read-only, then from a private copy)', (t) => {
  const { store } = storeWithRun();
  const db = store.path;
  store.close();
  const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
  if (spawnSync(nobody[0], [...nobody.slice(1), 'true']).status !== 0) return t.skip('setpriv cannot switch to user nobody here');
  chmodSync(db, 0o444);
  chmodSync(dirname(db), 0o555);
  try {
    const listed = cli(['runs', '--db', db, '--json'], { prefix: nobody });
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(JSON.parse(listed.stdout).length, 1);
    assert.equal(existsSync(`${db}-wal`), false, 'nothing was written beside it');
  } finally {
    chmodSync(dirname(db), 0o755);
  }
});

test('a run whose writer died shows as interrupted in runs and trials; a reused pid does not block resume', () => {
  const { store, runId } = storeWithRun();
  const { config } = store.runConfig(runId);
  const architecture = Array(7).fill(0);
  store.claimRun(runId);
  store.startTrial(runId, 0, architecture, 'k', decodeArchitecture(config.space, architecture));
  // Our parent is alive, but it is not the process that started writing: its start time differs.
  store.db.prepare('UPDATE runs SET writer_pid = ?, writer_started = ? WHERE id = ?').run(process.ppid, '1', runId);
  store.close();
  const runs = JSON.parse(cli(['runs', '--db', store.path, '--json']).stdout);
  assert.equal(runs[0].status, 'interrupted');
  const trials = JSON.parse(cli(['trials', String(runId), '--db', store.path, '--json']).stdout);
  assert.equal(trials[0].status, 'interrupted');
  const reopened = new Store(store.path);
  reopened.claimRun(runId);
  assert.equal(reopened.db.prepare('SELECT writer_pid FROM runs WHERE id = ?').pluck().get(runId), process.pid);
  reopened.close();
});

test('a writer in another pid namespace (a Dev Container) cannot take over a live run; --force can', { timeout: 60_000 }, async (t) => {
  const unshare = ['unshare', '--pid', '--fork', '--mount-proc'];
  if (spawnSync(unshare[0], [...unshare.slice(1), 'true']).status !== 0) return t.skip('unshare --pid is not allowed here');
  const { store, runId } = storeWithRun();
  store.claimRun(runId);
  const refused = await worker(['claim', store.path], unshare);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`run ${runId} is being searched by process ${process.pid}`));
  // And the other way round: this process cannot check a writer in the container's namespace.
  store.db.prepare("UPDATE runs SET writer_pid = 1, writer_pid_namespace = 'pid:[1]' WHERE id = ?").run(runId);
  assert.throws(() => store.claimRun(runId), /in another pid namespace.*--force/);
  store.claimRun(runId, { force: true });
  assert.equal(store.db.prepare('SELECT writer_pid FROM runs WHERE id = ?').pluck().get(runId), process.pid);
  store.close();
});

test('resume takes a run marked done short of its budget', { timeout: 240_000 }, () => {
  const db = freshDb();
  const search = cli(['search', tinySearchFile({ trials: 2 }), '--db', db]);
  assert.equal(search.code, 0, search.stderr);
  const raw = new Database(db);
  raw.prepare("UPDATE runs SET budget_trials = 3, config_json = json_set(config_json, '$.budget.trials', 3) WHERE id = 1").run();
  raw.close();
  const resumed = cli(['resume', '1', '--db', db]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /done, 3\/3 trials/);
});

test('tabular trials are stored with evaluator tabular', () => {
  const store = new Store(':memory:');
  const example = join(__dirname, '..', '..', 'examples', 'nasbench201.nas.yaml');
  const runId = createRunFromFile(store, example, {});
  const { config } = store.runConfig(runId);
  const architecture = [0, 0, 0, 0, 0, 0];
  store.startTrial(runId, 0, architecture, 'k', decodeArchitecture(config.space, architecture));
  assert.equal(store.getTrial(runId, 0)?.evaluator, 'tabular');
  store.close();
});
