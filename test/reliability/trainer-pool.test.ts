// A trainer process that dies is replaced and its child trained again; a child whose trainer dies
// on every attempt fails as an infrastructure fault; a trainer that dies while the search stops
// leaves its child interrupted, not failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import type { EpochMetrics } from '../../src/protocol/engine.ts';
import { EvaluationFailed } from '../../src/engine/evaluators/evaluator.ts';
import { TrainerPool } from '../../src/engine/evaluators/trainer-pool.ts';
import { decodeArchitecture } from '../../src/space/graph.ts';
import { MACRO } from '../support/spaces.ts';
import { THREE_EPOCHS_OF_ADAM } from '../support/tiny.ts';

const EVALUATION = THREE_EPOCHS_OF_ADAM;
const SPACE = { ...MACRO, strides: undefined };
const REQUEST = { architecture: Array(18).fill(1), graph: decodeArchitecture(SPACE, Array(18).fill(1)), space: SPACE, seed: 1 };

async function startPool(logs: string[] = []): Promise<TrainerPool> {
  return TrainerPool.start(
    {
      backend: 'cpu',
      dataset: { kind: 'digits', validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 128 },
      baseDir: process.cwd(),
    },
    EVALUATION,
    (message) => logs.push(message),
  );
}

const trainerProcesses = (pool: TrainerPool) => (pool as unknown as { trainers: { process: ChildProcess; job: unknown }[] }).trainers;
const busyTrainers = (pool: TrainerPool) => trainerProcesses(pool).filter((trainer) => trainer.job);

/** Kills the trainer of the first child at its first epoch, `times` times over. */
function killAtFirstEpoch(pool: TrainerPool, times: number, killAll = false): (metrics: EpochMetrics) => void {
  let kills = 0;
  return (metrics) => {
    if (metrics.epoch !== 1 || kills >= times) return;
    kills += 1;
    for (const trainer of killAll ? trainerProcesses(pool) : busyTrainers(pool).slice(0, 1)) trainer.process.kill('SIGKILL');
  };
}

test('a trainer killed mid-trial is replaced and the child trained again to the end', { timeout: 120_000 }, async () => {
  const logs: string[] = [];
  const pool = await startPool(logs);
  const size = pool.size;
  try {
    const measurements = await pool.evaluate(REQUEST, killAtFirstEpoch(pool, 1));
    assert.equal(measurements.curve.length, EVALUATION.epochs);
    assert.equal(pool.size, size, 'the pool keeps its size');
    assert.ok(
      logs.some((line) => /exited \(SIGKILL\); starting another/.test(line)),
      logs.join('\n'),
    );
  } finally {
    await pool.close();
  }
});

test('with every trainer killed, the pool restarts them and both children finish', { timeout: 120_000 }, async () => {
  const pool = await startPool();
  const size = pool.size;
  try {
    const onEpoch = killAtFirstEpoch(pool, 1, true);
    const results = await Promise.all([pool.evaluate(REQUEST, onEpoch), pool.evaluate({ ...REQUEST, seed: 2 }, onEpoch)]);
    assert.deepEqual(
      results.map((m) => m.curve.length),
      [EVALUATION.epochs, EVALUATION.epochs],
    );
    assert.equal(pool.size, size);
  } finally {
    await pool.close();
  }
});

test('a child whose trainer dies on every attempt fails as an infrastructure fault', { timeout: 120_000 }, async () => {
  const pool = await startPool();
  try {
    await assert.rejects(pool.evaluate(REQUEST, killAtFirstEpoch(pool, 2)), (error: unknown) => {
      assert.ok(error instanceof EvaluationFailed);
      assert.equal(error.infrastructure, true);
      assert.equal(error.cancelled, false);
      assert.match(error.message, /the trainer process died \(SIGKILL\).*infrastructure fault/);
      return true;
    });
    // The pool is whole again for the next child.
    assert.equal((await pool.evaluate(REQUEST, () => {})).curve.length, EVALUATION.epochs);
  } finally {
    await pool.close();
  }
});

test('a trainer that dies while the search stops leaves its child interrupted (cancelled), not failed', { timeout: 120_000 }, async () => {
  const pool = await startPool();
  try {
    const evaluation = pool.evaluate(REQUEST, (metrics) => {
      if (metrics.epoch !== 1) return;
      pool.cancelAll();
      for (const trainer of trainerProcesses(pool)) trainer.process.kill('SIGKILL');
    });
    await assert.rejects(evaluation, (error: unknown) => error instanceof EvaluationFailed && error.cancelled && !error.infrastructure);
  } finally {
    await pool.close();
  }
});

test('a child told to stop after an epoch ends there, and its trainer trains the next in full', async () => {
  const pool = await startPool();
  try {
    const epochs: number[] = [];
    const pruned = await pool.evaluate(REQUEST, (metrics) => {
      epochs.push(metrics.epoch);
      return metrics.epoch === 1 ? 'stop' : 'continue';
    });
    assert.deepEqual(epochs, [1], 'no second epoch was trained');
    assert.deepEqual(
      pruned.curve.map((e) => e.epoch),
      [1],
    );
    assert.equal(pruned.valAccuracy, pruned.curve[0].valAccuracy);
    assert.equal(pruned.testAccuracy, null, 'a pruned child is not measured on the test split');
    const full = await pool.evaluate(REQUEST, () => 'continue');
    assert.deepEqual(
      full.curve.map((e) => e.epoch),
      [1, 2, 3],
    );
  } finally {
    await pool.close();
  }
});
