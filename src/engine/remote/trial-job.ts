// A trial job as a worker reads it: untrusted input, since anyone who can write to the Redis can add one.
// Its size and fields are checked, its search file is parsed and checked by the same rules as on the
// engine, and its architecture is decoded against that file's space, never taken as given.

import type { SearchConfig } from '../../space/config.ts';
import { formatProblem, parseSearchText } from '../../space/parse.ts';
import { decodeArchitecture } from '../../space/graph.ts';
import { TRIAL_JOB_MAX_BYTES, TRIAL_JOB_VERSION, type TrialJob } from '../../protocol/queue.ts';
import type { TrialRequest } from '../evaluators/evaluator.ts';

/** A job no worker can run as it is (malformed, or another version): it fails at once, without retries elsewhere. */
export class InvalidTrialJob extends Error {
  constructor(problem: string) {
    super(`invalid trial job: ${problem}`);
    this.name = 'InvalidTrialJob';
  }
}

const MAX_DECISIONS = 10_000;

/** A run's jobs all carry the same search file: parsing it once per run, not per job, halves a worker's time per lookup. */
const PARSED_KEPT = 8;
const parsedSearches = new Map<string, ReturnType<typeof parseSearchText>>();

function parseOnce(searchText: string, searchFile: string, dataRoot: string): ReturnType<typeof parseSearchText> {
  const key = JSON.stringify([searchText, searchFile, dataRoot]);
  let parsed = parsedSearches.get(key);
  if (!parsed) {
    parsed = parseSearchText(searchText, searchFile, { baseDir: dataRoot, checkFiles: false });
    if (parsedSearches.size >= PARSED_KEPT) parsedSearches.delete(parsedSearches.keys().next().value!);
    parsedSearches.set(key, parsed);
  }
  return parsed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFields(data: unknown): TrialJob {
  if (!isObject(data)) throw new InvalidTrialJob('it is not an object');
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > TRIAL_JOB_MAX_BYTES) throw new InvalidTrialJob(`it is ${size} bytes; the limit is ${TRIAL_JOB_MAX_BYTES}`);
  if (data.version !== TRIAL_JOB_VERSION)
    throw new InvalidTrialJob(`it is version ${String(data.version)}; this worker reads version ${TRIAL_JOB_VERSION} (update one side)`);
  const { searchText, searchFile, runKey, index, runId, architecture, seed, verdicts } = data;
  if (typeof searchText !== 'string') throw new InvalidTrialJob('searchText is not a string');
  if (typeof searchFile !== 'string' || searchFile.length > 4096) throw new InvalidTrialJob('searchFile is not a path');
  if (typeof runKey !== 'string' || !/^[0-9a-f-]{1,64}$/.test(runKey)) throw new InvalidTrialJob('runKey is not a run key');
  if (!Number.isSafeInteger(index) || (index as number) < 0) throw new InvalidTrialJob('index is not a trial index');
  if (!Number.isSafeInteger(runId) || (runId as number) < 1) throw new InvalidTrialJob('runId is not a run id');
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) throw new InvalidTrialJob('seed is not a non-negative integer');
  if (typeof verdicts !== 'boolean') throw new InvalidTrialJob('verdicts is not true or false');
  if (!Array.isArray(architecture) || architecture.length > MAX_DECISIONS || !architecture.every((c) => Number.isSafeInteger(c)))
    throw new InvalidTrialJob(`architecture is not a list of at most ${MAX_DECISIONS} integers`);
  return data as unknown as TrialJob;
}

/**
 * The search and the evaluation request a job stands for. `dataRoot` is where the file's relative paths
 * resolve on this machine. Throws InvalidTrialJob when no worker could run it.
 */
export function readTrialJob(data: unknown, dataRoot: string): { job: TrialJob; config: SearchConfig; request: TrialRequest } {
  const job = checkFields(data);
  // Whether this worker has the data is found when its evaluator starts: another worker may have it.
  const parsed = parseOnce(job.searchText, job.searchFile, dataRoot);
  if (!parsed.config) throw new InvalidTrialJob(`its search file has problems:\n${parsed.problems.map(formatProblem).join('\n')}`);
  // Each job gets its own copy: an evaluator may change what it is given.
  const config = structuredClone(parsed.config);
  let graph;
  try {
    graph = decodeArchitecture(config.space, job.architecture);
  } catch (error) {
    throw new InvalidTrialJob(`its architecture does not fit its space: ${error instanceof Error ? error.message : String(error)}`);
  }
  const maxLatencyMs = config.strategy.reward.constraints?.max_latency_ms;
  const request: TrialRequest = {
    runId: job.runId,
    index: job.index,
    architecture: job.architecture,
    graph,
    space: config.space,
    seed: job.seed,
    ...(maxLatencyMs === undefined ? {} : { maxLatencyMs }),
  };
  return { job, config, request };
}
