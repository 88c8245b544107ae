// What a tell leaves behind: the controller step the strategy learned, and the checkpoint resume starts from.

import type Database from 'better-sqlite3';
import type { ControllerStepRecord } from '../../protocol/engine.ts';
import { now, type Row } from './rows.ts';

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
  /** An asynchronous search's trials told out of order, past `toldThrough`: resume does not tell them again. */
  toldBeyond?: number[];
  /** The strategy's own state (plain JSON). */
  state: unknown;
}

export function insertControllerStep(db: Database.Database, step: ControllerStepRecord): void {
  db.prepare(
    `INSERT INTO controller_steps (run_id, step, loss, mean_reward, baseline, entropy, advantage, probabilities_json, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
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

/** Reads the last sequence number, then writes the next: inside a write transaction. */
export function saveCheckpoint(db: Database.Database, runId: number, checkpoint: Omit<Checkpoint, 'seq'>): void {
  const row = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM checkpoints WHERE run_id = ?').get(runId) as Row;
  const seq = (row.seq as number) + 1;
  db.prepare(
    `INSERT INTO checkpoints (run_id, seq, told_through, asked_through, told_beyond_json, state_json, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    runId,
    seq,
    checkpoint.toldThrough,
    checkpoint.askedThrough ?? null,
    checkpoint.toldBeyond?.length ? JSON.stringify(checkpoint.toldBeyond) : null,
    JSON.stringify(checkpoint.state),
    now(),
  );
  db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND seq <= ?').run(runId, seq - CHECKPOINTS_KEPT);
}

export function latestCheckpoint(db: Database.Database, runId: number): Checkpoint | undefined {
  const row = db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY seq DESC LIMIT 1').get(runId) as Row | undefined;
  if (!row) return undefined;
  const askedThrough = row.asked_through === null ? undefined : (row.asked_through as number);
  const toldBeyond = row.told_beyond_json === null ? undefined : (JSON.parse(row.told_beyond_json as string) as number[]);
  return {
    seq: row.seq as number,
    toldThrough: row.told_through as number,
    askedThrough,
    ...(toldBeyond ? { toldBeyond } : {}),
    state: JSON.parse(row.state_json as string),
  };
}
