import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend.ts';
import { buildModel } from '../../src/engine/model/build.ts';
import type { SearchConfig, SpaceConfig } from '../../src/space/config.ts';
import { countParameters, estimateSpace, formatArchitectureCount, formatParameterCount } from '../../src/space/estimate.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { createRng } from '../../src/space/rng.ts';
import { CELL, MACRO } from '../support/spaces.ts';
import { PLAIN_RECIPE } from '../support/tiny.ts';

function configWith(space: SpaceConfig): SearchConfig {
  return {
    name: 'estimate',
    dataset: { kind: 'digits', validation_split: 0.2, test_split: 0.1, seed: 1 },
    space,
    strategy: { kind: 'random', reward: { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 } },
    evaluation: { kind: 'train', epochs: 1, batch_size: 64, optimizer: 'adam', learning_rate: 0.001, reward_epochs: 1, ...PLAIN_RECIPE },
    scheduler: { kind: 'none' },
    budget: { trials: 1 },
    runtime: { backend: 'cpu', seed: 1 },
  };
}

test('the parameter count from shapes alone equals the built tfjs model', async () => {
  await selectBackend('cpu');
  const rng = createRng(5);
  const cases: Array<[SpaceConfig, [number, number, number]]> = [
    [MACRO, [8, 8, 1]],
    [{ ...MACRO, skip_connections: false, strides: undefined }, [28, 28, 1]],
    [CELL, [8, 8, 1]],
    [{ ...CELL, nodes: 2, stages: 3, cells_per_stage: 2 }, [9, 7, 3]],
    // `auto` pools from 16x16 up; either head can be asked for at any size.
    [{ ...CELL, nodes: 2, stages: 2, cells_per_stage: 1 }, [16, 16, 3]],
    [{ ...CELL, nodes: 2, stages: 2, cells_per_stage: 1, head: 'flatten' }, [16, 16, 3]],
    [{ ...MACRO, head: 'gap' }, [8, 8, 1]],
  ];
  for (const [space, shape] of cases) {
    const decisions = compileSpace(space);
    for (let i = 0; i < 6; i++) {
      const graph = decodeArchitecture(
        space,
        decisions.map((d) => rng.int(d.options.length)),
      );
      const model = await buildModel(graph, space, { inputShape: shape, classes: 10, seed: 1 });
      try {
        assert.equal(countParameters(graph, space, { shape, classes: 10 }), model.countParams(), `${space.kind} ${shape.join('x')}`);
      } finally {
        model.dispose();
      }
    }
  }
});

test('the estimated parameter range is the exact range of a space small enough to enumerate', () => {
  const space: SpaceConfig = {
    kind: 'macro',
    layers: 3,
    filter_heights: [1, 3],
    filter_widths: [1, 5],
    filters: [4, 16],
    strides: [1, 2],
    skip_connections: true,
    batch_norm: true,
    head: 'auto',
  };
  const config = configWith(space);
  const decisions = compileSpace(space);
  let min = Infinity;
  let max = 0;
  const visit = (prefix: number[]) => {
    if (prefix.length === decisions.length) {
      const count = countParameters(decodeArchitecture(space, prefix), space, { shape: [8, 8, 1], classes: 10 });
      min = Math.min(min, count);
      max = Math.max(max, count);
      return;
    }
    for (let option = 0; option < decisions[prefix.length].options.length; option++) visit([...prefix, option]);
  };
  visit([]);
  const estimate = estimateSpace(config);
  assert.deepEqual(estimate.parameters, { min, max });
  assert.equal(Math.round(10 ** estimate.log10Architectures), 2 ** decisions.length);
});

test('the range brackets every sampled child of a large cell space', () => {
  const config = configWith(CELL);
  const estimate = estimateSpace(config);
  const decisions = compileSpace(CELL);
  const rng = createRng(2);
  for (let i = 0; i < 300; i++) {
    const count = countParameters(
      decodeArchitecture(
        CELL,
        decisions.map((d) => rng.int(d.options.length)),
      ),
      CELL,
      estimate.image!,
    );
    const { min, max } = estimate.parameters!;
    assert.ok(count >= min && count <= max, `${count} outside ${min}..${max}`);
  }
});

test('counts read at a glance', () => {
  assert.equal(formatArchitectureCount(Math.log10(331776)), '331,776');
  assert.equal(formatArchitectureCount(Math.log10(1.6e15)), '1.6e15');
  assert.equal(formatParameterCount(950), '950');
  assert.equal(formatParameterCount(5_432), '5.4k');
  assert.equal(formatParameterCount(175_000), '175k');
  assert.equal(formatParameterCount(3_400_000), '3.4M');
});

test('a looked-up space is sized by its architectures alone', () => {
  const estimate = estimateSpace({
    ...configWith(CELL),
    space: { kind: 'nasbench201' },
    dataset: undefined,
    evaluation: { kind: 'tabular', dataset: 'cifar10' },
  });
  assert.equal(formatArchitectureCount(estimate.log10Architectures), '15,625');
  assert.equal(estimate.parameters, undefined);
});
