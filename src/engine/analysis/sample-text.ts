// Text sampled from a language-model trial's kept weights: the prompt is read through the model to set its
// state, then each next token is drawn from the softmax of its logits at a temperature. On tfjs's cpu
// backend, in the engine process (the trial view and `nas-studio sample` ask for it).

import * as tf from '@tensorflow/tfjs';
import type { StoreQuery } from '../../protocol/engine.ts';
import { createRng, sampleIndex } from '../../space/rng.ts';
import { selectBackend } from '../backend.ts';
import { decodeText, encodeText } from '../data/text.ts';
import { modelFromWeights } from '../model/language-model-weights.ts';
import type { Store } from '../store/store.ts';

export type SampleRequest = Omit<Extract<StoreQuery, { kind: 'sample-text' }>, 'kind'> & {
  /** The draws' seed; by default the trial's own, so the same request gives the same text. */
  seed?: number;
};

/** The most tokens one request may ask for: enough to read, few enough to come back in seconds. */
export const MAX_SAMPLE_LENGTH = 10_000;

/** The continuation of `prompt` (without it): `length` tokens drawn at `temperature`. */
export async function sampleText(store: Store, request: SampleRequest): Promise<string> {
  const { runId, index, prompt, temperature, length } = request;
  if (!Number.isFinite(temperature) || temperature <= 0) throw new Error(`the temperature must be a number above 0, not ${temperature}`);
  if (!Number.isInteger(length) || length < 1 || length > MAX_SAMPLE_LENGTH)
    throw new Error(`the length must be a whole number from 1 to ${MAX_SAMPLE_LENGTH}, not ${length}`);
  const trial = store.getTrial(runId, index);
  if (!trial) throw new Error(`run ${runId} has no trial ${index}`);
  const weights = store.trialWeights(runId, index);
  const { space, runtime } = store.runConfig(runId).config;
  if (!weights || trial.graph.kind !== 'recurrent' || space.kind !== 'recurrent')
    throw new Error(
      `trial ${index} of run ${runId} kept no trained weights to sample from: only a language model (a recurrent space on text) ` +
        `trained in full keeps them, not one pruned, failed or interrupted (this one is ${trial.status})`,
    );
  const promptIds = encodeText(weights, prompt);
  if (promptIds.length === 0) throw new Error('the prompt is empty: give at least one token to start from');

  await selectBackend('cpu');
  const model = modelFromWeights(trial.graph, space, weights);
  const rng = createRng(request.seed ?? runtime.seed * 100003 + index);
  let state = model.initialState(1);
  try {
    /** Reads `tokens` on from the current state; the logits after the last of them. */
    const read = async (tokens: Int32Array): Promise<Float32Array> => {
      const [logits, next] = tf.tidy(() => {
        const out = model.window(tf.tensor2d(tokens, [1, tokens.length], 'int32'), state);
        return [tf.slice(out.logits, [tokens.length - 1, 0], [1, -1]), out.state] as const;
      });
      tf.dispose(state);
      state = next;
      try {
        return (await logits.data()) as Float32Array;
      } finally {
        logits.dispose();
      }
    };
    let logits = await read(promptIds);
    const sampled: number[] = [];
    for (let i = 0; i < length; i++) {
      const token = sampleIndex(softmaxAt(logits, temperature), rng);
      sampled.push(token);
      if (i + 1 < length) logits = await read(Int32Array.of(token));
    }
    return decodeText(weights, sampled);
  } finally {
    tf.dispose(state);
    model.dispose();
  }
}

/** softmax(logits / temperature), in float64 and shifted by the largest logit, so a temperature near 0 gives the argmax all the mass. */
export function softmaxAt(logits: ArrayLike<number>, temperature: number): Float64Array {
  let largest = -Infinity;
  for (let i = 0; i < logits.length; i++) largest = Math.max(largest, logits[i]);
  const probabilities = Float64Array.from(logits, (logit) => Math.exp((logit - largest) / temperature));
  const sum = probabilities.reduce((a, b) => a + b, 0);
  return probabilities.map((p) => p / sum);
}
