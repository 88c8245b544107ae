// The search loop: strategy.ask() -> evaluator -> strategy.tell(), with every step in the store.
// Both the CLI and the engine child process drive this same code.

import { dirname, resolve } from 'node:path';
import type { ControllerStepRecord, EngineEvent, RunStatus, SearchOverrides, TrialMeasurements, TrialStatus } from '../protocol/engine.ts';
import type { RewardConfig, SearchConfig } from '../space/config.ts';
import { log10SpaceSize, type Architecture } from '../space/decisions.ts';
import { architectureKey, compileSpace, decodeArchitecture } from '../space/graph.ts';
import { formatProblem, loadSearchFile } from '../space/parse.ts';
import { selectBackend } from './backend.ts';
import { EvaluationFailed, type Evaluator, type StartEvaluator } from './evaluators/evaluator.ts';
import { startConfiguredEvaluator } from './evaluators/start.ts';
import { isWeightSharing, runWeightSharing } from './oneshot/weight-sharing.ts';
import { runDarts } from './oneshot/darts.ts';
import type { Store } from './store/store.ts';
import { createStrategy, type Strategy } from './strategies/strategy.ts';

export class InvalidSearchFile extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'InvalidSearchFile';
  }
}

export function applyReward(reward: RewardConfig, valAccuracy: number): number {
  return reward.transform === 'cube' ? valAccuracy ** 3 : valAccuracy;
}

export interface SearchHooks {
  onEvent: (event: EngineEvent) => void;
  /** Aborting stops the search: children in training are cancelled, the run is marked stopped. */
  signal?: AbortSignal;
  /** How children are evaluated; by default as the file's `evaluation` says (trained from scratch in trainer processes, or looked up in a table). */
  startEvaluator?: StartEvaluator;
}

/** Reads and validates a search file, applies command-line overrides, and creates its run. Nothing is written if the file is invalid. */
export function createRunFromFile(store: Store, file: string, overrides: SearchOverrides): number {
  const spaceFile = resolve(file);
  const loaded = loadSearchFile(spaceFile);
  if (!loaded.config) throw new InvalidSearchFile(loaded.problems.map(formatProblem));
  const { strategy } = loaded.config;
  // A one-shot search's trial count follows from its strategy (epochs, children, retrained cells).
  if (overrides.trials !== undefined && (strategy.kind === 'enas' || strategy.kind === 'random-ws' || strategy.kind === 'darts')) {
    throw new InvalidSearchFile([`${spaceFile}: --trials does not apply to a ${strategy.kind} search, whose trials follow from its strategy (${loaded.config.budget.trials} here); change strategy.epochs instead`]);
  }
  const config: SearchConfig = {
    ...loaded.config,
    budget: { ...loaded.config.budget, trials: overrides.trials ?? loaded.config.budget.trials },
    runtime: { backend: overrides.backend ?? loaded.config.runtime.backend, seed: overrides.seed ?? loaded.config.runtime.seed },
  };
  return store.createRun({ name: config.name, spaceFile, spaceText: loaded.text, config });
}

export interface TrialContext {
  store: Store;
  runId: number;
  config: SearchConfig;
  evaluator: Evaluator;
  emit: (event: EngineEvent) => void;
}

/** Trains one architecture from scratch as trial `index`: recorded in the store, announced, and its outcome returned. */
export async function trainTrial(context: TrialContext, index: number, architecture: Architecture, hidden?: number[]): Promise<{ status: Exclude<TrialStatus, 'running'>; reward: number | null }> {
  const { store, runId, config, evaluator, emit } = context;
  const graph = decodeArchitecture(config.space, architecture);
  const key = architectureKey(graph);
  store.startTrial(runId, index, architecture, key, graph);
  // The controller's state once it emitted this architecture, for the controller-insight analysis.
  if (hidden) store.recordHiddenState(runId, index, hidden);
  emit({ type: 'trial-started', runId, index, architecture, key });
  let measurements: TrialMeasurements | null = null;
  let error: string | null = null;
  let status: Exclude<TrialStatus, 'running'> = 'done';
  try {
    measurements = await evaluator.evaluate(
      { architecture, graph, space: config.space, seed: config.runtime.seed * 100003 + index },
      (metrics) => emit({ type: 'epoch', runId, trial: index, metrics }),
    );
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure);
    status = failure instanceof EvaluationFailed && failure.cancelled ? 'interrupted' : 'failed';
  }
  const reward = measurements ? applyReward(config.strategy.reward, measurements.valAccuracy) : null;
  store.finishTrial({ runId, index, status, reward, measurements, error });
  const trial = store.getTrial(runId, index);
  if (trial) emit({ type: 'trial-finished', trial });
  return { status, reward };
}

interface Outcome {
  index: number;
  architecture: Architecture;
  reward: number | null;
}

/**
 * Runs (or resumes) a run to its budget. A run resumes from its latest checkpoint: trials left running
 * by a dead writer are marked interrupted, finished trials the strategy had not yet learned from are
 * told again, and new trials take fresh indices.
 */
export async function runSearch(store: Store, runId: number, hooks: SearchHooks): Promise<RunStatus> {
  const { config, spaceFile } = store.runConfig(runId);
  if (config.strategy.kind === 'darts') return runDarts(store, runId, hooks);
  if (isWeightSharing(config.strategy)) return runWeightSharing(store, runId, hooks);
  const emit = hooks.onEvent;
  const log = (level: 'info' | 'warn' | 'error', message: string) => emit({ type: 'log', level, message });
  const decisions = compileSpace(config.space);
  let strategy: Strategy | undefined;
  let evaluator: Evaluator | undefined;
  let status: RunStatus = 'running';
  // Before anything else: a run another live process is searching is left alone (and not marked failed).
  store.claimRun(runId);
  try {
    // The controller is small and lives here, on the CPU; children train in trainer processes.
    await selectBackend('cpu');
    strategy = createStrategy(config, decisions);
    const learner = strategy;
    const interrupted = store.markRunningTrialsInterrupted(runId);
    if (interrupted) log('warn', `${interrupted} trial(s) left unfinished by an earlier session were marked interrupted`);
    const resumed = store.nextTrialIndex(runId) > 0;
    const checkpoint = store.latestCheckpoint(runId);
    let toldThrough = -1;
    if (checkpoint) {
      await strategy.setState(checkpoint.state);
      toldThrough = checkpoint.toldThrough;
    }

    const startEvaluator = hooks.startEvaluator ?? startConfiguredEvaluator;
    const active = await startEvaluator(config, dirname(spaceFile), (message) => log('warn', message));
    evaluator = active;
    store.setRunBackend(runId, active.backend);
    const run = store.getRun(runId);
    if (!run) throw new Error(`run ${runId} vanished from the store`);
    emit({ type: 'run-started', run, resumed, backend: active.backend, backendDetail: active.backendDetail, log10SpaceSize: log10SpaceSize(decisions) });
    log('info', `backend: ${active.backend} (${active.backendDetail}); ${active.size} evaluation(s) at a time`);

    let trialsDone = run.trialsDone;
    const tellInOrder = async (outcome: Outcome) => {
      const update = learner.tell(outcome.architecture, outcome.reward);
      toldThrough = outcome.index;
      let controllerStep: ControllerStepRecord | undefined;
      if (update) {
        controllerStep = { runId, ...update };
        emit({ type: 'controller-step', step: controllerStep });
      }
      store.recordTell(runId, controllerStep, { toldThrough, state: await learner.getState() });
    };

    // Finished trials the checkpoint had not learned from (the writer died between the two).
    for (const trial of store.listTrials(runId)) {
      if (trial.index > toldThrough && (trial.status === 'done' || trial.status === 'failed')) {
        await tellInOrder({ index: trial.index, architecture: trial.architecture, reward: trial.reward });
      }
    }

    const finished = new Map<number, Outcome>();
    const inFlight = new Set<Promise<void>>();
    let nextIndex = store.nextTrialIndex(runId);
    let nextToTell = nextIndex;
    const evaluate = async (index: number, architecture: Architecture, hidden: number[] | undefined) => {
      const { status: trialStatus, reward } = await trainTrial({ store, runId, config, evaluator: active, emit }, index, architecture, hidden);
      if (trialStatus === 'interrupted') return;
      trialsDone += 1;
      finished.set(index, { index, architecture, reward });
    };

    const budget = config.budget.trials;
    const toAsk = budget - trialsDone;
    const stopped = () => hooks.signal?.aborted === true;
    hooks.signal?.addEventListener('abort', () => active.cancelAll(), { once: true });
    // Tells go in index order, whatever order training ends in. When what a strategy proposes depends
    // on what it was told, asks and tells also alternate in a fixed order (ask j only after tell
    // j - size), so a seed gives the same search however long each child takes to train.
    const window = learner.adaptive ? active.size : Number.POSITIVE_INFINITY;
    let asked = 0;
    let told = 0;
    for (;;) {
      while (!stopped() && asked < toAsk && asked - told < window && inFlight.size < active.size) {
        asked += 1;
        const architecture = learner.ask();
        const running: Promise<void> = evaluate(nextIndex++, architecture, learner.lastHiddenState?.()).finally(() => inFlight.delete(running));
        inFlight.add(running);
      }
      const mayTell = () => !learner.adaptive || asked - told >= window || asked === toAsk || stopped();
      let progressed = false;
      while (finished.has(nextToTell) && mayTell()) {
        const outcome = finished.get(nextToTell)!;
        finished.delete(nextToTell);
        nextToTell += 1;
        told += 1;
        progressed = true;
        await tellInOrder(outcome);
      }
      if (progressed) continue;
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
    if (stopped()) {
      status = 'stopped';
      log('info', `stopped after ${trialsDone} of ${budget} trials; resume continues from here`);
    } else {
      status = 'done';
    }
    store.setRunStatus(runId, status);
  } catch (error) {
    // The run records why; the caller reports the error once.
    status = 'failed';
    store.setRunStatus(runId, status, error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    await evaluator?.close();
    strategy?.dispose();
    const run = store.getRun(runId);
    if (run) emit({ type: 'run-finished', run });
  }
  return status;
}
