// A search file's run: created from the file, then searched (or resumed) by its strategy's runner in
// the frame every run shares. Both the CLI and the engine child process drive this same code.

import { resolve } from 'node:path';
import type { RunStatus, SearchOverrides } from '../protocol/engine.ts';
import type { SearchConfig } from '../space/config.ts';
import { formatProblem, loadSearchFile } from '../space/parse.ts';
import { strategyKind } from '../space/kinds/strategies/registry.ts';
import { searchRunner } from './runners/registry.ts';
import { runFrame } from './runners/run-frame.ts';
import type { SearchHooks } from './runners/runner.ts';
import type { Store } from './store/store.ts';

export type { SearchHooks } from './runners/runner.ts';
export { applyReward } from './trial-lifecycle.ts';

export class InvalidSearchFile extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'InvalidSearchFile';
  }
}

/** Reads and validates a search file, applies command-line overrides, and creates its run. Nothing is written if the file is invalid. */
export function createRunFromFile(store: Store, file: string, overrides: SearchOverrides): number {
  const spaceFile = resolve(file);
  const loaded = loadSearchFile(spaceFile);
  if (!loaded.config) throw new InvalidSearchFile(loaded.problems.map(formatProblem));
  const { strategy } = loaded.config;
  // A one-shot search's trial count follows from its strategy (epochs, children, retrained cells).
  if (overrides.trials !== undefined && strategyKind(strategy).derivedTrials !== undefined) {
    throw new InvalidSearchFile([
      `${spaceFile}: --trials does not apply to a ${strategy.kind} search, whose trials ` +
        `follow from its strategy (${loaded.config.budget.trials} here); change ` +
        `strategy.epochs instead`,
    ]);
  }
  const config: SearchConfig = {
    ...loaded.config,
    budget: { ...loaded.config.budget, trials: overrides.trials ?? loaded.config.budget.trials },
    runtime: {
      ...loaded.config.runtime,
      backend: overrides.backend ?? loaded.config.runtime.backend,
      seed: overrides.seed ?? loaded.config.runtime.seed,
      ...(overrides.queue === undefined ? {} : { queue: overrides.queue }),
    },
  };
  return store.createRun({ name: config.name, spaceFile, spaceText: loaded.text, config });
}

/**
 * Runs (or resumes) a run to its budget, or to a stop. A run resumes from its latest checkpoint:
 * trials left running by a dead writer are marked interrupted, and its runner continues from there.
 */
export async function runSearch(store: Store, runId: number, hooks: SearchHooks): Promise<RunStatus> {
  const { config } = store.runConfig(runId);
  return runFrame(store, runId, hooks, await searchRunner(config.strategy));
}
