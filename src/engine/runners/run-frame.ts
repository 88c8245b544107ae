// What every run does around its runner's search: claim the run, mark the trials an earlier session
// left running interrupted, select the backend, and record how the run ended (stopped, done,
// interrupted or failed), releasing the evaluator whatever happens and announcing run-finished.

import { dirname } from 'node:path';
import type { RunStatus } from '../../protocol/engine.ts';
import { selectBackend } from '../backend.ts';
import { EvaluatorUnavailable, type Evaluator } from '../evaluators/evaluator.ts';
import { startConfiguredEvaluator } from '../evaluators/start.ts';
import { finalSearchConfig } from '../retrain.ts';
import type { Store } from '../store/store.ts';
import type { RunSession, SearchHooks, SearchRunner } from './runner.ts';

export async function runFrame(store: Store, runId: number, hooks: SearchHooks, runner: SearchRunner): Promise<RunStatus> {
  const emit = hooks.onEvent;
  const log = (level: 'info' | 'warn' | 'error', message: string) => emit({ type: 'log', level, message });
  const { config, spaceFile, spaceText } = store.runConfig(runId);
  const baseDir = dirname(spaceFile);
  // One per recipe: a final retraining trains here with the final recipe, even when the search's trials go to workers.
  const evaluators = new Map<'search' | 'final', Evaluator>();
  let status: RunStatus = 'running';
  const stopped = () => hooks.signal?.aborted === true;
  // Before anything else: a run another live process is searching is left alone (and not marked failed).
  store.claimRun(runId);
  try {
    const backend = await selectBackend(runner.computeBackend(config));
    const { queue } = config.runtime;
    // Trials on a queue: the evaluator connects first, to collect what workers finished while no engine listened.
    if (queue !== undefined && hooks.startEvaluator === undefined) {
      // Loaded only by searches with a queue: BullMQ and its Redis client stay out of the others.
      const [{ RemoteEvaluator }, { collectQueuedTrials }] = await Promise.all([
        import('../remote/remote-evaluator.ts'),
        import('../remote/collect.ts'),
      ]);
      const remote = await RemoteEvaluator.start({
        queueUrl: queue,
        runKey: store.queueKey(runId),
        runId,
        searchText: spaceText,
        searchFile: spaceFile,
        config,
        onWorker: (index, worker, attempt) => store.setTrialWorker(runId, index, worker, attempt),
        log: (message) => log('warn', message),
      });
      evaluators.set('search', remote);
      hooks.signal?.addEventListener('abort', () => remote.cancelAll(), { once: true });
      await collectQueuedTrials({ store, runId, config, emit }, remote, (message) => log('info', message));
    }
    const interrupted = store.markRunningTrialsInterrupted(runId);
    if (interrupted) log('warn', `${interrupted} trial(s) left unfinished by an earlier session were marked interrupted`);
    const checkpoint = store.latestCheckpoint(runId);
    const session: RunSession = {
      store,
      runId,
      config,
      emit,
      baseDir,
      checkpoint,
      backend,
      log,
      stopped,
      announce: (used, log10SpaceSize, summary) => {
        store.setRunBackend(runId, used.name);
        // What it computes on (a GPU adapter and the limits it got, or why not a faster backend), kept with the run.
        const note = store.addRunNote(runId, 'info', `backend ${used.name}: ${used.detail}`);
        const run = store.getRun(runId);
        if (!run) throw new Error(`run ${runId} vanished from the store`);
        const resumed = checkpoint !== undefined || store.nextTrialIndex(runId) > 0;
        emit({ type: 'run-started', run, resumed, backend: used.name, backendDetail: used.detail, log10SpaceSize });
        emit({ type: 'run-note', note });
        log('info', `backend: ${used.name} (${used.detail}); ${summary}`);
      },
      startEvaluator: async (recipe = 'search') => {
        const running = evaluators.get(recipe);
        if (running) return running;
        const evaluated = recipe === 'final' ? finalSearchConfig(config) : config;
        const started = await (hooks.startEvaluator ?? startConfiguredEvaluator)(evaluated, baseDir, (message) => log('warn', message));
        evaluators.set(recipe, started);
        hooks.signal?.addEventListener('abort', () => started.cancelAll(), { once: true });
        return started;
      },
    };
    const end = await runner.run(session);
    const finished = store.getRun(runId);
    // A run is done only at its budget: one that ended short (its trials interrupted without a stop, or no
    // trainer left to train them) stays resumable.
    const short = finished !== undefined && finished.trialsDone < finished.budgetTrials;
    status = stopped() ? 'stopped' : short || end.interruptedBecause ? 'interrupted' : 'done';
    if (status === 'stopped') log('info', `stopped${end.progress ? ` ${end.progress}` : ''}; resume continues from here`);
    const why = end.interruptedBecause ? `${end.interruptedBecause}; interrupted` : 'ended short of its budget';
    const reason = status === 'interrupted' ? `${why} ${end.progress ?? ''}; resume continues from here` : undefined;
    if (reason) log('warn', reason);
    store.setRunStatus(runId, status, reason);
  } catch (error) {
    // The run records why; the caller reports the error once. A run nothing can evaluate now stays resumable.
    status = error instanceof EvaluatorUnavailable ? 'interrupted' : 'failed';
    store.setRunStatus(runId, status, error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    await Promise.all([...evaluators.values()].map((evaluator) => evaluator.close()));
    const run = store.getRun(runId);
    if (run) emit({ type: 'run-finished', run });
  }
  return status;
}
