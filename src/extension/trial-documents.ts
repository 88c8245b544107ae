// A trial opened from the Runs tree: a read-only document with its metrics, learning curve and
// architecture. (The drawn trial view is a webview panel of its own.)

import * as vscode from 'vscode';
import { stringify } from 'yaml';
import type { EpochMetrics, TrialRecord } from '../protocol/engine.ts';
import { drawArchitecture } from '../space/graph.ts';

export function architectureText(trial: TrialRecord, format: 'yaml' | 'json'): string {
  const architecture = { key: trial.key, decisions: trial.architecture, graph: trial.graph };
  return format === 'json' ? `${JSON.stringify(architecture, null, 2)}\n` : stringify(architecture);
}

type LoadTrial = (runId: number, index: number) => Promise<{ trial: TrialRecord; epochs: EpochMetrics[] } | null>;

export class TrialDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'nas-trial';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly load: LoadTrial) {}

  async open(runId: number, index: number): Promise<void> {
    const uri = vscode.Uri.from({ scheme: TrialDocuments.scheme, path: `/run ${runId}/trial ${index}.yaml` });
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document, { preview: true });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const match = /^\/run (\d+)\/trial (\d+)\.yaml$/.exec(uri.path);
    if (!match) return `# not a trial: ${uri.path}\n`;
    const found = await this.load(Number(match[1]), Number(match[2]));
    if (!found) return `# run ${match[1]} has no trial ${match[2]}\n`;
    const { trial, epochs } = found;
    const drawing = drawArchitecture(trial.graph).split('\n').map((line) => `# ${line}`).join('\n');
    const body = stringify({
      run: trial.runId,
      trial: trial.index,
      status: trial.status,
      reward: trial.reward,
      metrics: trial.metrics,
      error: trial.error ?? undefined,
      started: trial.startedAt,
      finished: trial.finishedAt,
      epochs,
      key: trial.key,
      decisions: trial.architecture,
      graph: trial.graph,
    });
    return `${drawing}\n${body}`;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
