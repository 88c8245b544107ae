// What every one-shot runner (ENAS, random-ws, DARTS) shares: its supernet trains in this process, on
// the backend the run asks for, on the data set loaded here and freed when the search ends.

import { trainingSetup, type BackendChoice, type SearchConfig } from '../../space/config.ts';
import { requireImageDataset } from '../../space/kinds/datasets/registry.ts';
import { splitDataset } from '../data/dataset.ts';
import { loadDataset } from '../data/load.ts';
import { prepareTrainingData, type TrainingData } from '../evaluators/train-from-scratch.ts';
import type { RunSession } from '../runners/runner.ts';

/** The backend a supernet trains on: the one the run asks for. */
export const supernetBackend = (config: SearchConfig): BackendChoice => config.runtime.backend;

/** Loads the run's data set for the supernet (its loading notes go to the log) and hands it to `search`; no tensor outlives a batch. */
export async function withSupernetData<T>(session: RunSession, search: (data: TrainingData) => Promise<T>): Promise<T> {
  const dataset = requireImageDataset(trainingSetup(session.config).dataset);
  const loaded = await loadDataset(dataset, session.baseDir);
  for (const note of loaded.notes ?? []) session.log('warn', note);
  const data = prepareTrainingData(splitDataset(loaded, dataset));
  return search(data);
}
