// Entry point of the engine child process that the VS Code extension starts with a plain Node:
// it takes commands over IPC and answers with the engine's events and query results, all typed in
// src/protocol. One process runs at most one job (a search, a retraining, an export or a run's deletion) and
// ends with it; any process answers store queries and backend checks.

import { intermediateValues } from './schedulers/start.ts';
import type { EngineCommand, EngineMessage, StoreAnswers, StoreQuery, StoreQueryKind } from '../protocol/engine.ts';
import { toStepPoint, toTrialPoint, type DashboardData } from '../protocol/webview.ts';
import { logTail } from '../shared/format.ts';
import { compileSpace } from '../space/graph.ts';
import { strategyKind } from '../space/kinds/strategies/registry.ts';
import { controllerInsight } from './analysis/controller-insight.ts';
import { sampleText } from './analysis/sample-text.ts';
import { checkBackends } from './backend.ts';
import { exportOneTrial } from './export/trial.ts';
import { finalSearchConfig, retrainTrial, trialToRetrain } from './retrain.ts';
import { InvalidSearchFile, createRunFromFile, runSearch } from './search.ts';
import { Store } from './store/store.ts';

// After the front end has gone, events have no reader; the search still winds down cleanly.
// `connected` stays true until this process has read the channel's end, so a send can still fail
// (EPIPE): the callback takes that error, which would otherwise crash the process mid-stop.
const send = (message: EngineMessage) => {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
};
const stopping = new AbortController();

async function search(command: Extract<EngineCommand, { type: 'search' | 'resume' }>): Promise<void> {
  const store = new Store(command.db);
  try {
    const runId = command.type === 'search' ? createRunFromFile(store, command.file, command.overrides) : command.runId;
    const status = await runSearch(store, runId, { onEvent: (event) => send({ type: 'event', event }), signal: stopping.signal });
    send({ type: 'done', runId, status });
  } catch (error) {
    if (error instanceof InvalidSearchFile) send({ type: 'failed', message: 'the search file is invalid', problems: error.problems });
    else send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  } finally {
    store.close();
  }
}

type Job = Exclude<EngineCommand, { type: 'stop' | 'query' | 'check-backends' }>;

/** A retraining's events stream as a search's do; 'stop' cancels it, and its trial is then recorded interrupted. */
async function retrain(store: Store, command: Extract<Job, { type: 'retrain' }>): Promise<void> {
  const trial = await retrainTrial(store, command.runId, {
    trial: command.trial,
    recipe: command.epochs === undefined ? {} : { epochs: command.epochs },
    onEvent: (event) => send({ type: 'event', event }),
    signal: stopping.signal,
  });
  send({ type: 'retrained', trial });
}

async function exportFromStore(store: Store, command: Extract<Job, { type: 'export' }>): Promise<void> {
  const trial = store.getTrial(command.runId, command.trial);
  if (!trial) throw new Error(`run ${command.runId} has no trial ${command.trial}`);
  send({ type: 'exported', files: await exportOneTrial(store, trial, command.format, command.out, { force: command.force }) });
}

async function runJob(command: Job): Promise<void> {
  if (command.type === 'search' || command.type === 'resume') return search(command);
  const store = new Store(command.db);
  try {
    if (command.type === 'retrain') await retrain(store, command);
    else if (command.type === 'export') await exportFromStore(store, command);
    else {
      store.deleteRun(command.runId);
      send({ type: 'deleted', runId: command.runId });
    }
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  } finally {
    store.close();
  }
}

/** Query stores stay open between queries: the side panel asks often. */
const queryStores = new Map<string, Store>();

/** The trial view shows the end of a trial's log; its whole log (up to 256 KiB) would slow the panel for lines few read. */
const TRIAL_VIEW_LOG_LINES = 400;

type QueryOf<K extends StoreQueryKind> = Extract<StoreQuery, { kind: K }>;
/** What the editor is shown of a run: one whose writer died reads as interrupted, as its trials then do (`Store.liveTrials`). */
const shownRun = (store: Store, runId: number) => {
  const run = store.getRun(runId);
  return run && store.liveRun(run);
};

type Answerer<K extends StoreQueryKind> = (store: Store, query: QueryOf<K>) => StoreAnswers[K] | Promise<StoreAnswers[K]>;

/** One answerer per query kind: each must answer with its own kind and that kind's result type. */
const answerers: { [K in StoreQueryKind]: Answerer<K> } = {
  runs: (store) => ({ kind: 'runs', result: store.listRuns().map((run) => store.liveRun(run)) }),
  trials: (store, query) => ({
    kind: 'trials',
    result: {
      trials: store.liveTrials(query.runId, store.listTrials(query.runId, query.order, query.offset, query.limit)),
      total: store.countTrials(query.runId),
    },
  }),
  trial: (store, query) => {
    const trial = store.getTrial(query.runId, query.index);
    return {
      kind: 'trial',
      result: trial ? { trial: store.liveTrials(query.runId, [trial])[0], epochs: store.trialEpochs(query.runId, query.index) } : null,
    };
  },
  'mark-interrupted': (store, query) => {
    store.markRunInterrupted(query.runId, query.reason);
    return { kind: 'mark-interrupted', result: null };
  },
  dashboard: async (store, query) => ({ kind: 'dashboard', result: await dashboardData(store, query.runId) }),
  intermediate: async (store, { runId }) => ({
    kind: 'intermediate',
    result: store.getRun(runId) ? ((await intermediateValues(store.runConfig(runId).config, store, runId)) ?? null) : null,
  }),
  'trial-view': (store, query) => {
    const run = shownRun(store, query.runId);
    const trial = store.getTrial(query.runId, query.index);
    if (!run || !trial) return { kind: 'trial-view', result: null };
    const decisions = compileSpace(store.runConfig(query.runId).config.space).map(({ name, options }) => ({ name, options }));
    const log = store.trialLog(query.runId, query.index);
    return {
      kind: 'trial-view',
      result: {
        run,
        trial: store.liveTrials(query.runId, [trial])[0],
        epochs: store.trialEpochs(query.runId, query.index),
        decisions,
        log: log === null ? null : logTail(log, TRIAL_VIEW_LOG_LINES),
        hasWeights: store.hasTrialWeights(query.runId, query.index),
      },
    };
  },
  compare: (store, query) => ({
    kind: 'compare',
    result: {
      runs: query.runIds.flatMap((runId) => {
        const run = shownRun(store, runId);
        return run
          ? [{ run, trials: store.liveTrials(runId, store.listTrials(runId)).map((trial) => toTrialPoint(trial, run.createdAt)) }]
          : [];
      }),
    },
  }),
  'retrain-plan': (store, { runId, index }) => {
    trialToRetrain(store, runId, index);
    const { evaluation } = finalSearchConfig(store.runConfig(runId).config);
    if (evaluation.kind !== 'train') throw new Error(`run ${runId} has no training recipe to retrain with`);
    return { kind: 'retrain-plan', result: { epochs: evaluation.epochs } };
  },
  'controller-insight': async (store, query) => ({ kind: 'controller-insight', result: await controllerInsight(store, query.runId) }),
  'sample-text': async (store, query) => ({ kind: 'sample-text', result: await sampleText(store, query) }),
};

async function dashboardData(store: Store, runId: number): Promise<DashboardData | null> {
  const run = shownRun(store, runId);
  if (!run) return null;
  const { config } = store.runConfig(runId);
  const { space, strategy } = config;
  const decisions = compileSpace(space).map((d) => d.name);
  const trials = store.liveTrials(runId, store.listTrials(runId)).map((trial) => toTrialPoint(trial, run.createdAt));
  const notes = store.runNotes(runId).map((note) => note.message);
  // The charts' per-decision values are computed here: the vectors themselves never reach the webview.
  const data: DashboardData = { run, decisions, trials, steps: store.controllerSteps(runId).map(toStepPoint), notes };
  data.intermediate = await intermediateValues(config, store, runId);
  // A strategy kind adds its own part (DARTS: its alphas; Pareto evolution: the cost its front minimised).
  return { ...data, ...(await strategyKind(strategy).dashboard?.(strategy, space, store, runId)) };
}

async function answer<K extends StoreQueryKind>(store: Store, query: QueryOf<K>): Promise<StoreAnswers[K]> {
  const answerer: Answerer<K> = answerers[query.kind];
  return answerer(store, query);
}

async function query(command: Extract<EngineCommand, { type: 'query' }>): Promise<void> {
  try {
    let store = queryStores.get(command.db);
    if (!store) {
      store = new Store(command.db);
      queryStores.set(command.db, store);
    }
    send({ type: 'query-result', id: command.id, ...(await answer(store, command.query)) });
  } catch (error) {
    send({ type: 'query-failed', id: command.id, message: error instanceof Error ? error.message : String(error) });
  }
}

let busy = false;
process.on('message', (command: EngineCommand) => {
  switch (command.type) {
    case 'stop':
      stopping.abort();
      return;
    case 'query':
      void query(command);
      return;
    case 'check-backends':
      void checkBackends().then((backends) => send({ type: 'backend-checks', backends }));
      return;
    default:
      if (busy) {
        send({ type: 'failed', message: `this engine process is already running a job; it takes no ${command.type}` });
        return;
      }
      busy = true;
      // A job's process ends with its job; its front end starts another for the next one.
      void runJob(command).finally(() => process.connected && process.disconnect());
  }
});
// The front end is gone (window closed, host crashed), or a signal asks this process to end
// (SIGTERM from a service manager, SIGHUP, Ctrl-C reaching the group): stop the search cleanly so
// the run is marked stopped (a retraining's trial interrupted), close the stores, and exit. Repeats change
// nothing while it stops.
const end = () => {
  stopping.abort();
  if (!busy) {
    queryStores.forEach((store) => store.close());
    process.exit(0);
  }
};
process.on('disconnect', end);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, end);
