// Every evaluation kind, found by its `kind`; the union of evaluation configs (config.ts) follows from it.

import type { EvaluationConfig } from '../../config.ts';
import type { EvaluationKind } from '../kind-module.ts';
import { commandEvaluation } from './command.ts';
import { tabularEvaluation } from './tabular.ts';
import { trainEvaluation } from './train.ts';

export const EVALUATION_KINDS = {
  train: trainEvaluation,
  command: commandEvaluation,
  tabular: tabularEvaluation,
};

/** The module of the evaluation's kind, typed for that evaluation. */
export function evaluationKind<Config extends EvaluationConfig>(evaluation: Config): EvaluationKind<Config> {
  return EVALUATION_KINDS[evaluation.kind] as unknown as EvaluationKind<Config>;
}
