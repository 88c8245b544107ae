import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../src/engine/backend.ts';
import { countFlops, modelBuilder } from '../../src/engine/model/build.ts';
import { normalise, Supernet } from '../../src/engine/oneshot/supernet.ts';
import type { SpaceConfig } from '../../src/space/config.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { createRng } from '../../src/space/rng.ts';
import { CELL, MACRO } from '../support/spaces.ts';

before(async () => {
  await selectBackend('cpu');
});

/**
 * For sampled architectures: the supernet's pass equals the standalone child built with the slices it
 * used (with batch norm, scale 1, shift 0 and the batch's statistics as its running statistics).
 */
async function checkChildrenMatch(space: SpaceConfig, inputShape: [number, number, number], samples: number) {
  const build = await modelBuilder(space);
  const supernet = new Supernet(space, { inputShape, classes: 10, seed: 3 });
  const decisions = compileSpace(space);
  const rng = createRng(5);
  const images = tf.randomUniform([3, ...inputShape], 0, 1, 'float32', 9) as tf.Tensor4D;
  const baseline = tf.memory().numTensors;
  try {
    for (let i = 0; i < samples; i++) {
      const architecture = decisions.map((d) => rng.int(d.options.length));
      const graph = decodeArchitecture(space, architecture);
      tf.tidy(() => {
        const pass = supernet.forward(graph, images);
        const model = build(graph, { inputShape, classes: 10, seed: 1, weights: pass.layerWeights });
        try {
          const shared = tf.softmax(pass.logits).arraySync() as number[][];
          const standalone = (model.predict(images) as tf.Tensor2D).arraySync() as number[][];
          shared.forEach((row, r) =>
            row.forEach((p, k) =>
              assert.ok(Math.abs(p - standalone[r][k]) < 1e-5, `architecture [${architecture}]: ${p} vs ${standalone[r][k]}`),
            ),
          );
          assert.equal(pass.params, model.countParams());
          assert.equal(pass.flops, countFlops(model));
        } finally {
          model.dispose();
        }
      });
    }
    assert.equal(tf.memory().numTensors, baseline, 'a pass inside tidy leaves no tensor behind');
  } finally {
    images.dispose();
    supernet.dispose();
  }
}

test('macro space: a child through the supernet computes what the standalone child with the same weights computes', async () => {
  await checkChildrenMatch(MACRO, [8, 8, 1], 12);
  await checkChildrenMatch({ ...MACRO, strides: undefined, skip_connections: false, layers: 3 }, [7, 9, 2], 4);
  await checkChildrenMatch({ ...MACRO, batch_norm: false }, [8, 8, 1], 6);
  // Global average pooling: chosen by `auto` at 16x16, or asked for.
  await checkChildrenMatch(MACRO, [16, 16, 1], 4);
  await checkChildrenMatch({ ...MACRO, head: 'gap' }, [8, 8, 1], 4);
});

test('cell space: a child through the supernet computes what the standalone child with the same weights computes', async () => {
  await checkChildrenMatch(CELL, [8, 8, 1], 6);
  await checkChildrenMatch({ ...CELL, nodes: 2, stages: 3 }, [9, 7, 3], 4);
  await checkChildrenMatch({ ...CELL, batch_norm: false }, [8, 8, 1], 4);
  await checkChildrenMatch(CELL, [16, 16, 1], 3);
  await checkChildrenMatch({ ...CELL, head: 'gap' }, [8, 8, 1], 3);
});

test('training one child moves only the shared weights it uses; the state round-trips exactly', async () => {
  const supernet = new Supernet(CELL, { inputShape: [8, 8, 1], classes: 10, seed: 3 });
  const decisions = compileSpace(CELL);
  const graph = decodeArchitecture(
    CELL,
    decisions.map(() => 0),
  );
  const before = await supernet.getState();
  const images = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const { grads, value } = tf.variableGrads(() => tf.mean(supernet.forward(graph, images).logits), supernet.variables);
  const moved = Object.keys(grads).length;
  assert.ok(moved > 0 && moved < supernet.variables.length, `${moved} of ${supernet.variables.length} weights have a gradient`);
  tf.dispose([value, ...Object.values(grads), images]);

  const copy = new Supernet(CELL, { inputShape: [8, 8, 1], classes: 10, seed: 4 });
  assert.notDeepEqual(await copy.getState(), before);
  copy.setState(before);
  assert.deepEqual(await copy.getState(), before);
  assert.throws(() => new Supernet(MACRO, { inputShape: [8, 8, 1], classes: 10, seed: 3 }).setState(before), /weights/);
  copy.dispose();
  supernet.dispose();
});

test('batch norm without scale or shift leaves every channel of the batch with mean 0 and variance 1', () => {
  tf.tidy(() => {
    const x = tf.add(tf.mul(tf.randomNormal([6, 5, 5, 4], 0, 1, 'float32', 2), tf.tensor1d([1, 3, 10, 0.1])), tf.tensor1d([0, -2, 7, 100]));
    const { mean, variance } = tf.moments(normalise(x as tf.Tensor4D).normalised, [0, 1, 2]);
    (mean.arraySync() as number[]).forEach((m) => assert.ok(Math.abs(m) < 1e-4, `mean ${m}`));
    // Within epsilon (1e-5) of 1 for the channel of variance 0.01.
    (variance.arraySync() as number[]).forEach((v) => assert.ok(Math.abs(v - 1) < 2e-3, `variance ${v}`));
  });
});

test('with batch norm a child normalises with its batch: the scale of the images does not matter, the rest of the batch does', () => {
  for (const space of [CELL, MACRO] as SpaceConfig[]) {
    const supernet = new Supernet(space, { inputShape: [8, 8, 1], classes: 10, seed: 3 });
    const plain = new Supernet({ ...space, batch_norm: false } as SpaceConfig, { inputShape: [8, 8, 1], classes: 10, seed: 3 });
    const graph = decodeArchitecture(
      space,
      compileSpace(space).map((d) => createRng(4).int(d.options.length)),
    );
    tf.tidy(() => {
      const images = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const logits = (net: Supernet, x: tf.Tensor4D) => net.forward(graph, x).logits.arraySync();
      const gap = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, r) => row.map((v, k) => Math.abs(v - b[r][k]))));
      const scaled = tf.mul(images, 5) as tf.Tensor4D;
      assert.ok(gap(logits(supernet, images), logits(supernet, scaled)) < 1e-3, `${space.kind}: the first norm undoes the scale`);
      assert.ok(gap(logits(plain, images), logits(plain, scaled)) > 1e-2, `${space.kind}: without norm the scale shows`);
      // The same first example with other companions: batch statistics change its logits.
      const others = tf.concat([images.slice(0, 1), tf.randomUniform([3, 8, 8, 1], 0, 1, 'float32', 8)]) as tf.Tensor4D;
      assert.ok(gap(logits(supernet, images).slice(0, 1), logits(supernet, others).slice(0, 1)) > 1e-4, `${space.kind}: batch statistics`);
    });
    supernet.dispose();
    plain.dispose();
  }
});
