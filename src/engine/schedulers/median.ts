// The median stopping rule (Golovin et al. 2017, Google Vizier): after the grace epochs, a trial stops
// when its best value so far is below the median of the other trials' best values by the same epoch.

import type { MedianSchedulerConfig } from '../../space/config.ts';
import { bestThrough, type StoppingRule } from './scheduler.ts';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function medianRule({ grace_epochs: grace, min_trials: minTrials }: MedianSchedulerConfig): StoppingRule {
  return {
    decide(curves, index, epoch) {
      if (epoch <= grace) return 'continue';
      const own = bestThrough(curves.trials.get(index)!.values, epoch);
      // A trial with nothing but NaN so far has diverged.
      if (Number.isNaN(own)) return 'stop';
      const others: number[] = [];
      for (const [other, trial] of curves.trials) {
        if (other === index || trial.values.length < epoch) continue;
        const best = bestThrough(trial.values, epoch);
        if (Number.isFinite(best)) others.push(best);
      }
      if (others.length < minTrials) return 'continue';
      // A tie with the median goes on.
      return own < median(others) ? 'stop' : 'continue';
    },
  };
}
