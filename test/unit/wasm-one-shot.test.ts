// A one-shot search on wasm finds the architectures it finds on cpu for the same seed. DARTS is checked
// end to end: its derived cell comes from an argmax over alphas, which the two backends' rounding
// differences (about 1e-6 relative) do not flip. ENAS is not: its controller samples children, and a
// draw that falls within 1e-6 of a probability boundary picks another child on the other backend, after
// which the two searches go separate ways (measured: the same children and losses through the first epoch,
// different ones after). Both backends' kernels are held to the cpu backend in wasm-kernels.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { inProcessEvaluator } from '../support/in-process-evaluator.ts';

const SEARCH_FILE = `name: darts-tiny
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 96 }
space: { kind: cell, nodes: 2, operations: [conv3x3, sep_conv3x3, max_pool, avg_pool, identity], cells_per_stage: 1, stages: 2, filters: 4 }
strategy: { kind: darts, epochs: 2, batch_size: 16, alpha_learning_rate: 0.01 }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 12 }
`;

test('DARTS on wasm derives the same cells as on cpu for the same seed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-wasm-one-shot-'));
  const file = join(dir, 'darts.nas.yaml');
  writeFileSync(file, SEARCH_FILE);
  const store = new Store(join(dir, 'runs.db'));
  const architectures: Record<string, string[]> = {};
  for (const backend of ['cpu', 'wasm'] as const) {
    const runId = createRunFromFile(store, file, { backend });
    assert.equal(await runSearch(store, runId, { onEvent: () => {}, startEvaluator: inProcessEvaluator }), 'done');
    assert.equal(store.getRun(runId)?.backend, backend);
    architectures[backend] = store.listTrials(runId).map((trial) => trial.key);
  }
  store.close();
  assert.ok(architectures.cpu.length > 0);
  assert.deepEqual(architectures.wasm, architectures.cpu);
});
