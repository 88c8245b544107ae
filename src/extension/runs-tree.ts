// The Runs tree of the side panel: runs, then their trials, loaded a page at a time from the store
// (through an engine process) so a run of 10,000 trials stays responsive.

import * as vscode from 'vscode';
import type { RunRecord, RunStatus, TrialOrder, TrialRecord, TrialStatus } from '../protocol/engine.ts';
import { formatPerplexity, trialStatusLabel } from '../shared/format.ts';
import { drawArchitecture } from '../space/graph.ts';

const TRIAL_PAGE = 200;

export type RunsNode =
  | { kind: 'run'; run: RunRecord }
  | { kind: 'trial'; run: RunRecord; trial: TrialRecord }
  | { kind: 'more'; run: RunRecord; shown: number; total: number };

export interface RunsSource {
  runs(): Promise<RunRecord[]>;
  trials(runId: number, order: TrialOrder, offset: number, limit: number): Promise<{ trials: TrialRecord[]; total: number }>;
}

const STATUS_ICONS: Record<RunStatus | TrialStatus, [string, string?]> = {
  running: ['sync~spin', 'charts.blue'],
  done: ['pass', 'testing.iconPassed'],
  pruned: ['debug-step-out', 'descriptionForeground'],
  failed: ['error', 'testing.iconFailed'],
  stopped: ['debug-stop', 'charts.yellow'],
  interrupted: ['debug-disconnect', 'charts.orange'],
};

function statusIcon(status: RunStatus | TrialStatus): vscode.ThemeIcon {
  const [id, color] = STATUS_ICONS[status];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

const fmt = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? '-' : value.toFixed(digits));

function runDescription(run: RunRecord): string {
  return `${run.status} · ${run.trialsDone}/${run.budgetTrials} · best ${fmt(run.bestReward)}`;
}

export class RunsTree implements vscode.TreeDataProvider<RunsNode> {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** How many trials each expanded run shows; grows a page at a time. */
  private readonly shown = new Map<number, number>();
  private runNodes = new Map<number, RunsNode & { kind: 'run' }>();
  order: TrialOrder = 'index';

  constructor(private readonly source: RunsSource) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  setOrder(order: TrialOrder): void {
    this.order = order;
    this.refresh();
  }

  showMore(runId: number): void {
    this.shown.set(runId, (this.shown.get(runId) ?? TRIAL_PAGE) + TRIAL_PAGE);
    const node = this.runNodes.get(runId);
    this.changed.fire(node);
  }

  /** The node of a run, for reveal(): the last one the tree was given. */
  runNode(runId: number): RunsNode | undefined {
    return this.runNodes.get(runId);
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      const runs = await this.source.runs();
      void vscode.commands.executeCommand('setContext', 'nasStudio.hasRuns', runs.length > 0);
      this.runNodes = new Map(runs.reverse().map((run) => [run.id, { kind: 'run', run }]));
      return [...this.runNodes.values()];
    }
    if (node.kind !== 'run') return [];
    const limit = this.shown.get(node.run.id) ?? TRIAL_PAGE;
    const { trials, total } = await this.source.trials(node.run.id, this.order, 0, limit);
    const children: RunsNode[] = trials.map((trial) => ({ kind: 'trial', run: node.run, trial }));
    if (total > trials.length) children.push({ kind: 'more', run: node.run, shown: trials.length, total });
    return children;
  }

  getParent(node: RunsNode): RunsNode | undefined {
    return node.kind === 'run' ? undefined : this.runNodes.get(node.run.id);
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'run': {
        const { run } = node;
        const item = new vscode.TreeItem(`#${run.id} ${run.name}`, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `run-${run.id}`;
        item.description = runDescription(run);
        item.iconPath = statusIcon(run.status);
        item.contextValue = run.status === 'running' ? 'run-running' : run.status === 'done' ? 'run-done' : 'run-resumable';
        item.tooltip = new vscode.MarkdownString(
          `**${run.name}** (run ${run.id})\n\n${run.strategy} on a ${run.spaceKind} space, backend ${run.backend ?? '-'}\n\n` +
            `${run.status}, ${run.trialsDone}/${run.budgetTrials} trials, best reward ${fmt(run.bestReward, 4)}\n\n${run.spaceFile}` +
            (run.error ? `\n\n${run.error}` : ''),
        );
        return item;
      }
      case 'trial': {
        const { trial } = node;
        const item = new vscode.TreeItem(`trial ${trial.index}`, vscode.TreeItemCollapsibleState.None);
        item.id = `run-${trial.runId}-trial-${trial.index}`;
        const metrics = trial.metrics;
        // The reward and a language model's validation perplexity, or the validation accuracy when the reward transform makes it differ.
        const perplexity = metrics?.valPerplexity;
        const languageModel = typeof perplexity === 'number';
        const accuracy = languageModel
          ? ` · ppl ${formatPerplexity(perplexity)}`
          : metrics && metrics.valAccuracy !== trial.reward
            ? ` · val ${fmt(metrics.valAccuracy)}`
            : '';
        const status = trialStatusLabel(trial);
        // A pruned trial's reward is its value at the epoch it stopped at: the status goes with it.
        const stop = trial.status === 'pruned' ? ` · ${status}` : '';
        const retrained = trial.retrainedFrom !== null;
        if (retrained) {
          // No reward: a retraining is measured on the test examples alone.
          item.label = `trial ${trial.index} · retrained from #${trial.retrainedFrom}`;
          const test = languageModel ? `ppl ${formatPerplexity(metrics?.testPerplexity)}` : fmt(metrics?.testAccuracy);
          item.description = trial.status === 'done' ? `test ${test}` : status;
        } else {
          item.description = metrics ? `${fmt(trial.reward)}${accuracy}${stop}` : status;
        }
        item.iconPath = statusIcon(trial.status);
        // Retrain… and Export Model… are offered on finished trials only (menus in package.json).
        item.contextValue = trial.status === 'done' ? 'trial-done' : trial.status === 'pruned' ? 'trial-pruned' : 'trial';
        // A tabular lookup knows neither parameters nor FLOPs.
        const size =
          metrics && metrics.params !== null && metrics.flops !== null
            ? `, ${metrics.params} params, ${(metrics.flops / 1e6).toFixed(2)} MFLOPs`
            : '';
        const scores = retrained
          ? languageModel
            ? `test perplexity ${formatPerplexity(metrics?.testPerplexity)}, next-token accuracy ${fmt(metrics?.testAccuracy, 4)}`
            : `test accuracy ${fmt(metrics?.testAccuracy, 4)}`
          : languageModel
            ? `val perplexity ${formatPerplexity(perplexity)}, test ${formatPerplexity(metrics?.testPerplexity)}; ` +
              `next-token accuracy ${fmt(metrics?.valAccuracy, 4)}, test ${fmt(metrics?.testAccuracy, 4)}`
            : `val accuracy ${fmt(metrics?.valAccuracy, 4)}, test ${fmt(metrics?.testAccuracy, 4)}`;
        const measured = metrics ? `${scores}${size}, ${metrics.seconds.toFixed(1)} s\n\n` : '';
        const heading = retrained
          ? `**trial ${trial.index}**: ${status}, retrained from trial ${trial.retrainedFrom} with the final recipe ` +
            `(trained on the training and validation examples, measured on the test examples)`
          : `**trial ${trial.index}**: ${status}, reward ${fmt(trial.reward, 4)}`;
        const weights = trial.weightsPath === null ? '' : 'trained weights kept (Export Model…)\n\n';
        const tooltip = new vscode.MarkdownString(`${heading}\n\n${measured}${weights}`);
        // A run on remote workers: which one ran it (its name as plain text), and how often one started it.
        if (trial.worker !== null) {
          tooltip.appendMarkdown('worker: ').appendText(trial.worker);
          if (trial.attempts !== null && trial.attempts > 1) tooltip.appendMarkdown(` · attempts: ${trial.attempts}`);
          tooltip.appendMarkdown('\n\n');
        }
        item.tooltip = tooltip.appendMarkdown(
          `\`\`\`text\n${drawArchitecture(trial.graph)}\n\`\`\`${trial.error ? `\n\n${trial.error}` : ''}`,
        );
        item.command = { command: 'nasStudio.openTrial', title: 'Open Trial', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Show ${Math.min(TRIAL_PAGE, node.total - node.shown)} more of ${node.total - node.shown}…`);
        item.id = `run-${node.run.id}-more-${node.shown}`;
        item.command = { command: 'nasStudio.showMoreTrials', title: 'Show More', arguments: [node.run.id] };
        return item;
      }
    }
  }
}
