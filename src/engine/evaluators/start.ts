// The evaluator a search file's `evaluation` section asks for: its kind module (src/space/kinds/evaluations) loads it.

import type { EvaluationConfig } from '../../space/config.ts';
import type { EvaluationKind } from '../../space/kinds/kind-module.ts';
import { EVALUATION_KINDS } from '../../space/kinds/evaluations/registry.ts';
import type { StartEvaluator } from './evaluator.ts';

export const startConfiguredEvaluator: StartEvaluator = async (config, baseDir, log, capacity) => {
  const { evaluation } = config;
  // Runs stored before evaluation kinds existed have no `kind`: they trained from scratch.
  // The registry's type pairs each kind with its own section; TypeScript cannot follow that pairing through the union.
  const kind = EVALUATION_KINDS[evaluation.kind ?? 'train'] as EvaluationKind<EvaluationConfig>;
  return (await kind.evaluator()).start(evaluation, config, baseDir, log, capacity);
};
