// Learning-curve extrapolation, after Domhan et al. (2015) with one parametric family instead of their
// MCMC ensemble of eleven: y(t) = c − a·t^(−α), fitted by least squares in (c, a) for each α on a grid,
// the best fit kept. The prediction at the last epoch is normal with the fit's residual variance (at
// least a floor, the noise of measuring accuracy on a validation set) and the variance of its estimate;
// the trial stops when it ends below the best trial trained in full with probability ≥ confidence.
// Failure cases: a curve that rises late (cosine or step learning-rate schedules, warm-up) is
// underestimated, and good trials may be stopped; with 3 or 4 points the fit is loose, and only the
// residual floor keeps it from being overconfident.

import type { CurveSchedulerConfig } from '../../space/config.ts';
import type { StoppingRule, TrialCurves } from './scheduler.ts';

const EXPONENTS = Array.from({ length: 30 }, (_, i) => 0.1 * (i + 1));
/** The least residual spread assumed: accuracies on a validation set of a few hundred examples vary by about this much. */
const NOISE_FLOOR = 0.01;

export interface CurveForecast {
  mean: number;
  sd: number;
}

/** The forecast at epoch `at` of the curve through `points` ([epoch, value], at least 3). */
export function forecast(points: readonly [number, number][], at: number): CurveForecast {
  const n = points.length;
  let best: { sse: number; c: number; a: number; x0: number; xMean: number; sxx: number } | undefined;
  for (const alpha of EXPONENTS) {
    const xs = points.map(([t]) => t ** -alpha);
    const xMean = xs.reduce((s, x) => s + x, 0) / n;
    const yMean = points.reduce((s, [, y]) => s + y, 0) / n;
    let sxx = 0;
    let sxy = 0;
    xs.forEach((x, i) => {
      sxx += (x - xMean) ** 2;
      sxy += (x - xMean) * (points[i][1] - yMean);
    });
    if (sxx === 0) continue;
    const slope = sxy / sxx;
    const c = yMean - slope * xMean;
    const sse = xs.reduce((s, x, i) => s + (points[i][1] - (c + slope * x)) ** 2, 0);
    if (!best || sse < best.sse) best = { sse, c, a: -slope, x0: at ** -alpha, xMean, sxx };
  }
  if (!best) return { mean: points[n - 1][1], sd: Number.POSITIVE_INFINITY };
  const variance = Math.max(best.sse / Math.max(1, n - 2), NOISE_FLOOR ** 2);
  const mean = best.c - best.a * best.x0;
  const sd = Math.sqrt(variance * (1 + 1 / n + (best.x0 - best.xMean) ** 2 / best.sxx));
  return { mean, sd };
}

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The best last-epoch value of the trials trained in full; NaN when none is. */
function bestFinal(curves: TrialCurves): number {
  let best = Number.NaN;
  for (const trial of curves.trials.values()) {
    const last = trial.values[curves.epochs - 1];
    if (trial.status === 'done' && Number.isFinite(last) && !(last <= best)) best = last;
  }
  return best;
}

export function curveRule({ grace_epochs: grace, confidence }: CurveSchedulerConfig): StoppingRule {
  return {
    decide(curves, index, epoch) {
      if (epoch <= grace) return 'continue';
      const values = curves.trials.get(index)!.values;
      if (!Number.isFinite(values[epoch - 1])) return 'stop';
      const target = bestFinal(curves);
      if (Number.isNaN(target)) return 'continue';
      const points = values.flatMap((value, i): [number, number][] => (Number.isFinite(value) ? [[i + 1, value]] : []));
      if (points.length < 3) return 'continue';
      const { mean, sd } = forecast(points, curves.epochs);
      return normalCdf((target - mean) / sd) >= confidence ? 'stop' : 'continue';
    },
  };
}
