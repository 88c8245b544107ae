// What every one-shot run (ENAS, random-ws, DARTS) does around its own search: claim the run, load
// the data its supernet trains on, start the trainer processes only for the retraining, and record
// how the run ended (stopped, done or failed), releasing everything it holds whatever happens.

import * as tf from '@tensorflow/tfjs';
import { dirname } from 'node:path';
import type { EngineEvent, RunStatus } from '../../protocol/engine.ts';
import { trainingSetup, type SearchConfig } from '../../space/config.ts';
import { selectBackend } from '../backend.ts';
import { splitDataset } from '../data/dataset.ts';
import { loadDataset } from '../data/load.ts';
import type { Evaluator } from '../evaluators/evaluator.ts';
import { prepareTrainingData, type TrainingData } from '../evaluators/train-from-scratch.ts';
import { startConfiguredEvaluator } from '../evaluators/start.ts';
import type { SearchHooks } from '../search.ts';
import type { Checkpoint, Store } from '../store/store.ts';

export interface OneShotSession {
  config: SearchConfig;
  data: TrainingData;
  checkpoint: Checkpoint | undefined;
  emit: (event: EngineEvent) => void;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  stopped: () => boolean;
  /** Emits run-started once the search has restored its checkpoint, and logs the backend with `summary`. */
  announce: (log10SpaceSize: number, summary: string) => void;
  /** The evaluator that retrains from scratch; closed when the run ends. */
  startEvaluator: () => Promise<Evaluator>;
}

/** Runs (or resumes) a one-shot run: `search` does the strategy's own work and disposes what it builds. */
export async function runOneShot(store: Store, runId: number, hooks: SearchHooks, search: (session: OneShotSession) => Promise<void>): Promise<RunStatus> {
  const emit = hooks.onEvent;
  const log = (level: 'info' | 'warn' | 'error', message: string) => emit({ type: 'log', level, message });
  const { config, spaceFile } = store.runConfig(runId);
  store.claimRun(runId);
  let status: RunStatus = 'running';
  let data: TrainingData | undefined;
  let evaluator: Evaluator | undefined;
  const stopped = () => hooks.signal?.aborted === true;
  try {
    // The supernet trains in this process, on the backend the run asks for.
    const backend = await selectBackend(config.runtime.backend);
    const interrupted = store.markRunningTrialsInterrupted(runId);
    if (interrupted) log('warn', `${interrupted} trial(s) left unfinished by an earlier session were marked interrupted`);
    const { dataset } = trainingSetup(config);
    data = prepareTrainingData(splitDataset(loadDataset(dataset, dirname(spaceFile)), dataset));
    const checkpoint = store.latestCheckpoint(runId);
    store.setRunBackend(runId, backend.name);
    const announce = (log10SpaceSize: number, summary: string) => {
      const run = store.getRun(runId);
      if (!run) throw new Error(`run ${runId} vanished from the store`);
      const resumed = checkpoint !== undefined || store.nextTrialIndex(runId) > 0;
      emit({ type: 'run-started', run, resumed, backend: backend.name, backendDetail: backend.detail, log10SpaceSize });
      log('info', `backend: ${backend.name} (${backend.detail}); ${summary}`);
    };
    const startEvaluator = async () => {
      const started = await (hooks.startEvaluator ?? startConfiguredEvaluator)(config, dirname(spaceFile), (message) => log('warn', message));
      evaluator = started;
      hooks.signal?.addEventListener('abort', () => started.cancelAll(), { once: true });
      return started;
    };
    await search({ config, data, checkpoint, emit, log, stopped, announce, startEvaluator });
    status = stopped() ? 'stopped' : 'done';
    if (status === 'stopped') log('info', 'stopped; resume continues from here');
    store.setRunStatus(runId, status);
  } catch (error) {
    status = 'failed';
    store.setRunStatus(runId, status, error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    await evaluator?.close();
    if (data) tf.dispose([data.train, data.validation, data.test].flatMap((part) => [part.images, part.oneHot]));
    const run = store.getRun(runId);
    if (run) emit({ type: 'run-finished', run });
  }
  return status;
}
