// A trained language model's weights as the store keeps them (`LanguageModelWeights`), and the model rebuilt
// from them: the graph and the run's space give its variables, in order; the kept values fill them.

import * as tf from '@tensorflow/tfjs';
import type { LanguageModelWeights } from '../../protocol/engine.ts';
import type { RecurrentSpaceConfig } from '../../space/config.ts';
import type { RecurrentGraph } from '../../space/graph.ts';
import type { TextCorpus } from '../data/text.ts';
import { LanguageModel, searchedCell } from './recurrent.ts';

/** Every variable's values, in the model's variable order, with the vocabulary that reads its token ids. */
export async function exportWeights(
  model: LanguageModel,
  corpus: Pick<TextCorpus, 'tokens' | 'vocabulary' | 'unknownId'>,
): Promise<LanguageModelWeights> {
  const variables = model.variables;
  const values = await Promise.all(variables.map((variable) => variable.data<'float32'>()));
  const all = new Float32Array(values.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of values) {
    all.set(part, offset);
    offset += part.length;
  }
  return {
    format: 'float32-base64',
    shapes: variables.map((variable) => [...variable.shape]),
    // Float32 in the machine's byte order: little-endian on every platform Node runs on.
    data: Buffer.from(all.buffer, all.byteOffset, all.byteLength).toString('base64'),
    tokens: corpus.tokens,
    vocabulary: corpus.vocabulary,
    ...(corpus.unknownId === undefined ? {} : { unknownId: corpus.unknownId }),
  };
}

/** The language model of `graph` in `space`, its variables holding the kept weights; a mismatch in count or shape is an error. */
export function modelFromWeights(graph: RecurrentGraph, space: RecurrentSpaceConfig, weights: LanguageModelWeights): LanguageModel {
  if (weights.format !== 'float32-base64') throw new Error(`the kept weights are in an unknown format "${weights.format}"`);
  const shape = { vocabulary: weights.vocabulary.length, hidden: space.hidden, tieWeights: space.tie_weights };
  // Initialised from seed 0 only to be overwritten: the kept values replace every variable.
  const model = new LanguageModel(searchedCell(graph, space, 0), shape, 0);
  try {
    const bytes = Buffer.from(weights.data, 'base64');
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const variables = model.variables;
    const fits =
      variables.length === weights.shapes.length &&
      variables.every((variable, i) => variable.shape.join('x') === weights.shapes[i].join('x'));
    const expected = weights.shapes.reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0);
    if (!fits || values.length !== expected)
      throw new Error(
        `the kept weights (${weights.shapes.map((s) => s.join('x')).join(', ')}) do not fit this trial's model ` +
          `(${variables.map((variable) => variable.shape.join('x')).join(', ')})`,
      );
    let offset = 0;
    for (const variable of variables) {
      const size = variable.size;
      const part = values.subarray(offset, offset + size);
      tf.tidy(() => variable.assign(tf.tensor(part, variable.shape, 'float32')));
      offset += size;
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
