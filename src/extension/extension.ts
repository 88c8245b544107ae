// The VS Code host side of NAS Studio: commands, the Runs tree, the status bar. It loads no native
// module and no tfjs: searches and store queries run in engine child processes started with a plain Node.

import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import type { RunRecord, SearchOverrides, TrialOrder } from '../protocol/engine.ts';
import { BACKENDS, type BackendChoice } from '../space/config.ts';
import { EngineProcess, NodeNotFound, QueryClient, checkBackendsInEngine } from './engine-process.ts';
import { RunsTree, type RunsNode } from './runs-tree.ts';
import { SearchManager, type EngineSettings } from './searches.ts';
import { architectureText } from './architecture-text.ts';
import { panelKinds } from 'nas-studio:panel-kinds';
import { Panels } from './panel-host.ts';
import type { DashboardState } from './panels/dashboard.ts';
import { SearchFileChecker, SpaceEstimator, estimateDetail, registerSearchFileEditing } from './editing.ts';
import { TEMPLATES, templateDescription, templateText } from '../space/template.ts';
import { formatBackendReports } from '../shared/format.ts';
import { approveSearchCommand } from './command-approval.ts';
import { TrialActions } from './trial-actions.ts';

const RESTRICTED =
  'NAS Studio starts no training or engine process in Restricted Mode. Trust this workspace (Manage Workspace Trust) to run searches.';

let searches: SearchManager | undefined;
let queries: QueryClient | undefined;
let analyses: QueryClient | undefined;

/** The Node that runs engine processes, and their entry point: all a process needs that reads no database. */
function engineProgram(context: vscode.ExtensionContext): Omit<EngineSettings, 'db'> {
  const nodePath = vscode.workspace.getConfiguration('nasStudio').get<string>('nodePath', 'node') || 'node';
  return { nodePath, enginePath: context.asAbsolutePath(join('dist', 'engine.js')) };
}

function engineSettings(context: vscode.ExtensionContext): EngineSettings {
  const config = vscode.workspace.getConfiguration('nasStudio');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const configured = config.get<string>('databasePath', '').trim();
  let db: string;
  if (configured) db = folder && !configured.startsWith('/') && !/^[a-zA-Z]:/.test(configured) ? join(folder, configured) : configured;
  else if (folder) db = join(folder, '.nas-studio', 'runs.db');
  else
    throw new Error('Open a folder first: NAS Studio keeps its runs in a database inside the workspace (or set "nasStudio.databasePath").');
  return { ...engineProgram(context), db };
}

/** The backend setting overrides the search file's, from the next search on. */
function backendOverride(): SearchOverrides {
  const backend = vscode.workspace.getConfiguration('nasStudio').get<string>('backend', 'file');
  return BACKENDS.includes(backend as BackendChoice) ? { backend: backend as BackendChoice } : {};
}

async function pickSearchFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && /\.nas\.(yaml|json)$/.test(active.path)) return active;
  const files = await vscode.workspace.findFiles('**/*.nas.{yaml,json}', '**/node_modules/**', 200);
  if (files.length === 0) {
    void vscode.window.showInformationMessage('No *.nas.yaml search file in this workspace.', 'Open an Example').then((choice) => {
      if (choice) void vscode.commands.executeCommand('nasStudio.openExample');
    });
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'NAS: Start Architecture Search', placeHolder: 'Search file to run' },
  );
  return picked?.uri;
}

async function pickRun(runs: RunRecord[], title: string): Promise<RunRecord | undefined> {
  if (runs.length <= 1) return runs[0];
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({ label: `#${run.id} ${run.name}`, description: `${run.status} · ${run.trialsDone}/${run.budgetTrials}`, run })),
    { title },
  );
  return picked?.run;
}

async function pickRuns(runs: RunRecord[], preselected: (run: RunRecord) => boolean, title: string): Promise<RunRecord[]> {
  const picked = await vscode.window.showQuickPick(
    runs.map((run) => ({
      label: `#${run.id} ${run.name}`,
      description: `${run.strategy} · ${run.status} · best ${run.bestReward?.toFixed(3) ?? '-'}`,
      picked: preselected(run),
      run,
    })),
    { title, placeHolder: 'Pick two or more runs', canPickMany: true },
  );
  return (picked ?? []).map((item) => item.run);
}

function runOf(node: unknown): RunRecord | undefined {
  return node && typeof node === 'object' && 'run' in node ? (node as RunsNode).run : undefined;
}

function trialOf(node: unknown): { runId: number; index: number } | undefined {
  return node && typeof node === 'object' && 'trial' in node ? (node as Extract<RunsNode, { kind: 'trial' }>).trial : undefined;
}

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('NAS Studio');
  const settings = () => engineSettings(context);
  queries = new QueryClient((onMessage) => {
    const { nodePath, enginePath } = settings();
    return EngineProcess.start(nodePath, enginePath, onMessage, (line) => output.appendLine(`[query engine] ${line}`));
  });
  const query = queries;
  analyses = new QueryClient((onMessage) => {
    const { nodePath, enginePath } = settings();
    return EngineProcess.start(nodePath, enginePath, onMessage, (line) => output.appendLine(`[analysis engine] ${line}`));
  });
  searches = new SearchManager(settings, output, query);
  const manager = searches;

  const tree = new RunsTree({
    runs: async () => (vscode.workspace.isTrusted && vscode.workspace.workspaceFolders ? query.query(settings().db, { kind: 'runs' }) : []),
    trials: (runId, order, offset, limit) => query.query(settings().db, { kind: 'trials', runId, order, offset, limit }),
  });
  const view = vscode.window.createTreeView('nasStudio.runs', { treeDataProvider: tree, showCollapseAll: true, canSelectMany: true });

  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 50);
  status.command = 'nasStudio.revealRun';
  const updateStatus = () => {
    const latest = manager.active.at(-1);
    if (!latest) {
      status.hide();
      return;
    }
    const best = latest.best === null ? '-' : latest.best.toFixed(3);
    status.text =
      latest.retraining === undefined
        ? `$(beaker) NAS ${latest.done}/${latest.budget || '?'} · best ${best}`
        : `$(beaker) NAS retraining ${latest.done}/${latest.budget} epochs · test ${best}`;
    status.tooltip =
      `NAS Studio: ${latest.name}${latest.runId === undefined ? '' : ` (run ${latest.runId})`}. ` + `Click to open its dashboard.`;
    status.show();
  };
  let refreshTimer: NodeJS.Timeout | undefined;
  const scheduleRefresh = () => {
    // Events come in bursts; one tree refresh per half second keeps the panel light.
    refreshTimer ??= setTimeout(() => {
      refreshTimer = undefined;
      tree.refresh();
    }, 500);
  };
  manager.onDidChange(() => {
    updateStatus();
    scheduleRefresh();
  });

  const guardTrust = (): boolean => {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showWarningMessage(RESTRICTED);
    return false;
  };
  const reportStartFailure = (error: unknown) => {
    if (error instanceof NodeNotFound) {
      void vscode.window.showErrorMessage(error.message, 'Open Settings').then((choice) => {
        if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', 'nasStudio.nodePath');
      });
    } else {
      void vscode.window.showErrorMessage(`NAS Studio: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const listRuns = () => query.query(settings().db, { kind: 'runs' });
  const copyArchitecture = async (runId: number, index: number, format: 'yaml' | 'json') => {
    const found = await query.query(settings().db, { kind: 'trial', runId, index });
    if (!found) return;
    await vscode.env.clipboard.writeText(architectureText(found.trial, format));
    void vscode.window.setStatusBarMessage(`NAS: architecture of trial ${index} copied as ${format.toUpperCase()}`, 3000);
  };
  const trialActions = new TrialActions({
    manager,
    queries: query,
    db: () => settings().db,
    startEngine: (onMessage) => {
      const { nodePath, enginePath } = settings();
      return EngineProcess.start(nodePath, enginePath, onMessage, (line) => output.appendLine(`[engine] ${line}`));
    },
    changed: () => tree.refresh(),
    deleted: (runId) => panels.closeRun(runId),
  });
  /** Runs a Retrain…, Export Model… or Delete Run… and shows what went wrong (a run that cannot be retrained says why). */
  const act = async (action: () => Promise<void>) => {
    if (!guardTrust()) return;
    try {
      await action();
    } catch (error) {
      reportStartFailure(error);
    }
  };
  const panels = new Panels(panelKinds, context.extensionUri, query, analyses, () => settings().db, {
    stop: (runId) => manager.stop(runId),
    resume: async (runId) => {
      if (!guardTrust()) return;
      const run = (await listRuns()).find((r) => r.id === runId);
      if (run && !manager.isRunning(runId)) await manager.resume(run);
    },
    copyArchitecture,
    retrain: (runId, index) => act(() => trialActions.retrain(runId, index)),
    exportTrial: (runId, index) => act(() => trialActions.exportTrial(runId, index)),
  });
  manager.onEngineEvent((event) => panels.onEngineEvent(event));

  const checker = new SearchFileChecker(new SpaceEstimator(context.asAbsolutePath(join('dist', 'estimate-worker.js'))));
  context.subscriptions.push(...registerSearchFileEditing(checker));

  const register = (command: string, handler: (...args: unknown[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(command, handler));

  register('nasStudio.startSearch', async (uri?: unknown) => {
    if (!guardTrust()) return;
    try {
      const file = uri instanceof vscode.Uri ? uri : await pickSearchFile();
      if (!file) return;
      await vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === file.toString())?.save();
      if (!(await approveSearchCommand(context.workspaceState, file))) return;
      await manager.start(file, backendOverride());
    } catch (error) {
      reportStartFailure(error);
    }
  });
  register('nasStudio.stopSearch', async (node?: unknown) => {
    const running = manager.active.filter((search) => search.runId !== undefined);
    const runId =
      runOf(node)?.id ??
      (running.length <= 1
        ? running[0]?.runId
        : (
            await vscode.window.showQuickPick(
              running.map((s) => ({ label: `#${s.runId} ${s.name}`, runId: s.runId })),
              { title: 'NAS: Stop Search' },
            )
          )?.runId);
    if (runId === undefined) {
      void vscode.window.showInformationMessage('No search is running in this window.');
      return;
    }
    if (!manager.stop(runId)) void vscode.window.showInformationMessage(`Run ${runId} is not running in this window.`);
  });
  register('nasStudio.resumeSearch', async (node?: unknown) => {
    if (!guardTrust()) return;
    try {
      const resumable = (await listRuns()).filter((run) => run.status !== 'done' && !manager.isRunning(run.id));
      const run = runOf(node) ?? (await pickRun(resumable.reverse(), 'NAS: Resume Search'));
      if (!run) {
        if (resumable.length === 0) void vscode.window.showInformationMessage('No stopped or interrupted run to resume.');
        return;
      }
      await manager.resume(run);
    } catch (error) {
      reportStartFailure(error);
    }
  });
  register('nasStudio.openDatabase', async () => {
    const db = vscode.Uri.file(settings().db);
    try {
      await vscode.workspace.fs.stat(db);
      // Inside the workspace the Explorer shows it (remote windows too); elsewhere the OS file manager.
      await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(db) ? 'revealInExplorer' : 'revealFileInOS', db);
    } catch {
      void vscode.window.showInformationMessage(`No database yet at ${db.fsPath}: it is created by the first search.`);
    }
  });
  register('nasStudio.showLog', () => output.show());
  register('nasStudio.checkBackends', async () => {
    if (!guardTrust()) return;
    try {
      const { nodePath, enginePath } = engineProgram(context);
      const reports = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'NAS: checking the compute backends…' },
        () =>
          checkBackendsInEngine((onMessage) =>
            EngineProcess.start(nodePath, enginePath, onMessage, (line) => output.appendLine(`[backend check] ${line}`)),
          ),
      );
      output.appendLine(`Compute backends, in the order auto tries them (${new Date().toLocaleString()}):`);
      output.appendLine(formatBackendReports(reports));
      output.show(true);
    } catch (error) {
      reportStartFailure(error);
    }
  });
  register('nasStudio.refreshRuns', () => tree.refresh());
  register('nasStudio.sortByReward', () => tree.setOrder('reward' satisfies TrialOrder));
  register('nasStudio.sortByTime', () => tree.setOrder('index' satisfies TrialOrder));
  register('nasStudio.showMoreTrials', (runId: unknown) => tree.showMore(runId as number));
  register('nasStudio.revealRun', async () => {
    const runId = manager.active.at(-1)?.runId;
    await vscode.commands.executeCommand('nasStudio.runs.focus');
    const node = runId === undefined ? undefined : tree.runNode(runId);
    if (node) await view.reveal(node, { select: true, focus: false, expand: true });
    if (runId !== undefined) panels.reveal({ view: 'dashboard', runId } satisfies DashboardState);
  });
  for (const format of ['yaml', 'json'] as const) {
    register(`nasStudio.copyArchitecture${format === 'yaml' ? 'Yaml' : 'Json'}`, async (node: unknown) => {
      const trial = trialOf(node);
      if (trial) await copyArchitecture(trial.runId, trial.index, format);
    });
  }
  register('nasStudio.retrainTrial', async (node: unknown) => {
    const trial = trialOf(node);
    if (trial) await act(() => trialActions.retrain(trial.runId, trial.index));
  });
  register('nasStudio.exportTrial', async (node: unknown) => {
    const trial = trialOf(node);
    if (trial) await act(() => trialActions.exportTrial(trial.runId, trial.index));
  });
  register('nasStudio.deleteRun', async (node: unknown) => {
    const run = runOf(node);
    if (run) await act(() => trialActions.deleteRun(run));
  });
  register('nasStudio.openExample', async () => {
    const examples = ['digits-macro.nas.yaml', 'digits-cell.nas.yaml', 'nasbench201.nas.yaml'];
    const picked = await vscode.window.showQuickPick(examples, { title: 'NAS: Open an Example' });
    if (picked) await copyIntoWorkspace(vscode.Uri.file(context.asAbsolutePath(join('examples', picked))), picked);
  });
  register('nasStudio.newSearchSpace', async () => {
    const picked = await vscode.window.showQuickPick(
      Object.entries(TEMPLATES).map(([label, template]) => ({ label, detail: templateDescription(template), template })),
      { title: 'NAS: New Search Space', placeHolder: 'The kind of space to search' },
    );
    if (!picked) return;
    await createInWorkspace(`${picked.label}-search.nas.yaml`, (name) => templateText(name, picked.template));
  });
  register('nasStudio.showEstimate', async (uri?: unknown) => {
    const document =
      uri instanceof vscode.Uri
        ? vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri.toString())
        : vscode.window.activeTextEditor?.document;
    const estimate = document && checker.estimate(document);
    if (!estimate) {
      void vscode.window.showInformationMessage('Open a valid *.nas.yaml search file to estimate its space.');
      return;
    }
    try {
      void vscode.window.showInformationMessage(estimateDetail(await estimate));
    } catch (error) {
      void vscode.window.showErrorMessage(`NAS Studio: the estimate failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  });

  context.subscriptions.push(
    output,
    view,
    status,
    panels,
    ...panels.register({
      runOf,
      trialOf,
      listRuns,
      pickRun,
      pickRuns,
      inform: (message) => void vscode.window.showInformationMessage(message),
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
    { dispose: () => refreshTimer && clearTimeout(refreshTimer) },
  );
  void vscode.commands.executeCommand('setContext', 'nasStudio.hasRuns', false);
}

/** Copies a bundled file into the first workspace folder (never over an existing file) and opens it. */
async function copyIntoWorkspace(source: vscode.Uri, name: string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    await vscode.window.showTextDocument(source);
    return;
  }
  const target = await freeName(folder.uri, name);
  await vscode.workspace.fs.copy(source, target);
  await vscode.window.showTextDocument(target);
}

/** Writes a new search file into the first workspace folder (never over an existing file) and opens it. */
async function createInWorkspace(name: string, content: (searchName: string) => string): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) {
    await vscode.window.showTextDocument(
      await vscode.workspace.openTextDocument({ language: 'yaml', content: content(name.replace('.nas.yaml', '')) }),
    );
    return;
  }
  const target = await freeName(folder.uri, name);
  await vscode.workspace.fs.writeFile(target, Buffer.from(content(basename(target.path).replace('.nas.yaml', '')), 'utf8'));
  await vscode.window.showTextDocument(target);
}

async function freeName(folder: vscode.Uri, name: string): Promise<vscode.Uri> {
  let target = vscode.Uri.joinPath(folder, name);
  for (let n = 2; await exists(target); n++) target = vscode.Uri.joinPath(folder, name.replace('.nas.yaml', `-${n}.nas.yaml`));
  return target;
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}

/** Window closing or extension stopping: searches stop cleanly and every engine process exits. */
export async function deactivate(): Promise<void> {
  await Promise.all([searches?.dispose(), queries?.dispose(), analyses?.dispose()]);
}
