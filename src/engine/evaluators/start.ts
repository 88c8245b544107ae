// The evaluator a search file's `evaluation` section asks for.

import { shippedNasBench201Table } from '../data/nas-bench-201.ts';
import type { StartEvaluator } from './evaluator.ts';
import { TabularEvaluator } from './tabular.ts';
import { TrainerPool } from './trainer-pool.ts';

export const startConfiguredEvaluator: StartEvaluator = async (config, baseDir, log) => {
  const { evaluation, dataset } = config;
  if (evaluation.kind === 'tabular') return new TabularEvaluator(shippedNasBench201Table(), evaluation.dataset);
  // The file's schema requires a dataset whenever architectures are trained.
  if (dataset === undefined) throw new Error('a search that trains its architectures needs a dataset');
  return TrainerPool.start({ backend: config.runtime.backend, dataset, baseDir }, evaluation, log);
};
