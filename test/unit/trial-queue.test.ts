// What crosses the trial queue, checked without Redis: a worker reads a job as untrusted input (its size,
// its fields, its search file and its architecture), and a queue's URL is checked before anything connects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TRIAL_JOB_MAX_BYTES, TRIAL_JOB_VERSION, trialJobId, type TrialJob } from '../../src/protocol/queue.ts';
import { InvalidTrialJob, readTrialJob } from '../../src/engine/remote/trial-job.ts';
import { queueUrlProblem, redactedQueueUrl } from '../../src/space/queue-url.ts';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'nasbench201.nas.yaml');

function job(change: Partial<Record<keyof TrialJob, unknown>> = {}): Record<string, unknown> {
  return {
    version: TRIAL_JOB_VERSION,
    searchText: readFileSync(EXAMPLE, 'utf8'),
    searchFile: EXAMPLE,
    runKey: '0b7c4a52-2f4e-4c55-9f0e-3c1d2a8b9e10',
    index: 7,
    runId: 2,
    architecture: [0, 1, 2, 3, 4, 0],
    seed: 12,
    verdicts: false,
    ...change,
  };
}

test('a valid job reads as its search and a request whose graph the worker decoded from the architecture', () => {
  const { config, request } = readTrialJob(job(), '/data');
  assert.equal(config.space.kind, 'nasbench201');
  assert.equal(config.evaluation.kind, 'tabular');
  assert.deepEqual(request.architecture, [0, 1, 2, 3, 4, 0]);
  assert.equal(request.graph.kind, 'nasbench201');
  assert.equal(request.index, 7);
  assert.equal(request.runId, 2);
  assert.equal(request.seed, 12);
});

test('a malformed job is refused with what is wrong, before anything runs', () => {
  const cases: [unknown, RegExp][] = [
    [null, /not an object/],
    [[1, 2], /not an object/],
    [job({ version: 99 }), /version 99; this worker reads version 1/],
    [job({ searchText: 42 }), /searchText is not a string/],
    [job({ runKey: '../../etc' }), /runKey is not a run key/],
    [job({ index: -1 }), /index is not a trial index/],
    [job({ runId: 0 }), /runId is not a run id/],
    [job({ seed: 1.5 }), /seed is not a non-negative integer/],
    [job({ verdicts: 'yes' }), /verdicts is not true or false/],
    [job({ architecture: [0, 'rm -rf'] }), /architecture is not a list/],
    [job({ architecture: Array.from({ length: 10_001 }, () => 0) }), /at most 10000 integers/],
    [job({ searchText: 'x'.repeat(TRIAL_JOB_MAX_BYTES) }), /bytes; the limit is 1048576/],
    [
      job({ searchText: 'name: broken\nspace: { kind: nowhere }\n' }),
      /its search file has problems:\n[^]*nasbench201\.nas\.yaml:2:16: space.kind: unknown value "nowhere"/,
    ],
    [job({ architecture: [0, 1, 2, 3, 4, 9] }), /its architecture does not fit its space: choice 9 of decision/],
    [job({ architecture: [0, 1] }), /architecture has 2 choices; the space has 6 decisions/],
  ];
  for (const [data, message] of cases) {
    assert.throws(
      () => readTrialJob(data, '/data'),
      (error: Error) => error instanceof InvalidTrialJob && message.test(error.message),
    );
  }
});

test('job ids hold no colon (BullMQ refuses them) and name the run and the trial', () => {
  assert.equal(trialJobId('0b7c4a52-2f4e', 3), '0b7c4a52-2f4e-3');
  assert.ok(!trialJobId('0b7c4a52-2f4e', 3).includes(':'));
});

test("a queue URL is Redis's, with a host and a numeric database; logs never show its password", () => {
  assert.equal(queueUrlProblem('redis://127.0.0.1:6379/0'), undefined);
  assert.equal(queueUrlProblem('rediss://:secret@cache.example:6380/2'), undefined);
  assert.equal(queueUrlProblem('redis://cache.example'), undefined);
  assert.match(queueUrlProblem('http://cache.example/0')!, /a Redis URL \(redis:\/\/ or rediss:\/\/\), not http:\/\//);
  assert.match(queueUrlProblem('redis://cache.example:port/0')!, /is not a URL/);
  assert.match(queueUrlProblem('redis://cache.example/jobs')!, /the database in redis:\/\/cache.example\/jobs is "jobs", not a number/);
  assert.equal(redactedQueueUrl('redis://:secret@cache.example:6380/2'), 'redis://:***@cache.example:6380/2');
  assert.equal(redactedQueueUrl('rediss://user:secret@cache.example/0'), 'rediss://user:***@cache.example/0');
  assert.ok(!queueUrlProblem('ftp://user:secret@host/0')!.includes('secret'));
});
