// Shared by the reliability tests: the built CLI, fresh databases, and the checks every fault must pass.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export function cli(args: string[], options: { prefix?: string[] } = {}) {
  const [command, ...rest] = [...(options.prefix ?? []), process.execPath, CLI, ...args];
  const result = spawnSync(command, rest, { encoding: 'utf8', timeout: 240_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const freshDb = () => join(mkdtempSync(join(tmpdir(), 'nas-reliability-')), 'runs.db');

/** Starts `search` in its own process group (as a terminal would), collecting its output. */
export function startSearch(args: string[]): {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  seen: (pattern: RegExp) => Promise<void>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [CLI, 'search', ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  const listeners: (() => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    listeners.forEach((listener) => listener());
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const seen = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => pattern.test(stderr) && resolve();
      listeners.push(check);
      check();
      void exit.then(() => reject(new Error(`the search ended before ${pattern}:\n${stderr}`)));
    });
  return { child, output: () => ({ stdout, stderr }), seen, exit };
}

/** The trainer processes a search started: its children. */
export function childPids(pid: number): number[] {
  const result = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  return result.stdout.split('\n').filter(Boolean).map(Number);
}

interface TrialRow {
  idx: number;
  status: string;
  reward: number | null;
  finished_at: string | null;
}

/** What every fault must leave: a sound database, and no run still marked running. */
export function checkDatabase(db: string): { trials: TrialRow[]; run: { status: string; budget_trials: number } } {
  const raw = new Database(db, { readonly: true });
  try {
    assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(raw.pragma('foreign_key_check'), []);
    const run = raw.prepare('SELECT status, budget_trials FROM runs WHERE id = 1').get() as { status: string; budget_trials: number };
    const trials = raw.prepare('SELECT idx, status, reward, finished_at FROM trials WHERE run_id = 1 ORDER BY idx').all() as TrialRow[];
    return { run, trials };
  } finally {
    raw.close();
  }
}

/** Resumes run 1 to its budget: every finished trial kept as it was, each index once, the run done. */
export function resumeToBudget(db: string): void {
  const before = checkDatabase(db).trials.filter((trial) => trial.status === 'done' || trial.status === 'failed');
  const resumed = cli(['resume', '1', '--db', db]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const { run, trials } = checkDatabase(db);
  assert.equal(run.status, 'done');
  for (const trial of before)
    assert.deepEqual(
      trials.find((t) => t.idx === trial.idx),
      trial,
      'no finished trial is lost or changed',
    );
  assert.equal(new Set(trials.map((t) => t.idx)).size, trials.length, 'each index once');
  assert.equal(trials.filter((t) => t.status === 'done' || t.status === 'failed').length, run.budget_trials, 'the budget is reached');
  assert.ok(trials.every((t) => t.status !== 'running'));
}
