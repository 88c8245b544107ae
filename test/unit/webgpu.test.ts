// The webgpu backend (Dawn) against the project's cpu backend: a cell child with every operation and a
// macro child with skips (gradients and 3 Adam steps), a supernet step and a second-order DARTS step (sums
// of more tensors than a shader binds by default), a whole ENAS search, and a real trial's epoch in a
// trainer process (any synchronous read of a GPU tensor throws in Node). It needs a WebGPU adapter: in CI,
// Mesa 25's lavapipe, unpacked by scripts/lavapipe.sh; elsewhere each test is skipped with the reason.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/engine/backend.ts';
import { takeGpuFault, webgpuBackendKind } from '../../src/engine/backends/webgpu.ts';
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDigits } from '../../src/engine/data/digits.ts';
import { batchOf, prepareTrainingData, trainingGradients } from '../../src/engine/evaluators/train-from-scratch.ts';
import { TrainerPool } from '../../src/engine/evaluators/trainer-pool.ts';
import { buildModel } from '../../src/engine/model/build.ts';
import { DartsSearch } from '../../src/engine/oneshot/darts-search.ts';
import { SharedOptimizer } from '../../src/engine/oneshot/shared-optimizer.ts';
import { Supernet } from '../../src/engine/oneshot/supernet.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { CELL_OPERATIONS, trainingSetup, type CellSpaceConfig, type DartsConfig, type SpaceConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture, type ArchitectureGraph } from '../../src/space/graph.ts';
import { CELL, MACRO, SMALL_DARTS, SMALL_DARTS_CELL } from '../support/spaces.ts';
import { inProcessEvaluator } from '../support/in-process-evaluator.ts';

const TOLERANCE = 1e-3;
const data = prepareTrainingData(splitDataset(loadDigits(), { validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 128 }));

/** Starts webgpu (any adapter, lavapipe included), then cpu; undefined when both run, else why the tests skip. */
const backends: Promise<string | undefined> = (async () => {
  const started = await webgpuBackendKind.start('named');
  if (!started.started) return `no WebGPU adapter here (${started.failure}); for a software one: eval "$(bash scripts/lavapipe.sh)"`;
  console.log(`webgpu: ${started.detail}`);
  await selectBackend('cpu');
  return undefined;
})();

/**
 * Skips the test, printing why, when there is no adapter; afterwards every test switches backends itself.
 * A test that ran must leave no Dawn error behind: a rejected pipeline computes nothing, silently.
 */
async function needsGpu(t: TestContext): Promise<boolean> {
  const reason = await backends;
  if (reason === undefined) {
    t.after(() => assert.equal(takeGpuFault()?.message, undefined));
    return true;
  }
  console.log(`SKIP webgpu tests: ${reason}`);
  t.skip(reason);
  return false;
}

/** Asserts each array's largest difference, relative to the cpu run's largest magnitude, within TOLERANCE; prints the worst. */
function assertClose(gpu: Record<string, ArrayLike<number>>, cpu: Record<string, ArrayLike<number>>, what: string): void {
  assert.deepEqual(Object.keys(gpu), Object.keys(cpu));
  let worst = { gap: 0, name: '' };
  for (const [name, expected] of Object.entries(cpu)) {
    const actual = gpu[name];
    assert.equal(actual.length, expected.length, `${what} ${name}: length`);
    let scale = 1e-6;
    let gap = 0;
    for (let i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      gap = Math.max(gap, Math.abs(actual[i] - expected[i]));
    }
    assert.ok(gap / scale <= TOLERANCE, `${what} ${name}: webgpu differs from cpu by ${(gap / scale).toExponential(2)} of its scale`);
    if (gap / scale >= worst.gap) worst = { gap: gap / scale, name };
  }
  console.log(`${what}: worst relative gap webgpu vs cpu ${worst.gap.toExponential(2)} (${worst.name})`);
}

const firstIndices = (count: number, offset = 0) => Int32Array.from({ length: count }, (_, i) => (offset + i) % data.train.count);

/** A cell child whose two cells use every operation, and a macro child with strides and every skip. */
function childGraphs(): { name: string; space: SpaceConfig; graph: ArchitectureGraph }[] {
  let operation = 0;
  const cell = compileSpace(CELL).map((decision, i) => (decision.name.includes('.op_') ? operation++ % CELL_OPERATIONS.length : i % 2));
  const macro = compileSpace(MACRO).map((decision, i) =>
    decision.name.includes('input_from') ? 1 : decision.name.endsWith('stride') ? i % 2 : i % decision.options.length,
  );
  return [
    { name: 'cell child, every operation, batch norm', space: CELL, graph: decodeArchitecture(CELL, cell) },
    { name: 'macro child with skips and strides', space: MACRO, graph: decodeArchitecture(MACRO, macro) },
  ];
}

/** The first step's gradients and the weights and losses after 3 Adam steps, on the given backend. */
async function threeAdamSteps(backend: string, space: SpaceConfig, graph: ArchitectureGraph) {
  await tf.setBackend(backend);
  const model = await buildModel(graph, space, { inputShape: data.shape, classes: data.classes, seed: 5 });
  const weights = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const optimizer = new SharedOptimizer('adam', 0.01);
  const gradients: Record<string, Float32Array> = {};
  const losses: number[] = [];
  for (let step = 0; step < 3; step++) {
    const batch = batchOf(data.train, firstIndices(32, step * 32));
    const { loss, grads, hits } = trainingGradients(model, weights, batch.images, batch.oneHot, 0);
    // Keyed by position: layer names count up with every model built.
    if (step === 0) for (const [i, weight] of weights.entries()) gradients[`w${i}`] = (await grads[weight.name].data()) as Float32Array;
    optimizer.apply(weights.map((weight) => ({ name: weight.name, weight, gradient: grads[weight.name] })));
    losses.push((await loss.data())[0]);
    tf.dispose([loss, hits, batch.images, batch.oneHot, ...Object.values(grads)]);
  }
  const after: Record<string, Float32Array> = {};
  for (const [i, weight] of weights.entries()) after[`w${i}`] = (await weight.data()) as Float32Array;
  optimizer.dispose();
  model.dispose();
  return { gradients, after, losses: { losses } };
}

for (const { name, space, graph } of childGraphs()) {
  test(`webgpu matches cpu on a ${name}: gradients and 3 Adam steps, to ${TOLERANCE}`, async (t) => {
    if (!(await needsGpu(t))) return;
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    const cpu = await threeAdamSteps('cpu', space, graph);
    const gpu = await threeAdamSteps('webgpu', space, graph);
    assertClose(gpu.gradients, cpu.gradients, 'gradient');
    assertClose(gpu.losses, cpu.losses, 'loss');
    assertClose(gpu.after, cpu.after, 'weight after 3 steps');
    assert.ok(cpu.losses.losses.every(Number.isFinite));
  });
}

test('webgpu matches cpu on a supernet step through a 7-operation cell child', async (t) => {
  if (!(await needsGpu(t))) return;
  const space: CellSpaceConfig = { ...SMALL_DARTS_CELL, operations: [...CELL_OPERATIONS] };
  const graph = childGraphs()[0].graph;
  const cellGraph = decodeArchitecture(
    space,
    compileSpace(space).map((decision, i) => (decision.name.includes('.op_') ? i % 7 : 0)),
  );
  assert.equal(graph.kind, 'cell');
  const step = async (backend: string) => {
    await tf.setBackend(backend);
    const supernet = new Supernet(space, { inputShape: data.shape, classes: data.classes, seed: 3 });
    const batch = batchOf(data.train, firstIndices(32));
    const { value, grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(batch.oneHot, supernet.forward(cellGraph, batch.images).logits) as tf.Scalar,
      supernet.variables,
    );
    const gradients: Record<string, Float32Array> = { loss: (await value.data()) as Float32Array };
    for (const variable of supernet.variables)
      if (grads[variable.name]) gradients[supernet.localName(variable)] = (await grads[variable.name].data()) as Float32Array;
    tf.dispose([value, batch.images, batch.oneHot, ...Object.values(grads)]);
    supernet.dispose();
    return gradients;
  };
  assertClose(await step('webgpu'), await step('cpu'), 'supernet');
});

const DARTS: DartsConfig = { ...SMALL_DARTS, epochs: 1, order: 'second' };

test('webgpu matches cpu on a second-order DARTS step over 7 operations (sums of more tensors than a shader binds)', async (t) => {
  if (!(await needsGpu(t))) return;
  const space: CellSpaceConfig = { ...SMALL_DARTS_CELL, operations: [...CELL_OPERATIONS] };
  const step = async (backend: string) => {
    await tf.setBackend(backend);
    const search = new DartsSearch(space, DARTS, data, 4);
    const { loss } = await search.step(firstIndices(16), firstIndices(16, 16), DARTS.w_learning_rate);
    const values: Record<string, Float32Array | number[]> = {
      loss: [loss],
      normal: (await search.supernet.alphas.normal.data()) as Float32Array,
      reduction: (await search.supernet.alphas.reduction.data()) as Float32Array,
    };
    for (const [i, weight] of search.supernet.weights.entries()) values[`w${i}`] = (await weight.data()) as Float32Array;
    search.dispose();
    return values;
  };
  const gpu = await step('webgpu');
  const cpu = await step('cpu');
  assert.ok(Object.keys(cpu).length > 16, 'the gradient norm sums more tensors than one shader binds');
  assertClose(gpu, cpu, 'after the DARTS step');
});

test('a whole ENAS search runs on webgpu, its controller on the cpu backend beside the supernet', async (t) => {
  if (!(await needsGpu(t))) return;
  await tf.setBackend('cpu');
  const dir = mkdtempSync(join(tmpdir(), 'nas-webgpu-enas-'));
  const file = join(dir, 'enas.nas.yaml');
  writeFileSync(
    file,
    `name: webgpu-enas
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 64 }
space: { kind: cell, nodes: 2, operations: [conv3x3, sep_conv3x3, max_pool, avg_pool, identity], cells_per_stage: 1, stages: 2, filters: 4 }
strategy: { kind: enas, epochs: 1, batch_size: 32, children_per_epoch: 2, final_samples: 2, controller: { hidden: 8, batch_size: 2 } }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
runtime: { backend: webgpu, seed: 3 }
`,
  );
  const store = new Store(join(dir, 'runs.db'));
  const runId = createRunFromFile(store, file, {});
  const logs: string[] = [];
  const status = await runSearch(store, runId, {
    onEvent: (event) => void (event.type === 'log' && logs.push(event.message)),
    startEvaluator: inProcessEvaluator,
  });
  assert.equal(status, 'done', logs.join('\n'));
  assert.equal(store.getRun(runId)?.backend, 'webgpu');
  const trials = store.listTrials(runId);
  assert.equal(trials.length, 5, 'two scored children, two final samples, one retrained');
  assert.ok(
    trials.every(
      (trial) => trial.status === 'done' && (trial.retrainedFrom === null ? Number.isFinite(trial.reward) : trial.reward === null),
    ),
    JSON.stringify(trials.map((trial) => [trial.status, trial.reward, trial.retrainedFrom])),
  );
  store.close();
});

test('a real trial trains a whole epoch on webgpu in a trainer process', async (t) => {
  if (!(await needsGpu(t))) return;
  const evaluation = trainingSetup(
    (await import('../../src/space/parse.ts')).parseSearchText(
      `name: t
dataset: { kind: digits }
space: { kind: cell, nodes: 2, operations: [conv3x3, sep_conv3x3, max_pool, avg_pool, identity], cells_per_stage: 1, stages: 2, filters: 4 }
strategy: { kind: random }
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
`,
      't.nas.yaml',
    ).config!,
  ).evaluation;
  const logs: string[] = [];
  const pool = await TrainerPool.start(
    {
      backend: 'webgpu',
      dataset: { kind: 'digits', validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 256 },
      baseDir: process.cwd(),
    },
    evaluation,
    (message) => logs.push(message),
  );
  try {
    assert.equal(pool.backend, 'webgpu', pool.backendDetail);
    assert.equal(pool.size, 1, 'one trainer per GPU by default');
    const graph = childGraphs()[0].graph;
    const epochs: number[] = [];
    const measured = await pool.evaluate({ architecture: [], graph, space: CELL, seed: 1 }, (metrics) => void epochs.push(metrics.epoch));
    assert.deepEqual(epochs, [1]);
    assert.ok(measured.valAccuracy >= 0 && measured.valAccuracy <= 1);
    assert.ok(Number.isFinite(measured.curve[0].trainLoss));
  } finally {
    await pool.close();
  }
});
