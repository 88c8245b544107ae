// What every one-shot runner (ENAS, random-ws, DARTS) shares: its supernet trains in this process, on
// the backend the run asks for, on the data set loaded here (its loading notes go to the run's log).

import { trainingSetup, type BackendChoice, type SearchConfig } from '../../space/config.ts';
import { requireImageDataset } from '../../space/kinds/datasets/registry.ts';
import { splitDataset } from '../data/dataset.ts';
import { loadDataset, loadTextCorpus } from '../data/load.ts';
import { checkTextWindows } from '../data/text.ts';
import { prepareTrainingData, type TrainingData } from '../evaluators/train-from-scratch.ts';
import type { LanguageData } from '../evaluators/train-language-model.ts';
import type { RunSession } from '../runners/runner.ts';

/** The backend a supernet trains on: the one the run asks for. */
export const supernetBackend = (config: SearchConfig): BackendChoice => config.runtime.backend;

/** The run's image data set, split; no tensor outlives a batch. */
export async function loadSupernetImages(session: RunSession): Promise<TrainingData> {
  const dataset = requireImageDataset(trainingSetup(session.config).dataset);
  const loaded = await loadDataset(dataset, session.baseDir);
  for (const note of loaded.notes ?? []) session.log('warn', note);
  return prepareTrainingData(splitDataset(loaded, dataset));
}

/** The run's text data set as token ids, checked to hold the supernet's windows of `bptt` tokens in `batchSize` streams. */
export async function loadSupernetText(session: RunSession, bptt: number, batchSize: number): Promise<LanguageData> {
  const corpus = await loadTextCorpus(trainingSetup(session.config).dataset, session.baseDir);
  for (const note of corpus.notes ?? []) session.log('warn', note);
  checkTextWindows(corpus, bptt, batchSize);
  return corpus;
}
