// The store: every run, trial, epoch, controller step and checkpoint, in SQLite (better-sqlite3).
// This folder is the only place that holds SQL. WAL mode lets readers (the CLI, the editor) look
// while a search writes; every write is one transaction, so a killed writer leaves no half record.
// `Store` is the entry callers use; its jobs live beside it: opening and migrating (open.ts,
// migrations.ts), the writer claim (writer.ts), trial writes (trials.ts), checkpoints and controller
// steps (checkpoints.ts), reads (queries.ts). Run writes, being short, stay here.

import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type {
  AlphaSnapshotRecord,
  ControllerStepRecord,
  EpochMetrics,
  LanguageModelWeights,
  RunNoteRecord,
  RunRecord,
  RunStatus,
  TrialEvaluator,
  TrialOrder,
  TrialRecord,
} from '../../protocol/engine.ts';
import type { SearchConfig } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import { insertControllerStep, latestCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoints.ts';
import { closeDatabase, openDatabase } from './open.ts';
import * as queries from './queries.ts';
import { now, type Row } from './rows.ts';
import * as trials from './trials.ts';
import type { FinishedTrial } from './trials.ts';
import { claimRun, releaseRun, runWriterMayBeAlive } from './writer.ts';

export type { Checkpoint } from './checkpoints.ts';
export type { FinishedTrial } from './trials.ts';

export interface NewRun {
  name: string;
  spaceFile: string;
  spaceText: string;
  config: SearchConfig;
}

/** An SQLite error, with the database it came from: "database is locked" alone does not say which. */
export class StoreError extends Error {
  constructor(
    readonly path: string,
    readonly code: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'StoreError';
  }
}

export interface StoreOptions {
  /**
   * For queries: never writes, so a database in a read-only folder can be read (falling back to a
   * private copy where even the WAL index cannot be made beside it). A missing or older database is
   * opened for writing instead, to create or migrate it.
   */
  readonly?: boolean;
}

export class Store {
  readonly db: Database.Database;

  constructor(
    readonly path: string,
    options: StoreOptions = {},
  ) {
    this.db = withPath(path, () => openDatabase(path, options.readonly === true));
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    closeDatabase(this.db, this.path);
  }

  createRun(run: NewRun): number {
    const { config } = run;
    const result = this.db
      .prepare(
        `INSERT INTO runs (name, space_file, space_text, config_json, strategy, space_kind, seed, status, budget_trials, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(
        run.name,
        run.spaceFile,
        run.spaceText,
        JSON.stringify(config),
        config.strategy.kind,
        config.space.kind,
        config.runtime.seed,
        config.budget.trials,
        now(),
      );
    return Number(result.lastInsertRowid);
  }

  setRunBackend(runId: number, backend: string): void {
    this.db.prepare('UPDATE runs SET backend = ? WHERE id = ?').run(backend, runId);
  }

  setRunStatus(runId: number, status: RunStatus, error: string | null = null): void {
    const finished = status === 'running' ? null : now();
    this.db
      .prepare(
        'UPDATE runs SET status = ?, error = ?, finished_at = ?, writer_pid = NULL, writer_host = NULL, ' +
          'writer_pid_namespace = NULL, writer_started = NULL WHERE id = ?',
      )
      .run(status, error, finished, runId);
  }

  /**
   * Marks this process as the run's writer. Refused while another live process writes it; a writer
   * that died (killed, crashed) leaves its pid behind, which no longer counts. `force` takes the run
   * over from a writer that cannot be checked (another host or pid namespace): the caller warns.
   */
  claimRun(runId: number, options: { force?: boolean } = {}): void {
    this.writeTransaction(() => claimRun(this.db, this.path, runId, { force: options.force === true, retraining: false }));
  }

  /**
   * Marks this process as the writer of a run it retrains a trial of, the run keeping its status: refused while
   * another live process searches or retrains it. What is still running now was left by a writer that died (a
   * search or a retraining killed): it is marked interrupted. `releaseRun` gives the claim back.
   */
  claimRunForRetraining(runId: number): void {
    this.writeTransaction(() => {
      claimRun(this.db, this.path, runId, { force: false, retraining: true });
      trials.markRunningTrialsInterrupted(this.db, runId);
      this.db
        .prepare(`UPDATE runs SET status = 'interrupted', error = ?, finished_at = ? WHERE id = ? AND status = 'running'`)
        .run('the process searching it died before it finished', now(), runId);
    });
  }

  releaseRun(runId: number): void {
    releaseRun(this.db, runId);
  }

  /** Whether the run has a writer (a search or a retraining) that may be alive; see `liveRun` and `liveTrials`. */
  runWriterMayBeAlive(runId: number): boolean {
    return runWriterMayBeAlive(this.db, runId);
  }

  /** The run as a reader should see it: one still marked running whose writer died (killed, crashed) is interrupted. */
  liveRun(run: RunRecord): RunRecord {
    return run.status === 'running' && !this.runWriterMayBeAlive(run.id) ? { ...run, status: 'interrupted' } : run;
  }

  /** A run's trials as a reader should see them: one still marked running with no live writer (a search or a retraining) is interrupted. */
  liveTrials(runId: number, shown: TrialRecord[]): TrialRecord[] {
    if (!shown.some((trial) => trial.status === 'running') || this.runWriterMayBeAlive(runId)) return shown;
    return shown.map((trial) => (trial.status === 'running' ? { ...trial, status: 'interrupted' as const } : trial));
  }

  runConfig(runId: number): { config: SearchConfig; spaceFile: string; spaceText: string } {
    return queries.runConfig(this.db, this.path, runId);
  }

  listRuns(): RunRecord[] {
    return queries.listRuns(this.db);
  }

  getRun(runId: number): RunRecord | undefined {
    return queries.getRun(this.db, runId);
  }

  latestRunId(): number | undefined {
    return queries.latestRunId(this.db);
  }

  /** Without an `evaluator`, the run's evaluation decides: a table lookup or training from scratch. */
  startTrial(
    runId: number,
    index: number,
    architecture: Architecture,
    key: string,
    graph: ArchitectureGraph,
    evaluator?: TrialEvaluator,
    retrainedFrom: number | null = null,
  ): void {
    const stored = evaluator ?? (this.runConfig(runId).config.evaluation?.kind === 'tabular' ? 'tabular' : 'train-from-scratch');
    trials.startTrial(this.db, runId, index, architecture, key, graph, stored, retrainedFrom);
  }

  /** Records the remote worker that took a trial, and its attempt (1 the first time; more after a worker died or failed). */
  setTrialWorker(runId: number, index: number, worker: string, attempts: number): void {
    trials.setTrialWorker(this.db, runId, index, worker, attempts);
  }

  /** The name of the run's jobs on a queue: made once, at random, so that databases sharing a Redis never collide. */
  queueKey(runId: number): string {
    return this.writeTransaction(() => {
      const stored = this.db.prepare('SELECT queue_key FROM runs WHERE id = ?').pluck().get(runId) as string | null | undefined;
      if (stored === undefined) throw new Error(`no run ${runId} in ${this.path}`);
      if (stored !== null) return stored;
      const made = randomUUID();
      this.db.prepare('UPDATE runs SET queue_key = ? WHERE id = ?').run(made, runId);
      return made;
    });
  }

  /** Runs `write` as one transaction: several records that must never be seen apart. */
  atomically<T>(write: () => T): T {
    return this.writeTransaction(write);
  }

  /**
   * Every write transaction takes the write lock when it begins: a deferred one that reads, then
   * writes, fails at once with SQLITE_BUSY when another process writes, ignoring the busy timeout.
   */
  private writeTransaction<T>(write: () => T): T {
    return this.db.transaction(write).immediate();
  }

  /** Keeps the controller's hidden state for a started trial: its values as float32. */
  recordHiddenState(runId: number, index: number, hidden: readonly number[]): void {
    trials.recordHiddenState(this.db, runId, index, hidden);
  }

  /** The recorded hidden states of a run's trials, by trial index. */
  hiddenStates(runId: number): { index: number; hidden: number[] }[] {
    return queries.hiddenStates(this.db, runId);
  }

  /** Records a finished trial with its learning curve (and where its saved weights are), in one transaction. */
  finishTrial(trial: FinishedTrial): void {
    const saved = trial.measurements?.savedWeights;
    const weightsPath = saved === undefined ? undefined : relative(dirname(this.path), saved);
    this.writeTransaction(() => trials.finishTrial(this.db, { ...trial, weightsPath }));
  }

  /** The folder a trial's weights are saved in: beside the database, one folder per run, removed with it. */
  weightsFolder(runId: number, index: number): string {
    return join(this.runWeightsFolder(runId), `trial-${index}`);
  }

  private runWeightsFolder(runId: number): string {
    return `${this.path}-weights/run-${runId}`;
  }

  /** The absolute folder of a trial's kept weights; undefined when it kept none. */
  trialWeightsFolder(trial: Pick<TrialRecord, 'weightsPath'>): string | undefined {
    return trial.weightsPath === null ? undefined : resolve(dirname(this.path), trial.weightsPath);
  }

  /** Forgets a trial's kept weights and removes their folder (runtime.keep_weights keeps only the best). */
  dropTrialWeights(trial: TrialRecord): void {
    const folder = this.trialWeightsFolder(trial);
    this.db.prepare('UPDATE trials SET weights_path = NULL WHERE run_id = ? AND idx = ?').run(trial.runId, trial.index);
    if (folder !== undefined) rmSync(folder, { recursive: true, force: true });
  }

  /** Deletes a run with everything it recorded, its kept weights' files included. */
  deleteRun(runId: number): void {
    if (this.runWriterMayBeAlive(runId))
      throw new Error(`run ${runId} is being written by a live process (a search or a retraining); stop it before deleting it`);
    this.writeTransaction(() => this.db.prepare('DELETE FROM runs WHERE id = ?').run(runId));
    rmSync(this.runWeightsFolder(runId), { recursive: true, force: true });
  }

  /**
   * Records what the strategy learned from a trial (its controller step, if any) together with the
   * checkpoint taken right after, in one transaction: a resumed run never sees one without the other.
   */
  recordTell(runId: number, controllerStep: ControllerStepRecord | undefined, checkpoint: Omit<Checkpoint, 'seq'>): void {
    this.writeTransaction(() => {
      if (controllerStep) insertControllerStep(this.db, controllerStep);
      saveCheckpoint(this.db, runId, checkpoint);
    });
  }

  /** Saves a checkpoint outside a tell (one-shot searches checkpoint per epoch and when stopped). */
  checkpoint(runId: number, checkpoint: Omit<Checkpoint, 'seq'>): void {
    this.atomically(() => saveCheckpoint(this.db, runId, checkpoint));
  }

  latestCheckpoint(runId: number): Checkpoint | undefined {
    return latestCheckpoint(this.db, runId);
  }

  /** Trials left 'running' by a writer that died: they are marked interrupted, their indices never reused. */
  markRunningTrialsInterrupted(runId: number): number {
    return trials.markRunningTrialsInterrupted(this.db, runId);
  }

  nextTrialIndex(runId: number): number {
    return queries.nextTrialIndex(this.db, runId);
  }

  listTrials(runId: number, order: TrialOrder = 'index', offset = 0, limit = -1): TrialRecord[] {
    return queries.listTrials(this.db, runId, order, offset, limit);
  }

  /** The search trials (not retrainings) that kept their weights, best reward first. */
  searchTrialsWithWeights(runId: number): TrialRecord[] {
    return queries.searchTrialsWithWeights(this.db, runId);
  }

  countTrials(runId: number): number {
    return queries.countTrials(this.db, runId);
  }

  /** A run whose engine process died: it and its unfinished trials are marked interrupted, if still running. */
  markRunInterrupted(runId: number, reason: string): void {
    this.writeTransaction(() => {
      trials.markRunningTrialsInterrupted(this.db, runId);
      this.db
        .prepare(
          `UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, writer_pid = NULL, writer_host ` +
            `= NULL, writer_pid_namespace = NULL, writer_started = NULL WHERE id = ? AND status = 'running'`,
        )
        .run(reason, now(), runId);
    });
  }

  getTrial(runId: number, index: number): TrialRecord | undefined {
    return queries.getTrial(this.db, runId, index);
  }

  trialEpochs(runId: number, index: number): EpochMetrics[] {
    return queries.trialEpochs(this.db, runId, index);
  }

  /** Every trial's learning curve, by trial index. */
  runCurves(runId: number): Map<number, EpochMetrics[]> {
    return queries.runCurves(this.db, runId);
  }

  /** A trial's own output, as its evaluator kept it; null when it kept none. */
  trialLog(runId: number, index: number): string | null {
    return queries.trialLog(this.db, runId, index);
  }

  /** A trial's kept weights (a language model trained in full); undefined when it kept none. */
  trialWeights(runId: number, index: number): LanguageModelWeights | undefined {
    return queries.trialWeights(this.db, runId, index);
  }

  hasTrialWeights(runId: number, index: number): boolean {
    return queries.hasTrialWeights(this.db, runId, index);
  }

  controllerSteps(runId: number): ControllerStepRecord[] {
    return queries.controllerSteps(this.db, runId);
  }

  /** A snapshot taken again after a resume (the steps since the last checkpoint are redone) replaces the first. */
  recordAlphaSnapshot(snapshot: AlphaSnapshotRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO alpha_snapshots (run_id, step, epoch, weights_json, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(snapshot.runId, snapshot.step, snapshot.epoch, JSON.stringify(snapshot.weights), now());
  }

  alphaSnapshots(runId: number): AlphaSnapshotRecord[] {
    return queries.alphaSnapshots(this.db, runId);
  }

  addRunNote(runId: number, level: RunNoteRecord['level'], message: string): RunNoteRecord {
    return this.writeTransaction(() => {
      const row = this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM run_notes WHERE run_id = ?').get(runId) as Row;
      const note: RunNoteRecord = { runId, seq: row.seq as number, level, message, createdAt: now() };
      this.db
        .prepare('INSERT INTO run_notes (run_id, seq, level, message, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(runId, note.seq, level, message, note.createdAt);
      return note;
    });
  }

  runNotes(runId: number): RunNoteRecord[] {
    return queries.runNotes(this.db, runId);
  }
}

function withPath<T>(path: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (error instanceof Database.SqliteError) throw new StoreError(path, error.code, error.message);
    throw error;
  }
}

// Every SQLite error a store method meets names the database: wrapping each method here keeps the
// methods themselves plain.
for (const name of Object.getOwnPropertyNames(Store.prototype) as (keyof Store)[]) {
  const descriptor = Object.getOwnPropertyDescriptor(Store.prototype, name);
  if (name === ('constructor' as keyof Store) || typeof descriptor?.value !== 'function') continue;
  const method = descriptor.value as (this: Store, ...args: unknown[]) => unknown;
  Object.defineProperty(Store.prototype, name, {
    ...descriptor,
    value(this: Store, ...args: unknown[]) {
      return withPath(this.path, () => method.apply(this, args));
    },
  });
}
