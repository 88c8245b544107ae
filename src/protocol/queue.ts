// The trial queue between a search's engine and `nas-studio worker` processes: BullMQ jobs on Redis.
// A job is plain JSON that the worker checks as untrusted input (anyone who can write to the Redis can
// add one); its progress carries the worker's identity and each epoch, and its return value the result.

import type { EpochMetrics, TrialMeasurements } from './engine.ts';

/** The BullMQ queue every search and worker on one Redis database share. */
export const TRIAL_QUEUE = 'nas-studio-trials';

/** Bumped when a job's shape changes: a worker refuses a job of another version, saying which. */
export const TRIAL_JOB_VERSION = 1;

/** The largest job a worker accepts, as JSON: a search file is a few kilobytes. */
export const TRIAL_JOB_MAX_BYTES = 1 << 20;

export interface TrialJob {
  version: number;
  /** The search file as its run stored it: the worker parses and checks it again, as the engine did. */
  searchText: string;
  /** The file's path on the engine's machine, for messages. */
  searchFile: string;
  /** The run's queue key and the trial's index: together, the job's id. */
  runKey: string;
  index: number;
  /** The run's id in the engine's database, as a trial's own program sees it. */
  runId: number;
  architecture: number[];
  seed: number;
  /** True when the engine answers each epoch (an early-stopping scheduler): the worker waits for the verdict. */
  verdicts: boolean;
}

/** What a job's progress reports: which worker took it (on each attempt), then each finished epoch. */
export type TrialProgress =
  { type: 'started'; attempt: number; worker: string } | { type: 'epoch'; attempt: number; metrics: EpochMetrics };

/** A job's return value: the child's measurements, or why it was rejected before training (over max_latency_ms) and its latency. */
export type TrialJobResult = { worker: string; attempt: number } & (
  { measurements: TrialMeasurements } | { rejected: { message: string; latencyMs: number } }
);

/** BullMQ job ids may not hold ':'; a run key is a UUID. */
export function trialJobId(runKey: string, index: number): string {
  return `${runKey}-${index}`;
}

/** Where the engine pushes its verdict on one epoch of one attempt, for the worker to pop. */
export function verdictKey(jobId: string, attempt: number, epoch: number): string {
  return `${TRIAL_QUEUE}:verdict:${jobId}:${attempt}:${epoch}`;
}

/** Where the engine publishes the id of a job it no longer wants (the search stopped, or the trial was cancelled). */
export const CANCEL_CHANNEL = `${TRIAL_QUEUE}:cancel`;
