import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, sampleIndex, shuffledIndices } from '../../src/space/rng.ts';

test('the same seed gives the same stream, and a restored state continues it', () => {
  const a = createRng(7);
  const b = createRng(7);
  const first = [a.next(), a.next(), a.next()];
  assert.deepEqual(first, [b.next(), b.next(), b.next()]);
  const resumed = createRng(7, a.state());
  assert.equal(resumed.next(), a.next());
  assert.notEqual(createRng(8).next(), createRng(7).next());
});

test('sampleIndex follows the distribution and shuffles are permutations', () => {
  const rng = createRng(1);
  const counts = [0, 0, 0];
  for (let i = 0; i < 30000; i++) counts[sampleIndex([0.2, 0.5, 0.3], rng)]++;
  assert.ok(Math.abs(counts[1] / 30000 - 0.5) < 0.02);
  const perm = Array.from(shuffledIndices(50, rng)).sort((x, y) => x - y);
  assert.deepEqual(
    perm,
    Array.from({ length: 50 }, (_, i) => i),
  );
});
