// Successive halving in its asynchronous stopping form (ASHA, Li et al. 2020; as Optuna's and Ray
// Tune's schedulers): rungs at min_epochs × η^k epochs; a trial that reaches a rung goes on only while
// its value there is in the top 1/η of the values the trials that reached the rung have had (itself
// included; while fewer than η have, the best one goes on). It decides at once, never waiting for a
// rung to fill. Hyperband (Li et al. 2017) runs several such ladders, brackets, each starting higher;
// trials are dealt to them in the proportions Hyperband gives its brackets.

import type { AshaSchedulerConfig, HyperbandSchedulerConfig } from '../../space/config.ts';
import type { RungThreshold } from '../../protocol/webview.ts';
import type { StoppingRule, TrialCurves } from './scheduler.ts';

/** The rung epochs from `first` on, each η times the last, below the full `epochs`. */
export function rungEpochs(first: number, eta: number, epochs: number): number[] {
  const rungs: number[] = [];
  for (let epoch = first; epoch < epochs; epoch *= eta) rungs.push(epoch);
  return rungs;
}

/** The value a trial must reach at a rung to go on, given the values there so far (its own included); NaN when none is finite. */
export function promotionThreshold(values: readonly number[], eta: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => b - a);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(1, Math.floor(sorted.length / eta)) - 1];
}

/** Successive halving over the ladders `brackets`; `bracketOf` says whose ladder a trial climbs. */
function halvingRule(brackets: readonly number[][], eta: number, bracketOf: (index: number) => number): StoppingRule {
  const valuesAt = (curves: TrialCurves, bracket: number, epoch: number) => {
    const values: number[] = [];
    for (const [index, trial] of curves.trials)
      if (trial.values.length >= epoch && bracketOf(index) === bracket && Number.isFinite(trial.values[epoch - 1]))
        values.push(trial.values[epoch - 1]);
    return values;
  };
  return {
    decide(curves, index, epoch) {
      const bracket = bracketOf(index);
      if (!brackets[bracket].includes(epoch)) return 'continue';
      const own = curves.trials.get(index)!.values[epoch - 1];
      if (!Number.isFinite(own)) return 'stop';
      return own >= promotionThreshold(valuesAt(curves, bracket, epoch), eta) ? 'continue' : 'stop';
    },
    rungs(curves) {
      return brackets.flatMap((rungs, bracket) =>
        rungs.map((epoch) => {
          const values = valuesAt(curves, bracket, epoch);
          const threshold = promotionThreshold(values, eta);
          return { epoch, bracket, threshold: Number.isNaN(threshold) ? null : threshold, reached: values.length } satisfies RungThreshold;
        }),
      );
    },
  };
}

export function ashaRule({ min_epochs: minEpochs, reduction_factor: eta }: AshaSchedulerConfig, epochs: number): StoppingRule {
  return halvingRule([rungEpochs(minEpochs, eta, epochs)], eta, () => 0);
}

/**
 * Hyperband's brackets over the ladder from `min_epochs`: bracket b skips the ladder's first b rungs, so
 * bracket 0 is the most aggressive and the last trains every trial in full. Bracket b gets
 * ⌈(s_max + 1) / (s + 1) · η^s⌉ of every round of trials, s = s_max − b its halvings, as Hyperband starts
 * that many configurations in it; trials are dealt in a weighted round robin by index, so any prefix of
 * a search is spread over the brackets as a whole one is.
 */
export function hyperbandBrackets(minEpochs: number, eta: number, epochs: number): { rungs: number[][]; shares: number[] } {
  const ladder = rungEpochs(minEpochs, eta, epochs);
  const sMax = ladder.length;
  const rungs = Array.from({ length: sMax + 1 }, (_, b) => ladder.slice(b));
  const shares = rungs.map((_, b) => Math.ceil(((sMax + 1) / (sMax - b + 1)) * eta ** (sMax - b)));
  return { rungs, shares };
}

export function hyperbandRule({ min_epochs: minEpochs, reduction_factor: eta }: HyperbandSchedulerConfig, epochs: number): StoppingRule {
  const { rungs, shares } = hyperbandBrackets(minEpochs, eta, epochs);
  const dealt: number[] = [];
  const counts = shares.map(() => 0);
  const bracketOf = (index: number) => {
    // Each next trial goes to the bracket furthest behind its share (the first such on a tie).
    while (dealt.length <= index) {
      let pick = 0;
      for (let b = 1; b < shares.length; b++) if ((counts[b] + 1) / shares[b] < (counts[pick] + 1) / shares[pick]) pick = b;
      counts[pick] += 1;
      dealt.push(pick);
    }
    return dealt[index];
  };
  return halvingRule(rungs, eta, bracketOf);
}
