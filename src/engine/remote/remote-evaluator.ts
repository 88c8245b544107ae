// The engine's side of the trial queue: an Evaluator whose evaluations are BullMQ jobs that `nas-studio
// worker` processes take. The engine stays the only writer of its database: epochs, workers and
// results come back through the queue's events, and a poll of each job's state covers what events
// miss (the engine's connection to Redis was down, or Redis lost its data and the job must be queued again).

import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EpochMetrics, TrialEvaluator, TrialMeasurements } from '../../protocol/engine.ts';
import {
  CANCEL_CHANNEL,
  TRIAL_JOB_VERSION,
  TRIAL_QUEUE,
  trialJobId,
  verdictKey,
  type TrialJob,
  type TrialJobResult,
  type TrialProgress,
} from '../../protocol/queue.ts';
import type { SearchConfig } from '../../space/config.ts';
import { redactedQueueUrl } from '../../space/queue-url.ts';
import {
  actOnVerdict,
  EvaluationFailed,
  RejectedBeforeTraining,
  type EpochListener,
  type EvaluationRequest,
  type Evaluator,
} from '../evaluators/evaluator.ts';
import { connectOrExplain, queueConnection, redisClient } from './connection.ts';

/** Attempts of one trial across workers (a worker that lacks its data, whose backend fails, or that died under it) before it fails. */
const JOB_ATTEMPTS = 3;
/** How many trials are queued or training at once when `runtime.in_flight` does not say. */
const DEFAULT_IN_FLIGHT = 16;
/** How often jobs whose events are late are looked up; and how late that is. */
const POLL_MS = 1000;
const LATE_MS = 2000;
/** Finished jobs stay in Redis this long, for a resume that collects them and for inspection. */
const KEEP_SECONDS = 7 * 24 * 3600;

const JOB_OPTIONS: JobsOptions = {
  attempts: JOB_ATTEMPTS,
  backoff: { type: 'fixed', delay: 1000 },
  removeOnComplete: { age: KEEP_SECONDS },
  removeOnFail: { age: KEEP_SECONDS },
};

export interface RemoteTrialsOptions {
  queueUrl: string;
  /** The run's key on the queue (Store.queueKey) and its id. */
  runKey: string;
  runId: number;
  /** The search file as the run stored it, and where it was: workers parse it again. */
  searchText: string;
  searchFile: string;
  config: SearchConfig;
  /** A worker took a trial: which, and on which attempt. */
  onWorker: (index: number, worker: string, attempt: number) => void;
  log: (message: string) => void;
}

interface Pending {
  index: number;
  data: TrialJob | undefined;
  onEpoch: EpochListener;
  resolve: (measurements: TrialMeasurements) => void;
  reject: (error: Error) => void;
  /** The attempt whose epochs count: an earlier one's late reports are dropped. */
  attempt: number;
  worker: string | undefined;
  lastHeard: number;
  checking: boolean;
}

/** The evaluator kind a search file's trials are recorded as, wherever they run. */
function recordedAs(config: SearchConfig): TrialEvaluator {
  const kind = config.evaluation.kind ?? 'train';
  return kind === 'tabular' ? 'tabular' : kind === 'command' ? 'command' : 'train-from-scratch';
}

/** A job's return value, which a worker wrote: checked before the store sees it. */
function readResult(value: unknown): TrialJobResult {
  const result = (typeof value === 'string' ? JSON.parse(value) : value) as TrialJobResult | null;
  if (result !== null && typeof result === 'object' && 'rejected' in result) {
    const { message, latencyMs } = result.rejected ?? {};
    if (typeof result.worker !== 'string' || typeof message !== 'string' || typeof latencyMs !== 'number')
      throw new Error('a worker returned a rejection without a worker, a reason and a latency');
    return result;
  }
  const measurements = result?.measurements;
  if (typeof result?.worker !== 'string' || typeof measurements?.valAccuracy !== 'number' || !Array.isArray(measurements.curve))
    throw new Error('a worker returned a result without a worker, a validation accuracy and a curve');
  return result;
}

export class RemoteEvaluator implements Evaluator {
  readonly backend = 'workers';
  readonly backendDetail: string;
  readonly size: number;
  readonly recordedAs: TrialEvaluator;
  private readonly pending = new Map<string, Pending>();
  private readonly poller: NodeJS.Timeout;
  private readonly verdicts: boolean;
  private closed = false;

  private constructor(
    private readonly options: RemoteTrialsOptions,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly client: Redis,
  ) {
    const { config } = options;
    this.size = config.runtime.in_flight ?? DEFAULT_IN_FLIGHT;
    this.recordedAs = recordedAs(config);
    this.verdicts = config.scheduler.kind !== 'none';
    this.backendDetail =
      `trials on the queue ${redactedQueueUrl(options.queueUrl)}, ${this.size} in flight; ` +
      'each trial records the worker that ran it and its backend';
    events.on('progress', ({ jobId, data }) => this.onProgress(jobId, data as TrialProgress));
    events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(jobId, returnvalue));
    events.on('failed', ({ jobId }) => void this.check(jobId));
    events.on('error', (error) => options.log(`queue events: ${error.message}`));
    queue.on('error', (error) => options.log(`queue: ${error.message}`));
    this.poller = setInterval(() => this.checkLate(), POLL_MS);
    this.poller.unref();
  }

  static async start(options: RemoteTrialsOptions): Promise<RemoteEvaluator> {
    const client = redisClient(options.queueUrl, options.log);
    await connectOrExplain(client, options.queueUrl);
    const queue = new Queue(TRIAL_QUEUE, { connection: queueConnection(options.queueUrl) });
    const events = new QueueEvents(TRIAL_QUEUE, { connection: queueConnection(options.queueUrl) });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new RemoteEvaluator(options, queue, events, client);
  }

  private jobId(index: number): string {
    return trialJobId(this.options.runKey, index);
  }

  evaluate(request: EvaluationRequest, onEpoch: EpochListener): Promise<TrialMeasurements> {
    const { runKey, runId, searchText, searchFile } = this.options;
    const index = request.index;
    if (index === undefined) throw new Error('a trial on the queue needs its index');
    const data: TrialJob = {
      version: TRIAL_JOB_VERSION,
      searchText,
      searchFile,
      runKey,
      runId,
      index,
      architecture: request.architecture,
      seed: request.seed,
      verdicts: this.verdicts,
    };
    const done = this.expect(index, data, onEpoch);
    this.add(data);
    return done;
  }

  /**
   * Follows a trial queued before this engine started (by one that was killed): resolves with its result,
   * whether it finished while no engine listened or finishes later; rejects as cancelled when the queue no
   * longer has its job.
   */
  follow(index: number, onEpoch: EpochListener): Promise<TrialMeasurements> {
    const done = this.expect(index, undefined, onEpoch);
    void this.check(this.jobId(index));
    return done;
  }

  private expect(index: number, data: TrialJob | undefined, onEpoch: EpochListener): Promise<TrialMeasurements> {
    return new Promise((resolve, reject) => {
      const entry = { index, data, onEpoch, resolve, reject, attempt: 0, worker: undefined, lastHeard: Date.now(), checking: false };
      this.pending.set(this.jobId(index), entry);
    });
  }

  private add(data: TrialJob): void {
    const jobId = this.jobId(data.index);
    this.queue.add('trial', data, { ...JOB_OPTIONS, jobId }).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      this.settle(jobId, (entry) => entry.reject(new EvaluationFailed(`it could not be put on the queue: ${reason}`, false, true)));
    });
  }

  private settle(jobId: string, act: (entry: Pending) => void): void {
    const entry = this.pending.get(jobId);
    if (!entry) return;
    this.pending.delete(jobId);
    act(entry);
  }

  private onProgress(jobId: string, progress: TrialProgress): void {
    const entry = this.pending.get(jobId);
    if (!entry || typeof progress !== 'object' || progress === null || !Number.isInteger(progress.attempt)) return;
    entry.lastHeard = Date.now();
    if (progress.attempt < entry.attempt) return;
    if (progress.attempt > entry.attempt && entry.attempt > 0)
      this.options.log(`trial ${entry.index}: attempt ${progress.attempt} started (${entry.worker ?? 'its worker'} did not finish it)`);
    entry.attempt = progress.attempt;
    if (progress.type === 'started') {
      entry.worker = String(progress.worker);
      this.options.onWorker(entry.index, entry.worker, entry.attempt);
    } else if (progress.type === 'epoch') {
      const metrics = progress.metrics as EpochMetrics;
      actOnVerdict(entry.onEpoch(metrics), (verdict) => {
        if (!this.verdicts) return;
        const key = verdictKey(jobId, progress.attempt, metrics.epoch);
        // Unread verdicts (the worker died) expire with the job's attempt.
        void this.client
          .multi()
          .rpush(key, verdict)
          .expire(key, 3600)
          .exec()
          .catch(() => undefined);
      });
    }
  }

  private onCompleted(jobId: string, returnvalue: unknown): void {
    this.settle(jobId, (entry) => {
      try {
        const result = readResult(returnvalue);
        // Recorded when the worker started it, unless that report was missed.
        if (result.worker !== entry.worker || result.attempt !== entry.attempt)
          this.options.onWorker(entry.index, result.worker, result.attempt);
        if ('rejected' in result) entry.reject(new RejectedBeforeTraining(result.rejected.message, result.rejected.latencyMs));
        else entry.resolve(result.measurements);
      } catch (error) {
        entry.reject(new EvaluationFailed(error instanceof Error ? error.message : String(error), false));
      }
    });
  }

  /** Looks a job up: settles a finished one, queues a vanished one again, and leaves a waiting or active one be. */
  private async check(jobId: string): Promise<void> {
    const entry = this.pending.get(jobId);
    if (!entry || entry.checking) return;
    entry.checking = true;
    try {
      const job = await this.queue.getJob(jobId);
      if (!job) {
        if (!entry.data) return this.settle(jobId, (gone) => gone.reject(new EvaluationFailed('its job is no longer on the queue', true)));
        this.options.log(
          `trial ${entry.index}: its job vanished from the queue (Redis lost its data: restarted without persistence?); queued again`,
        );
        this.add(entry.data);
        return;
      }
      const state = await job.getState();
      if (state === 'completed') this.onCompleted(jobId, job.returnvalue);
      else if (state === 'failed') await this.onFailed(job);
      entry.lastHeard = Date.now();
    } catch (error) {
      this.options.log(`trial ${entry.index}: could not look its job up: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      entry.checking = false;
    }
  }

  private async onFailed(job: Job): Promise<void> {
    const { logs } = await this.queue.getJobLogs(job.id!);
    this.settle(job.id!, (entry) => {
      this.options.onWorker(entry.index, entry.worker ?? 'unknown worker', job.attemptsStarted);
      const tries = job.attemptsStarted > 1 ? ` (on attempt ${job.attemptsStarted} of ${JOB_ATTEMPTS})` : '';
      const failure = new EvaluationFailed(`${job.failedReason}${tries}`, false, false, false, logs.length ? logs.join('\n') : undefined);
      entry.reject(failure);
    });
  }

  private checkLate(): void {
    const late = Date.now() - LATE_MS;
    for (const [jobId, entry] of this.pending) if (entry.lastHeard < late) void this.check(jobId);
  }

  /** Takes a trial off the queue, or asks its worker to stop it. */
  private withdraw(jobId: string, why: string): void {
    this.settle(jobId, (entry) => entry.reject(new EvaluationFailed(why, true)));
    // A job a worker holds is locked and cannot be removed: the worker hears the cancel instead.
    void this.queue.remove(jobId).catch(() => undefined);
    void this.client.publish(CANCEL_CHANNEL, jobId).catch(() => undefined);
  }

  cancel(request: EvaluationRequest): void {
    if (request.index !== undefined) this.withdraw(this.jobId(request.index), 'the trial was stopped');
  }

  cancelAll(): void {
    for (const jobId of [...this.pending.keys()]) this.withdraw(jobId, 'the search stopped before this trial was evaluated');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poller);
    for (const jobId of [...this.pending.keys()])
      this.settle(jobId, (entry) => entry.reject(new EvaluationFailed('the search ended', true)));
    await Promise.all([this.events.close(), this.queue.close()]);
    this.client.disconnect();
  }
}
