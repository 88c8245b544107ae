// Hosts of the webview panels: the run dashboard, the trial view, the run comparison and the
// controller insight. Each page
// runs under a strict content security policy (a nonce for its one script, nothing remote), loads
// only from dist/webview, and everything it sends is validated before use.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineEvent, RunRecord } from '../protocol/engine.ts';
import {
  isPanelRequest,
  toAlphaPoint,
  toStepPoint,
  toTrialPoint,
  type AlphaPoint,
  type PanelMessages,
  type PanelRequests,
  type PanelState,
  type PanelStates,
  type PanelView,
  type StepPoint,
  type TrialPoint,
} from '../protocol/webview.ts';
import type { QueryClient } from './engine-process.ts';

export const PANEL_VIEW_TYPES = {
  dashboard: 'nasStudio.dashboard',
  trial: 'nasStudio.trial',
  compare: 'nasStudio.compare',
  insight: 'nasStudio.insight',
} as const;

export interface PanelActions {
  stop(runId: number): void;
  resume(runId: number): Promise<void>;
  copyArchitecture(runId: number, index: number, format: 'yaml' | 'json'): Promise<void>;
}

/** Live appends are batched: a burst of trials becomes one message and one chart update. */
const APPEND_INTERVAL_MS = 250;

interface OpenPanel<V extends PanelView = PanelView> {
  panel: vscode.WebviewPanel;
  state: PanelStates[V];
  run?: RunRecord;
  /** Events that came while the dashboard's first query was in flight: applied once it is loaded. */
  early: EngineEvent[];
  pendingTrials: TrialPoint[];
  pendingSteps: StepPoint[];
  pendingAlphas: AlphaPoint[];
  pendingNotes: string[];
  flushTimer?: NodeJS.Timeout;
}

/** Per panel kind, what its requests do: a panel is only ever answered by its own kind's handler. */
type RequestHandlers = { [V in PanelView]: (entry: OpenPanel<V>, request: PanelRequests[V]) => Promise<void> };

const isDashboard = (entry: OpenPanel): entry is OpenPanel<'dashboard'> => entry.state.view === 'dashboard';

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export class Panels implements vscode.Disposable {
  private readonly open = new Set<OpenPanel>();
  private readonly root: vscode.Uri;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly queries: QueryClient,
    /** The controller-insight analysis computes for seconds: its own engine process keeps the Runs view answering meanwhile. */
    private readonly analyses: QueryClient,
    private readonly db: () => string,
    private readonly actions: PanelActions,
  ) {
    this.root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
  }

  private readonly requestHandlers: RequestHandlers = {
    dashboard: async (entry, request) => {
      switch (request.type) {
        case 'ready':
          return this.loadDashboard(entry);
        case 'open-trial':
          return this.openTrial(request.runId, request.index);
        case 'stop':
          return this.actions.stop(request.runId);
        case 'resume':
          return this.actions.resume(request.runId);
      }
    },
    trial: async (entry, request) =>
      request.type === 'ready' ? this.loadTrial(entry) : this.actions.copyArchitecture(request.runId, request.index, request.format),
    compare: (entry) => this.loadCompare(entry),
    insight: (entry) => this.loadInsight(entry),
  };

  /** Panels restored after a window reload come back through here. */
  serializer(): vscode.WebviewPanelSerializer<PanelState> {
    return {
      deserializeWebviewPanel: async (panel, state) => {
        if (state && typeof state === 'object' && 'view' in state) this.attach(panel, state.view, state);
        else panel.dispose();
      },
    };
  }

  openDashboard(runId: number): void {
    this.reveal({ view: 'dashboard', runId }, `NAS Run ${runId}`);
  }

  openTrial(runId: number, index: number): void {
    this.reveal({ view: 'trial', runId, index }, `Run ${runId} · Trial ${index}`);
  }

  openCompare(runIds: number[]): void {
    this.reveal({ view: 'compare', runIds }, `Compare Runs ${runIds.join(', ')}`);
  }

  openInsight(runId: number): void {
    this.reveal({ view: 'insight', runId }, `Controller Insight: Run ${runId}`);
  }

  private reveal(state: PanelState, title: string): void {
    const existing = [...this.open].find((p) => JSON.stringify(p.state) === JSON.stringify(state));
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPES[state.view], title, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [this.root],
    });
    this.attach(panel, state.view, state);
  }

  private attach<V extends PanelView>(panel: vscode.WebviewPanel, view: V, state: PanelStates[V]): void {
    const entry: OpenPanel<V> = { panel, state, early: [], pendingTrials: [], pendingSteps: [], pendingAlphas: [], pendingNotes: [] };
    this.open.add(entry);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'nas-studio.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.root] };
    panel.webview.html = this.html(panel.webview, state);
    const handle: RequestHandlers[V] = this.requestHandlers[view];
    panel.webview.onDidReceiveMessage((message: unknown) => {
      // A webview is untrusted input: anything malformed, or not this kind of panel's to ask, is dropped.
      if (isPanelRequest(view, message)) void this.settle(handle(entry, message));
    });
    panel.onDidDispose(() => {
      if (entry.flushTimer) clearTimeout(entry.flushTimer);
      this.open.delete(entry);
    });
  }

  /** The page shell; `state` rides along so the page can hand it to VS Code for restoring after a reload. */
  private html(webview: vscode.Webview, state: PanelState): string {
    const { view } = state;
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.root, `${view}.js`));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.root, 'panels.css'));
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource} 'unsafe-inline'`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>NAS Studio</title>
</head>
<body>
<div id="app" data-state="${escapeAttribute(JSON.stringify(state))}"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
  }

  private post<V extends PanelView>(entry: OpenPanel<V>, message: PanelMessages[V]): void {
    void entry.panel.webview.postMessage(message);
  }

  /** A request that failed is shown to the user; the panel stays as it was. */
  private async settle(request: Promise<void>): Promise<void> {
    try {
      await request;
    } catch (error) {
      void vscode.window.showErrorMessage(`NAS Studio: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Sends a dashboard its whole content (on first load and after a reload), then what its run did meanwhile. */
  private async loadDashboard(entry: OpenPanel<'dashboard'>): Promise<void> {
    const db = this.db();
    const { state } = entry;
    const data = await this.queries.query(db, { kind: 'dashboard', runId: state.runId });
    if (!data) throw new Error(`run ${state.runId} is not in ${db}`);
    entry.run = data.run;
    entry.panel.title = `NAS Run ${data.run.id}: ${data.run.name}`;
    this.post(entry, { type: 'dashboard', data });
    // What finished while the query ran, less what the query already had.
    const loadedTrials = new Set(data.trials.filter((t) => t.status !== 'running').map((t) => t.index));
    const lastStep = data.steps.at(-1)?.step ?? 0;
    const lastAlphaStep = data.darts?.alphas.at(-1)?.step ?? -1;
    const loadedNotes = new Set(data.notes);
    for (const event of entry.early.splice(0)) {
      if (event.type === 'trial-finished' && loadedTrials.has(event.trial.index)) continue;
      if (event.type === 'controller-step' && event.step.step <= lastStep) continue;
      if (event.type === 'alpha-snapshot' && event.snapshot.step <= lastAlphaStep) continue;
      if (event.type === 'run-note' && loadedNotes.has(event.note.message)) continue;
      this.apply(entry, event);
    }
  }

  private async loadTrial(entry: OpenPanel<'trial'>): Promise<void> {
    const db = this.db();
    const { state } = entry;
    const data = await this.queries.query(db, { kind: 'trial-view', runId: state.runId, index: state.index });
    if (!data) throw new Error(`run ${state.runId} has no trial ${state.index}`);
    this.post(entry, { type: 'trial', data });
  }

  private async loadCompare(entry: OpenPanel<'compare'>): Promise<void> {
    this.post(entry, { type: 'compare', data: await this.queries.query(this.db(), { kind: 'compare', runIds: entry.state.runIds }) });
  }

  private async loadInsight(entry: OpenPanel<'insight'>): Promise<void> {
    try {
      const data = await this.analyses.query(this.db(), { kind: 'controller-insight', runId: entry.state.runId });
      entry.panel.title = `Controller Insight: Run ${data.run.id} ${data.run.name}`;
      this.post(entry, { type: 'insight', data });
    } catch (error) {
      // Shown in the panel itself: it is the answer to "what does this run's controller know?".
      this.post(entry, { type: 'insight-failed', message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Live runs: each dashboard gets the new trials and controller steps of its run, batched. */
  onEngineEvent(event: EngineEvent): void {
    const runId = engineEventRunId(event);
    if (runId === undefined) return;
    for (const entry of this.open) {
      if (!isDashboard(entry) || entry.state.runId !== runId) continue;
      if (entry.run) this.apply(entry, event);
      else entry.early.push(event);
    }
  }

  private apply(entry: OpenPanel<'dashboard'>, event: EngineEvent): void {
    if (!entry.run) return;
    if (event.type === 'trial-finished') {
      const { trial } = event;
      entry.pendingTrials.push(toTrialPoint(trial, entry.run.createdAt));
      // The header's counters move with each trial, until the engine sends the run record again.
      const counted = trial.status === 'done' || trial.status === 'failed' ? 1 : 0;
      const bestReward = trial.reward === null ? entry.run.bestReward : Math.max(entry.run.bestReward ?? -Infinity, trial.reward);
      entry.run = { ...entry.run, trialsDone: entry.run.trialsDone + counted, bestReward };
    }
    if (event.type === 'controller-step') entry.pendingSteps.push(toStepPoint(event.step));
    if (event.type === 'alpha-snapshot') entry.pendingAlphas.push(toAlphaPoint(event.snapshot));
    if (event.type === 'run-note') entry.pendingNotes.push(event.note.message);
    if (event.type === 'run-finished' || event.type === 'run-started') entry.run = event.run;
    entry.flushTimer ??= setTimeout(() => this.flush(entry), APPEND_INTERVAL_MS);
  }

  private flush(entry: OpenPanel<'dashboard'>): void {
    entry.flushTimer = undefined;
    if (!entry.run) return;
    this.post(entry, {
      type: 'dashboard-append',
      run: entry.run,
      trials: entry.pendingTrials.splice(0),
      steps: entry.pendingSteps.splice(0),
      alphas: entry.pendingAlphas.splice(0),
      notes: entry.pendingNotes.splice(0),
    });
  }

  dispose(): void {
    for (const entry of this.open) entry.panel.dispose();
  }
}

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
