// The evaluator kinds, one module each, and the evaluator a search file's `evaluation` section asks for.

import type { EvaluationConfig } from '../../space/config.ts';
import type { EvaluatorKind, StartEvaluator } from './evaluator.ts';
import { tabularEvaluatorKind } from './tabular.ts';
import { trainEvaluatorKind } from './train.ts';

export const evaluatorKinds: { readonly [Kind in EvaluationConfig['kind']]: EvaluatorKind<Extract<EvaluationConfig, { kind: Kind }>> } = {
  train: trainEvaluatorKind,
  tabular: tabularEvaluatorKind,
};

export const startConfiguredEvaluator: StartEvaluator = async (config, baseDir, log) => {
  const { evaluation } = config;
  // Runs stored before evaluation kinds existed have no `kind`: they trained from scratch.
  // The registry's type pairs each kind with its own section; TypeScript cannot follow that pairing through the union.
  const kind = evaluatorKinds[evaluation.kind ?? 'train'] as EvaluatorKind<EvaluationConfig>;
  return kind.start(evaluation, config, baseDir, log);
};
