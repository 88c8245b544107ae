// The dashboard's colours (from the VS Code theme) and the per-decision entropy toggle.
import type { Chart } from 'chart.js';
import { applyAxisTheme, seriesDash } from './common.ts';
import { perDecisionEntropy } from './transforms.ts';
import type { LineDataset, ScatterDataset, State } from './dashboard-state.ts';

export function recolour(s: State): void {
  const t = s.theme;
  const [rewardSet, bestSet, baselineSet, prunedSet] = s.charts.reward.data.datasets as ScatterDataset[];
  paint(rewardSet, t.blue, 0.8);
  paint(bestSet, t.green, 1);
  paint(baselineSet, t.orange, 1);
  if (prunedSet) Object.assign(prunedSet, hollow(t.blue));
  const entropySets = s.charts.entropy.data.datasets as LineDataset[];
  paint(entropySets[0], t.purple, 1);
  entropySets.slice(1).forEach((dataset, d) => {
    paint(dataset, t.series[d % t.series.length], 0.8);
    dataset.borderDash = seriesDash(d, t.series.length);
  });
  (s.charts.argmax.data.datasets as LineDataset[]).forEach((dataset, d) => {
    paint(dataset, t.series[d % t.series.length], 1);
    dataset.borderDash = seriesDash(d, t.series.length);
  });
  const [allSet, frontSet] = s.charts.pareto.data.datasets as ScatterDataset[];
  paint(allSet, t.muted, 0.75);
  paint(frontSet, t.red, 1);
  const operations = s.data.darts?.operations.length ?? 1;
  (s.charts.alpha?.data.datasets as LineDataset[] | undefined)?.forEach((dataset, i) =>
    Object.assign(dataset, alphaColours(t.series[(i % operations) % t.series.length], i < operations ? 'normal' : 'reduction')),
  );
  for (const chart of Object.values(s.charts) as Chart[]) {
    applyAxisTheme(chart, t);
    chart.update('none');
  }
}

/** Line and point colours of a dataset; `alpha` < 1 fades the points (theme colours stay the source). */
export function colours(colour: string, alpha: number): { borderColor: string; backgroundColor: string; pointBorderColor: string } {
  const fill = alpha < 1 ? withAlpha(colour, alpha) : colour;
  return { borderColor: colour, backgroundColor: fill, pointBorderColor: fill };
}

/** Lines and points faded to `alpha` alike: what the charts dim (pruned trials' curves). */
export function dimmed(colour: string, alpha: number): ReturnType<typeof colours> {
  const faded = withAlpha(colour, alpha);
  return { borderColor: faded, backgroundColor: faded, pointBorderColor: faded };
}

/** Hollow markers (a ring in `colour`): points that stand apart from the filled ones of the same series. */
export function hollow(colour: string): ReturnType<typeof colours> & { pointBackgroundColor: string } {
  return { ...colours(colour, 1), backgroundColor: 'transparent', pointBackgroundColor: 'transparent' };
}

/**
 * The alpha chart's colours: the legend draws each dataset's box filled with its background and
 * stroked with its dash, so a reduction line (dashed) gets an empty box with a dashed outline and
 * reads apart from the normal cell's filled one.
 */
export function alphaColours(
  colour: string,
  cell: 'normal' | 'reduction',
): { borderColor: string; backgroundColor: string; pointBorderColor: string } {
  return cell === 'normal' ? colours(colour, 1) : { ...colours(colour, 1), backgroundColor: 'transparent' };
}

function paint(dataset: LineDataset | ScatterDataset, colour: string, alpha: number): void {
  Object.assign(dataset, colours(colour, alpha));
}

/** `colour` at the given opacity, via color-mix so any CSS colour syntax works. */
function withAlpha(colour: string, alpha: number): string {
  const match = /^#([0-9a-f]{6})$/i.exec(colour);
  if (match) {
    const n = parseInt(match[1], 16);
    return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  return colour;
}

export function setPerDecision(s: State, on: boolean): void {
  s.showPerDecision = on;
  const datasets = s.charts.entropy.data.datasets as LineDataset[];
  datasets.length = 1;
  s.series.perDecisionEntropy = [];
  if (on) {
    s.series.perDecisionEntropy = perDecisionEntropy(s.data.steps, s.series.argmax.length);
    s.series.perDecisionEntropy.forEach((points, d) =>
      datasets.push({ label: s.data.decisions[d] ?? `decision ${d}`, data: points, pointRadius: 0, borderWidth: 1 }),
    );
  }
  recolour(s);
}
