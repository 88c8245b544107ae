// What the store's modules share: the row type, timestamps, and how run and trial rows become records.

import type { RunRecord, RunStatus, TrialEvaluator, TrialRecord, TrialStatus } from '../../protocol/engine.ts';
import { STRATEGY_KINDS } from '../../space/kinds/strategies/registry.ts';

export type Row = Record<string, unknown>;

export const now = () => new Date().toISOString();

/** The strategy kinds whose trials follow from their settings (one-shot kinds): their own retraining is part of their budget. */
const ONE_SHOT_KINDS: readonly string[] = Object.values(STRATEGY_KINDS)
  .filter((kind) => 'derivedTrials' in kind)
  .map((kind) => kind.kind);

/**
 * A run with its progress, counted from its trials as countsInProgress (src/protocol/engine.ts) counts them: a
 * one-shot search's own retraining (within its budget) is part of it; a retraining asked for by the user is not.
 */
export const RUN_SELECT = `SELECT runs.*,
      (SELECT COUNT(*) FROM trials t WHERE t.run_id = runs.id AND t.status IN ('done', 'pruned', 'failed')
         AND (t.retrained_from IS NULL OR (t.idx < runs.budget_trials
           AND runs.strategy IN (${ONE_SHOT_KINDS.map((kind) => `'${kind}'`).join(', ')})))) AS trials_done,
      (SELECT MAX(reward) FROM trials t WHERE t.run_id = runs.id AND t.status = 'done') AS best_reward
    FROM runs`;

export function runFromRow(row: Row): RunRecord {
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
    oneShot: ONE_SHOT_KINDS.includes(row.strategy as string),
    trialsDone: row.trials_done as number,
    bestReward: row.best_reward as number | null,
    createdAt: row.created_at as string,
    finishedAt: row.finished_at as string | null,
    error: row.error as string | null,
  };
}

/** A trial's columns but its log: listings would otherwise read every trial's output (see `trialLog`). */
export const TRIAL_SELECT = `SELECT run_id, idx, status, architecture_json, arch_key, graph_json, reward, val_accuracy, test_accuracy,
      val_perplexity, test_perplexity, params, flops, latency_ms, seconds, error, evaluator, worker, attempts, retrained_from, weights_path,
      started_at, finished_at,
      (SELECT COALESCE(MAX(epoch), 0) FROM epochs e WHERE e.run_id = trials.run_id AND e.trial_idx = trials.idx) AS epochs_trained
    FROM trials`;

export function trialFromRow(row: Row): TrialRecord {
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
          testAccuracy: row.test_accuracy as number | null,
          ...(row.val_perplexity === null
            ? {}
            : { valPerplexity: row.val_perplexity as number, testPerplexity: row.test_perplexity as number | null }),
          params: row.params as number | null,
          flops: row.flops as number | null,
          ...(row.latency_ms === null ? {} : { latencyMs: row.latency_ms as number }),
          seconds: row.seconds as number,
        }
      : null,
    error: row.error as string | null,
    evaluator: row.evaluator as TrialEvaluator,
    epochsTrained: row.epochs_trained as number,
    worker: row.worker as string | null,
    attempts: row.attempts as number | null,
    retrainedFrom: row.retrained_from as number | null,
    weightsPath: row.weights_path as string | null,
    startedAt: row.started_at as string,
    finishedAt: row.finished_at as string | null,
  };
}
