// A trained child as a model another tool loads, written into a folder from the weights the trial kept
// (model-files.ts): tfjs's LayersModel files, a Keras 3 `.keras` file, or a generated PyTorch module with
// its weights. PyTorch's module needs no weights: without them it is the architecture alone.

import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialRecord } from '../../protocol/engine.ts';
import { imageShapeOf } from '../../space/estimate.ts';
import { isImageDataset } from '../../space/kinds/datasets/registry.ts';
import type { ImageDatasetConfig, SearchConfig, SpaceConfig } from '../../space/config.ts';
import { buildModel } from '../model/build.ts';
import { MODEL_JSON, WEIGHTS_BIN, modelArtifacts, readModelFiles, type ModelArtifacts } from '../model/model-files.ts';
import type { Store } from '../store/store.ts';
import { clearOutFolder } from './out-file.ts';
import { writeKerasExport } from './keras.ts';
import { writePytorchExport } from './pytorch.ts';
import { keptNoWeightsMessage, needsTrainedWeights, type ModelExportFormat } from '../../shared/model-export.ts';

/** The folder of the trial's kept weights, or undefined when it kept none. */
function keptWeightsFolder(store: Store, trial: TrialRecord): string | undefined {
  const folder = store.trialWeightsFolder(trial);
  return folder !== undefined && existsSync(join(folder, MODEL_JSON)) ? folder : undefined;
}

/** The run's image data set: a model export writes the image classifiers NAS Studio builds, and nothing else. */
function imageDataset(config: SearchConfig, trial: TrialRecord): ImageDatasetConfig {
  if (config.dataset !== undefined && isImageDataset(config.dataset)) return config.dataset;
  const instead =
    trial.graph.kind === 'recurrent'
      ? ` (a language model's weights stay in the database: nas-studio sample ${trial.runId} ${trial.index})`
      : '';
  throw new Error(`run ${trial.runId} trains no image classifier NAS Studio builds; it has no model to export${instead}`);
}

/** The trial's network as NAS Studio builds it, untrained: the architecture alone. */
async function untrainedArtifacts(trial: TrialRecord, space: SpaceConfig, dataset: ImageDatasetConfig): Promise<ModelArtifacts> {
  const { shape, classes } = imageShapeOf(dataset);
  const model = await buildModel(trial.graph, space, { inputShape: shape, classes, seed: 1 });
  try {
    return await modelArtifacts(model);
  } finally {
    model.dispose();
  }
}

/** Writes the trial's trained model into `outDir` as `format`; returns the files written. */
export async function exportModel(
  store: Store,
  trial: TrialRecord,
  format: ModelExportFormat,
  outDir: string,
  options: { force?: boolean } = {},
): Promise<string[]> {
  const { config } = store.runConfig(trial.runId);
  const dataset = imageDataset(config, trial);
  const weights = keptWeightsFolder(store, trial);
  if (weights === undefined && needsTrainedWeights(format)) throw new Error(keptNoWeightsMessage(trial, format));
  if (format === 'tfjs') {
    clearOutFolder(outDir, options.force);
    for (const file of [MODEL_JSON, WEIGHTS_BIN]) cpSync(join(weights!, file), join(outDir, file));
    return [MODEL_JSON, WEIGHTS_BIN];
  }
  // Read before the folder is emptied: a model that cannot be read leaves what is there.
  const artifacts = weights === undefined ? await untrainedArtifacts(trial, config.space, dataset) : readModelFiles(weights);
  clearOutFolder(outDir, options.force);
  if (format === 'keras') return writeKerasExport(artifacts, outDir);
  const title = `Trial ${trial.index} of run ${trial.runId} (${store.getRun(trial.runId)?.name ?? 'NAS Studio'}): ${trial.key}`;
  return writePytorchExport(artifacts, outDir, { title, trained: weights !== undefined });
}
