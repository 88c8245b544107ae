// Trials on remote workers through a real redis-server (started here, on a free loopback port): a search
// with three `nas-studio worker` processes survives a worker killed mid-trial, the engine killed and
// resumed, and Redis restarted; a job a worker cannot run goes to another, and fails with the worker's
// reason where none can. Each time: every trial index exactly once, the budget done, the database sound.
//
// The trials are the user's own command (a Node script that sleeps through its epochs and notes each
// start and end in a file), so that what ran where, and how often, is seen from outside the engine.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { freshDirs } from '../support/temp-dirs.ts';
import { RedisServer, redisMissing, selfSignedCertificate } from '../support/redis.ts';
import { CLI, checkDatabase, cli, startSearch } from './support.ts';

const HELPER = join(__dirname, '..', '..', 'helpers', 'nas-studio.mjs');
const newDir = freshDirs('nas-queue-');
const missing = redisMissing();
let redis: RedisServer | undefined;
/** Worker and search processes, killed (their whole groups) when each test ends. */
const workers: ChildProcess[] = [];

before(async () => {
  if (!missing) redis = await RedisServer.start(newDir());
});
// A test that fails leaves no worker behind to take the next test's jobs (and run them in its own folder).
afterEach(() => stopWorkers());
after(async () => {
  await redis?.stop();
});

/** The search's folder: a command trial that sleeps `epochMs` per epoch, and notes "start i" and "end i" in trained.log. */
function searchFolder(options: {
  trials: number;
  inFlight: number;
  epochs?: number;
  epochMs?: number;
  name: string;
  scheduler?: string;
}): string {
  const dir = newDir();
  writeFileSync(
    join(dir, 'slow-trial.mjs'),
    `import { appendFileSync } from 'node:fs';
import { trial as nasStudioTrial } from ${JSON.stringify(HELPER)};
const trial = nasStudioTrial();
const note = (what) => appendFileSync(${JSON.stringify(join(dir, 'trained.log'))}, what + ' ' + trial.index + '\\n');
note('start');
let accuracy = 0;
for (let epoch = 1; epoch <= trial.epochs; epoch++) {
  await new Promise((resolve) => setTimeout(resolve, ${options.epochMs ?? 400}));
  accuracy = 0.5 + 0.1 * epoch + 0.001 * trial.architecture.reduce((sum, d) => sum + d, 0);
  if (trial.report({ epoch, val_accuracy: accuracy })) break;
}
note('end');
trial.finish({ val_accuracy: accuracy });
`,
  );
  writeFileSync(
    join(dir, 'queue.nas.yaml'),
    `name: ${options.name}
dataset: { kind: digits }
space: { kind: macro, layers: 3 }
strategy: { kind: random }
evaluation: { kind: command, command: [node, slow-trial.mjs], epochs: ${options.epochs ?? 3} }
budget: { trials: ${options.trials} }
runtime: { seed: 5, in_flight: ${options.inFlight} }
${options.scheduler ?? ''}
`,
  );
  return dir;
}

/** A `nas-studio worker` in its own process group (its trials' programs die with it), its output kept in worker-<pid>.log. */
function startWorker(dir: string, args: string[], queueUrl = redis!.url): ChildProcess {
  const worker = spawn(process.execPath, [CLI, 'worker', '--queue', queueUrl, '--stall-seconds', '2', '--data-root', dir, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  worker.stderr!.on('data', (chunk: Buffer) => appendFileSync(join(dir, `worker-${worker.pid}.log`), chunk));
  workers.push(worker);
  return worker;
}

/** A search whose process group the end of the test kills, should a failed test leave it waiting for workers. */
function startTrackedSearch(args: string[]): ReturnType<typeof startSearch> {
  const search = startSearch(args);
  workers.push(search.child);
  return search;
}

function killGroup(child: ChildProcess): void {
  process.kill(-child.pid!, 'SIGKILL');
}

async function stopWorkers(): Promise<void> {
  await Promise.all(
    workers.splice(0).map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
          worker.once('exit', () => resolve());
          killGroup(worker);
        }),
    ),
  );
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  for (let waited = 0; ; waited += 100) {
    const found = probe();
    if (found !== undefined && found !== false) return found;
    assert.ok(waited < timeoutMs, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface QueueTrialRow {
  idx: number;
  status: string;
  worker: string | null;
  attempts: number | null;
  error: string | null;
}

function trialRows(db: string): QueueTrialRow[] {
  if (!existsSync(db)) return [];
  const raw = new Database(db, { readonly: true });
  try {
    return raw.prepare('SELECT idx, status, worker, attempts, error FROM trials WHERE run_id = 1 ORDER BY idx').all() as QueueTrialRow[];
  } catch {
    return []; // not created yet
  } finally {
    raw.close();
  }
}

/** How many times each trial's program started and ended, from the notes it left. */
function trained(dir: string): { starts: Map<number, number>; ends: Map<number, number> } {
  const starts = new Map<number, number>();
  const ends = new Map<number, number>();
  const file = join(dir, 'trained.log');
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  for (const line of lines) {
    const [what, index] = line.split(' ');
    const counts = what === 'start' ? starts : ends;
    counts.set(Number(index), (counts.get(Number(index)) ?? 0) + 1);
  }
  return { starts, ends };
}

/** Every index 0..budget-1 exactly once, each done, the run done, the database sound. */
function assertCompleted(db: string, budget: number): QueueTrialRow[] {
  const { run, trials } = checkDatabase(db);
  assert.equal(run.status, 'done');
  assert.deepEqual(
    trials.map((trial) => trial.idx),
    Array.from({ length: budget }, (_, i) => i),
  );
  const rows = trialRows(db);
  assert.deepEqual(
    rows.filter((row) => row.status !== 'done'),
    [],
  );
  for (const row of rows) assert.match(row.worker ?? '', / pid \d+, cpu$/, `trial ${row.idx} names its worker`);
  return rows;
}

const skip = (t: { skip: (reason: string) => void }) => {
  console.log(`SKIP: ${missing}`);
  t.skip(missing ?? '');
};

test(
  'three workers, one SIGKILLed mid-trial: its trial goes to another worker, recorded once with its attempts',
  { timeout: 180_000 },
  async (t) => {
    if (missing) return skip(t);
    const dir = searchFolder({ name: 'worker-killed', trials: 12, inFlight: 6 });
    const db = join(dir, 'runs.db');
    const [victim] = [1, 2, 3].map(() => startWorker(dir, ['--concurrency', '2', '--allow-commands']));
    const search = startTrackedSearch([join(dir, 'queue.nas.yaml'), '--db', db, '--queue', redis!.url]);
    // Its program has started, not only its job: the worker is killed with that program running.
    const held = await waitFor('a trial whose program runs on the first worker', () =>
      trialRows(db).find(
        (row) => row.status === 'running' && row.worker?.includes(` pid ${victim.pid},`) && trained(dir).starts.has(row.idx),
      ),
    );
    killGroup(victim);
    assert.equal(await search.exit, 0, search.output().stderr);
    const rows = assertCompleted(db, 12);
    const retried = rows.find((row) => row.idx === held.idx)!;
    assert.ok((retried.attempts ?? 0) >= 2, `trial ${held.idx} shows its second attempt: ${JSON.stringify(retried)}`);
    assert.ok(!retried.worker!.includes(` pid ${victim.pid},`), 'another worker finished it');
    assert.ok((trained(dir).starts.get(held.idx) ?? 0) >= 2, 'its program ran again');
  },
);

test(
  'the engine SIGKILLed mid-run: workers finish what they hold, and resume collects it instead of training it again',
  { timeout: 180_000 },
  async (t) => {
    if (missing) return skip(t);
    const dir = searchFolder({ name: 'engine-killed', trials: 12, inFlight: 6, epochMs: 600 });
    const db = join(dir, 'runs.db');
    for (let i = 0; i < 3; i++) startWorker(dir, ['--concurrency', '2', '--allow-commands']);
    const search = startTrackedSearch([join(dir, 'queue.nas.yaml'), '--db', db, '--queue', redis!.url]);
    await waitFor('two trials done and others training', () => {
      const rows = trialRows(db);
      return rows.filter((row) => row.status === 'done').length >= 2 && rows.some((row) => row.status === 'running');
    });
    search.child.kill('SIGKILL');
    await search.exit;
    // Those a worker had taken: a trial marked running the moment before its job reached the queue has none.
    const running = trialRows(db)
      .filter((row) => row.status === 'running' && row.worker !== null)
      .map((row) => row.idx);
    // The workers go on: each program that started also ends, with no engine listening.
    await waitFor('the workers to finish what they held', () => {
      const { starts, ends } = trained(dir);
      return running.every((index) => ends.has(index)) && [...starts].every(([index, count]) => ends.get(index) === count);
    });
    const resumed = cli(['resume', '1', '--db', db]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /resume: collecting \d+ trial\(s\)/);
    const rows = assertCompleted(db, 12);
    for (const index of running) assert.equal(rows[index].attempts, 1, `trial ${index} was collected, not queued again`);
    const { starts } = trained(dir);
    assert.deepEqual(
      [...starts].filter(([, count]) => count !== 1),
      [],
      'every program ran once',
    );
  },
);

test(
  'Redis restarted mid-run, losing its data: engine and workers reconnect, lost jobs are queued again, the run completes',
  { timeout: 180_000 },
  async (t) => {
    if (missing) return skip(t);
    const dir = searchFolder({ name: 'redis-restarted', trials: 10, inFlight: 4 });
    const db = join(dir, 'runs.db');
    for (let i = 0; i < 2; i++) startWorker(dir, ['--concurrency', '2', '--allow-commands']);
    const search = startTrackedSearch([join(dir, 'queue.nas.yaml'), '--db', db, '--queue', redis!.url]);
    await waitFor('two trials done', () => trialRows(db).filter((row) => row.status === 'done').length >= 2);
    await redis!.restart(1000);
    assert.equal(await search.exit, 0, search.output().stderr);
    assert.match(search.output().stderr, /vanished from the queue/);
    assertCompleted(db, 10);
  },
);

test('a worker that runs no commands leaves command trials to one that does', { timeout: 120_000 }, async (t) => {
  if (missing) return skip(t);
  const dir = searchFolder({ name: 'commands-elsewhere', trials: 6, inFlight: 3, epochs: 1, epochMs: 100 });
  const db = join(dir, 'runs.db');
  const refuser = startWorker(dir, ['--concurrency', '3']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const search = startTrackedSearch([join(dir, 'queue.nas.yaml'), '--db', db, '--queue', redis!.url]);
  // The one that allows commands comes later: the refuser sees every job first.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const runner = startWorker(dir, ['--concurrency', '3', '--allow-commands']);
  assert.equal(await search.exit, 0, search.output().stderr);
  const rows = assertCompleted(db, 6);
  for (const row of rows) assert.match(row.worker!, new RegExp(` pid ${runner.pid},`));
  assert.ok(
    rows.some((row) => (row.attempts ?? 0) >= 2),
    `the refused trials show their attempts: ${JSON.stringify(rows)}`,
  );
  assert.match(readFileSync(join(dir, `worker-${refuser.pid}.log`), 'utf8'), /runs no command trials \(start it with --allow-commands/);
});

test(
  "a worker lacking the data set: each attempt fails with the worker's reason, then the trial fails",
  { timeout: 120_000 },
  async (t) => {
    if (missing) return skip(t);
    const dir = newDir();
    writeFileSync(join(dir, 'pixels.csv'), Array.from({ length: 40 }, (_, i) => `${i % 7},${i % 5},${i % 3},${i % 2},${i % 2}`).join('\n'));
    writeFileSync(
      join(dir, 'data.nas.yaml'),
      `name: data-missing
dataset: { kind: csv, path: pixels.csv, image_shape: [2, 2, 1], pixel_scale: 7 }
space: { kind: macro, layers: 1 }
strategy: { kind: random }
evaluation: { epochs: 1 }
budget: { trials: 2 }
runtime: { in_flight: 2 }
`,
    );
    const db = join(dir, 'runs.db');
    // Its relative paths resolve in an empty folder: the data set is not there.
    startWorker(newDir(), ['--backend', 'cpu']);
    const search = startTrackedSearch([join(dir, 'data.nas.yaml'), '--db', db, '--queue', redis!.url]);
    assert.equal(await search.exit, 0, search.output().stderr);
    const { run } = checkDatabase(db);
    assert.equal(run.status, 'done');
    const rows = trialRows(db);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.status, 'failed');
      assert.equal(row.attempts, 3);
      assert.match(row.error!, /pid \d+ cannot evaluate this search's trials: .*pixels\.csv.*\(on attempt 3 of 3\)/s);
    }
  },
);

test(
  "early stopping across the queue: the engine's verdicts reach the worker, whose program stops where it was told",
  { timeout: 120_000 },
  async (t) => {
    if (missing) return skip(t);
    const scheduler = 'scheduler: { kind: median, grace_epochs: 1, min_trials: 2 }';
    const dir = searchFolder({ name: 'pruned-remotely', trials: 10, inFlight: 2, epochs: 4, epochMs: 150, scheduler });
    const db = join(dir, 'runs.db');
    startWorker(dir, ['--concurrency', '2', '--allow-commands']);
    const search = startTrackedSearch([join(dir, 'queue.nas.yaml'), '--db', db, '--queue', redis!.url]);
    assert.equal(await search.exit, 0, search.output().stderr);
    const raw = new Database(db, { readonly: true });
    try {
      const trials = raw
        .prepare(
          'SELECT idx, status, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = 1 AND e.trial_idx = idx) AS epochs FROM trials ORDER BY idx',
        )
        .all() as { idx: number; status: string; epochs: number }[];
      const pruned = trials.filter((trial) => trial.status === 'pruned');
      assert.ok(pruned.length > 0, `the median rule stopped some trials: ${JSON.stringify(trials)}`);
      // The program reported no epoch past its stop: it heard the verdict and ended.
      for (const trial of pruned) assert.ok(trial.epochs < 4, `trial ${trial.idx} stopped early: ${trial.epochs} epochs`);
      assert.ok(trials.every((trial) => trial.status === 'done' || trial.status === 'pruned'));
    } finally {
      raw.close();
    }
  },
);

test(
  'a Redis with a password, over TLS (rediss://): the run completes; a wrong password fails at once, and no password is shown',
  { timeout: 120_000 },
  async (t) => {
    if (missing) return skip(t);
    const dir = newDir();
    const tls = selfSignedCertificate(dir);
    if (typeof tls === 'string') {
      console.log(`SKIP: ${tls}`);
      return t.skip(tls);
    }
    const secure = await RedisServer.start(dir, { password: 'queue-S3cret', tls });
    // The searches and workers started below trust the self-signed certificate, as a user's would trust their CA.
    process.env.NODE_EXTRA_CA_CERTS = tls.cert;
    try {
      const searchDir = searchFolder({ name: 'secure-queue', trials: 4, inFlight: 2, epochs: 1, epochMs: 50 });
      const file = join(searchDir, 'queue.nas.yaml');
      const db = join(searchDir, 'runs.db');
      assert.match(secure.url, /^rediss:\/\/:queue-S3cret@/);
      startWorker(searchDir, ['--allow-commands'], secure.url);
      const search = startTrackedSearch([file, '--db', db, '--queue', secure.url]);
      assert.equal(await search.exit, 0, search.output().stderr);
      assertCompleted(db, 4);
      const wrong = cli(['search', file, '--db', join(searchDir, 'wrong.db'), '--queue', secure.urlWith('guessed-pass')]);
      assert.equal(wrong.code, 1, wrong.stderr);
      assert.match(wrong.stderr, /cannot reach the trial queue at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*(WRONGPASS|invalid)/);
      assert.ok(!wrong.stderr.includes('guessed-pass'), wrong.stderr);
      // Nothing is wrong with the run: it waits, resumable, for a queue it can reach.
      assert.equal(checkDatabase(join(searchDir, 'wrong.db')).run.status, 'interrupted');
    } finally {
      delete process.env.NODE_EXTRA_CA_CERTS;
      await stopWorkers();
      await secure.stop();
    }
  },
);

/**
 * A network namespace joined to this one by a veth pair: a worker inside reaches this side only at `hostAddress`, and
 * its own 127.0.0.1 has nothing on it. A string says why it could not be made (no root, no CAP_NET_ADMIN).
 */
function networkNamespace(slot: number): { name: string; hostAddress: string; remove: () => void } | string {
  const tag = `${process.pid % 10000}${slot}`;
  const name = `nas-queue-${tag}`;
  const [hostEnd, workerEnd] = [`nasq${tag}h`, `nasq${tag}w`];
  const subnet = `10.213.${(process.pid + slot) % 250}`;
  const remove = () => {
    spawnSync('ip', ['link', 'del', hostEnd]);
    spawnSync('ip', ['netns', 'del', name]);
  };
  const steps = [
    ['netns', 'add', name],
    ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', workerEnd],
    ['link', 'set', workerEnd, 'netns', name],
    ['addr', 'add', `${subnet}.1/30`, 'dev', hostEnd],
    ['link', 'set', hostEnd, 'up'],
    ['netns', 'exec', name, 'ip', 'addr', 'add', `${subnet}.2/30`, 'dev', workerEnd],
    ['netns', 'exec', name, 'ip', 'link', 'set', workerEnd, 'up'],
    ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'],
  ];
  for (const step of steps) {
    const done = spawnSync('ip', step, { encoding: 'utf8' });
    if (done.error || done.status !== 0) {
      remove();
      return `cannot make a network namespace here (ip ${step.join(' ')}: ${done.error?.message ?? done.stderr.trim()})`;
    }
  }
  return { name, hostAddress: `${subnet}.1`, remove };
}

test(
  'workers in network namespaces of their own reach Redis over veth pairs: nothing assumes localhost',
  { timeout: 120_000 },
  async (t) => {
    if (missing) return skip(t);
    const namespaces = [1, 2].map(networkNamespace);
    const unusable = namespaces.find((made) => typeof made === 'string');
    if (unusable !== undefined) {
      for (const made of namespaces) if (typeof made !== 'string') made.remove();
      console.log(`SKIP: ${unusable}`);
      return t.skip(unusable);
    }
    const joined = namespaces as Exclude<ReturnType<typeof networkNamespace>, string>[];
    const dir = searchFolder({ name: 'namespaced-workers', trials: 8, inFlight: 4, epochs: 1, epochMs: 200 });
    // Redis refuses clients from other addresses without a password (its protected mode), as it should.
    const password = 'veth-S3cret';
    const remote = await RedisServer.start(newDir(), { bind: joined.map((namespace) => namespace.hostAddress), password });
    try {
      const pids = joined.map((namespace) => {
        const url = `redis://:${password}@${namespace.hostAddress}:${remote.port}/0`;
        const worker = spawn(
          'ip',
          [
            'netns',
            'exec',
            namespace.name,
            process.execPath,
            CLI,
            'worker',
            '--queue',
            url,
            '--data-root',
            dir,
            '--concurrency',
            '2',
            '--allow-commands',
          ],
          { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
        );
        worker.stderr!.on('data', (chunk: Buffer) => appendFileSync(join(dir, `worker-${worker.pid}.log`), chunk));
        workers.push(worker);
        return worker.pid!;
      });
      const db = join(dir, 'runs.db');
      const search = startTrackedSearch([join(dir, 'queue.nas.yaml'), '--db', db, '--queue', remote.url]);
      assert.equal(await search.exit, 0, search.output().stderr);
      const rows = assertCompleted(db, 8);
      const ranOn = new Set(rows.map((row) => Number(/ pid (\d+),/.exec(row.worker!)![1])));
      assert.ok(
        pids.some((pid) => ranOn.has(pid)),
        `trials ran on the namespaced workers ${pids.join(', ')}: ${[...ranOn].join(', ')}`,
      );
    } finally {
      await stopWorkers();
      await remote.stop();
      for (const namespace of joined) namespace.remove();
    }
  },
);

test(
  "max_latency_ms across the queue: the worker's trainer measures each child and rejects it untrained; the engine stores its latency",
  { timeout: 120_000 },
  async (t) => {
    if (missing) return skip(t);
    const dir = newDir();
    writeFileSync(
      join(dir, 'latency.nas.yaml'),
      `name: latency-limit
dataset: { kind: digits, max_train_examples: 64 }
space: { kind: macro, layers: 1 }
strategy: { kind: random, reward: { constraints: { max_latency_ms: 0.000001 } } }
evaluation: { epochs: 1 }
budget: { trials: 2 }
runtime: { in_flight: 2 }
`,
    );
    const db = join(dir, 'runs.db');
    startWorker(dir, ['--backend', 'cpu', '--concurrency', '2']);
    const search = startTrackedSearch([join(dir, 'latency.nas.yaml'), '--db', db, '--queue', redis!.url]);
    assert.equal(await search.exit, 0, search.output().stderr);
    const { run } = checkDatabase(db);
    assert.equal(run.status, 'done');
    const rows = trialRows(db);
    assert.equal(rows.length, 2);
    const stored = new Database(db, { readonly: true });
    try {
      for (const row of rows) {
        assert.equal(row.status, 'failed');
        assert.equal(row.attempts, 1, "a rejection is the architecture's verdict: no other worker tries it");
        assert.match(row.worker ?? '', / pid \d+, cpu$/);
        assert.match(row.error!, /^rejected before training: \d+\.\d{3} ms latency > max_latency_ms 0\.000001$/);
        const epochs = stored.prepare('SELECT COUNT(*) AS n FROM epochs WHERE run_id = 1 AND trial_idx = ?').get(row.idx) as { n: number };
        const { latency } = stored.prepare('SELECT latency_ms AS latency FROM trials WHERE run_id = 1 AND idx = ?').get(row.idx) as {
          latency: number | null;
        };
        assert.ok(latency !== null && latency > 0.000001, `stored ${latency}`);
        assert.equal(epochs.n, 0);
      }
    } finally {
      stored.close();
    }
  },
);
