// Reads: runs, trials and what each records (epochs, controller steps, hidden states, alphas, notes), for the
// query commands and the analyses.

import type Database from 'better-sqlite3';
import type {
  AlphaSnapshotRecord,
  ControllerStepRecord,
  EpochMetrics,
  LanguageModelWeights,
  RunNoteRecord,
  RunRecord,
  TrialOrder,
  TrialRecord,
} from '../../protocol/engine.ts';
import type { SearchConfig } from '../../space/config.ts';
import { RUN_SELECT, TRIAL_SELECT, runFromRow, trialFromRow, type Row } from './rows.ts';

export function runConfig(
  db: Database.Database,
  path: string,
  runId: number,
): { config: SearchConfig; spaceFile: string; spaceText: string } {
  const row = db.prepare('SELECT config_json, space_file, space_text FROM runs WHERE id = ?').get(runId) as Row | undefined;
  if (!row) throw new Error(`no run ${runId} in ${path}`);
  const config = JSON.parse(row.config_json as string) as SearchConfig;
  // Runs stored before schedulers existed trained every trial in full.
  config.scheduler ??= { kind: 'none' };
  return { config, spaceFile: row.space_file as string, spaceText: row.space_text as string };
}

export function listRuns(db: Database.Database): RunRecord[] {
  return (db.prepare(`${RUN_SELECT} ORDER BY id`).all() as Row[]).map(runFromRow);
}

export function getRun(db: Database.Database, runId: number): RunRecord | undefined {
  const row = db.prepare(`${RUN_SELECT} WHERE id = ?`).get(runId) as Row | undefined;
  return row && runFromRow(row);
}

export function latestRunId(db: Database.Database): number | undefined {
  const row = db.prepare('SELECT MAX(id) AS id FROM runs').get() as Row;
  return (row.id as number | null) ?? undefined;
}

export function nextTrialIndex(db: Database.Database, runId: number): number {
  const row = db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS next FROM trials WHERE run_id = ?').get(runId) as Row;
  return row.next as number;
}

export function listTrials(db: Database.Database, runId: number, order: TrialOrder, offset: number, limit: number): TrialRecord[] {
  const orderBy = order === 'reward' ? 'reward IS NULL, reward DESC, idx' : 'idx';
  const rows = db.prepare(`${TRIAL_SELECT} WHERE run_id = ? ORDER BY ${orderBy} LIMIT ? OFFSET ?`).all(runId, limit, offset) as Row[];
  return rows.map(trialFromRow);
}

/** The search trials (not retrainings) that kept their weights, best reward first. */
export function searchTrialsWithWeights(db: Database.Database, runId: number): TrialRecord[] {
  const rows = db
    .prepare(
      `${TRIAL_SELECT} WHERE run_id = ? AND weights_path IS NOT NULL AND retrained_from IS NULL ORDER BY reward IS NULL, reward DESC, idx`,
    )
    .all(runId) as Row[];
  return rows.map(trialFromRow);
}

export function countTrials(db: Database.Database, runId: number): number {
  return db.prepare('SELECT COUNT(*) FROM trials WHERE run_id = ?').pluck().get(runId) as number;
}

export function getTrial(db: Database.Database, runId: number, index: number): TrialRecord | undefined {
  const row = db.prepare(`${TRIAL_SELECT} WHERE run_id = ? AND idx = ?`).get(runId, index) as Row | undefined;
  return row && trialFromRow(row);
}

function epochFromRow(row: Row): EpochMetrics {
  return {
    epoch: row.epoch as number,
    trainLoss: row.train_loss as number | null,
    trainAccuracy: row.train_accuracy as number | null,
    valLoss: row.val_loss as number | null,
    valAccuracy: row.val_accuracy as number,
    seconds: row.seconds as number,
    ...(row.extra_json === null ? {} : { extra: JSON.parse(row.extra_json as string) }),
  };
}

export function trialEpochs(db: Database.Database, runId: number, index: number): EpochMetrics[] {
  const rows = db.prepare('SELECT * FROM epochs WHERE run_id = ? AND trial_idx = ? ORDER BY epoch').all(runId, index) as Row[];
  return rows.map(epochFromRow);
}

/** Every trial's learning curve, by trial index (trials with none are left out). */
export function runCurves(db: Database.Database, runId: number): Map<number, EpochMetrics[]> {
  const curves = new Map<number, EpochMetrics[]>();
  for (const row of db.prepare('SELECT * FROM epochs WHERE run_id = ? ORDER BY trial_idx, epoch').iterate(runId) as Iterable<Row>) {
    const index = row.trial_idx as number;
    if (!curves.has(index)) curves.set(index, []);
    curves.get(index)!.push(epochFromRow(row));
  }
  return curves;
}

/** A trial's own output, as its evaluator kept it; null when it kept none (or there is no such trial). */
export function trialLog(db: Database.Database, runId: number, index: number): string | null {
  return (db.prepare('SELECT log FROM trials WHERE run_id = ? AND idx = ?').pluck().get(runId, index) as string | null | undefined) ?? null;
}

/** The recorded hidden states of a run's trials, by trial index. */
export function hiddenStates(db: Database.Database, runId: number): { index: number; hidden: number[] }[] {
  const rows = db.prepare('SELECT trial_idx, hidden FROM controller_hidden_states WHERE run_id = ? ORDER BY trial_idx').all(runId) as Row[];
  return rows.map((row) => {
    const bytes = row.hidden as Buffer;
    const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return { index: row.trial_idx as number, hidden: Array.from(values) };
  });
}

export function controllerSteps(db: Database.Database, runId: number): ControllerStepRecord[] {
  const rows = db.prepare('SELECT * FROM controller_steps WHERE run_id = ? ORDER BY step').all(runId) as Row[];
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

export function alphaSnapshots(db: Database.Database, runId: number): AlphaSnapshotRecord[] {
  const rows = db.prepare('SELECT * FROM alpha_snapshots WHERE run_id = ? ORDER BY step').all(runId) as Row[];
  return rows.map((row) => ({
    runId: row.run_id as number,
    step: row.step as number,
    epoch: row.epoch as number,
    weights: JSON.parse(row.weights_json as string),
  }));
}

export function runNotes(db: Database.Database, runId: number): RunNoteRecord[] {
  const rows = db.prepare('SELECT * FROM run_notes WHERE run_id = ? ORDER BY seq').all(runId) as Row[];
  return rows.map((row) => ({
    runId: row.run_id as number,
    seq: row.seq as number,
    level: row.level as RunNoteRecord['level'],
    message: row.message as string,
    createdAt: row.created_at as string,
  }));
}

/** A trial's kept weights (a language model trained in full); undefined when it kept none. */
export function trialWeights(db: Database.Database, runId: number, index: number): LanguageModelWeights | undefined {
  const row = db.prepare('SELECT * FROM trial_weights WHERE run_id = ? AND trial_idx = ?').get(runId, index) as Row | undefined;
  if (!row) return undefined;
  const { tokens, vocabulary, unknownId } = JSON.parse(row.vocabulary_json as string) as Pick<
    LanguageModelWeights,
    'tokens' | 'vocabulary' | 'unknownId'
  >;
  return {
    format: row.format as LanguageModelWeights['format'],
    shapes: JSON.parse(row.shapes_json as string),
    data: (row.data as Buffer).toString('base64'),
    tokens,
    vocabulary,
    ...(unknownId === undefined ? {} : { unknownId }),
  };
}

export function hasTrialWeights(db: Database.Database, runId: number, index: number): boolean {
  return db.prepare('SELECT 1 FROM trial_weights WHERE run_id = ? AND trial_idx = ?').get(runId, index) !== undefined;
}
