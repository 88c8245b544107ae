// Early stopping and multi-fidelity scheduling: after each epoch of a trial, the run's scheduler
// decides whether it goes on. Its state is every trial's validation curve and status, nothing else:
// each rule decides from those alone, so a resumed run rebuilds the scheduler from the curves its
// store holds and prunes as the uninterrupted run would have.

import type { EpochMetrics, TrialStatus } from '../../protocol/engine.ts';
import type { RungThreshold } from '../../protocol/webview.ts';
import type { EpochVerdict } from '../evaluators/evaluator.ts';

/** A trial as the scheduler knows it: its validation accuracy by epoch (values[e - 1]; NaN where it reported none) and its status. */
export interface ScheduledTrial {
  values: number[];
  status: Exclude<TrialStatus, 'interrupted'>;
}

/** What a stopping rule decides from. */
export interface TrialCurves {
  /** The epochs a trial trains in full. */
  readonly epochs: number;
  /** Every trial reported so far but those interrupted, by index. */
  readonly trials: ReadonlyMap<number, ScheduledTrial>;
}

export interface StoppingRule {
  /** Whether trial `index`, which has just reported `epoch` (before its last), goes on. */
  decide(curves: TrialCurves, index: number, epoch: number): EpochVerdict;
  /** Its decision points and where they stand, for the intermediate-values chart (ASHA, Hyperband). */
  rungs?(curves: TrialCurves): RungThreshold[];
}

/** The best finite value of `values` through `epoch`; NaN when there is none. */
export function bestThrough(values: readonly number[], epoch: number): number {
  let best = Number.NaN;
  for (let i = 0; i < Math.min(epoch, values.length); i++) if (Number.isFinite(values[i]) && !(values[i] <= best)) best = values[i];
  return best;
}

export class Scheduler implements TrialCurves {
  readonly trials = new Map<number, ScheduledTrial>();

  constructor(
    private readonly rule: StoppingRule,
    readonly epochs: number,
  ) {}

  /**
   * Trial `index` finished `epoch` with validation accuracy `value` (NaN: not a number). An epoch at or
   * below one it reported already starts its curve over from there (a trainer died and it trains again).
   */
  report(index: number, epoch: number, value: number): EpochVerdict {
    const trial = this.trials.get(index) ?? { values: [], status: 'running' };
    this.trials.set(index, trial);
    trial.values.length = Math.min(trial.values.length, epoch - 1);
    while (trial.values.length < epoch - 1) trial.values.push(Number.NaN);
    trial.values.push(Number.isFinite(value) ? value : Number.NaN);
    // At its last epoch a trial is done: stopping it would save nothing.
    if (epoch >= this.epochs) return 'continue';
    return this.rule.decide(this, index, epoch);
  }

  /** An interrupted trial was never measured: it is forgotten, and its architecture trains again under a new index. */
  finish(index: number, status: Exclude<TrialStatus, 'running'>): void {
    if (status === 'interrupted') {
      this.trials.delete(index);
      return;
    }
    const trial = this.trials.get(index);
    if (trial) trial.status = status;
    else this.trials.set(index, { values: [], status });
  }

  /** The state a stored run left: each finished trial's curve, in index order. */
  restore(finished: readonly { index: number; status: TrialStatus; curve: readonly EpochMetrics[] }[]): void {
    for (const { index, status, curve } of finished) {
      if (status === 'running' || status === 'interrupted') continue;
      for (const metrics of curve) this.report(index, metrics.epoch, metrics.valAccuracy);
      this.finish(index, status);
    }
  }

  rungs(): RungThreshold[] {
    return this.rule.rungs?.(this) ?? [];
  }
}
