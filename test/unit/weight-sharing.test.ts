// ENAS and random-ws runs end to end on a tiny space, with real tfjs and a real SQLite store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeightSharingState } from '../../src/engine/oneshot/weight-sharing.ts';
import { createRunFromFile } from '../../src/engine/search.ts';
import { controllerInsight } from '../../src/engine/analysis/controller-insight.ts';
import { Store } from '../../src/engine/store/store.ts';
import type { EngineEvent } from '../../src/protocol/engine.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { assertResumesAsIfNeverStopped, searchMaybeStopped } from '../support/stopped-search.ts';
import { inProcessEvaluator } from '../support/in-process-evaluator.ts';
import { retrainTrial } from '../../src/engine/retrain.ts';

function searchText(kind: 'enas' | 'random-ws', extra = ''): string {
  const controller = kind === 'enas' ? ', controller: { hidden: 8, batch_size: 2, learning_rate: 0.01 }' : '';
  return `name: tiny-${kind}
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 96 }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: { kind: ${kind}, epochs: 2, batch_size: 32, children_per_epoch: 4, final_samples: 3${controller} }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 7 }
${extra}`;
}

const search = (kind: 'enas' | 'random-ws', stopWhen?: (event: EngineEvent) => boolean, text = searchText(kind)) =>
  searchMaybeStopped(text, stopWhen);

const trialSummary = (store: Store, runId: number) =>
  store
    .listTrials(runId)
    .map((t) => ({ index: t.index, evaluator: t.evaluator, status: t.status, architecture: t.architecture, reward: t.reward }));

test(
  'an enas run: scored children are shared-weights trials, the controller learns from them, the ' + 'best final sample is retrained',
  async () => {
    const { store, runId, events, statuses } = await search('enas');
    assert.deepEqual(statuses, ['done']);
    const trials = store.listTrials(runId);
    // 2 epochs x 4 children + 3 final samples + 1 retrained.
    assert.equal(trials.length, 12);
    assert.equal(store.getRun(runId)?.budgetTrials, 12);
    assert.ok(trials.slice(0, 11).every((t) => t.evaluator === 'shared-weights' && t.status === 'done' && (t.metrics?.params ?? 0) > 0));
    const retrained = trials[11];
    assert.equal(retrained.evaluator, 'train-from-scratch');
    const finals = trials.slice(8, 11);
    const best = finals.reduce((a, b) => (b.reward! > a.reward! ? b : a));
    assert.deepEqual(retrained.architecture, best.architecture);
    // Retrained with the final recipe (twice the search's epoch), as `nas-studio retrain` does: no reward, its weights kept.
    assert.equal(retrained.retrainedFrom, best.index);
    assert.equal(retrained.reward, null);
    assert.equal(store.trialEpochs(runId, 11).length, 2);
    assert.ok(retrained.weightsPath !== null && retrained.metrics?.testAccuracy !== null);
    // batch_size 2: one REINFORCE update per two scored children during training.
    assert.deepEqual(
      store.controllerSteps(runId).map((s) => s.step),
      [1, 2, 3, 4],
    );
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'run-started');
    assert.equal(types.at(-1), 'run-finished');
    assert.equal(types.filter((t) => t === 'trial-finished').length, 12);
    assert.equal(types.filter((t) => t === 'controller-step').length, 4);
    // Another pick retrained after the search, as "Retrain…" does: a new trial of the run, the search's count unchanged.
    const again = await retrainTrial(store, runId, {
      trial: finals[0].index,
      recipe: { epochs: 1 },
      onEvent: () => {},
      startEvaluator: inProcessEvaluator,
    });
    assert.deepEqual([again.index, again.retrainedFrom, again.status, again.epochsTrained], [12, finals[0].index, 'done', 1]);
    assert.ok(again.weightsPath !== null);
    assert.equal(store.getRun(runId)?.trialsDone, 12);
    store.close();
  },
);

test(
  'a stopped enas run resumes from its checkpoint (supernet, optimizer moments, controller and ' + 'its Adam state) as if never stopped',
  async () => {
    let finished = 0;
    // Stopped mid-epoch of scoring, with one child told but not yet learned from (REINFORCE batch 2).
    const stopWhen = (event: EngineEvent) => event.type === 'trial-finished' && ++finished === 3;
    const state = await assertResumesAsIfNeverStopped(searchText('enas'), stopWhen, trialSummary);
    assert.ok(state.optimizer.slots.length > 0);
  },
);

test('random-ws scores uniform children on the same supernet and never updates a controller; a stop right away resumes too', async () => {
  const straight = await search('random-ws');
  const resumed = await search('random-ws', (event) => event.type === 'run-started' && event.resumed === false);
  assert.deepEqual(resumed.statuses, ['stopped', 'done']);
  assert.deepEqual(trialSummary(resumed.store, resumed.runId), trialSummary(straight.store, straight.runId));
  assert.equal(straight.store.controllerSteps(straight.runId).length, 0);
  assert.equal(straight.store.listTrials(straight.runId).length, 12);
  straight.store.close();
  resumed.store.close();
});

test('shared weights learn: after 4 epochs of random-ws on the digits its final children score far above chance (0.1)', async () => {
  // Every child trains only its own paths, so learning slows as the paths multiply; 2 operations on
  // 1 node keep this quick, and a supernet whose children did not train would stay near chance.
  const text = `name: learning-random-ws
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1 }
space: { kind: cell, nodes: 1, operations: [conv3x3, identity], cells_per_stage: 1, stages: 2, filters: 8 }
strategy: { kind: random-ws, epochs: 4, batch_size: 32, learning_rate: 0.01, children_per_epoch: 1, final_samples: 5 }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
runtime: { backend: cpu, seed: 3 }
`;
  const { store, runId, statuses } = await search('random-ws', undefined, text);
  assert.deepEqual(statuses, ['done']);
  const finalFrom = (store.latestCheckpoint(runId)!.state as WeightSharingState).progress.finalFrom!;
  const finals = store.listTrials(runId).filter((t) => t.evaluator === 'shared-weights' && t.index >= finalFrom);
  assert.equal(finals.length, 5);
  const mean = finals.reduce((sum, t) => sum + t.metrics!.valAccuracy, 0) / finals.length;
  assert.ok(mean > 0.5, `mean shared-weight validation accuracy of the final children ${mean.toFixed(3)}`);
  store.close();
});

test('budget.trials of a weight-sharing search follows from its strategy; a contradicting one is a positioned problem', () => {
  const parsed = parseSearchText(searchText('enas'), 'tiny.nas.yaml');
  assert.equal(parsed.config?.budget.trials, 12);
  const contradicted = parseSearchText(searchText('random-ws', 'budget: { trials: 20 }\n'), 'tiny.nas.yaml');
  assert.equal(contradicted.problems[0]?.rule, 'oneshot-budget');
  assert.equal(contradicted.problems[0]?.line, 7);
  const starved = parseSearchText(searchText('enas').replace('batch_size: 2', 'batch_size: 9'), 'tiny.nas.yaml');
  assert.equal(starved.problems[0]?.rule, 'budget-batch');
  // ENAS's controller takes a memory buffer, checked as REINFORCE's.
  const withBuffer = (buffer: string) =>
    parseSearchText(
      searchText('enas').replace('learning_rate: 0.01 }', `learning_rate: 0.01, memory_buffer: ${buffer} }`),
      'tiny.nas.yaml',
    );
  const buffered = withBuffer('{ size: 8, batch_size: 4 }');
  assert.deepEqual(buffered.problems, []);
  assert.equal(buffered.config?.strategy.kind === 'enas' && buffered.config.strategy.controller.memory_buffer?.size, 8);
  assert.equal(withBuffer('{ size: 6, add_per_step: 2, replace: 2, batch_size: 9 }').problems[0]?.rule, 'buffer-batch-size');
});

test('--trials is refused for a one-shot search, and no run is created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-ws-'));
  const file = join(dir, 'tiny.nas.yaml');
  writeFileSync(file, searchText('random-ws'));
  const store = new Store(join(dir, 'runs.db'));
  assert.throws(
    () => createRunFromFile(store, file, { trials: 5 }),
    /--trials does not apply to a random-ws search, whose trials follow from its strategy \(12 here\)/,
  );
  assert.deepEqual(store.listRuns(), []);
  store.close();
});

test('an enas run records the controller hidden state of every sampled child, and controller insight analyses its controller', async () => {
  const { store, runId } = await search('enas');
  const sampled = store.listTrials(runId).filter((t) => t.evaluator === 'shared-weights');
  assert.deepEqual(
    store.hiddenStates(runId).map((h) => h.index),
    sampled.map((t) => t.index),
  );
  const insight = await controllerInsight(store, runId, 20);
  assert.equal(insight.trainedAs, 'unsupervised');
  assert.ok(Number.isFinite(insight.spearman.unsupervised?.common_ops));
  assert.equal(insight.spearman.supervised, null);
  store.close();
});
