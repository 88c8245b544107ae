// Trials on remote workers through BullMQ on a real redis-server (started here, on a free loopback port),
// with the engine in this process and the workers in their own Node processes (bench/distributed-worker.ts):
//   scaling:  a NAS-Bench-201 lookup plus a fixed sleep (a stand-in for training) on 1 to 16 workers;
//             trials/s, speed-up over 1 worker and efficiency (speed-up / workers);
//   ceiling:  no sleep, 128 trials in flight: the trials/s the engine sustains, its SQLite writes included;
//   overhead: one trial at a time, on the queue vs the local tabular evaluator: latency per trial.
// Printed, not asserted. Skipped, saying why, without redis-server.
//
//   npm run bench:distributed -- [--only scaling|ceiling|overhead] [--workers 1,2,4,8,16] [--sleep-ms 250]
//     [--trials-per-worker 40] [--ceiling-trials 3000] [--ceiling-repeats 3] [--overhead-trials 300]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createRunFromFile, runSearch } from '../src/engine/search.ts';
import { Store } from '../src/engine/store/store.ts';
import type { EngineEvent } from '../src/protocol/engine.ts';
import { RedisServer, redisMissing } from '../test/support/redis.ts';
import { markdownTable } from './report.ts';

const WORKER_SCRIPT = join(__dirname, 'distributed-worker.ts');
/** Worker processes at most: more workers than this share a process through BullMQ's concurrency. */
const MAX_WORKER_PROCESSES = 4;
const EFFICIENCY_GOAL = 0.9;
const CEILING_GOAL = 500;
/** An 800-GPU search whose children train 10 minutes each asks this of the engine. */
const LARGE_RUN_GPUS = 800;
const LARGE_RUN_CHILD_SECONDS = 600;

interface WorkerProcess {
  child: ChildProcess;
  stopped: Promise<{ cpuMs: number; jobs: number }>;
}

interface WorkerPool {
  processes: WorkerProcess[];
  /** Stops every process, and returns the CPU they spent after they were ready and the trials they ran. */
  stop(): Promise<{ cpuMs: number; jobs: number }>;
}

/** Starts `processes` worker processes of `concurrency` each, and waits until every one takes jobs. */
async function startWorkers(queueUrl: string, processes: number, concurrency: number, sleepMs: number): Promise<WorkerPool> {
  // `node --cpu-prof bench/distributed.ts` profiles the workers too (NODE_OPTIONS may not carry --cpu-prof).
  const profiling = process.execArgv.filter((arg) => arg.startsWith('--cpu-prof'));
  const started = Array.from({ length: processes }, () => {
    const child = spawn(
      process.execPath,
      [...profiling, '--import', 'tsx', WORKER_SCRIPT, queueUrl, String(concurrency), String(sleepMs)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    let onReady: () => void;
    let onStopped: (figures: { cpuMs: number; jobs: number }) => void;
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      child.once('exit', (code, signal) => reject(new Error(`a worker process exited (${code ?? signal}) before it was ready`)));
    });
    const stopped = new Promise<{ cpuMs: number; jobs: number }>((resolve) => (onStopped = resolve));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready ')) onReady();
      const line = /stopped (\{.*\})/.exec(output);
      if (line) onStopped(JSON.parse(line[1]) as { cpuMs: number; jobs: number });
    });
    return { child, ready, stopped };
  });
  try {
    await Promise.all(started.map((worker) => worker.ready));
  } catch (error) {
    for (const { child } of started) child.kill('SIGKILL');
    throw error;
  }
  const pool: WorkerPool = {
    processes: started.map(({ child, stopped }) => ({ child, stopped })),
    async stop() {
      const figures = await Promise.all(
        started.map(({ child, stopped }) => {
          child.kill('SIGTERM');
          return stopped;
        }),
      );
      return { cpuMs: figures.reduce((sum, f) => sum + f.cpuMs, 0), jobs: figures.reduce((sum, f) => sum + f.jobs, 0) };
    },
  };
  return pool;
}

/** The CPU redis-server has spent so far, in ms (its INFO cpu section). */
async function redisCpuMs(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const info = await client.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  } finally {
    client.disconnect();
  }
}

function searchText(name: string, queue: { url: string; inFlight: number } | undefined): string {
  return `name: ${name}
space: { kind: nasbench201 }
evaluation: { kind: tabular, dataset: cifar10 }
strategy: { kind: random }
budget: { trials: 100 }
runtime: { seed: 1${queue ? `, queue: "${queue.url}", in_flight: ${queue.inFlight}` : ''} }
`;
}

interface SearchFigures {
  trials: number;
  /** From the first trial-started to the last trial-finished. */
  seconds: number;
  trialsPerSecond: number;
  /** Mean time from a trial's trial-started to its trial-finished. */
  meanLatencyMs: number;
  /** This process's CPU (the engine's) from the first trial-started to the last trial-finished, per trial. */
  engineCpuMsPerTrial: number;
  /** Wall time of runSearch, set-up and tear-down included. */
  wallSeconds: number;
}

const cpuMs = (usage: NodeJS.CpuUsage | undefined) => (usage ? (usage.user + usage.system) / 1000 : 0);

/** Runs one random search of `trials` lookups in a fresh SQLite file and times it from its trials' events. */
async function timedSearch(name: string, trials: number, queue: { url: string; inFlight: number } | undefined): Promise<SearchFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-distributed-'));
  const store = new Store(join(dir, 'runs.db'));
  try {
    const file = join(dir, `${name}.nas.yaml`);
    writeFileSync(file, searchText(name, queue));
    const runId = createRunFromFile(store, file, { trials });
    const startedAt = new Map<number, number>();
    let firstStart: number | undefined;
    let lastFinish = 0;
    // Taken at the same instants as the times: the table's loading and the queue's connections are left out.
    let cpuAtFirstStart: NodeJS.CpuUsage | undefined;
    let cpuAtLastFinish: NodeJS.CpuUsage | undefined;
    let finished = 0;
    let latencySum = 0;
    const failures: string[] = [];
    const onEvent = (event: EngineEvent) => {
      const now = performance.now();
      if (event.type === 'trial-started') {
        if (firstStart === undefined) {
          firstStart = now;
          cpuAtFirstStart = process.cpuUsage();
        }
        startedAt.set(event.index, now);
      } else if (event.type === 'trial-finished') {
        finished += 1;
        lastFinish = now;
        // Only at the last: a getrusage per trial showed in the engine's profile.
        if (finished === trials) cpuAtLastFinish = process.cpuUsage();
        latencySum += now - (startedAt.get(event.trial.index) ?? now);
        if (event.trial.status !== 'done') failures.push(`trial ${event.trial.index} ${event.trial.status}: ${event.trial.error ?? ''}`);
      } else if (event.type === 'log' && event.level !== 'info') {
        console.log(`  engine ${event.level}: ${event.message}`);
      }
    };
    const wallStart = performance.now();
    const status = await runSearch(store, runId, { onEvent });
    const wallSeconds = (performance.now() - wallStart) / 1000;
    if (status !== 'done' || finished !== trials || failures.length > 0)
      throw new Error(`${name}: run ${status}, ${finished} of ${trials} trials finished${failures.length ? `; ${failures[0]}` : ''}`);
    const seconds = (lastFinish - (firstStart ?? lastFinish)) / 1000;
    return {
      trials,
      seconds,
      trialsPerSecond: trials / seconds,
      meanLatencyMs: latencySum / trials,
      engineCpuMsPerTrial: (cpuMs(cpuAtLastFinish) - cpuMs(cpuAtFirstStart)) / trials,
      wallSeconds,
    };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 1 worker = 1 process × 1; up to MAX_WORKER_PROCESSES processes, then more concurrency in each (16 = 4 × 4). */
function layout(workers: number): { processes: number; concurrency: number } {
  const processes = Math.min(workers, MAX_WORKER_PROCESSES);
  if (workers % processes !== 0) throw new Error(`${workers} workers do not split evenly over ${processes} processes`);
  return { processes, concurrency: workers / processes };
}

function machineLine(): string {
  return `cpus=${cpus().length} load(1 min)=${loadavg()[0].toFixed(2)}`;
}

async function scalingBench(url: string, workerCounts: number[], sleepMs: number, trialsPerWorker: number): Promise<void> {
  const idealPerWorker = 1000 / sleepMs;
  console.log(
    `\nscaling: NAS-Bench-201 lookup + ${sleepMs} ms asleep per trial, random strategy, in_flight = workers, ` +
      `${trialsPerWorker} trials per worker (ideal ${idealPerWorker.toFixed(2)} trials/s per worker)`,
  );
  const rows: string[][] = [
    [
      'workers',
      'processes × concurrency',
      'trials',
      'seconds',
      'trials/s',
      'ideal',
      'of ideal',
      'speed-up',
      'efficiency',
      'mean latency ms',
    ],
  ];
  let single: number | undefined;
  let lastEfficiency: { workers: number; efficiency: number } | undefined;
  for (const workers of workerCounts) {
    const { processes, concurrency } = layout(workers);
    const pool = await startWorkers(url, processes, concurrency, sleepMs);
    let figures: SearchFigures;
    try {
      figures = await timedSearch(`scaling-${workers}`, trialsPerWorker * workers, { url, inFlight: workers });
    } finally {
      await pool.stop();
    }
    single ??= workers === 1 ? figures.trialsPerSecond : undefined;
    const ideal = idealPerWorker * workers;
    const speedUp = single === undefined ? undefined : figures.trialsPerSecond / single;
    const efficiency = speedUp === undefined ? undefined : speedUp / workers;
    if (efficiency !== undefined) lastEfficiency = { workers, efficiency };
    rows.push([
      String(workers),
      `${processes} × ${concurrency}`,
      String(figures.trials),
      figures.seconds.toFixed(2),
      figures.trialsPerSecond.toFixed(2),
      ideal.toFixed(2),
      (figures.trialsPerSecond / ideal).toFixed(3),
      speedUp === undefined ? '-' : `${speedUp.toFixed(2)}x`,
      efficiency === undefined ? '-' : efficiency.toFixed(3),
      figures.meanLatencyMs.toFixed(1),
    ]);
    console.log(`  ${workers} worker(s): ${figures.trialsPerSecond.toFixed(2)} trials/s (${machineLine()})`);
  }
  console.log(markdownTable(rows));
  if (lastEfficiency)
    console.log(
      `goal: efficiency ≥ ${EFFICIENCY_GOAL} at ${lastEfficiency.workers} workers: ` +
        `${lastEfficiency.efficiency >= EFFICIENCY_GOAL ? 'met' : 'not met'} (${lastEfficiency.efficiency.toFixed(3)})`,
    );
}

async function ceilingBench(url: string, trials: number, repeats: number): Promise<void> {
  const processes = MAX_WORKER_PROCESSES;
  const concurrency = 32;
  const inFlight = processes * concurrency;
  console.log(
    `\nengine ceiling: plain NAS-Bench-201 lookup (no sleep), ${processes} processes × concurrency ${concurrency}, ` +
      `in_flight ${inFlight}, random strategy, ${trials} trials, SQLite file in a temporary folder; ` +
      `${repeats} searches on the same workers (the machine's other jobs make one alone unreliable)`,
  );
  const pool = await startWorkers(url, processes, concurrency, 0);
  const redisBefore = await redisCpuMs(url);
  const runs: SearchFigures[] = [];
  let workerCpu: { cpuMs: number; jobs: number };
  try {
    for (let repeat = 1; repeat <= repeats; repeat++) runs.push(await timedSearch(`ceiling-${repeat}`, trials, { url, inFlight }));
  } finally {
    workerCpu = await pool.stop();
  }
  const redisCpu = (await redisCpuMs(url)) - redisBefore;
  const allTrials = trials * runs.length;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const throughput = median(runs.map((run) => run.trialsPerSecond));
  const engineCpu = median(runs.map((run) => run.engineCpuMsPerTrial));
  const engineCpuMean = runs.reduce((sum, run) => sum + run.engineCpuMsPerTrial, 0) / runs.length;
  console.log(
    markdownTable([
      ['search', 'seconds (first start to last finish)', 'trials/s', 'mean latency ms (queued to recorded)', 'engine CPU ms per trial'],
      ...runs.map((run, i) => [
        String(i + 1),
        run.seconds.toFixed(2),
        run.trialsPerSecond.toFixed(1),
        run.meanLatencyMs.toFixed(1),
        run.engineCpuMsPerTrial.toFixed(3),
      ]),
    ]),
  );
  const needed = LARGE_RUN_GPUS / LARGE_RUN_CHILD_SECONDS;
  const engineOnOneCore = 1000 / engineCpu;
  console.log(
    markdownTable([
      ['figure', 'value'],
      ['trials/s, median', throughput.toFixed(1)],
      [
        `goal ≥ ${CEILING_GOAL} trials/s`,
        `${throughput >= CEILING_GOAL ? 'met' : 'not met'} (${(throughput / CEILING_GOAL).toFixed(2)}x the goal)`,
      ],
      ['engine CPU per trial, median (this process)', `${engineCpu.toFixed(3)} ms`],
      ['trials/s one core would give the engine alone (1000 / its CPU ms per trial)', engineOnOneCore.toFixed(0)],
      [`workers CPU per trial (all ${processes} processes, ${workerCpu.jobs} jobs)`, `${(workerCpu.cpuMs / allTrials).toFixed(3)} ms`],
      ['redis-server CPU per trial', `${(redisCpu / allTrials).toFixed(3)} ms`],
      ['CPU per trial, all three', `${(engineCpuMean + (workerCpu.cpuMs + redisCpu) / allTrials).toFixed(3)} ms`],
      [
        `${LARGE_RUN_GPUS} GPUs × ${LARGE_RUN_CHILD_SECONDS / 60}-minute children need`,
        `${needed.toFixed(2)} trials/s = ${((needed / throughput) * 100).toFixed(2)}% of the median ceiling`,
      ],
    ]),
  );
  console.log(`  (${machineLine()} after the searches)`);
}

async function overheadBench(url: string, trials: number): Promise<void> {
  console.log(`\noverhead per trial: plain NAS-Bench-201 lookup, one trial at a time, ${trials} trials, random strategy`);
  const local = await timedSearch('overhead-local', trials, undefined);
  const pool = await startWorkers(url, 1, 1, 0);
  let remote: SearchFigures;
  try {
    remote = await timedSearch('overhead-remote', trials, { url, inFlight: 1 });
  } finally {
    await pool.stop();
  }
  const row = (name: string, f: SearchFigures) => [
    name,
    f.meanLatencyMs.toFixed(3),
    ((f.seconds * 1000) / f.trials).toFixed(3),
    f.trialsPerSecond.toFixed(1),
    f.engineCpuMsPerTrial.toFixed(3),
  ];
  console.log(
    markdownTable([
      ['evaluator', 'mean latency ms', 'wall ms per trial', 'trials/s', 'engine CPU ms per trial'],
      row('local tabular (no queue)', local),
      row('queue, 1 worker × 1, in_flight 1', remote),
    ]),
  );
  console.log(
    `queue overhead per trial: ${(remote.meanLatencyMs - local.meanLatencyMs).toFixed(2)} ms ` +
      `(${(remote.meanLatencyMs / local.meanLatencyMs).toFixed(0)}x the local trial's latency)`,
  );
}

export async function runDistributedBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      only: { type: 'string' },
      workers: { type: 'string', default: '1,2,4,8,16' },
      'sleep-ms': { type: 'string', default: '250' },
      'trials-per-worker': { type: 'string', default: '40' },
      'ceiling-trials': { type: 'string', default: '3000' },
      'ceiling-repeats': { type: 'string', default: '3' },
      'overhead-trials': { type: 'string', default: '300' },
    },
  });
  const missing = redisMissing();
  if (missing) {
    console.log(`distributed bench skipped: ${missing}`);
    return;
  }
  const sections = values.only ? values.only.split(',') : ['scaling', 'ceiling', 'overhead'];
  console.log(`distributed bench: engine in this process, workers in their own processes, Redis on loopback; ${machineLine()}`);
  const dir = mkdtempSync(join(tmpdir(), 'nas-bench-redis-'));
  const redis = await RedisServer.start(dir);
  try {
    if (sections.includes('scaling'))
      await scalingBench(redis.url, values.workers.split(',').map(Number), Number(values['sleep-ms']), Number(values['trials-per-worker']));
    if (sections.includes('ceiling')) await ceilingBench(redis.url, Number(values['ceiling-trials']), Number(values['ceiling-repeats']));
    if (sections.includes('overhead')) await overheadBench(redis.url, Number(values['overhead-trials']));
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module)
  runDistributedBench(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
