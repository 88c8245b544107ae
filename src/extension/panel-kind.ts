// What one kind of webview panel is, on the host side: every module in src/extension/panels/ defines one
// (its state, messages and requests, how its command picks what to show, what its page's requests do),
// and the build finds them there. No `vscode` or node import here or in a kind's module: the webview
// scripts import their kind's module for its types, so it must compile in the browser's type world too.
import type { EngineEvent, RunRecord, StoreQuery, StoreQueryKind, StoreQueryResults } from '../protocol/engine.ts';

/** The page has loaded and waits for its content: every kind's first request. */
export type Ready = { type: 'ready' };

/** What a panel may ask of an engine process (the store queries, or the analyses'). */
export interface PanelQueries {
  query<K extends StoreQueryKind>(db: string, query: StoreQuery & { kind: K }): Promise<StoreQueryResults[K]>;
}

/** The extension's actions a panel's requests may trigger. */
export interface PanelActions {
  stop(runId: number): void;
  resume(runId: number): Promise<void>;
  copyArchitecture(runId: number, index: number, format: 'yaml' | 'json'): Promise<void>;
  /** Retrain… of a trial: asks for the epochs, then retrains it live. */
  retrain(runId: number, index: number): Promise<void>;
  /** Export Model… of a trial: asks for the format and where, then exports it. */
  exportTrial(runId: number, index: number): Promise<void>;
}

/** What an open panel of one kind gets from the host: it posts only its own kind's messages. */
export interface PanelContext<State, Message> {
  readonly state: State;
  post(message: Message): void;
  setTitle(title: string): void;
  /** The store queries (quick). */
  readonly queries: PanelQueries;
  /** The analyses (seconds): their own engine process, so the Runs view keeps answering meanwhile. */
  readonly analyses: PanelQueries;
  db(): string;
  readonly actions: PanelActions;
  /** Opens (or reveals) another panel. */
  open<Other extends { view: string }>(state: Other): void;
}

/** One open panel's behaviour: it is handed only requests that its kind's `isRequest` let through. */
export interface PanelSession<Request> {
  handle(request: Request): Promise<void> | void;
  /** Live runs: every engine event comes here; the panel keeps what concerns it. */
  onEngineEvent?(event: EngineEvent): void;
  dispose?(): void;
}

/** What a panel's command may ask of VS Code's UI, to turn its arguments (a Runs view node, a selection) into a panel's state. */
export interface CommandUi {
  runOf(node: unknown): RunRecord | undefined;
  trialOf(node: unknown): { runId: number; index: number } | undefined;
  listRuns(): Promise<RunRecord[]>;
  pickRun(runs: RunRecord[], title: string): Promise<RunRecord | undefined>;
  pickRuns(runs: RunRecord[], preselected: (run: RunRecord) => boolean, title: string): Promise<RunRecord[]>;
  inform(message: string): void;
}

export interface PanelKind<State extends { view: string }, Message extends { type: string }, Request extends { type: string }> {
  /** The panel's name: its view type is `nasStudio.<view>`, its page script dist/webview/<view>.js. */
  readonly view: State['view'];
  title(state: State): string;
  /** A webview is untrusted input: only well-formed requests of this kind get through. */
  isRequest(value: unknown): value is Request;
  /** The command (contributed in package.json) that opens this kind of panel; undefined state: nothing to open. */
  readonly command: { id: string; state(ui: CommandUi, ...args: unknown[]): Promise<State | undefined> | State | undefined };
  open(context: PanelContext<State, Message>): PanelSession<Request>;
}

// Each kind's own message and request types, for its webview script (`panelChannel<typeof trialPanel>`) and tests.
export type MessageOf<K> = K extends PanelKind<{ view: string }, infer Message, { type: string }> ? Message : never;
export type RequestOf<K> = K extends PanelKind<{ view: string }, { type: string }, infer Request> ? Request : never;

// The host keeps kinds of every type in one list; each kind's own types hold inside its module.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPanelKind = PanelKind<any, any, any>;

/** Checks a kind against PanelKind while keeping its own types. */
export const definePanel = <State extends { view: string }, Message extends { type: string }, Request extends { type: string }>(
  kind: PanelKind<State, Message, Request>,
): PanelKind<State, Message, Request> => kind;

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 0;

/** A request check from per-type field checks: the message must be an object, its type one of `fields`' keys, its fields valid. */
export function requestCheck<Request extends { type: string }>(fields: {
  [T in Request['type']]: (message: Record<string, unknown>) => boolean;
}): (value: unknown) => value is Request {
  return (value: unknown): value is Request => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const message = value as Record<string, unknown>;
    if (typeof message.type !== 'string' || !Object.hasOwn(fields, message.type)) return false;
    return (fields as Record<string, (message: Record<string, unknown>) => boolean>)[message.type](message);
  };
}

export const fieldChecks = {
  ready: (message: Record<string, unknown>) => Object.keys(message).length === 1,
  isId,
};
