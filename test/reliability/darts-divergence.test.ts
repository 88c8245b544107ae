// A DARTS search whose weights blow up fails with the epoch and step it diverged at, not with the
// "operation undefined" that deriving a cell from NaN alphas gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { prepareTrainingData } from '../../src/engine/evaluators/train-from-scratch.ts';
import { DartsDiverged, DartsSearch } from '../../src/engine/oneshot/darts-search.ts';
import type { DartsConfig } from '../../src/space/config.ts';
import { SMALL_DARTS_CELL } from '../support/spaces.ts';

const SPACE = SMALL_DARTS_CELL;
const DARTS: DartsConfig = {
  epochs: 1,
  batch_size: 16,
  w_learning_rate: 1e30,
  w_learning_rate_min: 1e30,
  w_momentum: 0.9,
  w_weight_decay: 3e-4,
  gradient_clip: 0,
  alpha_learning_rate: 1e30,
  alpha_weight_decay: 1e-3,
  order: 'first',
  retrain: 1,
};

test('DARTS diverging fails with "DARTS diverged at epoch e, step s"', async () => {
  await selectBackend('cpu');
  const data = prepareTrainingData(splitDataset(loadDigits(), { validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 64 }));
  const search = new DartsSearch(SPACE, DARTS, data, 1);
  const batches = Math.ceil(data.train.count / DARTS.batch_size);
  const batch = (step: number) => Int32Array.from({ length: DARTS.batch_size }, (_, k) => (step * DARTS.batch_size + k) % data.train.count);
  const validation = Int32Array.from({ length: DARTS.batch_size }, (_, k) => k % data.validation.count);
  let thrown: unknown;
  try {
    for (let step = 0; step < batches * 3; step++) await search.step(batch(step % batches), validation, DARTS.w_learning_rate);
  } catch (error) {
    thrown = error;
  } finally {
    search.dispose();
  }
  assert.ok(thrown instanceof DartsDiverged, `expected a divergence, got ${String(thrown)}`);
  assert.match(thrown.message, /^DARTS diverged at epoch \d+, step \d+/);
  assert.ok(thrown.step >= 1 && thrown.step <= batches);
});
