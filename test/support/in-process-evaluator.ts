// An evaluator that trains in the test's own process, on the backend the run selected: real tfjs without
// trainer processes (which need the built bundle). Image classifiers on images, recurrent cells on text.
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDataset, loadTextCorpus } from '../../src/engine/data/load.ts';
import type { EvaluationRequest, StartEvaluator } from '../../src/engine/evaluators/evaluator.ts';
import { prepareTrainingData, trainFromScratch } from '../../src/engine/evaluators/train-from-scratch.ts';
import { trainRecurrentChild } from '../../src/engine/evaluators/train-language-model.ts';
import type { EpochMetrics, TrialMeasurements } from '../../src/protocol/engine.ts';
import { trainingSetup } from '../../src/space/config.ts';
import { isImageDataset } from '../../src/space/kinds/datasets/registry.ts';

type Evaluate = (request: EvaluationRequest, onEpoch: (metrics: EpochMetrics) => void) => Promise<TrialMeasurements>;

export const inProcessEvaluator: StartEvaluator = async (config, baseDir) => {
  const { dataset, evaluation } = trainingSetup(config);
  let evaluate: Evaluate;
  if (isImageDataset(dataset)) {
    const data = prepareTrainingData(splitDataset(await loadDataset(dataset, baseDir), dataset));
    evaluate = (request, onEpoch) => trainFromScratch({ ...request, evaluation }, data, onEpoch, () => false);
  } else {
    const corpus = await loadTextCorpus(dataset, baseDir);
    const data = { vocabulary: corpus.vocabulary.length, train: corpus.train, validation: corpus.validation, test: corpus.test };
    evaluate = ({ graph, space, seed }, onEpoch) => {
      if (graph.kind !== 'recurrent' || space.kind !== 'recurrent') throw new Error(`a ${space.kind} space does not train on text`);
      return trainRecurrentChild({ graph, space, evaluation, seed }, data, onEpoch, () => false);
    };
  }
  const { backend } = config.runtime;
  return {
    backend: backend === 'auto' ? 'cpu' : backend,
    backendDetail: 'in-process test evaluator',
    size: 1,
    evaluate,
    cancelAll: () => {},
    close: async () => {},
  };
};
