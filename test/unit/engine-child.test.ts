// The engine child process the extension will start: typed commands in, typed events out, over IPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineCommand, EngineEvent, EngineMessage } from '../../src/protocol/engine.ts';
import { Store } from '../../src/engine/store/store.ts';
import { tinySearchFile } from '../support/tiny.ts';

const ENGINE = join(__dirname, '..', '..', 'dist', 'engine.js');

function runEngine(
  command: EngineCommand,
  onEvent: (event: EngineEvent, send: (c: EngineCommand) => void) => void = () => {},
  afterCommand: (send: (c: EngineCommand) => void) => void = () => {},
) {
  const child = fork(ENGINE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const events: EngineEvent[] = [];
  const send = (c: EngineCommand) => child.send(c);
  return new Promise<{ events: EngineEvent[]; final: EngineMessage | undefined; code: number | null }>((resolve) => {
    let final: EngineMessage | undefined;
    child.on('message', (message: EngineMessage) => {
      if (message.type === 'event') {
        events.push(message.event);
        onEvent(message.event, send);
      } else {
        final = message;
      }
    });
    child.on('exit', (code) => resolve({ events, final, code }));
    send(command);
    afterCommand(send);
  });
}

test('a search streams run, trial, epoch and controller events in order, then done', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'nas-engine-')), 'runs.db');
  const { events, final, code } = await runEngine({ type: 'search', file: tinySearchFile({ trials: 4 }), db, overrides: {} });
  assert.equal(code, 0);
  assert.deepEqual(final, { type: 'done', runId: 1, status: 'done' });
  const types = events.map((e) => e.type).filter((t) => t !== 'log');
  assert.equal(types[0], 'run-started');
  assert.equal(types.at(-1), 'run-finished');
  assert.equal(types.filter((t) => t === 'trial-started').length, 4);
  assert.equal(types.filter((t) => t === 'trial-finished').length, 4);
  assert.equal(types.filter((t) => t === 'epoch').length, 4);
  // batch_size 2: one controller update per two trials.
  const steps = events.flatMap((e) => (e.type === 'controller-step' ? [e.step] : []));
  assert.deepEqual(
    steps.map((s) => s.step),
    [1, 2],
  );
  assert.ok(steps.every((s) => s.probabilities.length === 7 && Number.isFinite(s.loss) && s.entropy > 0));
  const started = events.find((e) => e.type === 'run-started');
  assert.ok(started?.type === 'run-started' && started.backend === 'cpu' && /CPU backend/.test(started.backendDetail));
  for (const e of events) {
    if (e.type === 'trial-finished') {
      const epochIndex = events.findIndex((x) => x.type === 'epoch' && x.trial === e.trial.index);
      assert.ok(epochIndex >= 0 && epochIndex < events.indexOf(e), 'a trial ends after its epochs');
    }
  }
});

test('an invalid file is refused with its problems; stop marks the run stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-engine-'));
  const refused = await runEngine({ type: 'search', file: join(dir, 'missing.nas.yaml'), db: join(dir, 'runs.db'), overrides: {} });
  assert.equal(refused.final?.type, 'failed');
  assert.ok(refused.final?.type === 'failed' && refused.final.problems?.[0].includes('missing.nas.yaml:1:1'));

  let stopSent = false;
  const stopped = await runEngine(
    { type: 'search', file: tinySearchFile({ trials: 50 }), db: join(dir, 'runs.db'), overrides: {} },
    (event, send) => {
      if (event.type === 'trial-finished' && !stopSent) {
        stopSent = true;
        send({ type: 'stop' });
      }
    },
  );
  assert.deepEqual(stopped.final, { type: 'done', runId: 1, status: 'stopped' });
  const finished = stopped.events.find((e) => e.type === 'run-finished');
  assert.ok(finished?.type === 'run-finished' && finished.run.status === 'stopped' && finished.run.trialsDone < 50);
});

test('the same seed proposes the same architectures', async () => {
  const architectures = async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'nas-engine-')), 'runs.db');
    const { events } = await runEngine({ type: 'search', file: tinySearchFile({ trials: 6 }), db, overrides: { seed: 11 } });
    return events.flatMap((e) => (e.type === 'trial-started' ? [e.architecture] : []));
  };
  const first = await architectures();
  assert.equal(first.length, 6);
  assert.deepEqual(await architectures(), first);
});

test('when its front end goes away (window closed), the engine stops the run cleanly and leaves no process behind', async () => {
  const db = join(mkdtempSync(join(tmpdir(), 'nas-engine-')), 'runs.db');
  const child = fork(ENGINE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let trainers: number[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('message', (message: EngineMessage) => {
    if (message.type === 'event' && message.event.type === 'trial-finished' && trainers.length === 0) {
      trainers = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .map(Number);
      child.disconnect();
    }
  });
  child.send({ type: 'search', file: tinySearchFile({ trials: 50 }), db, overrides: {} } satisfies EngineCommand);
  assert.equal(await exited, 0);
  assert.ok(trainers.length >= 1, 'the engine had trainer processes');
  for (const pid of [child.pid!, ...trainers]) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} is gone`);
  const store = new Store(db);
  assert.equal(store.getRun(1)?.status, 'stopped');
  assert.ok(store.listTrials(1).every((t) => t.status !== 'running'));
  store.close();
});

test('the engine answers a controller-insight query, and says why for a run without a controller', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-engine-'));
  const db = join(dir, 'runs.db');
  await runEngine({ type: 'search', file: tinySearchFile({ trials: 4 }), db, overrides: {} });
  await runEngine({ type: 'search', file: tinySearchFile({ trials: 2, strategy: 'random' }), db, overrides: {} });
  const child = fork(ENGINE, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const answers = new Map<number, EngineMessage>();
  const answered = new Promise<void>((resolve) =>
    child.on('message', (message: EngineMessage) => {
      if (message.type === 'query-result' || message.type === 'query-failed') answers.set(message.id, message);
      if (answers.size === 3) resolve();
    }),
  );
  child.send({ type: 'query', id: 1, db, query: { kind: 'controller-insight', runId: 1 } } satisfies EngineCommand);
  child.send({ type: 'query', id: 2, db, query: { kind: 'controller-insight', runId: 2 } } satisfies EngineCommand);
  child.send({ type: 'query', id: 3, db, query: { kind: 'runs' } } satisfies EngineCommand);
  await answered;
  child.disconnect();
  const insight = answers.get(1);
  assert.ok(insight?.type === 'query-result' && insight.kind === 'controller-insight');
  assert.equal(insight.result.spearman.unsupervised?.pairs, 4950);
  assert.equal(insight.result.hiddenStates.length, 100);
  const refused = answers.get(2);
  assert.ok(refused?.type === 'query-failed' && /used the random strategy/.test(refused.message));
  assert.equal(answers.get(3)?.type, 'query-result');
});

test('retrain streams its trial, stop cancels one, and export and delete-run answer with their outcome', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-engine-'));
  const db = join(dir, 'runs.db');
  const searched = await runEngine({ type: 'search', file: tinySearchFile({ trials: 2, strategy: 'random', dir }), db, overrides: {} });
  assert.deepEqual(searched.final, { type: 'done', runId: 1, status: 'done' });

  const retrained = await runEngine({ type: 'retrain', db, runId: 1, trial: 0, epochs: 2 });
  assert.equal(retrained.code, 0);
  assert.ok(retrained.final?.type === 'retrained', JSON.stringify(retrained.final));
  const { trial } = retrained.final;
  assert.equal(trial.index, 2);
  assert.equal(trial.retrainedFrom, 0);
  assert.equal(trial.status, 'done');
  assert.equal(trial.reward, null);
  assert.ok(typeof trial.metrics?.testAccuracy === 'number');
  assert.ok(trial.weightsPath !== null);
  const types = retrained.events.map((e) => e.type).filter((t) => t !== 'log');
  assert.deepEqual(types, ['trial-started', 'epoch', 'epoch', 'trial-finished']);

  let stopSent = false;
  const stopped = await runEngine({ type: 'retrain', db, runId: 1, trial: 1, epochs: 50 }, (event, send) => {
    if (event.type === 'epoch' && !stopSent) {
      stopSent = true;
      send({ type: 'stop' });
    }
  });
  assert.ok(stopped.final?.type === 'retrained' && stopped.final.trial.status === 'interrupted', JSON.stringify(stopped.final));

  // A stop that comes while the trainer starts: nothing is trained or recorded, and the engine says so.
  const early = await runEngine({ type: 'retrain', db, runId: 1, trial: 1, epochs: 50 }, undefined, (send) => send({ type: 'stop' }));
  assert.ok(early.final?.type === 'failed' && /stopped before its training began/.test(early.final.message), JSON.stringify(early.final));
  assert.equal(early.events.filter((e) => e.type === 'trial-started').length, 0);

  const refused = await runEngine({ type: 'retrain', db, runId: 1, trial: 2 });
  assert.ok(refused.final?.type === 'failed' && /itself a retraining \(of trial 0\)/.test(refused.final.message));

  const out = join(dir, 'model');
  const exported = await runEngine({ type: 'export', db, runId: 1, trial: 2, format: 'tfjs', out, force: false });
  assert.deepEqual(exported.final, { type: 'exported', files: ['model.json', 'weights.bin'] });
  assert.ok(existsSync(join(out, 'model.json')));
  const again = await runEngine({ type: 'export', db, runId: 1, trial: 2, format: 'tfjs', out, force: false });
  assert.ok(again.final?.type === 'failed' && /is not empty/.test(again.final.message));
  const noWeights = await runEngine({ type: 'export', db, runId: 1, trial: 1, format: 'tfjs', out: join(dir, 'none'), force: false });
  assert.ok(noWeights.final?.type === 'failed' && /kept no weights/.test(noWeights.final.message));
  const json = await runEngine({ type: 'export', db, runId: 1, trial: 0, format: 'json', out: join(dir, 'trial.json'), force: false });
  assert.deepEqual(json.final, { type: 'exported', files: [join(dir, 'trial.json')] });
  assert.equal(JSON.parse(readFileSync(join(dir, 'trial.json'), 'utf8')).trial, 0);

  const deleted = await runEngine({ type: 'delete-run', db, runId: 1 });
  assert.deepEqual(deleted.final, { type: 'deleted', runId: 1 });
  const store = new Store(db, { readonly: true });
  try {
    assert.deepEqual(store.listRuns(), []);
  } finally {
    store.close();
  }
});
