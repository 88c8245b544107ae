// Run the user's own training program once per architecture (NNI's "trial command"); it reports its
// epochs and result as JSON lines on a channel of their own (src/engine/evaluators/command.ts).

import type { EvaluationKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

export interface CommandEvaluationConfig {
  kind: 'command';
  /** argv, no shell; relative paths start at the search file's folder, where it runs. */
  command: string[];
  /** Passed to the trial, which may ignore it. */
  epochs: number;
  timeout_minutes: number;
  /** Trials at a time; absent: one per GPU found, else 1. */
  parallel?: number;
  env: Record<string, string>;
}

export const commandEvaluation: EvaluationKind<CommandEvaluationConfig> = {
  kind: 'command',
  get description() {
    return kindDescription('evaluation', 'command');
  },
  evaluator: async () => (await import('../../../engine/evaluators/command.ts')).commandEvaluatorKind,
};
