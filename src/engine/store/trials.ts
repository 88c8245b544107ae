// Trial writes: a trial started, finished (with its learning curve), or left unfinished by a writer that stopped.

import type Database from 'better-sqlite3';
import type { EpochMetrics, LanguageModelWeights, TrialEvaluator, TrialMeasurements, TrialStatus } from '../../protocol/engine.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import { now } from './rows.ts';

export interface FinishedTrial {
  runId: number;
  /** Where its saved weights are, relative to the database's folder (the store works it out from the measurements' absolute folder). */
  weightsPath?: string;
  index: number;
  status: Exclude<TrialStatus, 'running'>;
  reward: number | null;
  measurements: TrialMeasurements | null;
  error: string | null;
  /** What a failed trial's program printed (a finished trial's output is in its measurements). */
  failureLog?: string;
  /** The epochs a failed trial reported before it failed (a finished trial's are in its measurements). */
  failureCurve?: readonly EpochMetrics[];
  /** The latency of a child measured, then rejected before training (over max_latency_ms). */
  failureLatencyMs?: number;
}

export function startTrial(
  db: Database.Database,
  runId: number,
  index: number,
  architecture: Architecture,
  key: string,
  graph: ArchitectureGraph,
  evaluator: TrialEvaluator,
  retrainedFrom: number | null,
): void {
  db.prepare(
    `INSERT INTO trials (run_id, idx, status, architecture_json, arch_key, graph_json, evaluator, retrained_from, started_at)
     VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)`,
  ).run(runId, index, JSON.stringify(architecture), key, JSON.stringify(graph), evaluator, retrainedFrom, now());
}

export function setTrialWorker(db: Database.Database, runId: number, index: number, worker: string, attempts: number): void {
  db.prepare(`UPDATE trials SET worker = ?, attempts = ? WHERE run_id = ? AND idx = ?`).run(worker, attempts, runId, index);
}

/** Updates the trial and inserts its epochs and kept weights: inside a write transaction, so none is seen without the others. */
export function finishTrial(db: Database.Database, trial: FinishedTrial): void {
  const m = trial.measurements;
  db.prepare(
    `UPDATE trials SET status = ?, reward = ?, val_accuracy = ?, test_accuracy = ?, val_perplexity = ?, test_perplexity = ?,
       params = ?, flops = ?, latency_ms = ?, seconds = ?,
       log = ?, error = ?, weights_path = ?, finished_at = ? WHERE run_id = ? AND idx = ?`,
  ).run(
    trial.status,
    trial.reward,
    m?.valAccuracy ?? null,
    m?.testAccuracy ?? null,
    m?.valPerplexity ?? null,
    m?.testPerplexity ?? null,
    m?.params ?? null,
    m?.flops ?? null,
    m?.latencyMs ?? trial.failureLatencyMs ?? null,
    m?.seconds ?? null,
    m?.log ?? trial.failureLog ?? null,
    trial.error,
    trial.weightsPath ?? null,
    now(),
    trial.runId,
    trial.index,
  );
  const curve = m?.curve ?? trial.failureCurve ?? [];
  const insertEpoch = db.prepare(
    `INSERT INTO epochs (run_id, trial_idx, epoch, train_loss, train_accuracy, val_loss, val_accuracy, seconds, extra_json)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const e of curve) {
    const values = [e.trainLoss, e.trainAccuracy, e.valLoss, e.valAccuracy, e.seconds];
    const extras = Object.entries(e.extra ?? {});
    // SQLite stores NaN as NULL and JSON writes it as null: a diverged value would read back as one not
    // reported, or be refused by a NOT NULL column with a message naming no trial.
    if (![...values.filter((value) => value !== null), ...extras.map(([, value]) => value)].every(Number.isFinite))
      throw new Error(
        `trial ${trial.index} of run ${trial.runId}: epoch ${e.epoch} has a metric that is not a finite number ` +
          `(${[...values.map(String), ...extras.map(([name, value]) => `${name} ${value}`)].join(', ')})`,
      );
    insertEpoch.run(trial.runId, trial.index, e.epoch, ...values, e.extra ? JSON.stringify(e.extra) : null);
  }
  if (m?.weights) insertWeights(db, trial.runId, trial.index, m.weights);
}

function insertWeights(db: Database.Database, runId: number, index: number, weights: LanguageModelWeights): void {
  const { format, shapes, data, tokens, vocabulary, unknownId } = weights;
  db.prepare('INSERT INTO trial_weights (run_id, trial_idx, format, vocabulary_json, shapes_json, data) VALUES (?, ?, ?, ?, ?, ?)').run(
    runId,
    index,
    format,
    JSON.stringify({ tokens, vocabulary, unknownId }),
    JSON.stringify(shapes),
    Buffer.from(data, 'base64'),
  );
}

/** Keeps the controller's hidden state for a started trial: its values as float32. */
export function recordHiddenState(db: Database.Database, runId: number, index: number, hidden: readonly number[]): void {
  const values = Float32Array.from(hidden);
  db.prepare('INSERT OR REPLACE INTO controller_hidden_states (run_id, trial_idx, hidden) VALUES (?, ?, ?)').run(
    runId,
    index,
    Buffer.from(values.buffer, values.byteOffset, values.byteLength),
  );
}

/** Trials left 'running' by a writer that died: they are marked interrupted, their indices never reused. */
export function markRunningTrialsInterrupted(db: Database.Database, runId: number): number {
  return db
    .prepare(
      `UPDATE trials SET status = 'interrupted', error = 'the search stopped before this trial finished', ` +
        `finished_at = ? WHERE run_id = ? AND status = 'running'`,
    )
    .run(now(), runId).changes;
}
