import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/shared/format.ts';

test('durations read as a person would write them, never "1m60s"', () => {
  assert.equal(formatDuration(4.25), '4.3s');
  assert.equal(formatDuration(59.97), '1m00s');
  assert.equal(formatDuration(119.6), '2m00s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(3 * 3600 + 7 * 60), '3h07m');
  assert.equal(formatDuration(Number.NaN), '-');
  assert.equal(formatDuration(-1), '-');
});
