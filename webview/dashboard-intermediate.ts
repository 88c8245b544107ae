// The intermediate-values chart: every trial's validation accuracy against epochs, one dataset per
// group of trials (pruned ones dimmed), and ASHA's and Hyperband's rung thresholds as short marks at
// each rung's epoch, one dataset per bracket. A live run grows the curves of trials in training from
// their epochs, and takes the rungs and the stored curves as the engine gives them again after each
// finished trial (the thresholds are the scheduler's: the page never computes them).
import { Chart, type ChartDataset, type TooltipItem } from 'chart.js';
import type { EpochPoint, IntermediateValues, RungThreshold, TrialPoint } from '../src/protocol/webview.ts';
import { baseOptions, chartCard, linearAxis, type Theme } from './common.ts';
import { colours, dimmed } from './dashboard-colours.ts';
import {
  addEpoch,
  CURVE_GROUPS,
  curveSeries,
  curvesByTrial,
  mergeCurves,
  rungMarks,
  type CurveGroup,
  type RungMark,
  type TrialCurve,
  type TrialCurvePoint,
} from './transforms.ts';

export type IntermediatePoint = TrialCurvePoint | RungMark;
export type IntermediateChart = Chart<'line', IntermediatePoint[]>;

/** What the page holds of a run's intermediate values: the curves by trial, the rungs as the engine last gave them, the chart. */
export interface Intermediate {
  curves: Map<number, TrialCurve>;
  rungs: RungThreshold[];
  chart: IntermediateChart;
}

const GROUP_LABELS: Record<CurveGroup, string> = {
  done: 'trained in full',
  running: 'in training',
  pruned: 'pruned',
  ended: 'failed or interrupted',
};

/** The card and its chart; the card goes into the page before the chart is built (chart.js measures its box). */
export function intermediateCard(): { card: HTMLElement; build(values: IntermediateValues, theme: Theme): Intermediate } {
  const { card, canvas } = chartCard('chart-intermediate', 'Intermediate values: validation accuracy per epoch');
  card.classList.add('wide');
  return {
    card,
    build(values, theme) {
      const curves = curvesByTrial(values.curves);
      const series = curveSeries(curves);
      const marks = rungMarks(values.rungs);
      const datasets: ChartDataset<'line', IntermediatePoint[]>[] = [
        ...CURVE_GROUPS.map((group) => ({
          label: GROUP_LABELS[group],
          data: series[group],
          pointRadius: 2,
          borderWidth: 1.5,
          ...curveStyle(group, theme),
        })),
        ...marks.map((points, bracket) => ({
          label: marks.length === 1 ? 'rung threshold' : `bracket ${bracket} rung thresholds`,
          data: points,
          showLine: false,
          pointStyle: 'line' as const,
          pointRadius: 12,
          pointHoverRadius: 14,
          pointBorderWidth: 3,
          // Drawn over the curves (chart.js draws a lower order later), which cross the rungs' epochs.
          order: -1,
          ...rungStyle(bracket, theme),
        })),
      ];
      const base = baseOptions(theme);
      const chart: IntermediateChart = new Chart(canvas, {
        type: 'line',
        data: { datasets },
        options: {
          ...base,
          // Curves follow one another in a dataset, so x is not sorted: an 'xy' search looks at every point
          // (chart.js searches an 'x' axis by bisection), and x has suggested bounds only (a set min or max bisects too).
          interaction: { mode: 'nearest', intersect: false, axis: 'xy' },
          plugins: {
            ...base.plugins,
            // A group with no curve yet (no trial pruned) has no legend entry.
            legend: {
              ...base.plugins?.legend,
              labels: { ...base.plugins?.legend?.labels, filter: (item, data) => data.datasets[item.datasetIndex ?? 0].data.length > 0 },
            },
            tooltip: { callbacks: { label: describePoint } },
          },
          scales: {
            x: linearAxis(theme, 'epoch', {
              suggestedMin: 1,
              suggestedMax: values.epochs,
              ticks: { precision: 0, color: theme.foreground },
            }),
            y: linearAxis(theme, 'validation accuracy'),
          },
        },
      });
      return { curves, rungs: values.rungs, chart };
    },
  };
}

function describePoint(item: TooltipItem<'line'>): string {
  const point = item.raw as IntermediatePoint;
  const y = (point.y ?? Number.NaN).toFixed(4);
  return 'trial' in point
    ? `trial ${point.trial}, epoch ${point.x}: ${y}`
    : `rung at epoch ${point.x}: goes on at ${y} or more (${point.reached} trials reached it)`;
}

/** Trials trained in full in blue, running ones in green, pruned ones dimmed, failed ones faint red and dashed. */
function curveStyle(group: CurveGroup, theme: Theme): ReturnType<typeof colours> & { borderDash: number[] } {
  const style = {
    done: colours(theme.blue, 1),
    running: colours(theme.green, 1),
    pruned: dimmed(theme.muted, 0.45),
    ended: dimmed(theme.red, 0.45),
  }[group];
  return { ...style, borderDash: group === 'ended' ? [4, 3] : [] };
}

function rungStyle(bracket: number, theme: Theme): ReturnType<typeof colours> {
  const rungColours = [theme.orange, theme.purple, theme.yellow, theme.red];
  return colours(rungColours[bracket % rungColours.length], 1);
}

/** Colours from a new theme (chart.js takes them at its next update). */
export function paintIntermediate({ chart }: Intermediate, theme: Theme): void {
  chart.data.datasets.forEach((dataset, i) => {
    const group = CURVE_GROUPS[i];
    Object.assign(dataset, group ? curveStyle(group, theme) : rungStyle(i - CURVE_GROUPS.length, theme));
  });
}

/** A live append: epochs of trials in training, the statuses of finished ones, and the engine's values asked again. */
export function appendIntermediate(
  s: Intermediate,
  trials: readonly TrialPoint[],
  epochs: readonly EpochPoint[],
  fresh: IntermediateValues | undefined,
): void {
  if (fresh) {
    mergeCurves(s.curves, fresh.curves);
    s.rungs = fresh.rungs;
  }
  for (const epoch of epochs) addEpoch(s.curves, epoch);
  for (const trial of trials) {
    const curve = s.curves.get(trial.index);
    if (curve) curve.status = trial.status;
  }
  const series = curveSeries(s.curves);
  const marks = rungMarks(s.rungs);
  s.chart.data.datasets.forEach((dataset, i) => {
    const group = CURVE_GROUPS[i];
    dataset.data = group ? series[group] : (marks[i - CURVE_GROUPS.length] ?? []);
  });
}
