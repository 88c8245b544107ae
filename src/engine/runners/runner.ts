// What a search runner is: the search of one strategy family (the ask/tell loop, ENAS/random-ws
// weight sharing, DARTS) inside the frame every run shares (run-frame.ts).

import type { EngineEvent, EvaluatorBackend } from '../../protocol/engine.ts';
import type { BackendChoice, SearchConfig } from '../../space/config.ts';
import type { SelectedBackend } from '../backend.ts';
import type { Evaluator, StartEvaluator } from '../evaluators/evaluator.ts';
import type { Checkpoint } from '../store/store.ts';
import type { TrialContext } from '../trial-lifecycle.ts';

export interface SearchHooks {
  onEvent: (event: EngineEvent) => void;
  /** Aborting stops the search: children in training are cancelled, the run is marked stopped. */
  signal?: AbortSignal;
  /**
   * How children are evaluated; by default as the file's `evaluation` says (trained from scratch in trainer processes, or looked up in a
   * table).
   */
  startEvaluator?: StartEvaluator;
}

/** What the frame gives a runner: the claimed run, its latest checkpoint, and the services every runner needs. */
export interface RunSession extends TrialContext {
  /** The folder of the run's search file, which relative paths in it are resolved against. */
  baseDir: string;
  checkpoint: Checkpoint | undefined;
  /** The tfjs backend this process computes on, as the runner asked for it. */
  backend: SelectedBackend;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  stopped: () => boolean;
  /**
   * Records the backend the run's figures come from, emits run-started and logs the backend with `summary`; once the search has restored
   * its checkpoint.
   */
  announce: (backend: { name: EvaluatorBackend; detail: string }, log10SpaceSize: number, summary: string) => void;
  /**
   * Starts the evaluator that trains children from scratch (with the search's recipe, or for a final retraining with the
   * final recipe, on this machine); a stop cancels what it trains, and it is closed when the run ends.
   */
  startEvaluator: (recipe?: 'search' | 'final') => Promise<Evaluator>;
}

/** How a runner ended, for the frame's record when it was stopped or could not go on. */
export interface RunEnd {
  /** Where a stopped run stands, as "after 3 of 10 trials". */
  progress?: string;
  /** Why the search could not go on though nobody stopped it (no trainer can be started): the run ends interrupted, resumable. */
  interruptedBecause?: string;
}

export interface SearchRunner {
  /** True when its trial count follows from its strategy (epochs, children, retrained cells), not from the budget. */
  readonly oneShot: boolean;
  /** The tfjs backend this process computes on while it searches. */
  computeBackend(config: SearchConfig): BackendChoice;
  /** Searches (or resumes) to the end of its budget, or to a stop; releases whatever it builds itself. */
  run(session: RunSession): Promise<RunEnd>;
}
