// Editing search files in VS Code: problems as you type, completion, hover and code lenses. Every
// answer comes from src/space (the validator the CLI's `validate` uses, and the schema); this file
// only converts it into VS Code's types.

import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as vscode from 'vscode';
import type { EstimateReply, EstimateRequest } from '../protocol/estimate.ts';
import type { SearchConfig } from '../space/config.ts';
import { completionsAt, hoverAt } from '../space/authoring.ts';
import { formatArchitectureCount, formatParameterCount, type SpaceEstimate } from '../space/estimate.ts';
import { parseSearchText, type ParseResult, type Problem } from '../space/parse.ts';
import { RequestClient } from './request-client.ts';

/** Typing pauses this long before the file is checked again. */
const VALIDATION_DELAY_MS = 250;

// VS Code's JSON language service already checks `*.nas.json` against the schema (jsonValidation):
// there only the rules the schema cannot express are ours to report.
const SCHEMA_RULES = new Set([
  'type',
  'enum',
  'required',
  'unknown-key',
  'minimum',
  'maximum',
  'min-items',
  'max-items',
  'min-length',
  'unique-items',
  'yaml-syntax',
  'duplicate-key',
]);

const SEARCH_FILE_SELECTOR: vscode.DocumentFilter[] = [{ pattern: '**/*.nas.yaml' }];

export function isSearchDocument(document: vscode.TextDocument): boolean {
  return /\.nas\.(yaml|json)$/.test(document.uri.path);
}

interface Checked {
  version: number;
  result: ParseResult;
  estimate?: Promise<SpaceEstimate>;
}

/** Sizes spaces in a worker thread (dist/estimate-worker.js), started on first use and again after a crash. */
export class SpaceEstimator implements vscode.Disposable {
  private readonly client: RequestClient<SearchConfig, SpaceEstimate>;

  constructor(workerPath: string) {
    this.client = new RequestClient(async (events) => {
      const worker = new Worker(workerPath);
      worker.on('message', (reply: EstimateReply) =>
        events.reply(reply.id, 'estimate' in reply ? { value: reply.estimate } : { error: new Error(reply.error) }),
      );
      worker.on('error', (error) => events.ended(error));
      worker.on('exit', (code) => events.ended(new Error(`the estimate worker stopped (exit code ${code})`)));
      // An idle worker must not keep the extension host alive.
      worker.unref();
      return {
        send: (id, config) => worker.postMessage({ id, config } satisfies EstimateRequest),
        close: async () => void (await worker.terminate()),
      };
    });
  }

  estimate(config: SearchConfig): Promise<SpaceEstimate> {
    return this.client.request(config);
  }

  dispose(): void {
    void this.client.dispose();
  }
}

/** Checks open search files and serves the editor's questions about them. */
export class SearchFileChecker implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('nasStudio');
  private readonly checked = new Map<string, Checked>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidCheck = this.changed.event;

  constructor(private readonly estimator: SpaceEstimator) {
    for (const document of vscode.workspace.textDocuments) this.check(document);
  }

  /** Checks `document` after typing pauses. */
  schedule(document: vscode.TextDocument): void {
    if (!isSearchDocument(document)) return;
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        this.check(document);
      }, VALIDATION_DELAY_MS),
    );
  }

  check(document: vscode.TextDocument): Checked | undefined {
    if (!isSearchDocument(document) || document.isClosed) return undefined;
    const key = document.uri.toString();
    const known = this.checked.get(key);
    if (known?.version === document.version) return known;
    const file = document.uri.scheme === 'file' ? document.uri.fsPath : basename(document.uri.path);
    const result = parseSearchText(document.getText(), file, { checkFiles: document.uri.scheme === 'file' });
    const isJson = document.uri.path.endsWith('.json');
    const reported = isJson ? result.problems.filter((problem) => !SCHEMA_RULES.has(problem.rule)) : result.problems;
    this.diagnostics.set(
      document.uri,
      reported.map((problem) => toDiagnostic(document, problem)),
    );
    const checked: Checked = { version: document.version, result };
    this.checked.set(key, checked);
    this.changed.fire();
    return checked;
  }

  /** Checks every open search file again: a data file they name may have appeared or gone. */
  checkAll(): void {
    this.checked.clear();
    for (const document of vscode.workspace.textDocuments) this.check(document);
  }

  forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
    this.checked.delete(key);
    this.diagnostics.delete(document.uri);
  }

  /** The size of the space of a valid search file (computed once per version), or undefined for an invalid file. */
  estimate(document: vscode.TextDocument): Promise<SpaceEstimate> | undefined {
    const checked = this.check(document);
    if (checked?.result.config === undefined) return undefined;
    checked.estimate ??= this.estimator.estimate(checked.result.config);
    return checked.estimate;
  }

  dispose(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.diagnostics.dispose();
    this.changed.dispose();
    this.estimator.dispose();
  }
}

function toDiagnostic(document: vscode.TextDocument, problem: Problem): vscode.Diagnostic {
  const start = new vscode.Position(problem.line - 1, problem.column - 1);
  let end = new vscode.Position(problem.endLine - 1, problem.endColumn - 1);
  // A problem at a single point (an empty file, a missing value) still needs something to underline.
  if (!end.isAfter(start))
    end = document.getWordRangeAtPosition(start)?.end ?? document.lineAt(Math.min(start.line, document.lineCount - 1)).range.end;
  const diagnostic = new vscode.Diagnostic(new vscode.Range(start, end), problem.message, vscode.DiagnosticSeverity.Error);
  diagnostic.source = 'NAS Studio';
  diagnostic.code = problem.rule;
  return diagnostic;
}

export function estimateSummary(estimate: SpaceEstimate): string {
  const architectures = `${formatArchitectureCount(estimate.log10Architectures)} architectures`;
  if (estimate.parameters === undefined) return architectures;
  const { min, max } = estimate.parameters;
  return `${architectures} · ${formatParameterCount(min)}–${formatParameterCount(max)} parameters`;
}

export function estimateDetail(estimate: SpaceEstimate): string {
  if (estimate.image === undefined)
    return `${estimateSummary(estimate)}, each looked up in a table rather than built, so no parameter count.`;
  const [height, width, channels] = estimate.image.shape;
  const classes = estimate.image.classesKnown
    ? `${estimate.image.classes} classes`
    : `${estimate.image.classes} classes assumed (the data set's files are not read)`;
  return (
    `${estimateSummary(estimate)}, counted for ${height}x${width}x${channels} images and ${classes}. ` +
    'The parameter range is the smallest and largest count found by changing one decision at a time from several starts.'
  );
}

/** The Estimate lens of one document, filled in when VS Code resolves it (the count runs in the worker). */
class EstimateLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly document: vscode.TextDocument,
  ) {
    super(range);
  }
}

class SearchFileLenses implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;
  constructor(private readonly checker: SearchFileChecker) {
    this.onDidChangeCodeLenses = checker.onDidCheck;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const checked = this.checker.check(document);
    if (checked === undefined) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const problems = checked.result.problems.length;
    if (checked.result.config === undefined) {
      return [
        new vscode.CodeLens(top, {
          title: `$(error) ${problems} ${problems === 1 ? 'problem' : 'problems'}`,
          command: 'workbench.actions.view.problems',
        }),
      ];
    }
    return [
      new vscode.CodeLens(top, { title: '$(play) Start search', command: 'nasStudio.startSearch', arguments: [document.uri] }),
      new EstimateLens(top, document),
    ];
  }

  async resolveCodeLens(lens: vscode.CodeLens): Promise<vscode.CodeLens> {
    if (!(lens instanceof EstimateLens)) return lens;
    let title: string;
    try {
      const estimate = await this.checker.estimate(lens.document);
      title = estimate ? `Estimate: ${estimateSummary(estimate)}` : 'Estimate: the file has problems';
    } catch (error) {
      title = `Estimate failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    lens.command = { title, command: 'nasStudio.showEstimate', arguments: [lens.document.uri] };
    return lens;
  }
}

const COMPLETION_TRIGGERS = [' ', '[', ',', '-'];

export function registerSearchFileEditing(checker: SearchFileChecker): vscode.Disposable[] {
  return [
    checker,
    vscode.workspace.onDidOpenTextDocument((document) => checker.check(document)),
    vscode.workspace.onDidChangeTextDocument((event) => checker.schedule(event.document)),
    vscode.workspace.onDidCloseTextDocument((document) => checker.forget(document)),
    vscode.workspace.onDidCreateFiles(() => checker.checkAll()),
    vscode.workspace.onDidDeleteFiles(() => checker.checkAll()),
    vscode.workspace.onDidRenameFiles(() => checker.checkAll()),
    vscode.languages.registerCodeLensProvider([...SEARCH_FILE_SELECTOR, { pattern: '**/*.nas.json' }], new SearchFileLenses(checker)),
    vscode.languages.registerCompletionItemProvider(
      SEARCH_FILE_SELECTOR,
      {
        provideCompletionItems(document, position) {
          const found = completionsAt(document.getText(), position.line, position.character);
          if (found === undefined) return undefined;
          const range = new vscode.Range(position.line, found.wordStart, position.line, found.wordEnd);
          return found.items.map((item) => {
            const completion = new vscode.CompletionItem(
              item.label,
              item.role === 'key' ? vscode.CompletionItemKind.Property : vscode.CompletionItemKind.EnumMember,
            );
            completion.insertText = item.insertText;
            completion.range = range;
            completion.detail = item.detail;
            if (item.documentation) completion.documentation = new vscode.MarkdownString(item.documentation);
            // A key's value is asked for right away.
            if (item.role === 'key') completion.command = { title: 'Suggest', command: 'editor.action.triggerSuggest' };
            return completion;
          });
        },
      },
      ...COMPLETION_TRIGGERS,
    ),
    vscode.languages.registerHoverProvider(SEARCH_FILE_SELECTOR, {
      provideHover(document, position) {
        const found = hoverAt(document.getText(), position.line, position.character);
        if (found === undefined) return undefined;
        return new vscode.Hover(
          new vscode.MarkdownString(found.markdown),
          new vscode.Range(position.line, found.start, position.line, found.end),
        );
      },
    }),
  ];
}
