// The host's side of the engine processes, without VS Code: start, query, shutdown, missing Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/engine/store/store.ts';
import { EngineProcess, NodeNotFound, QueryClient, checkBackendsInEngine, runQuickJob } from '../../src/extension/engine-process.ts';
import type { EngineMessage } from '../../src/protocol/engine.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { loadSearchFile } from '../../src/space/parse.ts';
import { tinySearchFile } from '../support/tiny.ts';

const ENGINE = join(__dirname, '..', '..', 'dist', 'engine.js');
const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

test('a missing Node is a clear NodeNotFound that names the setting', async () => {
  await assert.rejects(
    EngineProcess.start(
      '/nonexistent/node',
      ENGINE,
      () => {},
      () => {},
    ),
    (error: Error) => {
      assert.ok(error instanceof NodeNotFound);
      assert.match(error.message, /"\/nonexistent\/node" was not found.*nasStudio\.nodePath/);
      return true;
    },
  );
});

test('queries go through one long-lived engine process, pages of trials included, and it exits on dispose', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'nas-query-')), 'runs.db');
  assert.equal(spawnSync(process.execPath, [CLI, 'search', tinySearchFile({ trials: 5, strategy: 'random' }), '--db', db]).status, 0);
  const started: EngineProcess[] = [];
  const client = new QueryClient(async (onMessage: (message: EngineMessage) => void) => {
    const engine = await EngineProcess.start(process.execPath, ENGINE, onMessage, () => {});
    started.push(engine);
    return engine;
  });
  const runs = await client.query(db, { kind: 'runs' });
  assert.equal(runs.length, 1);
  assert.equal(runs[0].trialsDone, 5);
  const page = await client.query(db, { kind: 'trials', runId: 1, order: 'reward', offset: 1, limit: 2 });
  assert.equal(page.total, 5);
  assert.equal(page.trials.length, 2);
  assert.ok((page.trials[0].reward ?? 0) >= (page.trials[1].reward ?? 0));
  const trial = await client.query(db, { kind: 'trial', runId: 1, index: 3 });
  assert.equal(trial?.epochs.length, 1);
  assert.equal(await client.query(db, { kind: 'trial', runId: 1, index: 99 }), null);
  const dashboard = await client.query(db, { kind: 'dashboard', runId: 1 });
  assert.equal(dashboard?.trials.length, 5);
  assert.deepEqual(dashboard?.decisions.slice(0, 3), ['layer0.filter_height', 'layer0.filter_width', 'layer0.filters']);
  assert.ok(dashboard?.trials.every((t) => t.finishedMs !== null && t.finishedMs >= 0 && t.valAccuracy !== null));
  // The intermediate values alone, as the dashboard asks again while a run goes on: the same as in the dashboard's.
  const intermediate = await client.query(db, { kind: 'intermediate', runId: 1 });
  assert.deepEqual(intermediate, dashboard?.intermediate);
  assert.deepEqual(
    intermediate?.curves.map((c) => c.values.length),
    [1, 1, 1, 1, 1],
  );
  assert.equal(await client.query(db, { kind: 'intermediate', runId: 42 }), null);
  const view = await client.query(db, { kind: 'trial-view', runId: 1, index: 2 });
  assert.equal(view?.trial.index, 2);
  assert.equal(view?.decisions.length, view?.trial.architecture.length);
  assert.equal(view?.log, null, 'a built-in trainer keeps no log');
  const compared = await client.query(db, { kind: 'compare', runIds: [1, 42] });
  assert.deepEqual(
    compared.runs.map((r) => r.run.id),
    [1],
  );
  await assert.rejects(
    client.query(db, { kind: 'trials', runId: 1, order: 'index', offset: 0, limit: 'x' as unknown as number }),
    /datatype mismatch|Error/,
  );
  assert.equal(started.length, 1, 'one process serves every query');
  const pid = started[0].pid!;
  await client.dispose();
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

test("the trial view's query carries the end of a command trial's log, and says how many lines it left out", async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'nas-query-')), 'runs.db');
  const file = tinySearchFile();
  const { text, config } = loadSearchFile(file);
  assert.ok(config);
  const store = new Store(db);
  const runId = store.createRun({ name: 'own script', spaceFile: file, spaceText: text, config });
  const architecture = [1, 0, 1, 1, 0, 1, 1];
  store.startTrial(runId, 0, architecture, 'k', decodeArchitecture(config.space, architecture), 'command');
  const lines = Array.from({ length: 405 }, (_, i) => `line ${i + 1}`);
  const measurements = {
    valAccuracy: 0.75,
    testAccuracy: null,
    params: null,
    flops: null,
    seconds: 4,
    curve: [],
    log: `${lines.join('\n')}\n`,
  };
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.75, measurements, error: null });
  store.close();
  const client = new QueryClient((onMessage) => EngineProcess.start(process.execPath, ENGINE, onMessage, () => {}));
  const view = await client.query(db, { kind: 'trial-view', runId, index: 0 });
  assert.deepEqual(view?.log, { text: lines.slice(5).join('\n'), earlierLines: 5 });
  await client.dispose();
});

test('a search process killed mid-run is marked interrupted through a query', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'nas-query-')), 'runs.db');
  let runId: number | undefined;
  let resolveStarted!: () => void;
  const trialFinished = new Promise<void>((resolve) => (resolveStarted = resolve));
  const search = await EngineProcess.start(
    process.execPath,
    ENGINE,
    (message) => {
      if (message.type === 'event' && message.event.type === 'run-started') runId = message.event.run.id;
      if (message.type === 'event' && message.event.type === 'trial-finished') resolveStarted();
    },
    () => {},
  );
  search.send({ type: 'search', file: tinySearchFile({ trials: 50 }), db, overrides: {} });
  await trialFinished;
  process.kill(search.pid!, 'SIGKILL');
  const exit = await search.exited;
  assert.equal(exit.signal, 'SIGKILL');
  const client = new QueryClient((onMessage) => EngineProcess.start(process.execPath, ENGINE, onMessage, () => {}));
  await client.query(db, { kind: 'mark-interrupted', runId: runId!, reason: 'the engine process died: SIGKILL' });
  const [run] = await client.query(db, { kind: 'runs' });
  assert.equal(run.status, 'interrupted');
  assert.match(run.error ?? '', /SIGKILL/);
  const { trials } = await client.query(db, { kind: 'trials', runId: run.id, order: 'index', offset: 0, limit: -1 });
  assert.ok(trials.every((t) => t.status !== 'running'));
  await client.dispose();
});

test('a backend check runs in an engine process of its own, answers every backend in auto order, and that process exits', async () => {
  const started: EngineProcess[] = [];
  const reports = await checkBackendsInEngine(async (onMessage) => {
    const engine = await EngineProcess.start(process.execPath, ENGINE, onMessage, () => {});
    started.push(engine);
    return engine;
  });
  assert.deepEqual(
    reports.map((report) => report.name),
    ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'],
  );
  assert.equal(reports.filter((report) => report.pickedByAuto).length, 1);
  assert.equal(started.length, 1);
  assert.equal(started[0].running, false, 'the check process has exited');
});

test('an export or a deletion runs in an engine process of its own; retrain-plan proposes the final recipe', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-job-'));
  const db = join(dir, 'runs.db');
  assert.equal(spawnSync(process.execPath, [CLI, 'search', tinySearchFile({ trials: 2, strategy: 'random' }), '--db', db]).status, 0);
  const start = (onMessage: (message: EngineMessage) => void) => EngineProcess.start(process.execPath, ENGINE, onMessage, () => {});
  const svg = join(dir, 'trial.svg');
  assert.deepEqual(await runQuickJob(start, { type: 'export', db, runId: 1, trial: 1, format: 'svg', out: svg, force: false }), {
    type: 'exported',
    files: [svg],
  });
  const missing = await runQuickJob(start, {
    type: 'export',
    db,
    runId: 1,
    trial: 7,
    format: 'json',
    out: join(dir, 'x.json'),
    force: false,
  });
  assert.deepEqual(missing, { type: 'failed', message: 'run 1 has no trial 7' });

  const client = new QueryClient(start);
  try {
    // The tiny search trains 1 epoch; the final recipe twice as many.
    assert.deepEqual(await client.query(db, { kind: 'retrain-plan', runId: 1, index: 0 }), { epochs: 2 });
    await assert.rejects(client.query(db, { kind: 'retrain-plan', runId: 1, index: 5 }), /run 1 has no trial 5/);
  } finally {
    await client.dispose();
  }

  assert.deepEqual(await runQuickJob(start, { type: 'delete-run', db, runId: 1 }), { type: 'deleted', runId: 1 });
  const store = new Store(db, { readonly: true });
  try {
    assert.deepEqual(store.listRuns(), []);
  } finally {
    store.close();
  }
});
