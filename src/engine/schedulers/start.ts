// The scheduler a search file asks for, new or as a stored run left it.

import type { EpochMetrics, TrialStatus } from '../../protocol/engine.ts';
import type { IntermediateValues } from '../../protocol/webview.ts';
import type { SearchConfig } from '../../space/config.ts';
import { schedulerKind } from '../../space/kinds/schedulers/registry.ts';
import type { Store } from '../store/store.ts';
import { isAskTell } from '../strategies/registry.ts';
import { Scheduler } from './scheduler.ts';

/** The search's scheduler; none for kind none and for evaluations without epochs. */
export async function startScheduler(config: SearchConfig): Promise<Scheduler | undefined> {
  const { scheduler, evaluation } = config;
  if (evaluation.kind === 'tabular') return undefined;
  const rule = await schedulerKind(scheduler).rule(scheduler, evaluation.epochs);
  return rule && new Scheduler(rule, evaluation.epochs);
}

/** The run's trials with their stored curves, read once. */
function storedTrials(store: Store, runId: number): { index: number; status: TrialStatus; curve: EpochMetrics[] }[] {
  const curves = store.runCurves(runId);
  // A retrained trial's curve is measured on the test examples, with another recipe: no scheduler decision reads it.
  return store
    .listTrials(runId)
    .filter((trial) => trial.retrainedFrom === null)
    .map(({ index, status }) => ({ index, status, curve: curves.get(index) ?? [] }));
}

/** The run's scheduler rebuilt from the curves and statuses of its finished trials. */
export async function restoredScheduler(config: SearchConfig, store: Store, runId: number): Promise<Scheduler | undefined> {
  const scheduler = await startScheduler(config);
  scheduler?.restore(storedTrials(store, runId));
  return scheduler;
}

/** The intermediate-values chart's data: every stored trial's validation curve, and the rungs as the scheduler stands. */
export async function intermediateValues(config: SearchConfig, store: Store, runId: number): Promise<IntermediateValues | undefined> {
  const { scheduler, evaluation } = config;
  if (evaluation.kind === 'tabular' || !isAskTell(config.strategy)) return undefined;
  const trials = storedTrials(store, runId);
  const restored = await startScheduler(config);
  restored?.restore(trials);
  const curves = trials.map(({ index, status, curve }) => {
    const values: (number | null)[] = [];
    for (const metrics of curve) values[metrics.epoch - 1] = metrics.valAccuracy;
    return { index, status, values: Array.from(values, (value) => value ?? null) };
  });
  return { scheduler: scheduler.kind, epochs: evaluation.epochs, curves, rungs: restored?.rungs() ?? [] };
}
