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

/** Arguments taken for the program's own files: a missing one would fail every trial the same way. */
const SCRIPT = /\.(py|js|mjs|cjs|ts|sh)$/;

export const commandEvaluation: EvaluationKind<CommandEvaluationConfig> = {
  kind: 'command',
  get description() {
    return kindDescription('evaluation', 'command');
  },
  evaluator: async () => (await import('../../../engine/evaluators/command.ts')).commandEvaluatorKind,
  checkFiles(evaluation, context, files) {
    evaluation.command.forEach((argument, i) => {
      // A bare program name is looked up on PATH when the trial starts; a path or a script is the search's.
      const isFile = i === 0 ? /[\\/]/.test(argument) : SCRIPT.test(argument);
      if (!isFile) return;
      const { fullPath, status } = files.inspect(argument);
      if (status.found && status.isFile) return;
      const problem = status.found ? 'is not a file' : status.reason;
      const message =
        `evaluation.command[${i}]: ${argument} ${problem}: ${fullPath} (rule: file-not-found); ` +
        `relative paths start at the folder of the search file, where the command runs`;
      context.report(['evaluation', 'command', String(i)], message, 'file-not-found', { fallbackPath: ['evaluation', 'command'] });
    });
  },
};
