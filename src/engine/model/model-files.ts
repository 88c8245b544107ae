// A trained child's weights as files: tfjs's own LayersModel format (model.json, with the Keras topology and
// the weights manifest, beside one weights.bin), which `tf.loadLayersModel` reads and every export starts from.
// Written and read with plain fs: the pure-JS tfjs has no file system handler.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A saved model's parts: its Keras topology, each weight's name, shape and dtype, and their values in that order. */
export interface ModelArtifacts {
  topology: { class_name: string; config: Record<string, unknown>; [key: string]: unknown };
  weightSpecs: tf.io.WeightsManifestEntry[];
  weightData: ArrayBuffer;
}

/** The parts of `model` as a saved model holds them, without writing it. */
export async function modelArtifacts(model: tf.LayersModel): Promise<ModelArtifacts> {
  let saved: ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = {
        topology: artifacts.modelTopology as ModelArtifacts['topology'],
        weightSpecs: artifacts.weightSpecs ?? [],
        weightData: tf.io.concatenateArrayBuffers([artifacts.weightData as ArrayBuffer].flat()),
      };
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  return saved!;
}

/**
 * Writes `model` to `dir` (created; a folder already there is replaced): written beside it first and then
 * renamed into place, so that a reader never finds half a model.
 */
export async function saveModelFiles(model: tf.LayersModel, dir: string): Promise<void> {
  const { topology, weightSpecs, weightData } = await modelArtifacts(model);
  const writing = `${dir}.writing`;
  rmSync(writing, { recursive: true, force: true });
  mkdirSync(writing, { recursive: true });
  writeFileSync(join(writing, WEIGHTS_BIN), new Uint8Array(weightData));
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: topology,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weightSpecs }],
  };
  writeFileSync(join(writing, MODEL_JSON), JSON.stringify(modelJson));
  rmSync(dir, { recursive: true, force: true });
  renameSync(writing, dir);
}

/** The parts of the model saved in `dir`; a missing or malformed file is an error naming it. */
export function readModelFiles(dir: string): ModelArtifacts {
  const jsonPath = join(dir, MODEL_JSON);
  let modelJson: {
    modelTopology?: ModelArtifacts['topology'];
    weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  try {
    modelJson = JSON.parse(readFileSync(jsonPath, 'utf8'));
  } catch (error) {
    throw new Error(`${jsonPath}: cannot read the saved model (${(error as Error).message})`);
  }
  const manifest = modelJson.weightsManifest ?? [];
  if (!modelJson.modelTopology || manifest.length === 0) throw new Error(`${jsonPath}: not a tfjs LayersModel with weights`);
  const buffers = manifest.flatMap((group) => group.paths.map((path) => readFileSync(join(dir, path))));
  const weightData = tf.io.concatenateArrayBuffers(
    buffers.map((buffer) => buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer),
  );
  return { topology: modelJson.modelTopology, weightSpecs: manifest.flatMap((group) => group.weights), weightData };
}

/** The model saved in `dir`, with its weights. */
export async function loadModelFiles(dir: string): Promise<tf.LayersModel> {
  const { topology, weightSpecs, weightData } = readModelFiles(dir);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs, weightData }));
}

/** Each weight's values by its tfjs name ("conv2d_1/kernel"), as float32 arrays with their shapes. */
export function namedWeights(artifacts: ModelArtifacts): Map<string, { shape: number[]; values: Float32Array }> {
  const named = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    if (spec.dtype !== 'float32') throw new Error(`weight ${spec.name} is ${spec.dtype}; only float32 weights are exported`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    named.set(spec.name, { shape: spec.shape, values: new Float32Array(artifacts.weightData.slice(offset, offset + 4 * size)) });
    offset += 4 * size;
  }
  return named;
}
