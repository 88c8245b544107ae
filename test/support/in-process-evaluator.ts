// An evaluator that trains in the test's own process, on the backend the run selected: real tfjs without
// trainer processes (which need the built bundle).
import { splitDataset } from '../../src/engine/data/dataset.ts';
import { loadDataset } from '../../src/engine/data/load.ts';
import type { StartEvaluator } from '../../src/engine/evaluators/evaluator.ts';
import { prepareTrainingData, trainFromScratch } from '../../src/engine/evaluators/train-from-scratch.ts';
import { trainingSetup } from '../../src/space/config.ts';
import { requireImageDataset } from '../../src/space/kinds/datasets/registry.ts';

export const inProcessEvaluator: StartEvaluator = async (config, baseDir) => {
  const { dataset, evaluation } = trainingSetup(config);
  const images = requireImageDataset(dataset);
  const data = prepareTrainingData(splitDataset(await loadDataset(images, baseDir), images));
  const { backend } = config.runtime;
  return {
    backend: backend === 'auto' ? 'cpu' : backend,
    backendDetail: 'in-process test evaluator',
    size: 1,
    evaluate: (request, onEpoch) => trainFromScratch({ ...request, evaluation }, data, onEpoch, () => false),
    cancelAll: () => {},
    close: async () => {},
  };
};
