// `nas-studio worker`: takes trial jobs from the queue and evaluates them with the evaluators the engine
// has (trainer processes, the NAS-Bench-201 table, the user's own command), reporting who it is, every
// epoch, and the result. It writes no database: everything goes back to the engine through Redis.
//
// Failures are sorted by whose they are. The architecture's (a NaN loss, a program that exits 1) fail
// the trial at once, as on the engine's machine. The worker's (its data set is missing, its backend
// fails, it does not run commands, its trainer died twice) fail this attempt, and BullMQ hands the job
// to a worker again, up to the job's attempts. A worker that dies mid-trial stops renewing its lock,
// and another worker's stalled-job check puts the job back on the queue.

import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { CANCEL_CHANNEL, TRIAL_QUEUE, verdictKey, type TrialJobResult, type TrialProgress } from '../../protocol/queue.ts';
import type { BackendChoice, SearchConfig } from '../../space/config.ts';
import {
  EvaluationFailed,
  RejectedBeforeTraining,
  type EpochVerdict,
  type Evaluator,
  type StartEvaluator,
} from '../evaluators/evaluator.ts';
import { startConfiguredEvaluator } from '../evaluators/start.ts';
import { connectOrExplain, queueConnection, redisClient } from './connection.ts';
import { InvalidTrialJob, readTrialJob } from './trial-job.ts';

/**
 * How long a worker takes no new job after it failed one for a fault of its own (no data, no backend, no
 * commands allowed): long enough for the job's retry to reach another worker, if there is one.
 */
const OWN_FAULT_PAUSE_MS = 3000;

/** How long a worker waits for the engine's verdict on an epoch before it trains on: the engine may be down. */
const VERDICT_WAIT_MS = 30_000;
const VERDICT_POLL_MS = 50;

export interface WorkerOptions {
  queueUrl: string;
  /** Trials this worker evaluates at once. */
  concurrency: number;
  /** The backend its trainers compute on, whatever the search file asks. */
  backend: BackendChoice;
  /** Where the jobs' relative paths (a data set's folder, a command) resolve on this machine. */
  dataRoot: string;
  /** Whether it runs a search file's own command: otherwise anyone who can write to the queue could run code here. */
  allowCommands: boolean;
  /** How long a dead worker's job stays locked before a live worker's stalled-job check puts it back on the queue. */
  stallSeconds: number;
  log: (message: string) => void;
  /** How an architecture is evaluated; by default as its search file says (benchmarks put a stand-in here). */
  startEvaluator?: StartEvaluator;
}

interface EvaluatorEntry {
  started: Promise<Evaluator>;
  active: number;
}

export interface RunningWorker {
  /** "host pid N": how the Runs view and the CLI name it. */
  readonly identity: string;
  /** Finishes the trials it holds, then disconnects. */
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { queueUrl, concurrency, dataRoot, log } = options;
  const identity = `${hostname()} pid ${process.pid}`;
  const commands = redisClient(queueUrl, log);
  const subscriber = redisClient(queueUrl, log);
  await connectOrExplain(commands, queueUrl);
  await connectOrExplain(subscriber, queueUrl);
  // The jobs held here, by id, so that a cancel from the engine reaches their evaluation.
  const held = new Map<string, { cancel: () => void }>();
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, jobId: string) => held.get(jobId)?.cancel());
  // One evaluator per recipe (evaluation and data set): trainers load their data once, not per trial.
  const evaluators = new Map<string, EvaluatorEntry>();

  const evaluatorFor = async (config: SearchConfig): Promise<{ evaluator: Evaluator; release: () => void }> => {
    const key = JSON.stringify([config.evaluation, config.dataset ?? null]);
    let entry = evaluators.get(key);
    if (!entry) {
      // A recipe no job holds any more gives way to the new one: one machine's cores serve one set of trainers.
      for (const [other, idle] of evaluators)
        if (idle.active === 0) {
          evaluators.delete(other);
          void idle.started.then((evaluator) => evaluator.close()).catch(() => undefined);
        }
      const start = options.startEvaluator ?? startConfiguredEvaluator;
      entry = {
        started: start({ ...config, runtime: { ...config.runtime, backend: options.backend } }, dataRoot, log, concurrency),
        active: 0,
      };
      evaluators.set(key, entry);
      // A recipe that cannot start here (its data is missing) is tried afresh by the next job that needs it.
      entry.started.catch(() => evaluators.get(key) === entry && evaluators.delete(key));
    }
    entry.active += 1;
    const release = () => void (entry.active -= 1);
    try {
      return { evaluator: await entry.started, release };
    } catch (error) {
      release();
      throw error;
    }
  };

  const waitForVerdict = async (key: string, cancelled: () => boolean): Promise<EpochVerdict> => {
    const deadline = Date.now() + VERDICT_WAIT_MS;
    while (Date.now() < deadline && !cancelled()) {
      const answer = await commands.lpop(key);
      if (answer === 'stop' || answer === 'continue') return answer;
      await new Promise((resolve) => setTimeout(resolve, VERDICT_POLL_MS));
    }
    return 'continue';
  };

  const lockDuration = options.stallSeconds * 1000;
  // Started once its processor below is defined (autorun: false).
  const worker = new Worker(TRIAL_QUEUE, (job: Job) => evaluateJob(job), {
    connection: queueConnection(queueUrl),
    concurrency,
    name: identity,
    lockDuration,
    stalledInterval: lockDuration,
    // A job whose worker dies twice is still tried once more before it fails.
    maxStalledCount: 2,
    autorun: false,
  });
  let pausedForOwnFault = false;
  /** Fails a job for this worker's own fault: it stands aside a moment, so that the job's retry goes elsewhere. */
  const ownFault = (message: string): Error => {
    if (!pausedForOwnFault) {
      pausedForOwnFault = true;
      worker.pause(true).catch(() => undefined);
      setTimeout(() => {
        pausedForOwnFault = false;
        if (!worker.closing) worker.resume();
      }, OWN_FAULT_PAUSE_MS).unref();
    }
    return new Error(message);
  };

  const evaluateJob = async (job: Job): Promise<TrialJobResult> => {
    const attempt = job.attemptsStarted;
    let read;
    try {
      read = readTrialJob(job.data, dataRoot);
    } catch (error) {
      if (error instanceof InvalidTrialJob) throw new UnrecoverableError(`${identity}: ${error.message}`);
      throw error;
    }
    const { job: trial, config, request } = read;
    if (config.evaluation.kind === 'command' && !options.allowCommands)
      throw ownFault(`${identity} runs no command trials (start it with --allow-commands to let it run ${config.evaluation.command[0]})`);
    let acquired;
    try {
      acquired = await evaluatorFor(config);
    } catch (error) {
      throw ownFault(`${identity} cannot evaluate this search's trials: ${error instanceof Error ? error.message : String(error)}`);
    }
    const { evaluator, release } = acquired;
    const workerName = `${identity}, ${evaluator.backend}`;
    let cancelled = false;
    held.set(job.id!, {
      cancel: () => {
        cancelled = true;
        if (evaluator.cancel) evaluator.cancel(request);
      },
    });
    try {
      await job.updateProgress({ type: 'started', attempt, worker: workerName } satisfies TrialProgress);
      const measurements = await evaluator.evaluate(request, (metrics) => {
        const reported = job.updateProgress({ type: 'epoch', attempt, metrics } satisfies TrialProgress);
        if (!trial.verdicts) {
          reported.catch(() => undefined);
          return 'continue';
        }
        return reported.then(() => waitForVerdict(verdictKey(job.id!, attempt, metrics.epoch), () => cancelled));
      });
      if (cancelled) throw new UnrecoverableError(`${workerName}: the engine cancelled this trial`);
      return { worker: workerName, attempt, measurements };
    } catch (error) {
      // Measured and found over max_latency_ms: the worker did its job, and the engine records the rejection with the latency.
      if (error instanceof RejectedBeforeTraining)
        return { worker: workerName, attempt, rejected: { message: error.message, latencyMs: error.latencyMs } };
      if (!(error instanceof EvaluationFailed)) throw error;
      // What the trial's own program printed goes back with the failure, as the job's log.
      if (error.log) await job.log(error.log);
      const message = `${workerName}: ${error.message}`;
      // The machine's fault (its trainer died on every try) is worth another worker's attempt; the architecture's is not.
      throw error.infrastructure ? ownFault(message) : new UnrecoverableError(message);
    } finally {
      held.delete(job.id!);
      release();
    }
  };

  worker.on('error', (error) => log(`queue: ${error.message}`));
  worker.on('failed', (job, error) => log(`trial ${job?.data?.index ?? '?'} failed here: ${error.message}`));
  worker.run().catch((error: unknown) => log(`queue: ${error instanceof Error ? error.message : String(error)}`));
  await worker.waitUntilReady();
  log(`${identity} takes trials from the queue, ${concurrency} at a time, backend ${options.backend}`);

  return {
    identity,
    async close() {
      await worker.close();
      await Promise.all(
        [...evaluators.values()].map((entry) => entry.started.then((evaluator) => evaluator.close()).catch(() => undefined)),
      );
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}
