import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatPerplexity, logTail, trialStatusLabel } from '../../src/shared/format.ts';

test('durations read as a person would write them, never "1m60s"', () => {
  assert.equal(formatDuration(4.25), '4.3s');
  assert.equal(formatDuration(59.97), '1m00s');
  assert.equal(formatDuration(119.6), '2m00s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(3 * 3600 + 7 * 60), '3h07m');
  assert.equal(formatDuration(Number.NaN), '-');
  assert.equal(formatDuration(-1), '-');
});

test("a log's tail: its last lines without the final newline, and how many came before them", () => {
  const log = Array.from({ length: 6 }, (_, i) => `line ${i + 1}`).join('\r\n') + '\r\n';
  assert.deepEqual(logTail(log, 4), { text: 'line 3\nline 4\nline 5\nline 6', earlierLines: 2 });
  assert.deepEqual(logTail(log, 6), { text: 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6', earlierLines: 0 });
  assert.deepEqual(logTail('one line', 400), { text: 'one line', earlierLines: 0 });
});

test("a pruned trial's status says the epoch it stopped at; every other status reads as it is", () => {
  assert.equal(trialStatusLabel({ status: 'pruned', epochsTrained: 2 }), 'pruned @ epoch 2');
  assert.equal(trialStatusLabel({ status: 'done', epochsTrained: 3 }), 'done');
  assert.equal(trialStatusLabel({ status: 'failed', epochsTrained: 1 }), 'failed');
});

test('a perplexity has two decimals; one not measured (the test of a pruned trial, an image classifier) is "-"', () => {
  assert.equal(formatPerplexity(12.345), '12.35');
  assert.equal(formatPerplexity(1), '1.00');
  assert.equal(formatPerplexity(null), '-');
  assert.equal(formatPerplexity(undefined), '-');
  assert.equal(formatPerplexity(Number.POSITIVE_INFINITY), '-');
});
