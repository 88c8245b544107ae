// The run dashboard: a run's trials, controller steps and notes, growing while the run is live.
import type { EngineEvent, RunRecord } from '../../protocol/engine.ts';
import {
  toAlphaPoint,
  toStepPoint,
  toTrialPoint,
  type AlphaPoint,
  type DashboardData,
  type StepPoint,
  type TrialPoint,
} from '../../protocol/webview.ts';
import { definePanel, fieldChecks, requestCheck, type Ready } from '../panel-kind.ts';
import type { TrialState } from './trial.ts';

export type DashboardState = { view: 'dashboard'; runId: number };

export type DashboardMessage =
  | { type: 'dashboard'; data: DashboardData }
  /** A live run: what happened since the last message; the charts append, they are not rebuilt. */
  | { type: 'dashboard-append'; run: RunRecord; trials: TrialPoint[]; steps: StepPoint[]; alphas: AlphaPoint[]; notes: string[] };

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
    const pending = { trials: [] as TrialPoint[], steps: [] as StepPoint[], alphas: [] as AlphaPoint[], notes: [] as string[] };
    let flushTimer: ReturnType<typeof setTimeout> | undefined;

    const flush = () => {
      flushTimer = undefined;
      if (!run) return;
      panel.post({
        type: 'dashboard-append',
        run,
        trials: pending.trials.splice(0),
        steps: pending.steps.splice(0),
        alphas: pending.alphas.splice(0),
        notes: pending.notes.splice(0),
      });
    };

    const apply = (event: EngineEvent) => {
      if (!run) return;
      if (event.type === 'trial-finished') {
        const { trial } = event;
        pending.trials.push(toTrialPoint(trial, run.createdAt));
        // The header's counters move with each trial, until the engine sends the run record again.
        const counted = trial.status === 'done' || trial.status === 'failed' ? 1 : 0;
        const bestReward = trial.reward === null ? run.bestReward : Math.max(run.bestReward ?? -Infinity, trial.reward);
        run = { ...run, trialsDone: run.trialsDone + counted, bestReward };
      }
      if (event.type === 'controller-step') pending.steps.push(toStepPoint(event.step));
      if (event.type === 'alpha-snapshot') pending.alphas.push(toAlphaPoint(event.snapshot));
      if (event.type === 'run-note') pending.notes.push(event.note.message);
      if (event.type === 'run-finished' || event.type === 'run-started') run = event.run;
      flushTimer ??= setTimeout(flush, APPEND_INTERVAL_MS);
    };

    /** Sends the whole content (on first load and after a reload), then what the run did meanwhile. */
    const load = async () => {
      const db = panel.db();
      const data = await panel.queries.query(db, { kind: 'dashboard', runId });
      if (!data) throw new Error(`run ${runId} is not in ${db}`);
      run = data.run;
      panel.setTitle(`NAS Run ${data.run.id}: ${data.run.name}`);
      panel.post({ type: 'dashboard', data });
      // What finished while the query ran, less what the query already had.
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
