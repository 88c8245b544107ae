// The store: every run, trial, epoch, controller step and checkpoint, in SQLite (better-sqlite3).
// This module is the only place that holds SQL. WAL mode lets readers (the CLI, the editor) look
// while a search writes; every write is one transaction, so a killed writer leaves no half record.

import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type {
  AlphaSnapshotRecord,
  ControllerStepRecord,
  EpochMetrics,
  RunNoteRecord,
  RunRecord,
  RunStatus,
  TrialEvaluator,
  TrialMeasurements,
  TrialOrder,
  TrialRecord,
  TrialStatus,
} from '../../protocol/engine.ts';
import type { SearchConfig } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';

/** Each entry moves the schema one version up; `user_version` records how far a database is. */
const MIGRATIONS: string[] = [
  `CREATE TABLE runs (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     space_file TEXT NOT NULL,
     space_text TEXT NOT NULL,
     config_json TEXT NOT NULL,
     strategy TEXT NOT NULL,
     space_kind TEXT NOT NULL,
     backend TEXT,
     seed INTEGER NOT NULL,
     status TEXT NOT NULL,
     writer_pid INTEGER,
     budget_trials INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     finished_at TEXT,
     error TEXT
   );
   CREATE TABLE trials (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     status TEXT NOT NULL,
     architecture_json TEXT NOT NULL,
     arch_key TEXT NOT NULL,
     graph_json TEXT NOT NULL,
     reward REAL,
     val_accuracy REAL,
     test_accuracy REAL,
     params INTEGER,
     flops REAL,
     seconds REAL,
     error TEXT,
     started_at TEXT NOT NULL,
     finished_at TEXT,
     PRIMARY KEY (run_id, idx)
   );
   CREATE INDEX trials_by_key ON trials(run_id, arch_key);
   CREATE TABLE epochs (
     run_id INTEGER NOT NULL,
     trial_idx INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     train_loss REAL NOT NULL,
     train_accuracy REAL NOT NULL,
     val_loss REAL NOT NULL,
     val_accuracy REAL NOT NULL,
     seconds REAL NOT NULL,
     PRIMARY KEY (run_id, trial_idx, epoch),
     FOREIGN KEY (run_id, trial_idx) REFERENCES trials(run_id, idx) ON DELETE CASCADE
   );
   CREATE TABLE controller_steps (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     loss REAL NOT NULL,
     mean_reward REAL NOT NULL,
     baseline REAL NOT NULL,
     entropy REAL NOT NULL,
     advantage REAL NOT NULL,
     probabilities_json TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, step)
   );
   CREATE TABLE checkpoints (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     told_through INTEGER NOT NULL,
     state_json TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   );`,
  // The controller's LSTM hidden state after it emitted a trial's architecture (float32 bytes), for
  // the controller-insight analysis. Self-contained: it only adds a table.
  `CREATE TABLE controller_hidden_states (
     run_id INTEGER NOT NULL,
     trial_idx INTEGER NOT NULL,
     hidden BLOB NOT NULL,
     PRIMARY KEY (run_id, trial_idx),
     FOREIGN KEY (run_id, trial_idx) REFERENCES trials(run_id, idx) ON DELETE CASCADE
   );`,
  // One-shot searches: how a trial was scored, DARTS' architecture weights over time, and warnings kept with the run.
  `ALTER TABLE trials ADD COLUMN evaluator TEXT NOT NULL DEFAULT 'train-from-scratch';
   CREATE TABLE alpha_snapshots (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     step INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     weights_json TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, step)
   );
   CREATE TABLE run_notes (
     run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     level TEXT NOT NULL,
     message TEXT NOT NULL,
     created_at TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   );`,
  // Who writes a run, beyond its pid: a pid means nothing in another host or pid namespace, and a
  // dead writer's pid may be reused; the process start time tells a reused pid apart.
  `ALTER TABLE runs ADD COLUMN writer_host TEXT;
   ALTER TABLE runs ADD COLUMN writer_pid_namespace TEXT;
   ALTER TABLE runs ADD COLUMN writer_started TEXT;`,
  // The last trial a checkpoint's strategy had asked for: resume asks again for the trials started after it.
  `ALTER TABLE checkpoints ADD COLUMN asked_through INTEGER;`,
];

/** The folder a read-only copy of a database lives in, under the temporary folder (see `Store.openCopy`). */
const READONLY_COPY_PREFIX = 'nas-studio-readonly-';

/** How often, and how far apart, an opening that found the database locked is tried (see `Store.open`). */
const OPEN_ATTEMPTS = 50;
const OPEN_RETRY_MS = 100;

/** Older checkpoints than this many per run are pruned: resume needs only the latest. */
const CHECKPOINTS_KEPT = 3;

export interface Checkpoint {
  seq: number;
  /** The last trial index the strategy had learned from when this was taken. */
  toldThrough: number;
  /**
   * The last trial index the strategy had proposed when this was taken (asks may run ahead of tells);
   * absent in one-shot checkpoints and those saved before it was recorded.
   */
  askedThrough?: number;
  /** The strategy's own state (plain JSON). */
  state: unknown;
}

export interface NewRun {
  name: string;
  spaceFile: string;
  spaceText: string;
  config: SearchConfig;
}

export interface FinishedTrial {
  runId: number;
  index: number;
  status: Exclude<TrialStatus, 'running'>;
  reward: number | null;
  measurements: TrialMeasurements | null;
  error: string | null;
}

type Row = Record<string, unknown>;

/** A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), where /proc exists. */
function processStartTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function pidNamespace(): string | null {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

/** This process as a run's writer. */
interface Writer {
  pid: number;
  host: string | null;
  pidNamespace: string | null;
  started: string | null;
}

const thisWriter = (): Writer => ({ pid: process.pid, host: hostname(), pidNamespace: pidNamespace(), started: processStartTime('self') });

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether a recorded writer may still be writing. A writer on another host or in another pid
 * namespace cannot be checked from here, so it counts as alive (`resume --force` overrides); in
 * ours, its pid must exist and, where recorded, have started when the writer did.
 */
function writerMayBeAlive(writer: Writer): boolean {
  const self = thisWriter();
  if (writer.host !== null && writer.host !== self.host) return true;
  if (writer.pidNamespace !== null && writer.pidNamespace !== self.pidNamespace) return true;
  if (!pidExists(writer.pid)) return false;
  return writer.started === null || processStartTime(writer.pid) === null || processStartTime(writer.pid) === writer.started;
}

function describeWriter(writer: Writer): string {
  const self = thisWriter();
  if (writer.host !== null && writer.host !== self.host) return `process ${writer.pid} on host ${writer.host}`;
  if (writer.pidNamespace !== null && writer.pidNamespace !== self.pidNamespace)
    return `process ${writer.pid} in another pid namespace (${writer.pidNamespace}, a container?)`;
  return `process ${writer.pid}`;
}

const writerFromRow = (row: Row): Writer | null =>
  row.writer_pid === null
    ? null
    : {
        pid: row.writer_pid as number,
        host: row.writer_host as string | null,
        pidNamespace: row.writer_pid_namespace as string | null,
        started: row.writer_started as string | null,
      };

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

const now = () => new Date().toISOString();

export class Store {
  readonly db: Database.Database;

  constructor(
    readonly path: string,
    options: StoreOptions = {},
  ) {
    this.db = withPath(path, () => Store.open(path, options.readonly === true));
  }

  private static open(path: string, readonly: boolean): Database.Database {
    if (readonly && path !== ':memory:' && existsSync(path)) {
      const db = Store.openReadonly(path);
      const version = Store.checkedVersion(db, path);
      if (version === MIGRATIONS.length) return db;
      db.close();
    }
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // SQLite skips the busy handler for some locks taken while another process turns a new database
    // to WAL or recovers its WAL: such an opening is tried again, within the busy timeout's 5 s.
    for (let attempt = 1; ; attempt++) {
      try {
        return Store.openWritable(path);
      } catch (error) {
        if (!(error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')) || attempt >= OPEN_ATTEMPTS) throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, OPEN_RETRY_MS);
      }
    }
  }

  private static openWritable(path: string): Database.Database {
    const db = new Database(path);
    try {
      // The busy timeout belongs to this connection (it writes nothing), and lets the version be read
      // while another process switches a new database to WAL.
      db.pragma('busy_timeout = 5000');
      // Before any pragma that writes: a newer NAS Studio's database is refused untouched.
      Store.checkedVersion(db, path);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      Store.migrate(db, path);
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  }

  private static openReadonly(path: string): Database.Database {
    try {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      // Reading a WAL database creates its shared-memory index beside it; a read-only folder refuses that.
      db.pragma('user_version', { simple: true });
      return db;
    } catch (error) {
      // SQLITE_CANTOPEN or SQLITE_READONLY_CANTINIT, depending on what is left beside it.
      if (!(error instanceof Database.SqliteError && /^SQLITE_(CANTOPEN|READONLY)/.test(error.code))) throw error;
      return Store.openCopy(path);
    }
  }

  /**
   * SQLite's immutable mode needs URI filenames, which better-sqlite3 builds without: a private copy
   * (with its WAL) in the temporary folder stands in. It is a snapshot, removed when the store closes.
   */
  private static openCopy(path: string): Database.Database {
    const folder = mkdtempSync(join(tmpdir(), READONLY_COPY_PREFIX));
    const copy = join(folder, basename(path));
    copyFileSync(path, copy);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
    return new Database(copy, { readonly: true, fileMustExist: true });
  }

  private static checkedVersion(db: Database.Database, path: string): number {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      db.close();
      throw new Error(`${path} has schema version ${version}, newer than this NAS Studio knows (${MIGRATIONS.length}); update NAS Studio`);
    }
    return version;
  }

  /** Immediate, and re-reading the version inside: two processes opening a new database at once migrate it once. */
  private static migrate(db: Database.Database, path: string): void {
    db.transaction(() => {
      for (let next = Store.checkedVersion(db, path); next < MIGRATIONS.length; next++) {
        db.exec(MIGRATIONS[next]);
        db.pragma(`user_version = ${next + 1}`);
      }
    }).immediate();
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    const file = this.db.name;
    this.db.close();
    if (file !== this.path && basename(dirname(file)).startsWith(READONLY_COPY_PREFIX))
      rmSync(dirname(file), { recursive: true, force: true });
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
    this.writeTransaction(() => {
      const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Row | undefined;
      if (!row) throw new Error(`no run ${runId} in ${this.path}`);
      const writer = writerFromRow(row);
      if (!options.force && row.status === 'running' && writer !== null && writer.pid !== process.pid && writerMayBeAlive(writer)) {
        throw new Error(`run ${runId} is being searched by ${describeWriter(writer)}; stop it first, or resume with --force if it is gone`);
      }
      const self = thisWriter();
      this.db
        .prepare(
          `UPDATE runs SET status = 'running', writer_pid = ?, writer_host = ?, writer_pid_namespace ` +
            `= ?, writer_started = ?, error = NULL, finished_at = NULL WHERE id = ?`,
        )
        .run(self.pid, self.host, self.pidNamespace, self.started, runId);
    });
  }

  /** Whether a run marked running still has a writer that may be alive; a crashed writer's run shows as interrupted. */
  runWriterMayBeAlive(runId: number): boolean {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(runId) as Row | undefined;
    const writer = row && writerFromRow(row);
    return writer !== undefined && writer !== null && writerMayBeAlive(writer);
  }

  runConfig(runId: number): { config: SearchConfig; spaceFile: string; spaceText: string } {
    const row = this.db.prepare('SELECT config_json, space_file, space_text FROM runs WHERE id = ?').get(runId) as Row | undefined;
    if (!row) throw new Error(`no run ${runId} in ${this.path}`);
    return { config: JSON.parse(row.config_json as string), spaceFile: row.space_file as string, spaceText: row.space_text as string };
  }

  private static runFromRow(row: Row): RunRecord {
    return {
      id: row.id as number,
      name: row.name as string,
      spaceFile: row.space_file as string,
      strategy: row.strategy as string,
      spaceKind: row.space_kind as string,
      backend: row.backend as string | null,
      seed: row.seed as number,
      status: row.status as RunStatus,
      budgetTrials: row.budget_trials as number,
      trialsDone: row.trials_done as number,
      bestReward: row.best_reward as number | null,
      createdAt: row.created_at as string,
      finishedAt: row.finished_at as string | null,
      error: row.error as string | null,
    };
  }

  private static readonly RUN_SELECT = `SELECT runs.*,
      (SELECT COUNT(*) FROM trials t WHERE t.run_id = runs.id AND t.status IN ('done', 'failed')) AS trials_done,
      (SELECT MAX(reward) FROM trials t WHERE t.run_id = runs.id AND t.status = 'done') AS best_reward
    FROM runs`;

  listRuns(): RunRecord[] {
    return (this.db.prepare(`${Store.RUN_SELECT} ORDER BY id`).all() as Row[]).map(Store.runFromRow);
  }

  getRun(runId: number): RunRecord | undefined {
    const row = this.db.prepare(`${Store.RUN_SELECT} WHERE id = ?`).get(runId) as Row | undefined;
    return row && Store.runFromRow(row);
  }

  latestRunId(): number | undefined {
    const row = this.db.prepare('SELECT MAX(id) AS id FROM runs').get() as Row;
    return (row.id as number | null) ?? undefined;
  }

  /** Without an `evaluator`, the run's evaluation decides: a table lookup or training from scratch. */
  startTrial(
    runId: number,
    index: number,
    architecture: Architecture,
    key: string,
    graph: ArchitectureGraph,
    evaluator?: TrialEvaluator,
  ): void {
    const stored = evaluator ?? (this.runConfig(runId).config.evaluation?.kind === 'tabular' ? 'tabular' : 'train-from-scratch');
    this.db
      .prepare(
        `INSERT INTO trials (run_id, idx, status, architecture_json, arch_key, graph_json, evaluator, started_at)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?)`,
      )
      .run(runId, index, JSON.stringify(architecture), key, JSON.stringify(graph), stored, now());
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
    const values = Float32Array.from(hidden);
    this.db
      .prepare('INSERT OR REPLACE INTO controller_hidden_states (run_id, trial_idx, hidden) VALUES (?, ?, ?)')
      .run(runId, index, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  }

  /** The recorded hidden states of a run's trials, by trial index. */
  hiddenStates(runId: number): { index: number; hidden: number[] }[] {
    const rows = this.db
      .prepare('SELECT trial_idx, hidden FROM controller_hidden_states WHERE run_id = ? ORDER BY trial_idx')
      .all(runId) as Row[];
    return rows.map((row) => {
      const bytes = row.hidden as Buffer;
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return { index: row.trial_idx as number, hidden: Array.from(values) };
    });
  }

  /** Records a finished trial with its learning curve, in one transaction. */
  finishTrial(trial: FinishedTrial): void {
    this.writeTransaction(() => {
      const m = trial.measurements;
      this.db
        .prepare(
          `UPDATE trials SET status = ?, reward = ?, val_accuracy = ?, test_accuracy = ?, params = ?, flops = ?, seconds = ?,
             error = ?, finished_at = ? WHERE run_id = ? AND idx = ?`,
        )
        .run(
          trial.status,
          trial.reward,
          m?.valAccuracy ?? null,
          m?.testAccuracy ?? null,
          m?.params ?? null,
          m?.flops ?? null,
          m?.seconds ?? null,
          trial.error,
          now(),
          trial.runId,
          trial.index,
        );
      if (m) {
        const insertEpoch = this.db.prepare(
          `INSERT INTO epochs (run_id, trial_idx, epoch, train_loss, train_accuracy, val_loss, val_accuracy, ` +
            `seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const e of m.curve) {
          const values = [e.trainLoss, e.trainAccuracy, e.valLoss, e.valAccuracy, e.seconds];
          // SQLite stores NaN as NULL, which these NOT NULL columns refuse with a message naming no trial.
          if (!values.every(Number.isFinite))
            throw new Error(
              `trial ${trial.index} of run ${trial.runId}: epoch ${e.epoch} has a metric that ` +
                `is not a finite number (${values.join(', ')})`,
            );
          insertEpoch.run(trial.runId, trial.index, e.epoch, ...values);
        }
      }
    });
  }

  /**
   * Records what the strategy learned from a trial (its controller step, if any) together with the
   * checkpoint taken right after, in one transaction: a resumed run never sees one without the other.
   */
  recordTell(runId: number, controllerStep: ControllerStepRecord | undefined, checkpoint: Omit<Checkpoint, 'seq'>): void {
    this.writeTransaction(() => {
      if (controllerStep) this.insertControllerStep(controllerStep);
      this.saveCheckpoint(runId, checkpoint);
    });
  }

  private insertControllerStep(step: ControllerStepRecord): void {
    this.db
      .prepare(
        `INSERT INTO controller_steps (run_id, step, loss, mean_reward, baseline, entropy, advantage, probabilities_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        step.runId,
        step.step,
        step.loss,
        step.meanReward,
        step.baseline,
        step.entropy,
        step.advantage,
        JSON.stringify(step.probabilities),
        now(),
      );
  }

  private saveCheckpoint(runId: number, checkpoint: Omit<Checkpoint, 'seq'>): void {
    const row = this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM checkpoints WHERE run_id = ?').get(runId) as Row;
    const seq = (row.seq as number) + 1;
    this.db
      .prepare('INSERT INTO checkpoints (run_id, seq, told_through, asked_through, state_json, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(runId, seq, checkpoint.toldThrough, checkpoint.askedThrough ?? null, JSON.stringify(checkpoint.state), now());
    this.db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND seq <= ?').run(runId, seq - CHECKPOINTS_KEPT);
  }

  /** Saves a checkpoint outside a tell (one-shot searches checkpoint per epoch and when stopped). */
  checkpoint(runId: number, checkpoint: Omit<Checkpoint, 'seq'>): void {
    this.atomically(() => this.saveCheckpoint(runId, checkpoint));
  }

  latestCheckpoint(runId: number): Checkpoint | undefined {
    const row = this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(runId) as Row | undefined;
    if (!row) return undefined;
    const askedThrough = row.asked_through === null ? undefined : (row.asked_through as number);
    return { seq: row.seq as number, toldThrough: row.told_through as number, askedThrough, state: JSON.parse(row.state_json as string) };
  }

  /** Trials left 'running' by a writer that died: they are marked interrupted, their indices never reused. */
  markRunningTrialsInterrupted(runId: number): number {
    return this.db
      .prepare(
        `UPDATE trials SET status = 'interrupted', error = 'the search stopped before this trial finished', ` +
          `finished_at = ? WHERE run_id = ? AND status = 'running'`,
      )
      .run(now(), runId).changes;
  }

  nextTrialIndex(runId: number): number {
    const row = this.db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM trials WHERE run_id = ?').get(runId) as Row;
    return row.next as number;
  }

  private static trialFromRow(row: Row): TrialRecord {
    const hasMetrics = row.val_accuracy !== null;
    return {
      runId: row.run_id as number,
      index: row.idx as number,
      status: row.status as TrialStatus,
      architecture: JSON.parse(row.architecture_json as string),
      key: row.arch_key as string,
      graph: JSON.parse(row.graph_json as string),
      reward: row.reward as number | null,
      metrics: hasMetrics
        ? {
            valAccuracy: row.val_accuracy as number,
            testAccuracy: row.test_accuracy as number,
            params: row.params as number | null,
            flops: row.flops as number | null,
            seconds: row.seconds as number,
          }
        : null,
      error: row.error as string | null,
      evaluator: row.evaluator as TrialEvaluator,
      startedAt: row.started_at as string,
      finishedAt: row.finished_at as string | null,
    };
  }

  listTrials(runId: number, order: TrialOrder = 'index', offset = 0, limit = -1): TrialRecord[] {
    const orderBy = order === 'reward' ? 'reward IS NULL, reward DESC, idx' : 'idx';
    const rows = this.db
      .prepare(`SELECT * FROM trials WHERE run_id = ? ORDER BY ${orderBy} LIMIT ? OFFSET ?`)
      .all(runId, limit, offset) as Row[];
    return rows.map(Store.trialFromRow);
  }

  countTrials(runId: number): number {
    return this.db.prepare('SELECT COUNT(*) FROM trials WHERE run_id = ?').pluck().get(runId) as number;
  }

  /** A run whose engine process died: it and its unfinished trials are marked interrupted, if still running. */
  markRunInterrupted(runId: number, reason: string): void {
    this.writeTransaction(() => {
      this.markRunningTrialsInterrupted(runId);
      this.db
        .prepare(
          `UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, writer_pid = NULL, writer_host ` +
            `= NULL, writer_pid_namespace = NULL, writer_started = NULL WHERE id = ? AND status = 'running'`,
        )
        .run(reason, now(), runId);
    });
  }

  getTrial(runId: number, index: number): TrialRecord | undefined {
    const row = this.db.prepare('SELECT * FROM trials WHERE run_id = ? AND idx = ?').get(runId, index) as Row | undefined;
    return row && Store.trialFromRow(row);
  }

  trialEpochs(runId: number, index: number): EpochMetrics[] {
    const rows = this.db.prepare('SELECT * FROM epochs WHERE run_id = ? AND trial_idx = ? ORDER BY epoch').all(runId, index) as Row[];
    return rows.map((row) => ({
      epoch: row.epoch as number,
      trainLoss: row.train_loss as number,
      trainAccuracy: row.train_accuracy as number,
      valLoss: row.val_loss as number,
      valAccuracy: row.val_accuracy as number,
      seconds: row.seconds as number,
    }));
  }

  controllerSteps(runId: number): ControllerStepRecord[] {
    const rows = this.db.prepare('SELECT * FROM controller_steps WHERE run_id = ? ORDER BY step').all(runId) as Row[];
    return rows.map((row) => ({
      runId: row.run_id as number,
      step: row.step as number,
      loss: row.loss as number,
      meanReward: row.mean_reward as number,
      baseline: row.baseline as number,
      entropy: row.entropy as number,
      advantage: row.advantage as number,
      probabilities: JSON.parse(row.probabilities_json as string),
    }));
  }

  /** A snapshot taken again after a resume (the steps since the last checkpoint are redone) replaces the first. */
  recordAlphaSnapshot(snapshot: AlphaSnapshotRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO alpha_snapshots (run_id, step, epoch, weights_json, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(snapshot.runId, snapshot.step, snapshot.epoch, JSON.stringify(snapshot.weights), now());
  }

  alphaSnapshots(runId: number): AlphaSnapshotRecord[] {
    const rows = this.db.prepare('SELECT * FROM alpha_snapshots WHERE run_id = ? ORDER BY step').all(runId) as Row[];
    return rows.map((row) => ({
      runId: row.run_id as number,
      step: row.step as number,
      epoch: row.epoch as number,
      weights: JSON.parse(row.weights_json as string),
    }));
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
    const rows = this.db.prepare('SELECT * FROM run_notes WHERE run_id = ? ORDER BY seq').all(runId) as Row[];
    return rows.map((row) => ({
      runId: row.run_id as number,
      seq: row.seq as number,
      level: row.level as RunNoteRecord['level'],
      message: row.message as string,
      createdAt: row.created_at as string,
    }));
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
