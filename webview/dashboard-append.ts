// Live appends: a `dashboard-append` message pushes the new points into the existing chart datasets
// and calls chart.update('none'); the charts are never rebuilt for it.
import type { Chart } from 'chart.js';
import type { DashboardMessage } from '../src/extension/panels/dashboard.ts';
import type { AlphaPoint, ParetoObjective, TrialPoint } from '../src/protocol/webview.ts';
import { h } from './common.ts';
import {
  argmaxSeries,
  bestSoFar,
  emaBaselineSeries,
  entropySeries,
  extendBestSoFar,
  paretoCandidates,
  frontOf,
  type ParetoPoint,
  perDecisionEntropy,
  stepCorners,
  trialsPerStep,
  type XY,
} from './transforms.ts';
import type { State } from './dashboard-state.ts';
import { updateHeader } from './dashboard-header.ts';
import { refreshTable } from './dashboard-table.ts';
import { appendIntermediate } from './dashboard-intermediate.ts';

export function append(s: State, message: Extract<DashboardMessage, { type: 'dashboard-append' }>): void {
  const { run, trials, steps, alphas, notes } = message;
  s.data.run = run;
  if (notes.length) {
    s.data.notes.push(...notes);
    showNotes(s.notes, s.data.notes);
  }
  const newAlphas = alphas.filter((a) => !(s.data.darts?.alphas.some((known) => known.step === a.step) ?? true));
  s.data.darts?.alphas.push(...newAlphas);
  alphaSeries(newAlphas, s.data.darts?.operations.length ?? 0).forEach((points, i) => s.series.alphas[i].push(...points));
  s.series.alphas.forEach((points, i) => {
    const dataset = s.charts.alpha?.data.datasets[i];
    if (dataset) dataset.data = points;
  });
  let reordered = false;
  const lastBest = s.series.best.length ? s.series.best[s.series.best.length - 1].x : -Infinity;
  const freshRewards: XY[] = [];
  for (const t of [...trials].sort((a, b) => a.index - b.index)) {
    const known = s.byIndex.has(t.index);
    s.byIndex.set(t.index, t);
    if (!known) s.data.trials.push(t);
    else s.data.trials[s.data.trials.findIndex((x) => x.index === t.index)] = t;
    if (t.reward === null) continue;
    if (t.status === 'pruned') {
      // Never the best so far: its reward was measured short of full training.
      if (!s.plotted.has(t.index)) s.series.pruned.push({ x: t.index, y: t.reward });
      s.plotted.add(t.index);
    } else if (s.plotted.has(t.index)) {
      const point = s.series.rewards.find((p) => p.x === t.index);
      if (point) point.y = t.reward;
      reordered = true;
    } else {
      s.plotted.add(t.index);
      if (t.index < lastBest) reordered = true;
      s.series.rewards.push({ x: t.index, y: t.reward });
      freshRewards.push({ x: t.index, y: t.reward });
    }
  }
  // Kept in index order, as chart.js takes data it is not asked to parse.
  s.series.pruned.sort((a, b) => a.x - b.x);
  if (reordered) {
    s.data.trials.sort((a, b) => a.index - b.index);
    replace(s.series.best, bestSoFar(s.data.trials));
  } else {
    s.series.best.push(...extendBestSoFar(s.series.best, freshRewards));
  }

  const newSteps = steps.filter((st) => !s.data.steps.some((known) => known.step === st.step)).sort((a, b) => a.step - b.step);
  s.data.steps.push(...newSteps);
  const m = trialsPerStep(s.data.trials, s.data.steps);
  if (m !== s.trialsPerStep) {
    s.trialsPerStep = m;
    replace(s.series.baseline, emaBaselineSeries(s.data.steps, m));
  } else {
    s.series.baseline.push(...emaBaselineSeries(newSteps, m));
  }
  s.series.entropy.push(...entropySeries(newSteps));
  const argmax = argmaxSeries(newSteps, s.series.argmax.length);
  argmax.forEach((points, d) => s.series.argmax[d].push(...points));
  if (s.showPerDecision) {
    const per = perDecisionEntropy(newSteps, s.series.perDecisionEntropy.length);
    per.forEach((points, d) => s.series.perDecisionEntropy[d].push(...points));
  }
  paretoSeries(s.data.trials, s.data.pareto?.minimise ?? 'params', s.series);

  // The raw arrays were pushed to in place; assigning them again reaches chart.js through the
  // decimation plugin's setter when it has swapped `data` for a decimated copy.
  const { reward, entropy, argmax: argmaxChart, pareto } = s.charts;
  reward.data.datasets[0].data = s.series.rewards;
  replace(s.series.bestSteps, stepCorners(s.series.best));
  reward.data.datasets[1].data = s.series.bestSteps;
  reward.data.datasets[2].data = s.series.baseline;
  const prunedSet = reward.data.datasets[3];
  if (prunedSet) prunedSet.data = s.series.pruned;
  if (s.intermediate) appendIntermediate(s.intermediate, trials, message.epochs, message.intermediate);
  entropy.data.datasets[0].data = s.series.entropy;
  s.series.perDecisionEntropy.forEach((points, d) => {
    const dataset = entropy.data.datasets[d + 1];
    if (dataset) dataset.data = points;
  });
  s.series.argmax.forEach((points, d) => (argmaxChart.data.datasets[d].data = points));
  pareto.data.datasets[0].data = s.series.all;
  pareto.data.datasets[1].data = s.series.front;
  for (const chart of Object.values(s.charts) as Chart[]) chart.update('none');

  refreshTable(s);
  updateHeader(s);
}

/** Per cell type then operation, its mean weight against the alpha step. */
export function alphaSeries(alphas: readonly AlphaPoint[], operations: number): XY[][] {
  const series: XY[][] = Array.from({ length: 2 * operations }, () => []);
  for (const a of alphas) {
    a.normal.forEach((w, op) => series[op].push({ x: a.step, y: w }));
    a.reduction.forEach((w, op) => series[operations + op].push({ x: a.step, y: w }));
  }
  return series;
}

export function showNotes(root: HTMLElement, notes: readonly string[]): void {
  root.replaceChildren(...notes.map((note) => h('p', { class: 'note-warn', role: 'status' }, note)));
  root.hidden = notes.length === 0;
}

export function replace<T>(target: T[], values: T[]): void {
  target.length = 0;
  target.push(...values);
}

/** The Pareto chart's points and its front, against `objective` (drawn on a log axis: costs of 0 are left out). */
export function paretoSeries(trials: readonly TrialPoint[], objective: ParetoObjective, series: State['series']): void {
  // A cost of 0 has no place on the chart's logarithmic axis.
  const plotted = (points: readonly ParetoPoint[]) => points.flatMap((p) => (p.cost > 0 ? [{ x: p.cost, y: p.valAccuracy }] : []));
  const candidates = paretoCandidates(trials, objective);
  replace(series.all, plotted(candidates));
  replace(series.front, plotted(frontOf(candidates)));
}
