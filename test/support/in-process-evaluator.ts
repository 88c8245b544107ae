// An evaluator that trains in the test's own process, on the backend the run selected: real tfjs without
// trainer processes (which need the built bundle).
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDataset, loadTextCorpus } from '../../src/engine/data/load.ts';
import type { Evaluator, StartEvaluator } from '../../src/engine/evaluators/evaluator.ts';
import { prepareTrainingData, trainFromScratch } from '../../src/engine/evaluators/train-from-scratch.ts';
import { trainRecurrentChild } from '../../src/engine/evaluators/train-language-model.ts';
import { trainingSetup } from '../../src/space/config.ts';
import { isImageDataset } from '../../src/space/kinds/datasets/registry.ts';

export const inProcessEvaluator: StartEvaluator = async (config, baseDir) => {
  const { dataset, evaluation } = trainingSetup(config);
  const { backend } = config.runtime;
  const frame = {
    backend: backend === 'auto' ? 'cpu' : backend,
    backendDetail: 'in-process test evaluator',
    size: 1,
    cancelAll: () => {},
    close: async () => {},
  } as const;
  if (isImageDataset(dataset)) {
    const data = prepareTrainingData(splitDataset(await loadDataset(dataset, baseDir), dataset));
    return { ...frame, evaluate: (request, onEpoch) => trainFromScratch({ ...request, evaluation }, data, onEpoch, () => false) };
  }
  const corpus = await loadTextCorpus(dataset, baseDir);
  const evaluate: Evaluator['evaluate'] = (request, onEpoch) => {
    const { graph, space } = request;
    if (graph.kind !== 'recurrent' || space.kind !== 'recurrent') throw new Error(`a ${space.kind} space does not train on text`);
    return trainRecurrentChild({ graph, space, evaluation, seed: request.seed, final: request.final }, corpus, onEpoch, () => false);
  };
  return { ...frame, evaluate };
};
