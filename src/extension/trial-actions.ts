// What the Runs tree and the trial view do to a finished run or trial: Retrain… (the final recipe, live like a
// search), Export Model… (a model from its kept weights, or the trial as JSON or SVG) and Delete Run…. The
// engine does each in a process of its own; this module asks the user and reports.

import * as vscode from 'vscode';
import type { EngineMessage, RunRecord, TrialRecord } from '../protocol/engine.ts';
import { type EngineProcess, type QueryClient, runQuickJob } from './engine-process.ts';
import type { SearchManager } from './searches.ts';
import { keptNoWeightsMessage, needsTrainedWeights } from '../shared/model-export.ts';
import { formatPerplexity } from '../shared/format.ts';

/** The export formats Export Model… offers: a model writes a folder (from the trial's kept weights), the others one file. */
const EXPORT_CHOICES = [
  { format: 'tfjs', label: 'TensorFlow.js', detail: 'model.json and weights.bin, from the trained weights', model: true },
  { format: 'keras', label: 'Keras', detail: 'model.keras (Keras 3), from the trained weights', model: true },
  { format: 'pytorch', label: 'PyTorch', detail: 'model.py and its weights (untrained when the trial kept none)', model: true },
  { format: 'json', label: 'JSON', detail: 'the architecture, its decisions, graph and metrics', model: false },
  { format: 'svg', label: 'SVG', detail: "the trial view's drawing of the architecture", model: false },
] as const;

export interface TrialActionsHost {
  manager: SearchManager;
  queries: QueryClient;
  db(): string;
  /** Starts an engine process for a quick job (an export, a deletion). */
  startEngine(onMessage: (message: EngineMessage) => void): Promise<EngineProcess>;
  /** The runs or trials shown changed: the Runs tree is asked again. */
  changed(): void;
  /** A run was deleted: its open panels close. */
  deleted(runId: number): void;
}

export class TrialActions {
  constructor(private readonly host: TrialActionsHost) {}

  private async trial(runId: number, index: number): Promise<{ run: RunRecord; trial: TrialRecord }> {
    const db = this.host.db();
    const [runs, found] = await Promise.all([
      this.host.queries.query(db, { kind: 'runs' }),
      this.host.queries.query(db, { kind: 'trial', runId, index }),
    ]);
    const run = runs.find((r) => r.id === runId);
    if (!run || !found) throw new Error(`run ${runId} has no trial ${index} in ${db}`);
    return { run, trial: found.trial };
  }

  /**
   * Asks for the epochs (the final recipe's by default) and retrains the trial; a retrained trial's Retrain…
   * retrains the trial it came from.
   */
  async retrain(runId: number, index: number): Promise<void> {
    const { run, trial } = await this.trial(runId, index);
    const source = trial.retrainedFrom ?? trial.index;
    if (this.host.manager.isRunning(runId)) {
      void vscode.window.showInformationMessage(`Run ${runId} is busy (a search or a retraining); retrain once it has finished.`);
      return;
    }
    // The engine checks that the trial can be retrained and says why not (a table lookup, a command's trials…).
    const plan = await this.host.queries.query(this.host.db(), { kind: 'retrain-plan', runId, index: source });
    const typed = await vscode.window.showInputBox({
      title: `NAS: Retrain trial ${source} of run ${runId}`,
      prompt:
        'Epochs of the final recipe (evaluation.retrain): trained from scratch on the training and validation examples, ' +
        'measured on the test examples',
      value: String(plan.epochs),
      validateInput: (text) => (/^[1-9]\d*$/.test(text.trim()) ? undefined : 'A whole number of epochs, 1 or more'),
    });
    if (typed === undefined) return;
    const retrained = await this.host.manager.retrain(run, source, Number(typed.trim()));
    this.host.changed();
    if (!retrained) return;
    if (retrained.status !== 'done') {
      const why = retrained.error ? `: ${retrained.error}` : '';
      void vscode.window.showWarningMessage(
        `NAS: the retraining of trial ${source} (trial ${retrained.index}) is ${retrained.status}${why}`,
      );
      return;
    }
    const retrains = `NAS: trial ${retrained.index} retrains trial ${source}`;
    const { testAccuracy, testPerplexity } = retrained.metrics ?? {};
    // A language model's weights stay in the database, for sampling: there is no model to export.
    if (typeof testPerplexity === 'number') {
      void vscode.window.showInformationMessage(`${retrains}: test perplexity ${formatPerplexity(testPerplexity)}`);
      return;
    }
    const choice = await vscode.window.showInformationMessage(
      `${retrains}: test accuracy ${testAccuracy == null ? '-' : testAccuracy.toFixed(4)}`,
      'Export Model…',
    );
    if (choice) await this.exportTrial(runId, retrained.index);
  }

  async exportTrial(runId: number, index: number): Promise<void> {
    const { trial } = await this.trial(runId, index);
    const unkept = (format: string) => needsTrainedWeights(format) && trial.weightsPath === null;
    // A language model's weights stay in the database (for sampling text): only its record and drawing are exported.
    const choices = trial.graph.kind === 'recurrent' ? EXPORT_CHOICES.filter((choice) => !choice.model) : EXPORT_CHOICES;
    const picked = await vscode.window.showQuickPick(
      choices.map((choice) => ({
        ...choice,
        description: choice.format,
        detail: unkept(choice.format) ? `${choice.detail}: this trial kept none (Retrain… keeps them)` : choice.detail,
      })),
      { title: `NAS: Export trial ${index} of run ${runId}`, placeHolder: 'Format' },
    );
    if (!picked) return;
    // Said before the save dialog: no folder is asked for an export that cannot be written.
    if (unkept(picked.format)) return this.offerRetrain(trial, `NAS: ${keptNoWeightsMessage(trial, picked.format)}`);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = picked.model ? `run${runId}-trial${index}-${picked.format}` : `run${runId}-trial${index}.${picked.format}`;
    const target = await vscode.window.showSaveDialog({
      title: picked.model ? `Folder to write the ${picked.label} model into` : `File to write the trial's ${picked.label} into`,
      saveLabel: 'Export',
      ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
      ...(picked.model ? {} : { filters: { [picked.label]: [picked.format] } }),
    });
    if (!target) return;
    // A file the dialog already asked to replace is replaced; a folder with files in it is emptied only when the user says so.
    let outcome = await this.export(runId, index, picked.format, target.fsPath, !picked.model);
    if (outcome.type === 'failed' && picked.model && /is not empty/.test(outcome.message)) {
      const replace = await vscode.window.showWarningMessage(
        `${target.fsPath} has files in it. Replace them with the exported model?`,
        { modal: true },
        'Replace',
      );
      if (!replace) return;
      outcome = await this.export(runId, index, picked.format, target.fsPath, true);
    }
    if (outcome.type === 'exported') {
      void vscode.window.showInformationMessage(
        `NAS: exported trial ${index} of run ${runId} as ${picked.label} to ${target.fsPath}` +
          (picked.model ? ` (${outcome.files.join(', ')})` : ''),
      );
    } else if (outcome.type === 'failed') {
      // Weights recorded but gone from the disk: the engine's own words, and the way out.
      if (/kept no weights/.test(outcome.message)) await this.offerRetrain(trial, `NAS: ${outcome.message}`);
      else void vscode.window.showErrorMessage(`NAS: the export failed: ${outcome.message}`);
    }
  }

  private export(runId: number, trial: number, format: string, out: string, force: boolean) {
    return runQuickJob((onMessage) => this.host.startEngine(onMessage), {
      type: 'export',
      db: this.host.db(),
      runId,
      trial,
      format,
      out,
      force,
    });
  }

  /** A model needs trained weights: a done trial is offered Retrain… (a pruned one cannot be retrained). */
  private async offerRetrain(trial: TrialRecord, message: string): Promise<void> {
    if (trial.status !== 'done') {
      void vscode.window.showWarningMessage(message);
      return;
    }
    if ((await vscode.window.showWarningMessage(message, 'Retrain…')) === 'Retrain…') await this.retrain(trial.runId, trial.index);
  }

  async deleteRun(run: RunRecord): Promise<void> {
    if (this.host.manager.isRunning(run.id)) {
      void vscode.window.showInformationMessage(`Run ${run.id} is running in this window; stop it before deleting it.`);
      return;
    }
    const confirmed = await vscode.window.showWarningMessage(
      `Delete run #${run.id} "${run.name}"?`,
      { modal: true, detail: 'Its trials, their curves and their kept weights are deleted. This cannot be undone.' },
      'Delete',
    );
    if (confirmed !== 'Delete') return;
    const outcome = await runQuickJob((onMessage) => this.host.startEngine(onMessage), {
      type: 'delete-run',
      db: this.host.db(),
      runId: run.id,
    });
    this.host.changed();
    if (outcome.type === 'failed') {
      void vscode.window.showErrorMessage(`NAS: run ${run.id} was not deleted: ${outcome.message}`);
      return;
    }
    this.host.deleted(run.id);
    void vscode.window.setStatusBarMessage(`NAS: deleted run ${run.id} "${run.name}"`, 5000);
  }
}
