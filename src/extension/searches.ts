// The searches and retrainings running from this window: one engine process each, their progress in the
// status bar and a notification, their log in the output channel, and what happens when one dies.

import * as vscode from 'vscode';
import {
  countsInBudget,
  rewardCountsForBest,
  type EngineEvent,
  type EngineMessage,
  type RunRecord,
  type RunStatus,
  type SearchOverrides,
  type TrialRecord,
} from '../protocol/engine.ts';
import { trialStatusLabel } from '../shared/format.ts';
import { EngineProcess, isJobOutcome, type EngineExit, type JobOutcome, type QueryClient } from './engine-process.ts';

export interface EngineSettings {
  nodePath: string;
  enginePath: string;
  db: string;
}

/** A search counts trials against its budget and its best reward; a retraining counts epochs and its last test accuracy. */
export interface SearchProgress {
  runId: number | undefined;
  name: string;
  done: number;
  budget: number;
  best: number | null;
  pid: number | undefined;
  /** A retraining: the trial it trains again. */
  retraining?: number;
  /** Stop was asked (the notification's Cancel, Stop Search). */
  stopAsked?: boolean;
}

/** What the notification and the status bar say of a search's or a retraining's progress. */
function progressText(progress: SearchProgress): string {
  return progress.retraining === undefined
    ? `trial ${progress.done}/${progress.budget} · best reward ${fmt(progress.best)}`
    : `epoch ${progress.done}/${progress.budget} · test accuracy ${fmt(progress.best)}`;
}

const fmt = (value: number | null) => (value === null ? '-' : value.toFixed(3));

export class SearchManager implements vscode.Disposable {
  private readonly searches = new Map<EngineProcess, SearchProgress>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when what the tree or status bar shows changes: at once for a run's start and end, at most every 100 ms for its trials. */
  readonly onDidChange = this.changed.event;
  private changeTimer: NodeJS.Timeout | undefined;
  private readonly engineEvents = new vscode.EventEmitter<EngineEvent>();
  /** Every event of every search, for the panels that follow a run live. */
  readonly onEngineEvent = this.engineEvents.event;

  constructor(
    private readonly settings: () => EngineSettings,
    private readonly output: vscode.OutputChannel,
    private readonly queries: QueryClient,
  ) {}

  get active(): SearchProgress[] {
    return [...this.searches.values()];
  }

  isRunning(runId: number): boolean {
    return this.active.some((search) => search.runId === runId);
  }

  async start(file: vscode.Uri, overrides: SearchOverrides): Promise<RunStatus | undefined> {
    const name = vscode.workspace.asRelativePath(file);
    const progress = { runId: undefined, name, done: 0, budget: 0, best: null, pid: undefined };
    return this.searchOutcome(progress, await this.launch(progress, (db) => ({ type: 'search', file: file.fsPath, db, overrides })));
  }

  async resume(run: RunRecord): Promise<RunStatus | undefined> {
    // Known from the store already: the status bar shows it before the engine has started.
    const progress = {
      runId: run.id,
      name: run.name,
      done: run.trialsDone,
      budget: run.budgetTrials,
      best: run.bestReward,
      pid: undefined,
    };
    return this.searchOutcome(progress, await this.launch(progress, (db) => ({ type: 'resume', runId: run.id, db })));
  }

  /**
   * Trains trial `trial` of `run` again with the final recipe for `epochs` epochs, live like a search (a
   * notification with a cancel button, the tree and the dashboard follow); resolves with the retrained trial as
   * recorded (interrupted when cancelled), or undefined when it could not start or its process died.
   */
  async retrain(run: RunRecord, trial: number, epochs: number): Promise<TrialRecord | undefined> {
    const name = `${run.name}: retraining trial ${trial}`;
    const progress: SearchProgress = { runId: run.id, name, done: 0, budget: epochs, best: null, pid: undefined, retraining: trial };
    const ended = await this.launch(progress, (db) => ({ type: 'retrain', db, runId: run.id, trial, epochs }));
    if (ended.outcome?.type === 'retrained') return ended.outcome.trial;
    // Stopped while its trainer started: the engine recorded nothing, and says so.
    if (ended.outcome?.type === 'failed' && progress.stopAsked) void vscode.window.showInformationMessage(`NAS: ${ended.outcome.message}`);
    else if (ended.outcome?.type === 'failed')
      void this.offerLog(`NAS: retraining trial ${trial} of run ${run.id} failed: ${ended.outcome.message}`);
    else this.reportDeath(progress, ended.exit, 'Its retrained trial is interrupted.');
    return undefined;
  }

  stop(runId: number): boolean {
    const entry = [...this.searches].find(([, search]) => search.runId === runId);
    if (entry) entry[1].stopAsked = true;
    entry?.[0].send({ type: 'stop' });
    return entry !== undefined;
  }

  /** Starts an engine process for the job, follows it in a notification, and returns how it ended. */
  private async launch(
    progress: SearchProgress,
    command: (db: string) => Parameters<EngineProcess['send']>[0],
  ): Promise<{ outcome: JobOutcome | undefined; exit: EngineExit; db: string }> {
    const { nodePath, enginePath, db } = this.settings();
    const { name } = progress;
    let outcome: JobOutcome | undefined;
    const engine = await EngineProcess.start(
      nodePath,
      enginePath,
      (message) => {
        if (isJobOutcome(message)) outcome = message;
        this.onMessage(progress, message);
      },
      (line) => this.output.appendLine(`[engine ${progress.pid}] ${line}`),
    );
    progress.pid = engine.pid;
    this.searches.set(engine, progress);
    this.output.appendLine(`engine process ${engine.pid} started for "${name}" (database ${db})`);
    this.changed.fire();
    engine.send(command(db));

    const exit = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `NAS: ${name}`, cancellable: true },
      async (report, cancel) => {
        cancel.onCancellationRequested(() => {
          progress.stopAsked = true;
          engine.send({ type: 'stop' });
        });
        let reported = 0;
        const listener = this.onDidChange(() => {
          if (progress.budget === 0) return;
          const increment = ((progress.done - reported) / progress.budget) * 100;
          reported = progress.done;
          report.report({ message: progressText(progress), increment });
        });
        try {
          return await engine.exited;
        } finally {
          listener.dispose();
        }
      },
    );
    this.searches.delete(engine);
    this.output.appendLine(`engine process ${engine.pid} exited (${exit.signal ?? `code ${exit.code}`})`);
    this.changed.fire();
    return { outcome, exit, db };
  }

  private async searchOutcome(
    progress: SearchProgress,
    { outcome, exit, db }: Awaited<ReturnType<SearchManager['launch']>>,
  ): Promise<RunStatus | undefined> {
    const { name } = progress;
    if (outcome?.type === 'done') return outcome.status;
    if (outcome?.type === 'failed') {
      if (outcome.problems?.length) {
        this.output.appendLine(`${name}: the search file has problems:`);
        outcome.problems.forEach((problem) => this.output.appendLine(`  ${problem}`));
        void this.offerLog(`NAS: ${name} was not started: ${outcome.problems.length} problem(s) in the file. ${outcome.problems[0]}`);
      } else {
        void this.offerLog(`NAS: the search "${name}" failed: ${outcome.message}`);
      }
      return 'failed';
    }
    // No final message: the process died (crash, out of memory, killed).
    const reason = this.reportDeath(progress, exit, 'The run is marked interrupted; Resume continues it.');
    if (progress.runId !== undefined) {
      await this.queries
        .query(db, { kind: 'mark-interrupted', runId: progress.runId, reason: `the engine process died: ${reason}` })
        .catch((error: Error) => this.output.appendLine(`could not mark run ${progress.runId} interrupted: ${error.message}`));
      this.changed.fire();
    }
    return 'interrupted';
  }

  /** An engine process that died without a final message: logged and shown; returns its reason. */
  private reportDeath({ name, pid }: SearchProgress, exit: EngineExit, consequence: string): string {
    const reason = exit.stderr.split('\n').filter(Boolean).at(-1) ?? `exit ${exit.signal ?? exit.code}`;
    this.output.appendLine(`engine process ${pid} died: ${exit.stderr || reason}`);
    void this.offerLog(`NAS: the engine process of "${name}" died (${reason}). ${consequence}`);
    return reason;
  }

  private onMessage(progress: SearchProgress, message: EngineMessage): void {
    if (message.type !== 'event') return;
    const { event } = message;
    this.engineEvents.fire(event);
    switch (event.type) {
      case 'run-started':
        progress.runId = event.run.id;
        progress.name = event.run.name;
        progress.budget = event.run.budgetTrials;
        progress.done = event.run.trialsDone;
        progress.best = event.run.bestReward;
        this.output.appendLine(
          `run ${event.run.id} "${event.run.name}" ${event.resumed ? 'resumed' : 'started'}: ${event.run.strategy}, ` +
            `backend ${event.backend} (${event.backendDetail})`,
        );
        break;
      case 'epoch':
        if (progress.retraining === undefined) return;
        // A retrained trial has no validation split: its curve's "validation" accuracy is measured on the test examples.
        progress.done = event.metrics.epoch;
        progress.best = event.metrics.valAccuracy;
        break;
      case 'trial-started':
        break;
      case 'trial-finished': {
        const { trial } = event;
        if (progress.retraining === undefined && countsInBudget(trial.status)) progress.done += 1;
        if (rewardCountsForBest(trial) && (progress.best === null || trial.reward! > progress.best)) progress.best = trial.reward;
        this.output.appendLine(
          `run ${trial.runId} trial ${trial.index}: ${trialStatusLabel(trial)}` +
            `${trial.reward === null ? '' : `, reward ${fmt(trial.reward)}`}${trial.error ? ` (${trial.error})` : ''}`,
        );
        break;
      }
      case 'controller-step':
        this.output.appendLine(
          `run ${event.step.runId} controller step ${event.step.step}: loss ${event.step.loss.toFixed(4)}, ` +
            `baseline ${event.step.baseline.toFixed(4)}, entropy ${event.step.entropy.toFixed(3)}`,
        );
        break;
      case 'log':
        this.output.appendLine(`${event.level}: ${event.message}`);
        break;
      case 'run-finished':
        this.output.appendLine(
          `run ${event.run.id} ${event.run.status}: ${event.run.trialsDone}/${event.run.budgetTrials} ` +
            `trials${event.run.error ? ` (${event.run.error})` : ''}`,
        );
        break;
      default:
        return;
    }
    if (event.type === 'run-started' || event.type === 'run-finished') this.changed.fire();
    else this.changeSoon();
  }

  /**
   * A tabular search finishes a thousand trials a second: a status bar and progress update for each
   * would flood the window, and a Stop clicked meanwhile would wait behind them.
   */
  private changeSoon(): void {
    this.changeTimer ??= setTimeout(() => {
      this.changeTimer = undefined;
      this.changed.fire();
    }, 100);
  }

  private async offerLog(message: string): Promise<void> {
    if ((await vscode.window.showErrorMessage(message, 'Show Log')) === 'Show Log') this.output.show();
  }

  /**
   * Window closing: every engine stops its search cleanly (the run is marked stopped), then exits.
   * VS Code gives deactivate 5 s; an engine still there after 4 s is killed, so none outlives the window.
   */
  async dispose(): Promise<void> {
    await Promise.all([...this.searches.keys()].map((engine) => engine.shutdown(4000)));
    clearTimeout(this.changeTimer);
    this.changed.dispose();
    this.engineEvents.dispose();
  }
}
