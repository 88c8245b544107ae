// The train evaluator kind: each architecture trained from scratch in a pool of trainer processes.

import type { TrainEvaluationConfig } from '../../space/config.ts';
import type { EvaluatorKind } from './evaluator.ts';
import { TrainerPool } from './trainer-pool.ts';

export const trainEvaluatorKind: EvaluatorKind<TrainEvaluationConfig> = {
  description: 'trains each architecture from scratch in trainer processes',
  start: async (evaluation, search, baseDir, log, capacity) => {
    // The file's schema requires a dataset whenever architectures are trained.
    if (search.dataset === undefined) throw new Error('a search that trains its architectures needs a dataset');
    const { backend, children_per_gpu: childrenPerGpu = 1 } = search.runtime;
    return TrainerPool.start({ backend, dataset: search.dataset, baseDir }, evaluation, log, childrenPerGpu, capacity);
  },
};
