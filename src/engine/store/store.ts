// The store: every run, trial, epoch, controller step and checkpoint, in SQLite (better-sqlite3).
// This module is the only place that holds SQL. WAL mode lets readers (the CLI, the editor) look
// while a search writes; every write is one transaction, so a killed writer leaves no half record.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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
];

/** Older checkpoints than this many per run are pruned: resume needs only the latest. */
const CHECKPOINTS_KEPT = 3;

export interface Checkpoint {
  seq: number;
  /** The last trial index the strategy had learned from when this was taken. */
  toldThrough: number;
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
const now = () => new Date().toISOString();

export class Store {
  readonly db: Database.Database;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(`${this.path} has schema version ${version}, newer than this NAS Studio knows (${MIGRATIONS.length}); update NAS Studio`);
    }
    for (let next = version; next < MIGRATIONS.length; next++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[next]);
        this.db.pragma(`user_version = ${next + 1}`);
      })();
    }
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  close(): void {
    this.db.close();
  }

  createRun(run: NewRun): number {
    const { config } = run;
    const result = this.db
      .prepare(
        `INSERT INTO runs (name, space_file, space_text, config_json, strategy, space_kind, seed, status, budget_trials, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?)`,
      )
      .run(run.name, run.spaceFile, run.spaceText, JSON.stringify(config), config.strategy.kind, config.space.kind, config.runtime.seed, config.budget.trials, now());
    return Number(result.lastInsertRowid);
  }

  setRunBackend(runId: number, backend: string): void {
    this.db.prepare('UPDATE runs SET backend = ? WHERE id = ?').run(backend, runId);
  }

  setRunStatus(runId: number, status: RunStatus, error: string | null = null): void {
    const finished = status === 'running' ? null : now();
    this.db.prepare('UPDATE runs SET status = ?, error = ?, finished_at = ?, writer_pid = NULL WHERE id = ?').run(status, error, finished, runId);
  }

  /**
   * Marks this process as the run's writer. Refused while another live process writes it; a writer
   * that died (killed, crashed) leaves its pid behind, which no longer counts.
   */
  claimRun(runId: number): void {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT status, writer_pid FROM runs WHERE id = ?').get(runId) as Row | undefined;
      if (!row) throw new Error(`no run ${runId} in ${this.path}`);
      const writer = row.writer_pid as number | null;
      if (row.status === 'running' && writer !== null && writer !== process.pid && isAlive(writer)) {
        throw new Error(`run ${runId} is being searched by process ${writer}; stop it first`);
      }
      this.db.prepare(`UPDATE runs SET status = 'running', writer_pid = ?, error = NULL, finished_at = NULL WHERE id = ?`).run(process.pid, runId);
    })();
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

  startTrial(runId: number, index: number, architecture: Architecture, key: string, graph: ArchitectureGraph, evaluator: TrialEvaluator = 'train-from-scratch'): void {
    this.db
      .prepare(
        `INSERT INTO trials (run_id, idx, status, architecture_json, arch_key, graph_json, evaluator, started_at)
         VALUES (?, ?, 'running', ?, ?, ?, ?, ?)`,
      )
      .run(runId, index, JSON.stringify(architecture), key, JSON.stringify(graph), evaluator, now());
  }

  /** Runs `write` as one transaction: several records that must never be seen apart. */
  atomically<T>(write: () => T): T {
    return this.db.transaction(write)();
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
    const rows = this.db.prepare('SELECT trial_idx, hidden FROM controller_hidden_states WHERE run_id = ? ORDER BY trial_idx').all(runId) as Row[];
    return rows.map((row) => {
      const bytes = row.hidden as Buffer;
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      return { index: row.trial_idx as number, hidden: Array.from(values) };
    });
  }

  /** Records a finished trial with its learning curve, in one transaction. */
  finishTrial(trial: FinishedTrial): void {
    this.db.transaction(() => {
      const m = trial.measurements;
      this.db
        .prepare(
          `UPDATE trials SET status = ?, reward = ?, val_accuracy = ?, test_accuracy = ?, params = ?, flops = ?, seconds = ?,
             error = ?, finished_at = ? WHERE run_id = ? AND idx = ?`,
        )
        .run(trial.status, trial.reward, m?.valAccuracy ?? null, m?.testAccuracy ?? null, m?.params ?? null, m?.flops ?? null, m?.seconds ?? null, trial.error, now(), trial.runId, trial.index);
      if (m) {
        const insertEpoch = this.db.prepare(
          `INSERT INTO epochs (run_id, trial_idx, epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const e of m.curve) insertEpoch.run(trial.runId, trial.index, e.epoch, e.trainLoss, e.trainAccuracy, e.valLoss, e.valAccuracy, e.seconds);
      }
    })();
  }

  /**
   * Records what the strategy learned from a trial (its controller step, if any) together with the
   * checkpoint taken right after, in one transaction: a resumed run never sees one without the other.
   */
  recordTell(runId: number, controllerStep: ControllerStepRecord | undefined, checkpoint: Omit<Checkpoint, 'seq'>): void {
    this.db.transaction(() => {
      if (controllerStep) this.insertControllerStep(controllerStep);
      this.saveCheckpoint(runId, checkpoint);
    })();
  }

  private insertControllerStep(step: ControllerStepRecord): void {
    this.db
      .prepare(
        `INSERT INTO controller_steps (run_id, step, loss, mean_reward, baseline, entropy, advantage, probabilities_json, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(step.runId, step.step, step.loss, step.meanReward, step.baseline, step.entropy, step.advantage, JSON.stringify(step.probabilities), now());
  }

  private saveCheckpoint(runId: number, checkpoint: Omit<Checkpoint, 'seq'>): void {
    const row = this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM checkpoints WHERE run_id = ?').get(runId) as Row;
    const seq = (row.seq as number) + 1;
    this.db
      .prepare('INSERT INTO checkpoints (run_id, seq, told_through, state_json, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, seq, checkpoint.toldThrough, JSON.stringify(checkpoint.state), now());
    this.db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND seq <= ?').run(runId, seq - CHECKPOINTS_KEPT);
  }

  /** Saves a checkpoint outside a tell (one-shot searches checkpoint per epoch and when stopped). */
  checkpoint(runId: number, checkpoint: Omit<Checkpoint, 'seq'>): void {
    this.atomically(() => this.saveCheckpoint(runId, checkpoint));
  }

  latestCheckpoint(runId: number): Checkpoint | undefined {
    const row = this.db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(runId) as Row | undefined;
    if (!row) return undefined;
    return { seq: row.seq as number, toldThrough: row.told_through as number, state: JSON.parse(row.state_json as string) };
  }

  /** Trials left 'running' by a writer that died: they are marked interrupted, their indices never reused. */
  markRunningTrialsInterrupted(runId: number): number {
    return this.db
      .prepare(`UPDATE trials SET status = 'interrupted', error = 'the search stopped before this trial finished', finished_at = ? WHERE run_id = ? AND status = 'running'`)
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
    const rows = this.db.prepare(`SELECT * FROM trials WHERE run_id = ? ORDER BY ${orderBy} LIMIT ? OFFSET ?`).all(runId, limit, offset) as Row[];
    return rows.map(Store.trialFromRow);
  }

  countTrials(runId: number): number {
    return this.db.prepare('SELECT COUNT(*) FROM trials WHERE run_id = ?').pluck().get(runId) as number;
  }

  /** A run whose engine process died: it and its unfinished trials are marked interrupted, if still running. */
  markRunInterrupted(runId: number, reason: string): void {
    this.db.transaction(() => {
      this.markRunningTrialsInterrupted(runId);
      this.db
        .prepare(`UPDATE runs SET status = 'interrupted', error = ?, finished_at = ?, writer_pid = NULL WHERE id = ? AND status = 'running'`)
        .run(reason, now(), runId);
    })();
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
    return rows.map((row) => ({ runId: row.run_id as number, step: row.step as number, epoch: row.epoch as number, weights: JSON.parse(row.weights_json as string) }));
  }

  addRunNote(runId: number, level: RunNoteRecord['level'], message: string): RunNoteRecord {
    const row = this.db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM run_notes WHERE run_id = ?').get(runId) as Row;
    const note: RunNoteRecord = { runId, seq: row.seq as number, level, message, createdAt: now() };
    this.db.prepare('INSERT INTO run_notes (run_id, seq, level, message, created_at) VALUES (?, ?, ?, ?, ?)').run(runId, note.seq, level, message, note.createdAt);
    return note;
  }

  runNotes(runId: number): RunNoteRecord[] {
    const rows = this.db.prepare('SELECT * FROM run_notes WHERE run_id = ? ORDER BY seq').all(runId) as Row[];
    return rows.map((row) => ({ runId: row.run_id as number, seq: row.seq as number, level: row.level as RunNoteRecord['level'], message: row.message as string, createdAt: row.created_at as string }));
  }
}
