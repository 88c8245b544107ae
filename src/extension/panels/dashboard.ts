// The run dashboard: a run's trials, controller steps and notes, growing while the run is live.
import { countsInProgress, rewardCountsForBest, type EngineEvent, type RunRecord } from '../../protocol/engine.ts';
import {
  toAlphaPoint,
  toStepPoint,
  toTrialPoint,
  type AlphaPoint,
  type DashboardData,
  type EpochPoint,
  type IntermediateValues,
  type StepPoint,
  type TrialPoint,
} from '../../protocol/webview.ts';
import { definePanel, fieldChecks, requestCheck, type Ready } from '../panel-kind.ts';
import type { TrialState } from './trial.ts';

export type DashboardState = { view: 'dashboard'; runId: number };

export type DashboardMessage =
  | { type: 'dashboard'; data: DashboardData }
  /**
   * A live run: what happened since the last message; the charts append, they are not rebuilt. A run with
   * intermediate values also gets its trials' epochs as they train, and those values asked again as trials finish.
   */
  | {
      type: 'dashboard-append';
      run: RunRecord;
      trials: TrialPoint[];
      steps: StepPoint[];
      alphas: AlphaPoint[];
      notes: string[];
      epochs: EpochPoint[];
      intermediate?: IntermediateValues;
    };

export type DashboardRequest =
  Ready | { type: 'open-trial'; runId: number; index: number } | { type: 'stop'; runId: number } | { type: 'resume'; runId: number };

/** Live appends are batched: a burst of trials becomes one message and one chart update. */
const APPEND_INTERVAL_MS = 250;

const { ready, isId } = fieldChecks;

export const dashboardPanel = definePanel<DashboardState, DashboardMessage, DashboardRequest>({
  view: 'dashboard',
  title: (state) => `NAS Run ${state.runId}`,
  isRequest: requestCheck<DashboardRequest>({
    ready,
    'open-trial': (m) => isId(m.runId) && isId(m.index),
    stop: (m) => isId(m.runId),
    resume: (m) => isId(m.runId),
  }),
  command: {
    id: 'nasStudio.openDashboard',
    async state(ui, node) {
      const run = ui.runOf(node) ?? (await ui.pickRun((await ui.listRuns()).reverse(), 'NAS: Open Run Dashboard'));
      return run && { view: 'dashboard', runId: run.id };
    },
  },
  open(panel) {
    const { runId } = panel.state;
    let run: RunRecord | undefined;
    /** Events that came while the first query was in flight: applied once it is loaded. */
    const early: EngineEvent[] = [];
    const pending = {
      trials: [] as TrialPoint[],
      steps: [] as StepPoint[],
      alphas: [] as AlphaPoint[],
      notes: [] as string[],
      epochs: [] as EpochPoint[],
      intermediate: undefined as IntermediateValues | undefined,
    };
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    /** Whether the run has intermediate values to chart (known from the first load). */
    let charted = false;
    /** Retrainings under way: their epochs are test accuracies of another recipe, not intermediate values of the search. */
    const retraining = new Set<number>();
    let intermediateAsked = false;
    let askAgain = false;
    let disposed = false;

    const flush = () => {
      flushTimer = undefined;
      if (!run || disposed) return;
      const { intermediate } = pending;
      pending.intermediate = undefined;
      panel.post({
        type: 'dashboard-append',
        run,
        trials: pending.trials.splice(0),
        steps: pending.steps.splice(0),
        alphas: pending.alphas.splice(0),
        notes: pending.notes.splice(0),
        epochs: pending.epochs.splice(0),
        ...(intermediate ? { intermediate } : {}),
      });
    };
    const flushSoon = () => {
      flushTimer ??= setTimeout(flush, APPEND_INTERVAL_MS);
    };

    /** A finished trial moves the rungs: their thresholds are the scheduler's, so they are asked of the engine, one query at a time. */
    const askIntermediate = () => {
      if (intermediateAsked) {
        askAgain = true;
        return;
      }
      intermediateAsked = true;
      panel.queries
        .query(panel.db(), { kind: 'intermediate', runId })
        .then((values) => {
          if (!values) return;
          pending.intermediate = values;
          flushSoon();
        })
        // The chart keeps the rungs it has; the next finished trial asks again.
        .catch(() => undefined)
        .finally(() => {
          intermediateAsked = false;
          if (askAgain && !disposed) {
            askAgain = false;
            askIntermediate();
          }
        });
    };

    const apply = (event: EngineEvent) => {
      if (!run) return;
      if (event.type === 'trial-finished') {
        const { trial } = event;
        pending.trials.push(toTrialPoint(trial, run.createdAt));
        // The header's counters move with each trial, until the engine sends the run record again.
        const counted = countsInProgress(trial, run) ? 1 : 0;
        const bestReward = rewardCountsForBest(trial) ? Math.max(run.bestReward ?? -Infinity, trial.reward!) : run.bestReward;
        run = { ...run, trialsDone: run.trialsDone + counted, bestReward };
        if (charted) askIntermediate();
      }
      if (event.type === 'trial-started' && event.retrainedFrom !== undefined) retraining.add(event.index);
      if (event.type === 'epoch' && charted && !retraining.has(event.trial)) {
        const value = event.metrics.valAccuracy;
        pending.epochs.push({ trial: event.trial, epoch: event.metrics.epoch, valAccuracy: Number.isFinite(value) ? value : null });
      }
      if (event.type === 'controller-step') pending.steps.push(toStepPoint(event.step));
      if (event.type === 'alpha-snapshot') pending.alphas.push(toAlphaPoint(event.snapshot));
      if (event.type === 'run-note') pending.notes.push(event.note.message);
      if (event.type === 'run-finished' || event.type === 'run-started') run = event.run;
      flushSoon();
    };

    /** Sends the whole content (on first load and after a reload), then what the run did meanwhile. */
    const load = async () => {
      const db = panel.db();
      const data = await panel.queries.query(db, { kind: 'dashboard', runId });
      if (!data) throw new Error(`run ${runId} is not in ${db}`);
      run = data.run;
      charted = data.intermediate !== undefined;
      panel.setTitle(`NAS Run ${data.run.id}: ${data.run.name}`);
      panel.post({ type: 'dashboard', data });
      // What finished while the query ran, less what the query already had (the store keeps no epoch of a
      // trial in training: those the query ran beside all count).
      const loadedTrials = new Set(data.trials.filter((t) => t.status !== 'running').map((t) => t.index));
      const lastStep = data.steps.at(-1)?.step ?? 0;
      const lastAlphaStep = data.darts?.alphas.at(-1)?.step ?? -1;
      const loadedNotes = new Set(data.notes);
      for (const event of early.splice(0)) {
        if (event.type === 'trial-finished' && loadedTrials.has(event.trial.index)) continue;
        if (event.type === 'controller-step' && event.step.step <= lastStep) continue;
        if (event.type === 'alpha-snapshot' && event.snapshot.step <= lastAlphaStep) continue;
        if (event.type === 'run-note' && loadedNotes.has(event.note.message)) continue;
        apply(event);
      }
    };

    return {
      handle(request) {
        switch (request.type) {
          case 'ready':
            return load();
          case 'open-trial':
            return panel.open({ view: 'trial', runId: request.runId, index: request.index } satisfies TrialState);
          case 'stop':
            return panel.actions.stop(request.runId);
          case 'resume':
            return panel.actions.resume(request.runId);
        }
      },
      onEngineEvent(event) {
        if (engineEventRunId(event) !== runId) return;
        if (run) apply(event);
        else early.push(event);
      },
      dispose() {
        disposed = true;
        if (flushTimer) clearTimeout(flushTimer);
      },
    };
  },
});

/** The run a live event belongs to, for the events a dashboard shows. */
function engineEventRunId(event: EngineEvent): number | undefined {
  switch (event.type) {
    case 'trial-finished':
      return event.trial.runId;
    case 'trial-started':
    case 'epoch':
      return event.runId;
    case 'controller-step':
      return event.step.runId;
    case 'alpha-snapshot':
      return event.snapshot.runId;
    case 'run-note':
      return event.note.runId;
    case 'run-finished':
    case 'run-started':
      return event.run.id;
    default:
      return undefined;
  }
}
