// Pure data functions behind every chart and the trial table of the panels. No DOM here: the unit
// tests run them under Node (test/unit/webview-transforms.test.ts).
import { countsInBudget, rewardCountsForBest, type EpochMetrics, type TrialStatus } from '../src/protocol/engine.ts';
import { PARETO_COST_FIELDS } from '../src/shared/pareto-cost.ts';
import {
  entropy,
  type EpochPoint,
  type IntermediateValues,
  type ParetoObjective,
  type RungThreshold,
  type StepPoint,
  type TrialPoint,
} from '../src/protocol/webview.ts';

/** One implementation for host and webview: the host computes each step's per-decision values with it. */
export { entropy };

/** A chart point (chart.js with `parsing: false` takes these as they are). */
export interface XY {
  x: number;
  y: number;
}

/** The running maximum of the reward in trial index order; trials without a reward, and pruned ones, are skipped. */
export function bestSoFar(points: readonly TrialPoint[]): XY[] {
  const sorted = points.filter(rewardCountsForBest).sort((a, b) => a.index - b.index);
  return runningMax(sorted.map((p) => ({ x: p.index, y: p.reward as number })));
}

/** The running maximum of the reward against the time each trial finished (x = finishedMs). */
export function bestSoFarOverTime(points: readonly TrialPoint[]): XY[] {
  const sorted = points
    .filter((p) => rewardCountsForBest(p) && p.finishedMs !== null)
    .sort((a, b) => (a.finishedMs as number) - (b.finishedMs as number) || a.index - b.index);
  return runningMax(sorted.map((p) => ({ x: p.finishedMs as number, y: p.reward as number })));
}

function runningMax(series: XY[], start = -Infinity): XY[] {
  let best = start;
  return series.map(({ x, y }) => {
    if (y > best) best = y;
    return { x, y: best };
  });
}

/** Continues a best-so-far series with new points already in x order (live runs append). */
export function extendBestSoFar(series: readonly XY[], more: readonly XY[]): XY[] {
  const last = series.length > 0 ? series[series.length - 1].y : -Infinity;
  return runningMax([...more], last);
}

export interface ParetoPoint {
  index: number;
  valAccuracy: number;
  /** Its cost on the chart's axis: parameters, FLOPs or latency in milliseconds. */
  cost: number;
}

/** A trial's cost as the Pareto chart's axis measures it; null where it was not measured. */
function paretoCost(point: TrialPoint, objective: ParetoObjective): number | null {
  return point[PARETO_COST_FIELDS[objective]] ?? null;
}

/**
 * The Pareto chart's trials: the search's trials with a validation accuracy and a cost (a retrained trial's
 * accuracy is a test accuracy, another measure, so it is left out).
 */
export function paretoCandidates(points: readonly TrialPoint[], objective: ParetoObjective): ParetoPoint[] {
  const candidates: ParetoPoint[] = [];
  for (const p of points) {
    const cost = paretoCost(p, objective);
    if (p.retrainedFrom !== undefined || p.valAccuracy === null || cost === null) continue;
    if (!Number.isFinite(p.valAccuracy) || !Number.isFinite(cost)) continue;
    candidates.push({ index: p.index, valAccuracy: p.valAccuracy, cost });
  }
  return candidates;
}

/**
 * The non-dominated trials when validation accuracy is maximised and the cost (`objective`: parameters by
 * default) minimised, sorted by cost (then by index). A trial is dominated when another is at least as good on
 * both and strictly better on one; so exact duplicates (same cost, same accuracy) all stay on the front.
 */
export function paretoFront(points: readonly TrialPoint[], objective: ParetoObjective = 'params'): ParetoPoint[] {
  return frontOf(paretoCandidates(points, objective));
}

/** The non-dominated ones of `candidates` (paretoCandidates'), as paretoFront says. */
export function frontOf(candidates: readonly ParetoPoint[]): ParetoPoint[] {
  const sorted = [...candidates].sort((a, b) => a.cost - b.cost || b.valAccuracy - a.valAccuracy || a.index - b.index);
  const front: ParetoPoint[] = [];
  let bestAccuracy = -Infinity;
  for (const c of sorted) {
    const last = front[front.length - 1];
    if (c.valAccuracy > bestAccuracy) {
      front.push(c);
      bestAccuracy = c.valAccuracy;
    } else if (last && c.valAccuracy === last.valAccuracy && c.cost === last.cost) {
      front.push(c); // an exact duplicate of a front point: neither dominates the other
    }
  }
  return front;
}

function decisionCount(steps: readonly StepPoint[]): number {
  let count = 0;
  for (const s of steps) if (s.argmax.length > count) count = s.argmax.length;
  return count;
}

/** Per decision, per step (x = step), one of the step's per-decision values; missing ones are skipped. */
function perDecision(steps: readonly StepPoint[], decisions: number, values: (step: StepPoint) => readonly (number | null)[]): XY[][] {
  const series: XY[][] = Array.from({ length: decisions }, () => []);
  for (const step of steps) {
    const row = values(step);
    for (let d = 0; d < decisions; d++) {
      const y = row[d];
      if (y === null || y === undefined) continue;
      series[d].push({ x: step.step, y });
    }
  }
  return series;
}

/** Per decision, per controller step (x = step), the largest probability of its vector. */
export function argmaxSeries(steps: readonly StepPoint[], decisions = decisionCount(steps)): XY[][] {
  return perDecision(steps, decisions, (s) => s.argmax);
}

/** The controller's total entropy (summed over decisions, as the engine records it) per step. */
export function entropySeries(steps: readonly StepPoint[]): XY[] {
  return steps.map((s) => ({ x: s.step, y: s.entropy }));
}

/** Per decision, per step (x = step), the entropy of that decision's probability vector. */
export function perDecisionEntropy(steps: readonly StepPoint[], decisions = decisionCount(steps)): XY[][] {
  return perDecision(steps, decisions, (s) => s.decisionEntropy);
}

/**
 * How many trials the controller is told between two steps (its batch size M), estimated from the
 * data: trials that ended (done, pruned or failed) over the number of steps, rounded, at least 1.
 */
export function trialsPerStep(points: readonly TrialPoint[], steps: readonly StepPoint[]): number {
  if (steps.length === 0) return 1;
  const lastStep = steps.reduce((max, s) => Math.max(max, s.step), 0);
  const ended = points.filter((p) => countsInBudget(p.status)).length;
  return Math.max(1, Math.round(ended / Math.max(1, lastStep)));
}

/**
 * The controller's EMA baseline on the trial axis of the reward chart. Step k (counted from 1) is
 * taken once k * M trials have been told, so it is drawn at trial index k * M - 1 (the last trial of
 * its batch).
 */
export function emaBaselineSeries(steps: readonly StepPoint[], trialsPerStepM: number): XY[] {
  const m = Math.max(1, trialsPerStepM);
  return steps.map((s) => ({ x: s.step * m - 1, y: s.baseline })).sort((a, b) => a.x - b.x);
}

export type TrialSortKey = 'reward' | 'params' | 'time' | 'index';

export interface TrialFilter {
  /** A status, or 'all'. */
  status: TrialPoint['status'] | 'all';
  sortBy: TrialSortKey;
  descending: boolean;
}

function sortValue(p: TrialPoint, key: TrialSortKey): number | null {
  switch (key) {
    case 'reward':
      return p.reward;
    case 'params':
      return p.params;
    case 'time':
      return p.seconds;
    case 'index':
      return p.index;
  }
}

/**
 * The trials of the table: filtered by status, sorted by reward, params, time (training seconds) or
 * index. Trials without the value sort last in both directions; ties keep index order.
 */
export function filterAndSortTrials(points: readonly TrialPoint[], filter: TrialFilter): TrialPoint[] {
  const kept = filter.status === 'all' ? [...points] : points.filter((p) => p.status === filter.status);
  const sign = filter.descending ? -1 : 1;
  return kept.sort((a, b) => {
    const va = sortValue(a, filter.sortBy);
    const vb = sortValue(b, filter.sortBy);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
      return a.index - b.index;
    }
    return sign * (va - vb) || a.index - b.index;
  });
}

/** The reward chart's points: trials trained in full, and pruned ones (their reward at the epoch they stopped at), in index order. */
export function rewardPoints(points: readonly TrialPoint[]): { trained: XY[]; pruned: XY[] } {
  const trained: XY[] = [];
  const pruned: XY[] = [];
  for (const p of [...points].sort((a, b) => a.index - b.index)) {
    if (p.reward === null) continue;
    (p.status === 'pruned' ? pruned : trained).push({ x: p.index, y: p.reward });
  }
  return { trained, pruned };
}

/** Whether the table has a "retrained from" column: some trial is a retraining. */
export function hasRetrained(points: readonly TrialPoint[]): boolean {
  return points.some((t) => t.retrainedFrom !== undefined);
}

/** Whether the table has a worker column: some trial ran on a remote worker. */
export function hasWorkers(points: readonly TrialPoint[]): boolean {
  return points.some((t) => t.worker !== undefined);
}

/** Parameter counts as `812`, `45.3k`, `1.20M`. */
export function formatCount(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** Estimated time to finish the budget at the pace so far; null when it cannot be told. */
export function estimateRemainingMs(elapsedMs: number, done: number, budget: number): number | null {
  if (done <= 0 || budget <= done || !Number.isFinite(elapsedMs)) return done >= budget ? 0 : null;
  return (elapsedMs / done) * (budget - done);
}

/**
 * A non-decreasing series (best so far) reduced to the points where it rises, plus the last point:
 * drawn with stepped 'after' interpolation it is the same line with far fewer points.
 */
export function stepCorners(series: readonly XY[]): XY[] {
  const out: XY[] = [];
  for (let i = 0; i < series.length; i++) {
    if (i === 0 || series[i].y !== series[i - 1].y || i === series.length - 1) out.push(series[i]);
  }
  return out;
}

/** A learning-curve point; y is null at an epoch whose value the trainer did not report (chart.js leaves a gap). */
export interface CurvePoint {
  x: number;
  y: number | null;
}

export interface Curve {
  label: string;
  data: CurvePoint[];
}

/**
 * The trial view's loss and accuracy curves, in epoch order. A user's training command may report
 * validation accuracy alone: a value never reported has no curve (so `loss` may be empty). A retrained
 * trial's held-out curves are measured on the test examples (`heldOut` names them so).
 */
export function learningCurves(
  epochs: readonly EpochMetrics[],
  heldOut: 'validation' | 'test' = 'validation',
): { loss: Curve[]; accuracy: Curve[] } {
  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const curve = (label: string, pick: (e: EpochMetrics) => number | null): Curve => ({
    label,
    data: sorted.map((e) => ({ x: e.epoch, y: pick(e) })),
  });
  const reported = (curves: Curve[]) => curves.filter((c) => c.data.some((point) => point.y !== null));
  return {
    loss: reported([curve('train loss', (e) => e.trainLoss), curve(`${heldOut} loss`, (e) => e.valLoss)]),
    accuracy: reported([curve('train accuracy', (e) => e.trainAccuracy), curve(`${heldOut} accuracy`, (e) => e.valAccuracy)]),
  };
}

// ---------------------------------------------------------------------------------------
// The intermediate-values chart

/** One trial's validation accuracy by epoch (values[e - 1]; null where it reported none) and its status. */
export interface TrialCurve {
  status: TrialStatus;
  values: (number | null)[];
}

/** A point of a trial's curve on the intermediate-values chart; y null ends a curve (chart.js leaves a gap). */
export interface TrialCurvePoint extends CurvePoint {
  trial: number;
}

/** A rung's threshold, drawn as a short mark at its epoch. */
export interface RungMark extends XY {
  bracket: number;
  /** Trials that reached the rung. */
  reached: number;
}

/** How the chart groups curves, one dataset each: trained in full, in training, pruned, and failed or interrupted. */
export type CurveGroup = 'done' | 'running' | 'pruned' | 'ended';

export const CURVE_GROUPS: readonly CurveGroup[] = ['done', 'running', 'pruned', 'ended'];

function curveGroup(status: TrialStatus): CurveGroup {
  return status === 'failed' || status === 'interrupted' ? 'ended' : status;
}

/** The curves by trial index, as the engine's query gives them. */
export function curvesByTrial(curves: IntermediateValues['curves']): Map<number, TrialCurve> {
  const known = new Map<number, TrialCurve>();
  mergeCurves(known, curves);
  return known;
}

/**
 * Takes the stored curves of a fresh query into `known`. The store keeps no epoch of a trial in training,
 * so a trial the query calls running keeps what the live epochs gave it (and a status that came since).
 */
export function mergeCurves(known: Map<number, TrialCurve>, fresh: IntermediateValues['curves']): void {
  for (const { index, status, values } of fresh) {
    if (status === 'running' && known.has(index)) continue;
    known.set(index, { status, values: [...values] });
  }
}

/** A live epoch: the trial's curve grows by it; an epoch at or below one it has starts its curve over from there (trained again). */
export function addEpoch(known: Map<number, TrialCurve>, { trial, epoch, valAccuracy }: EpochPoint): void {
  const curve = known.get(trial) ?? { status: 'running', values: [] };
  known.set(trial, curve);
  curve.values.length = Math.min(curve.values.length, epoch - 1);
  while (curve.values.length < epoch - 1) curve.values.push(null);
  curve.values.push(valAccuracy);
}

/** Per group, its trials' curves in index order, each in epoch order and ended by a gap. */
export function curveSeries(known: ReadonlyMap<number, TrialCurve>): Record<CurveGroup, TrialCurvePoint[]> {
  const series: Record<CurveGroup, TrialCurvePoint[]> = { done: [], running: [], pruned: [], ended: [] };
  for (const index of [...known.keys()].sort((a, b) => a - b)) {
    const { status, values } = known.get(index)!;
    if (!values.some((value) => value !== null)) continue;
    const points = series[curveGroup(status)];
    values.forEach((y, epoch) => points.push({ x: epoch + 1, y, trial: index }));
    points.push({ x: values.length, y: null, trial: index });
  }
  return series;
}

/** Per bracket, the marks of its rungs that have a threshold yet. */
export function rungMarks(rungs: readonly RungThreshold[]): RungMark[][] {
  const brackets = Math.max(0, ...rungs.map((rung) => rung.bracket + 1));
  const marks: RungMark[][] = Array.from({ length: brackets }, () => []);
  for (const { epoch, bracket, threshold, reached } of rungs)
    if (threshold !== null) marks[bracket].push({ x: epoch, y: threshold, bracket, reached });
  return marks;
}
