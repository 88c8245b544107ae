// Hosts the webview panels, whatever their kind (each kind's module in src/extension/panels/). Each page
// runs under a strict content security policy (a nonce for its one script, nothing remote), loads only
// from dist/webview, and everything it sends is checked by its own kind's `isRequest` before use.

import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { EngineEvent } from '../protocol/engine.ts';
import type { AnyPanelKind, CommandUi, PanelActions, PanelQueries, PanelSession } from './panel-kind.ts';

interface OpenPanel {
  panel: vscode.WebviewPanel;
  state: { view: string };
  session: PanelSession<unknown>;
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

const isStateOf = (kind: AnyPanelKind, state: unknown): state is { view: string } =>
  typeof state === 'object' && state !== null && 'view' in state && state.view === kind.view;

export const viewType = (kind: AnyPanelKind) => `nasStudio.${kind.view}`;

export class Panels implements vscode.Disposable {
  private readonly open = new Set<OpenPanel>();
  private readonly root: vscode.Uri;
  private readonly kinds: ReadonlyMap<string, AnyPanelKind>;

  constructor(
    kinds: readonly AnyPanelKind[],
    private readonly extensionUri: vscode.Uri,
    private readonly queries: PanelQueries,
    /** The controller-insight analysis computes for seconds: its own engine process keeps the Runs view answering meanwhile. */
    private readonly analyses: PanelQueries,
    private readonly db: () => string,
    private readonly actions: PanelActions,
  ) {
    this.root = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.kinds = new Map(kinds.map((kind) => [kind.view, kind]));
  }

  /** Per kind, its command and its serializer (panels restored after a window reload come back through it). */
  register(ui: CommandUi): vscode.Disposable[] {
    return [...this.kinds.values()].flatMap((kind) => [
      vscode.commands.registerCommand(kind.command.id, async (...args: unknown[]) => {
        const state = await kind.command.state(ui, ...args);
        if (state) this.reveal(state);
      }),
      vscode.window.registerWebviewPanelSerializer(viewType(kind), {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          // The restored state is the page's to give: only one naming this serializer's kind is taken.
          if (isStateOf(kind, state)) this.attach(panel, kind, state);
          else panel.dispose();
        },
      }),
    ]);
  }

  /** Opens the panel that shows `state`, or reveals it when one is open already. */
  reveal<State extends { view: string }>(state: State): void {
    const kind = this.kinds.get(state.view);
    if (!kind) throw new Error(`no panel kind ${state.view}`);
    const existing = [...this.open].find((p) => JSON.stringify(p.state) === JSON.stringify(state));
    if (existing) {
      existing.panel.reveal();
      return;
    }
    const panel = vscode.window.createWebviewPanel(viewType(kind), kind.title(state), vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [this.root],
    });
    this.attach(panel, kind, state);
  }

  private attach(panel: vscode.WebviewPanel, kind: AnyPanelKind, state: { view: string }): void {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'nas-studio.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.root] };
    panel.webview.html = this.html(panel.webview, state);
    const session: PanelSession<unknown> = kind.open({
      state,
      post: (message) => void panel.webview.postMessage(message),
      setTitle: (title) => (panel.title = title),
      queries: this.queries,
      analyses: this.analyses,
      db: this.db,
      actions: this.actions,
      open: (other) => this.reveal(other),
    });
    const entry: OpenPanel = { panel, state, session };
    this.open.add(entry);
    panel.webview.onDidReceiveMessage((message: unknown) => {
      // A webview is untrusted input: anything malformed, or not this kind of panel's to ask, is dropped.
      if (kind.isRequest(message)) void this.settle(session.handle(message));
    });
    panel.onDidDispose(() => {
      session.dispose?.();
      this.open.delete(entry);
    });
  }

  /** The page shell; `state` rides along so the page can hand it to VS Code for restoring after a reload. */
  private html(webview: vscode.Webview, state: { view: string }): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.root, `${state.view}.js`));
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

  /** A request that failed is shown to the user; the panel stays as it was. */
  private async settle(request: Promise<void> | void): Promise<void> {
    try {
      await request;
    } catch (error) {
      void vscode.window.showErrorMessage(`NAS Studio: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Live runs: every open panel hears each event and keeps what concerns it. */
  onEngineEvent(event: EngineEvent): void {
    for (const entry of this.open) entry.session.onEngineEvent?.(event);
  }

  /** A deleted run's panels close (its dashboard, its trials, a comparison that holds it): they have nothing left to show. */
  closeRun(runId: number): void {
    for (const entry of this.open) {
      const state = entry.state as { runId?: unknown; runIds?: unknown };
      if (state.runId === runId || (Array.isArray(state.runIds) && state.runIds.includes(runId))) entry.panel.dispose();
    }
  }

  dispose(): void {
    for (const entry of this.open) entry.panel.dispose();
  }
}
