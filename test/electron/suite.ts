// The desktop VS Code suite: loaded by the extension host as --extensionTestsPath (bundled to
// dist-test/electron-suite.js by test/electron/build.mjs; run by test/electron/run.ts).
// Plain async steps that throw on failure (the @vscode/test-electron contract: `run()` rejects).
// The host is Electron and must not load native modules, so the database is read through the
// built CLI (dist/cli.js) with a plain Node, as a user would. Every child process is run
// asynchronously: a blocked extension host would delay the extension's own engine messages.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { RunRecord, TrialRecord } from '../../src/protocol/engine.ts';

const EXTENSION_ID = 'nas-studio.nas-studio';
const BUDGET = 12;

const exec = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Context {
  extensionPath: string;
  db: string;
  node: string;
}

async function cli<T>(ctx: Context, args: string[]): Promise<T> {
  const { stdout } = await exec(ctx.node, [join(ctx.extensionPath, 'dist', 'cli.js'), ...args, '--db', ctx.db, '--json'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(stdout) as T;
}

const listRuns = (ctx: Context) => cli<RunRecord[]>(ctx, ['runs']);
/** The trials of the newest run, finished or not (a row appears when a trial starts); none before a run exists. */
const latestTrials = (ctx: Context) => cli<TrialRecord[]>(ctx, ['trials', 'latest']).catch((): TrialRecord[] => []);

/** Thrown from a `waitFor` check: ends the wait at once (other errors are retried). */
class Fatal extends Error {}

/** Polls `check` until it returns a value; fails after `timeoutMs` with `describe()`'s account of the state. */
async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  describe: () => Promise<string>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      if (error instanceof Fatal) throw error;
      // The database may not exist yet, or be mid-write: try again.
      lastError = error;
    }
    await sleep(50);
  }
  const state = await describe().catch((error: unknown) => `(could not read it: ${message(error)})`);
  const last = lastError ? `; last error: ${message(lastError)}` : '';
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${last}\nstate: ${state}`);
}

/** A command's promise that must settle within `ms` (the search commands resolve when their engine exits). */
async function within<T>(what: string, ms: number, promise: Thenable<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000}s waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([Promise.resolve(promise), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const runsState = (ctx: Context) => async () =>
  JSON.stringify(
    (await listRuns(ctx)).map(({ id, status, trialsDone, budgetTrials, error }) => ({ id, status, trialsDone, budgetTrials, error })),
  );

// ---------------------------------------------------------------------------------------
// Engine processes: children of this extension host running dist/engine.js (and their trainers).
// `ps` and signal 0 are POSIX; on Windows these checks are skipped.

const CHECK_PROCESSES = process.platform !== 'win32';

interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

async function processes(): Promise<Proc[]> {
  if (!CHECK_PROCESSES) return [];
  const { stdout } = await exec('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[3] }));
}

/** Engine processes this extension host started (its query engine and its searches). */
function engines(ctx: Context, all: Proc[]): number[] {
  const engine = join(ctx.extensionPath, 'dist', 'engine.js');
  return all.filter((proc) => proc.ppid === process.pid && proc.args.includes(engine)).map((proc) => proc.pid);
}

function descendants(pid: number, all: Proc[]): number[] {
  const children = all.filter((proc) => proc.ppid === pid).map((proc) => proc.pid);
  return children.flatMap((child) => [child, ...descendants(child, all)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  const step = (name: string) => console.log(`[nas-studio electron suite] ${name}`);

  step('activate the extension');
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not loaded (is extensionDevelopmentPath the repository root?)`);
  await extension.activate();
  assert.ok(extension.isActive, `${EXTENSION_ID} did not activate`);
  assert.ok(vscode.workspace.isTrusted, 'the workspace is not trusted: the extension starts no engine in Restricted Mode');

  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  assert.ok(folder, 'VS Code opened no workspace folder (run.ts passes it as the first launch argument)');
  assert.equal(vscode.workspace.getConfiguration('nasStudio').get('databasePath'), 'runs.db', 'the workspace settings were not read');
  const ctx: Context = {
    extensionPath: extension.extensionPath,
    // "nasStudio.databasePath": "runs.db" is taken from the workspace folder.
    db: join(folder, 'runs.db'),
    // The extension host's own executable is Electron: the CLI runs with the Node that run.ts names.
    node: process.env.NAS_TEST_NODE || 'node',
  };

  // The Runs view's query engine is long-lived; start it now (Resume with no run only lists the
  // runs) so that the only engine process that appears next is the search's own.
  await vscode.commands.executeCommand('nasStudio.resumeSearch');
  const before = engines(ctx, await processes());

  step('open the search file and start the search');
  const file = vscode.Uri.file(join(folder, 'tiny.nas.yaml'));
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, file.fsPath, 'the search file is not the active editor');
  // The command resolves only when the search ends: start it, then watch the database.
  const started = vscode.commands.executeCommand('nasStudio.startSearch');
  started.then(undefined, (error: unknown) => console.error(`nasStudio.startSearch failed: ${message(error)}`));

  // The tiny search takes a second or two: stop it as soon as a trial row exists. Each poll also
  // notes the search's engine and trainer processes, which are gone soon after the stop.
  const seen = new Set<number>();
  let searchEngines: number[] = [];
  const running = await waitFor(
    'the search to start its first trial',
    120_000,
    async () => {
      const [runs, trials, all] = await Promise.all([listRuns(ctx), latestTrials(ctx), processes()]);
      const fresh = engines(ctx, all).filter((pid) => !before.includes(pid));
      if (fresh.length) searchEngines = fresh;
      fresh.forEach((pid) => [pid, ...descendants(pid, all)].forEach((p) => seen.add(p)));
      const latest = runs.at(-1);
      if (latest?.status === 'done')
        throw new Fatal(`run ${latest.id} finished all ${latest.trialsDone} trials before the test could stop it`);
      return latest?.status === 'running' && trials.length >= 1 ? latest : undefined;
    },
    runsState(ctx),
  );

  step(`stop run ${running.id}`);
  await vscode.commands.executeCommand('nasStudio.stopSearch', { run: running });
  if (CHECK_PROCESSES) {
    assert.equal(
      searchEngines.length,
      1,
      `expected one new engine process for the search, found [${searchEngines.join(', ')}] (query engine: [${before.join(', ')}])`,
    );
  }
  const stopped = await waitFor(
    `run ${running.id} to be stopped`,
    60_000,
    async () => {
      const r = (await listRuns(ctx)).find((candidate) => candidate.id === running.id);
      if (r?.status === 'done') throw new Fatal(`run ${running.id} finished all ${r.trialsDone} trials before the stop arrived`);
      return r?.status === 'stopped' ? r : undefined;
    },
    runsState(ctx),
  );
  assert.ok(stopped.trialsDone < BUDGET, `the stopped run has ${stopped.trialsDone} of ${BUDGET} trials`);
  await within('nasStudio.startSearch to return after the stop', 30_000, started);
  const trialsAtStop = await latestTrials(ctx);
  assert.ok(trialsAtStop.length >= 1, 'no trial was recorded before the stop');
  const stillRunning = trialsAtStop.filter((t) => t.status === 'running').map((t) => t.index);
  assert.deepEqual(stillRunning, [], `trials still marked running after the stop: ${stillRunning.join(', ')}`);
  if (CHECK_PROCESSES) {
    const gone = [...seen];
    await waitFor(
      `the search's engine ${searchEngines[0]} and its trainers to exit`,
      20_000,
      async () => (gone.every((pid) => !alive(pid)) ? true : undefined),
      async () => `still alive: ${gone.filter(alive).join(', ')}`,
    );
  }
  step(`run ${stopped.id} stopped after ${stopped.trialsDone} of ${BUDGET} trials; engine and ${seen.size - 1} trainer processes gone`);

  step(`resume run ${stopped.id}`);
  const resumed = vscode.commands.executeCommand('nasStudio.resumeSearch', { run: stopped });
  resumed.then(undefined, (error: unknown) => console.error(`nasStudio.resumeSearch failed: ${message(error)}`));
  const done = await waitFor(
    `run ${stopped.id} to be done`,
    300_000,
    async () => {
      const r = (await listRuns(ctx)).find((candidate) => candidate.id === stopped.id);
      if (r && (r.status === 'failed' || r.status === 'interrupted')) throw new Fatal(`run ${r.id} ended ${r.status}: ${r.error ?? ''}`);
      return r?.status === 'done' ? r : undefined;
    },
    runsState(ctx),
  );
  await within('nasStudio.resumeSearch to return', 30_000, resumed);
  assert.equal(done.trialsDone, BUDGET, `the resumed run has ${done.trialsDone} of ${BUDGET} trials`);
  assert.equal((await listRuns(ctx)).length, 1, 'resume created a new run instead of continuing the stopped one');
  const finished = (await latestTrials(ctx)).filter((t) => t.status === 'done' || t.status === 'failed');
  assert.ok(finished.length >= BUDGET, `${finished.length} finished trials after resume, expected ${BUDGET}`);
  if (CHECK_PROCESSES) {
    const extra = async () => engines(ctx, await processes()).filter((pid) => !before.includes(pid));
    await waitFor(
      'the resumed search engine to exit',
      20_000,
      async () => ((await extra()).length === 0 ? true : undefined),
      async () => `engines left: ${(await extra()).join(', ')}`,
    );
  }
  step('passed');
}
