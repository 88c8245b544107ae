// Every multi-trial strategy searches a recurrent space on a text file unchanged: its trials are
// language models scored by c / perplexity^3, and the budget is spent. Children train in this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { inProcessEvaluator } from '../support/in-process-evaluator.ts';

const STRATEGIES = [
  '{ kind: random }',
  '{ kind: reinforce, controller: { batch_size: 2 } }',
  '{ kind: evolution, population_size: 3, sample_size: 2 }',
  '{ kind: local }',
  '{ kind: bayesian, initial: 2 }',
];

function searchFile(strategy: string, scheduler = '{ kind: none }'): string {
  const dir = mkdtempSync(join(tmpdir(), 'nas-recurrent-search-'));
  // A rhyme repeated, with a line number now and then so that the text is not one period.
  const lines = Array.from({ length: 120 }, (_, i) => (i % 7 === 0 ? `${i} ` : '') + 'the cat sat on the mat.');
  writeFileSync(join(dir, 'rhyme.txt'), lines.join('\n'));
  const file = join(dir, 'lm.nas.yaml');
  writeFileSync(
    file,
    `name: lm
dataset: { kind: text, path: rhyme.txt, validation_split: 0.1, test_split: 0.1 }
space: { kind: recurrent, nodes: 3, hidden: 8 }
strategy: ${strategy}
evaluation: { epochs: 2, batch_size: 4, bptt: 8, learning_rate: 0.01 }
scheduler: ${scheduler}
budget: { trials: 4 }
runtime: { backend: cpu, seed: 2 }
`,
  );
  return file;
}

for (const strategy of STRATEGIES) {
  test(`${strategy} searches a recurrent cell on text`, async () => {
    const store = new Store(':memory:');
    const runId = createRunFromFile(store, searchFile(strategy), {});
    const status = await runSearch(store, runId, { onEvent: () => undefined, startEvaluator: inProcessEvaluator });
    assert.equal(status, 'done');
    const trials = store.listTrials(runId);
    assert.equal(trials.length, 4);
    for (const trial of trials) {
      assert.equal(trial.status, 'done', trial.error ?? '');
      assert.equal(trial.graph.kind, 'recurrent');
      const { valPerplexity, testPerplexity } = trial.metrics!;
      assert.ok(valPerplexity! > 1 && Number.isFinite(valPerplexity), `validation perplexity ${valPerplexity}`);
      assert.ok(testPerplexity! > 1, `test perplexity ${testPerplexity}`);
      assert.ok(Math.abs(trial.reward! - 80 / valPerplexity! ** 3) < 1e-9);
      assert.equal(trial.epochsTrained, 2);
    }
    store.close();
  });
}

test('ASHA prunes language models by their validation curve', async () => {
  const store = new Store(':memory:');
  const file = searchFile('{ kind: random }', '{ kind: asha, min_epochs: 1, reduction_factor: 2 }');
  const runId = createRunFromFile(store, file, {});
  assert.equal(await runSearch(store, runId, { onEvent: () => undefined, startEvaluator: inProcessEvaluator }), 'done');
  const statuses = store.listTrials(runId).map((trial) => trial.status);
  assert.equal(statuses.length, 4);
  assert.ok(statuses.includes('pruned') && statuses.includes('done'), statuses.join(', '));
  store.close();
});
