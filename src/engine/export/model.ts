// A trained child as a model another tool loads: written into a folder from the weights the trial kept
// (model-files.ts), as tfjs's LayersModel files.

import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TrialRecord } from '../../protocol/engine.ts';
import { MODEL_JSON, WEIGHTS_BIN } from '../model/model-files.ts';
import type { Store } from '../store/store.ts';

export const MODEL_EXPORT_FORMATS = ['tfjs'] as const;
export type ModelExportFormat = (typeof MODEL_EXPORT_FORMATS)[number];

/** Makes `outDir` an empty folder: one with files in it is emptied only when the user says so. */
export function clearOutFolder(outDir: string, force: boolean | undefined): void {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) {
    if (!force) throw new Error(`${outDir} is not empty; choose another --out, or add --force to replace what is in it`);
    rmSync(outDir, { recursive: true });
  }
  mkdirSync(outDir, { recursive: true });
}

/** The folder of the trial's kept weights; an error saying how to get them when it kept none. */
export function keptWeightsFolder(store: Store, trial: TrialRecord): string {
  const folder = store.trialWeightsFolder(trial);
  if (folder === undefined || !existsSync(join(folder, MODEL_JSON)))
    throw new Error(
      `trial ${trial.index} of run ${trial.runId} kept no weights; retrain it (nas-studio retrain ${trial.runId} ${trial.index}), ` +
        "or search with runtime.keep_weights to keep the best trials' weights",
    );
  return folder;
}

/** Writes the trial's trained model into `outDir` as `format`; returns the files written. */
export async function exportModel(
  store: Store,
  trial: TrialRecord,
  format: ModelExportFormat,
  outDir: string,
  options: { force?: boolean } = {},
): Promise<string[]> {
  const weights = keptWeightsFolder(store, trial);
  clearOutFolder(outDir, options.force);
  switch (format) {
    case 'tfjs':
      for (const file of [MODEL_JSON, WEIGHTS_BIN]) cpSync(join(weights, file), join(outDir, file));
      return [MODEL_JSON, WEIGHTS_BIN];
  }
}
