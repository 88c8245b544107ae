// Run comparison: the best-so-far curves of two or more runs, against trial count and against time,
// one colour per run (the theme's chart colours, dashed once they run out), legend with run names.
import type { comparePanel } from '../src/extension/panels/compare.ts';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { CompareData } from '../src/protocol/webview.ts';
import {
  appRoot,
  applyAxisTheme,
  baseOptions,
  chartCard,
  h,
  linearAxis,
  panelChannel,
  onThemeChange,
  readTheme,
  seriesDash,
  type Theme,
} from './common.ts';
import { bestSoFar, bestSoFarOverTime, stepCorners, type XY } from './transforms.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

let charts: Chart<'line', XY[]>[] = [];

panelChannel<typeof comparePanel>('compare').listen((message) => render(message.data));

onThemeChange((theme) => {
  for (const chart of charts) {
    colourRuns(chart, theme);
    applyAxisTheme(chart, theme);
    chart.update('none');
  }
});

function render(data: CompareData): void {
  for (const chart of charts) chart.destroy();
  const theme = readTheme();
  const app = appRoot();
  app.replaceChildren();
  app.className = 'compare-view';
  const names = data.runs.map(({ run }) => `${run.name} (#${run.id})`);
  const byTrial = chartCard('chart-compare-trials', 'Best reward so far, by trial');
  const byTime = chartCard('chart-compare-time', 'Best reward so far, by time');
  app.append(
    h(
      'header',
      { class: 'run-header' },
      h('h1', {}, `Comparing ${data.runs.length} runs`),
      h('span', { class: 'meta' }, names.join(' · ')),
    ),
  );
  if (data.runs.length < 2) app.append(h('p', { class: 'empty' }, 'Pick two or more runs to compare.'));
  app.append(h('div', { class: 'charts' }, byTrial.card, byTime.card));
  const datasets = (series: (trials: CompareData['runs'][number]['trials']) => XY[]): ChartDataset<'line', XY[]>[] =>
    data.runs.map(({ trials }, i) => ({
      label: names[i],
      data: stepCorners(series(trials)),
      stepped: 'after',
      pointRadius: 0,
      borderWidth: 2,
    }));
  charts = [
    chart(byTrial.canvas, theme, 'trials', datasets(bestSoFar)),
    // x in minutes since each run started
    chart(
      byTime.canvas,
      theme,
      'minutes since the run started',
      datasets((trials) => bestSoFarOverTime(trials).map((p) => ({ x: p.x / 60_000, y: p.y }))),
    ),
  ];
  // Read by the e2e tests.
  window.__nasCharts = { trials: charts[0], time: charts[1] };
  performance.mark('nas-compare-rendered');
}

function chart(canvas: HTMLCanvasElement, theme: Theme, x: string, datasets: ChartDataset<'line', XY[]>[]): Chart<'line', XY[]> {
  const c = new Chart<'line', XY[]>(canvas, {
    type: 'line',
    data: { datasets },
    options: { ...baseOptions(theme), scales: { x: linearAxis(theme, x), y: linearAxis(theme, 'best reward') } },
  });
  colourRuns(c, theme);
  c.update('none');
  return c;
}

function colourRuns(c: Chart<'line', XY[]>, theme: Theme): void {
  c.data.datasets.forEach((dataset, i) => {
    const colour = theme.series[i % theme.series.length];
    dataset.borderColor = colour;
    dataset.backgroundColor = colour;
    dataset.borderDash = seriesDash(i, theme.series.length);
  });
}
