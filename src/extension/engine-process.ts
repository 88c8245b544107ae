// Engine child processes, started with a plain Node (never the editor's own runtime: better-sqlite3
// and tfjs are native or heavy, and live only there). Messages are the typed ones of src/protocol.

import { spawn, type ChildProcess } from 'node:child_process';
import {
  answersKind,
  type BackendReport,
  type EngineCommand,
  type EngineMessage,
  type StoreAnswer,
  type StoreQuery,
  type StoreQueryKind,
  type StoreQueryResults,
} from '../protocol/engine.ts';
import { RequestClient } from './request-client.ts';

export class NodeNotFound extends Error {
  constructor(readonly nodePath: string) {
    super(
      `NAS Studio runs its engine with Node.js 20 or later, and "${nodePath}" was not found. ` +
        'Install Node.js, or set "nasStudio.nodePath" to the full path of a node executable.',
    );
    this.name = 'NodeNotFound';
  }
}

export interface EngineExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the process wrote to stderr: the reason, when it crashed. */
  stderr: string;
}

export class EngineProcess {
  private readonly child: ChildProcess;
  private stderrTail = '';
  readonly exited: Promise<EngineExit>;

  private constructor(child: ChildProcess, onMessage: (message: EngineMessage) => void, onOutput: (line: string) => void) {
    this.child = child;
    child.on('message', (message: EngineMessage) => onMessage(message));
    const forward = (chunk: Buffer, keep: boolean) => {
      const text = chunk.toString();
      if (keep) this.stderrTail = (this.stderrTail + text).slice(-4000);
      text.split('\n').filter(Boolean).forEach(onOutput);
    };
    child.stdout?.on('data', (chunk: Buffer) => forward(chunk, false));
    child.stderr?.on('data', (chunk: Buffer) => forward(chunk, true));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr: this.stderrTail.trim() })));
  }

  /** Starts `node enginePath`; rejects with NodeNotFound when the configured Node cannot be run. */
  static start(
    nodePath: string,
    enginePath: string,
    onMessage: (message: EngineMessage) => void,
    onOutput: (line: string) => void,
  ): Promise<EngineProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn(nodePath, [enginePath], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], windowsHide: true });
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' || error.code === 'EACCES' ? new NodeNotFound(nodePath) : error),
      );
      child.once('spawn', () => resolve(new EngineProcess(child, onMessage, onOutput)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  send(command: EngineCommand): void {
    // An engine that died is reported through `exited`; a late command to it is dropped.
    if (this.child.connected) this.child.send(command, undefined, undefined, () => undefined);
  }

  /**
   * Ends the process cleanly: closing the IPC channel makes the engine stop its search (the run is
   * marked stopped) and exit; after `graceMs` it is killed.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (!this.running) return;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Every backend's check, in an engine process started for it and ended after: a fresh process sees a
 * package or driver installed since, and tfjs and Dawn stay out of the long-lived ones.
 */
export async function checkBackendsInEngine(
  start: (onMessage: (message: EngineMessage) => void) => Promise<EngineProcess>,
): Promise<BackendReport[]> {
  let answer: (backends: BackendReport[]) => void = () => undefined;
  const answered = new Promise<BackendReport[]>((resolve) => (answer = resolve));
  const engine = await start((message) => {
    if (message.type === 'backend-checks') answer(message.backends);
  });
  try {
    engine.send({ type: 'check-backends' });
    const exitedFirst = engine.exited.then(({ code, signal, stderr }) => {
      throw new Error(`the engine process exited before answering (${signal ?? `code ${code}`})${stderr ? `: ${stderr}` : ''}`);
    });
    return await Promise.race([answered, exitedFirst]);
  } finally {
    await engine.shutdown(2000);
  }
}

/** A job that ends quickly and streams nothing: an export or a run's deletion. */
type QuickJob = Extract<EngineCommand, { type: 'export' | 'delete-run' }>;
/** How an engine process ends a job: its final message. */
export type JobOutcome = Extract<EngineMessage, { type: 'done' | 'failed' | 'retrained' | 'exported' | 'deleted' }>;

export function isJobOutcome(message: EngineMessage): message is JobOutcome {
  return ['done', 'failed', 'retrained', 'exported', 'deleted'].includes(message.type);
}

/**
 * Runs one export or deletion in an engine process of its own (the store and the model writers live only
 * there) and resolves with its outcome; a process that dies first rejects with its reason.
 */
export async function runQuickJob(
  start: (onMessage: (message: EngineMessage) => void) => Promise<EngineProcess>,
  job: QuickJob,
): Promise<JobOutcome> {
  let outcome: JobOutcome | undefined;
  const engine = await start((message) => {
    if (isJobOutcome(message)) outcome = message;
  });
  engine.send(job);
  const { code, signal, stderr } = await engine.exited;
  if (!outcome) throw new Error(`the engine process exited before answering (${signal ?? `code ${code}`})${stderr ? `: ${stderr}` : ''}`);
  return outcome;
}

/** A long-lived engine process that answers store queries for the side panel, started again after it exits. */
export class QueryClient {
  private readonly client: RequestClient<{ db: string; query: StoreQuery }, StoreAnswer>;

  constructor(start: (onMessage: (message: EngineMessage) => void) => Promise<EngineProcess>) {
    this.client = new RequestClient(async (events) => {
      const engine = await start((message) => {
        if (message.type === 'query-result') events.reply(message.id, { value: message });
        else if (message.type === 'query-failed') events.reply(message.id, { error: new Error(message.message) });
      });
      void engine.exited.then(() => events.ended(new Error('the engine query process exited')));
      return {
        send: (id, { db, query }) => engine.send({ type: 'query', id, db, query }),
        close: () => engine.shutdown(2000),
      };
    });
  }

  async query<K extends StoreQueryKind>(db: string, query: StoreQuery & { kind: K }): Promise<StoreQueryResults[K]> {
    // Held as any answer, so that the check below narrows it to this query's kind.
    const answer: { kind: StoreQueryKind; result: unknown } = await this.client.request({ db, query });
    if (!answersKind(query.kind, answer)) throw new Error(`the engine answered a ${query.kind} query with a ${answer.kind} result`);
    return answer.result;
  }

  dispose(): Promise<void> {
    return this.client.dispose();
  }
}
