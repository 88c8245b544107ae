// A language-model trial's kept weights: the trainer returns them only for a child trained in full, the store
// keeps them with the trial, and text sampled from them is reproducible, greedy near temperature 0, and refused
// for a prompt outside the vocabulary or a trial that kept none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sampleText, softmaxAt } from '../../src/engine/analysis/sample-text.ts';
import { selectBackend } from '../../src/engine/backend.ts';
import { encodeText, loadTextCorpus } from '../../src/engine/data/text.ts';
import { trainRecurrentChild, type LanguageData } from '../../src/engine/evaluators/train-language-model.ts';
import { exportWeights, modelFromWeights } from '../../src/engine/model/language-model-weights.ts';
import { Store } from '../../src/engine/store/store.ts';
import type { LanguageModelWeights } from '../../src/protocol/engine.ts';
import type { RecurrentGraph } from '../../src/space/graph.ts';
import { loadSearchFile } from '../../src/space/parse.ts';
import { tinyRecurrentSearchFile } from '../support/tiny.ts';

const GRAPH: RecurrentGraph = {
  kind: 'recurrent',
  nodes: [
    { input: -1, activation: 'tanh' },
    { input: 0, activation: 'relu' },
  ],
};

/** The tiny recurrent search's config and corpus, and one of its children trained (or stopped after its epoch). */
async function trainTiny(stop: boolean) {
  await selectBackend('cpu');
  const file = tinyRecurrentSearchFile();
  const { config } = loadSearchFile(file);
  const { space, dataset, evaluation } = config ?? {};
  assert.ok(config && space?.kind === 'recurrent' && dataset?.kind === 'text' && evaluation?.kind === 'train');
  const corpus = await loadTextCorpus(dataset, (path) => join(dirname(file), path));
  const data: LanguageData = corpus;
  const request = { graph: GRAPH, space, evaluation, seed: 3 };
  const measurements = await trainRecurrentChild(
    request,
    data,
    () => (stop ? 'stop' : 'continue'),
    () => false,
  );
  return { file, config, space, corpus, measurements };
}

/** A store with the tiny search's run and its trial 0 finished with `measurements`. */
function storeWith(file: string, config: NonNullable<ReturnType<typeof loadSearchFile>['config']>, weights?: LanguageModelWeights) {
  const store = new Store(join(mkdtempSync(join(tmpdir(), 'nas-sample-')), 'runs.db'));
  const runId = store.createRun({ name: 'tiny-recurrent', spaceFile: file, spaceText: '', config });
  store.startTrial(runId, 0, [0, 0, 1], 'k', GRAPH);
  const measurements = {
    valAccuracy: 0.2,
    testAccuracy: 0.2,
    valPerplexity: 20,
    testPerplexity: 21,
    params: 1,
    flops: null,
    seconds: 1,
    curve: [],
  };
  store.finishTrial({ runId, index: 0, status: 'done', reward: 0.01, measurements: { ...measurements, weights }, error: null });
  return { store, runId };
}

test('a child trained in full comes back with its weights and vocabulary; one stopped early without', async () => {
  const full = await trainTiny(false);
  const weights = full.measurements.weights;
  assert.ok(weights);
  assert.equal(weights.tokens, 'char');
  assert.deepEqual(weights.vocabulary, full.corpus.vocabulary);
  assert.equal(weights.format, 'float32-base64');
  // Tied softmax: the embedding [V, 8], node 1's [16, 16] (highway doubles the width), node 2's [8, 16], the bias [V].
  const v = full.corpus.vocabulary.length;
  assert.deepEqual(weights.shapes, [[v, 8], [16, 16], [8, 16], [v]]);
  assert.equal(Buffer.from(weights.data, 'base64').length, 4 * (v * 8 + 16 * 16 + 8 * 16 + v));
  const stopped = await trainTiny(true);
  assert.equal(stopped.measurements.weights, undefined);
});

test('kept weights rebuild the same model: the same logits for the same tokens', async () => {
  const { space, measurements, corpus } = await trainTiny(false);
  assert.ok(measurements.weights);
  const first = modelFromWeights(GRAPH, space, measurements.weights);
  const second = modelFromWeights(GRAPH, space, await exportWeights(first, corpus));
  const tokens = tf.tensor2d(encodeText(corpus, 'ROMEO:'), [1, 6], 'int32');
  const logitsOf = (model: typeof first) => tf.tidy(() => model.window(tokens, model.initialState(1)).logits.arraySync());
  assert.deepEqual(logitsOf(second), logitsOf(first));
  assert.throws(() => modelFromWeights(GRAPH, { ...space, hidden: 16 }, measurements.weights!), /do not fit this trial's model/);
  first.dispose();
  second.dispose();
  tokens.dispose();
});

test('sampled text: as long as asked, the same for the same seed, greedy near temperature 0', async () => {
  const { file, config, space, measurements, corpus } = await trainTiny(false);
  const { store, runId } = storeWith(file, config, measurements.weights);
  try {
    const ask = (temperature: number, seed?: number) =>
      sampleText(store, { runId, index: 0, prompt: 'ROMEO:', temperature, length: 200, seed });
    const text = await ask(0.8);
    assert.equal([...text].length, 200);
    for (const character of text) assert.ok(corpus.vocabulary.includes(character), `${JSON.stringify(character)} is in the vocabulary`);
    assert.equal(await ask(0.8), text);
    assert.notEqual(await ask(0.8, 99), text);

    // Greedy decoding, step by step: at temperature 1e-6 every draw is the argmax, whatever the seed.
    const model = modelFromWeights(GRAPH, space, measurements.weights!);
    let state = model.initialState(1);
    let input = encodeText(corpus, 'ROMEO:');
    let greedy = '';
    for (let i = 0; i < 200; i++) {
      const [next, nextState] = tf.tidy(() => {
        const out = model.window(tf.tensor2d(input, [1, input.length], 'int32'), state);
        return [tf.argMax(out.logits, 1).arraySync() as number[], out.state] as const;
      });
      tf.dispose(state);
      state = nextState;
      const token = next[next.length - 1];
      greedy += corpus.vocabulary[token];
      input = Int32Array.of(token);
    }
    tf.dispose(state);
    model.dispose();
    assert.equal(await ask(1e-6, 1), greedy);
    assert.equal(await ask(1e-6, 2), greedy);
  } finally {
    store.close();
  }
});

test('sampling refuses a prompt outside the vocabulary, a bad temperature or length, and a trial without weights', async () => {
  const { file, config, measurements } = await trainTiny(false);
  const { store, runId } = storeWith(file, config, measurements.weights);
  const bare = storeWith(file, config);
  try {
    const request = { runId, index: 0, prompt: 'ROMEO:', temperature: 0.8, length: 10 };
    await assert.rejects(sampleText(store, { ...request, prompt: 'ROMEO: ✓' }), /the character "✓" \(U\+2713\) is not in the vocabulary/);
    await assert.rejects(sampleText(store, { ...request, prompt: '' }), /the prompt is empty/);
    await assert.rejects(sampleText(store, { ...request, temperature: 0 }), /temperature must be a number above 0/);
    await assert.rejects(sampleText(store, { ...request, length: 0 }), /length must be a whole number/);
    await assert.rejects(sampleText(store, { ...request, index: 5 }), /run 1 has no trial 5/);
    await assert.rejects(sampleText(bare.store, { ...request, runId: bare.runId }), /kept no trained weights to sample from/);
  } finally {
    store.close();
    bare.store.close();
  }
});

test('softmax at a temperature: near 0 all the mass on the largest logit; 1 is the plain softmax', () => {
  assert.deepEqual([...softmaxAt([1, 3, 2], 1e-6)], [0, 1, 0]);
  const plain = softmaxAt([0, Math.log(3)], 1);
  assert.ok(Math.abs(plain[0] - 0.25) < 1e-12 && Math.abs(plain[1] - 0.75) < 1e-12);
});
