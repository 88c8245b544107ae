// Controller insight (Adam & Lorraine): does the run's controller learn anything? Per decision, the
// probability of the most likely option and the entropy, trained against freshly initialised; the
// trained controller's hidden states as a heatmap with each unit's variance; and Table 1, the
// Spearman correlations of hidden-state distance with architecture similarity, beside the paper's.
import type { insightPanel } from '../src/extension/panels/insight.ts';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartDataset } from 'chart.js';
import {
  PAPER_TABLE1,
  SPEARMAN_COLUMNS,
  sharedOperations,
  type ControllerInsight,
  type ControllerRow,
  type SpearmanRow,
} from '../src/protocol/insight.ts';
import {
  appRoot,
  applyAxisTheme,
  baseOptions,
  chartCard,
  fmt,
  h,
  linearAxis,
  panelChannel,
  onThemeChange,
  readTheme,
  type Theme,
} from './common.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

type BarChart = Chart<'bar', number[], string>;

interface Charts {
  argmax: BarChart;
  entropy: BarChart;
  variance: BarChart;
}

let charts: Charts | undefined;
let shown: ControllerInsight | undefined;

const ROW_TITLES: Record<ControllerRow, string> = {
  random: 'Random (fresh init)',
  unsupervised: 'Unsupervised (trained)',
  supervised: 'Supervised (memory buffer)',
};
const COLUMN_TITLES: Record<Exclude<(typeof SPEARMAN_COLUMNS)[number], 'common_ops'>, string> = {
  common_connections: 'common connections',
  ged: 'graph edit distance',
  reward_gap: 'reward gap',
};

appRoot().append(
  h(
    'p',
    { class: 'empty', id: 'insight-loading' },
    'Sampling 100 architectures from the trained and from a fresh controller, and comparing every ' +
      'pair… (a few seconds; up to a minute for a cell space)',
  ),
);

panelChannel<typeof insightPanel>('insight').listen((message) => {
  if (message.type === 'insight') render(message.data);
  else if (message.type === 'insight-failed') {
    const app = appRoot();
    app.replaceChildren(h('div', { class: 'error-box', role: 'alert', id: 'insight-error' }, message.message));
  }
});

onThemeChange((theme) => {
  if (!charts || !shown) return;
  colour(charts, theme);
  for (const chart of Object.values(charts) as BarChart[]) {
    applyAxisTheme(chart, theme);
    // A full update: bar elements keep their resolved colours through update('none').
    chart.update();
  }
  drawHeatmap(document.getElementById('insight-heatmap') as HTMLCanvasElement, shown.hiddenStates, theme);
});

function render(data: ControllerInsight): void {
  if (charts) for (const chart of Object.values(charts) as BarChart[]) chart.destroy();
  shown = data;
  const theme = readTheme();
  const app = appRoot();
  app.replaceChildren();
  app.className = 'insight-view';
  const { run } = data;
  app.append(
    h(
      'header',
      { class: 'run-header' },
      h('h1', {}, `Controller insight: ${run.name} (#${run.id})`),
      h(
        'span',
        { class: 'meta' },
        `${data.samples} architectures sampled from each controller · trained controller: ` +
          `latest checkpoint, ${data.controllerSteps} update(s), ${data.trainedAs === 'supervised' ? 'with' : 'without'} ` +
          `a memory buffer · fresh controller: the run's own initialisation (seed ${run.seed})`,
      ),
    ),
  );

  const argmax = chartCard('chart-insight-argmax', 'Most likely option: mean probability per decision');
  const entropy = chartCard('chart-insight-entropy', 'Entropy per decision (nats)');
  const heat = h('canvas', { id: 'insight-heatmap', role: 'img', 'aria-label': 'Hidden states: architectures by units' });
  const heatCard = h(
    'section',
    { class: 'card wide' },
    h(
      'div',
      { class: 'card-head' },
      h(
        'h2',
        {},
        `Final hidden state of the trained controller: ${data.hiddenStates.length} architectures ` +
          `(rows) × ${data.hiddenVariance.length} units (columns)`,
      ),
    ),
    h('div', { class: 'heatmap-box' }, heat),
    h(
      'p',
      { class: 'caption' },
      'Colour: the unit’s value (one hue below zero, another above, stronger further from zero). ' +
        'Below: each unit’s variance across the architectures; a unit that barely varies encodes nothing ' +
        'of the architecture.',
    ),
  );
  const variance = chartCard('chart-insight-variance', 'Variance of each hidden unit across the sampled architectures');
  variance.card.classList.add('wide');
  app.append(h('div', { class: 'charts' }, argmax.card, entropy.card, heatCard, variance.card), spearmanTable(data));

  const decisionLabels = data.decisions;
  // Colours go in before the first draw; a theme change repaints them (colour()).
  const pair = (trained: number[], fresh: number[]): ChartDataset<'bar', number[]>[] => [
    { label: 'trained', data: trained, backgroundColor: theme.blue },
    { label: 'fresh (random)', data: fresh, backgroundColor: theme.orange },
  ];
  const bar = (
    canvas: HTMLCanvasElement,
    labels: string[],
    datasets: ChartDataset<'bar', number[]>[],
    x: string,
    y: string,
    extra: Record<string, unknown> = {},
  ): BarChart =>
    new Chart<'bar', number[], string>(canvas, {
      type: 'bar',
      data: { labels, datasets },
      options: {
        ...(baseOptions(theme) as object),
        parsing: undefined,
        normalized: undefined,
        scales: {
          x: {
            type: 'category',
            title: { display: true, text: x, color: theme.foreground },
            ticks: { color: theme.foreground, autoSkip: true },
            grid: { color: theme.grid },
          },
          y: linearAxis(theme, y, extra),
        },
      },
    });
  charts = {
    argmax: bar(argmax.canvas, decisionLabels, pair(data.trained.argmax, data.fresh.argmax), 'decision', 'max probability', {
      min: 0,
      max: 1,
    }),
    entropy: bar(entropy.canvas, decisionLabels, pair(data.trained.entropy, data.fresh.entropy), 'decision', 'entropy (nats)', { min: 0 }),
    variance: bar(
      variance.canvas,
      data.hiddenVariance.map((_, i) => String(i)),
      [{ label: 'variance', data: data.hiddenVariance, backgroundColor: theme.purple }],
      'hidden unit',
      'variance',
    ),
  };
  drawHeatmap(heat, data.hiddenStates, theme);
  // Read by the e2e tests.
  window.__nasCharts = { ...charts };
  performance.mark('nas-insight-rendered');
}

function colour(c: Charts, theme: Theme): void {
  const [trainedColour, freshColour] = [theme.blue, theme.orange];
  for (const chart of [c.argmax, c.entropy]) {
    chart.data.datasets[0].backgroundColor = trainedColour;
    chart.data.datasets[1].backgroundColor = freshColour;
  }
  c.variance.data.datasets[0].backgroundColor = theme.purple;
}

/** One cell per (architecture, unit); values scaled by the largest magnitude so the pattern shows whatever the range. */
function drawHeatmap(canvas: HTMLCanvasElement, rows: number[][], theme: Theme): void {
  const units = rows[0]?.length ?? 0;
  const cell = { width: Math.max(4, Math.min(24, Math.floor(900 / Math.max(units, 1)))), height: 3 };
  const ratio = window.devicePixelRatio || 1;
  canvas.width = units * cell.width * ratio;
  canvas.height = rows.length * cell.height * ratio;
  canvas.style.width = `${units * cell.width}px`;
  canvas.style.height = `${rows.length * cell.height}px`;
  const context = canvas.getContext('2d');
  if (!context) return;
  context.scale(ratio, ratio);
  context.fillStyle = theme.background;
  context.fillRect(0, 0, units * cell.width, rows.length * cell.height);
  let largest = 0;
  for (const row of rows) for (const value of row) largest = Math.max(largest, Math.abs(value));
  rows.forEach((row, r) =>
    row.forEach((value, u) => {
      if (largest === 0) return;
      context.globalAlpha = Math.abs(value) / largest;
      context.fillStyle = value < 0 ? theme.blue : theme.red;
      context.fillRect(u * cell.width, r * cell.height, cell.width, cell.height);
    }),
  );
  context.globalAlpha = 1;
  canvas.dataset.rows = String(rows.length);
  canvas.dataset.units = String(units);
  canvas.title = `values from ${fmt(-largest, 4)} to ${fmt(largest, 4)}`;
}

function spearmanTable(data: ControllerInsight): HTMLElement {
  const cell = (value: number | null) => h('td', { class: 'num' }, value === null ? '–' : value.toFixed(3));
  const head = h(
    'tr',
    {},
    h('th', {}, 'controller'),
    ...SPEARMAN_COLUMNS.map((column) =>
      h('th', {}, column === 'common_ops' ? `common ${sharedOperations(data.run.spaceKind)}` : COLUMN_TITLES[column]),
    ),
    h('th', {}, 'pairs'),
    h('th', {}, 'distinct architectures'),
    h('th', { class: 'paper' }, 'paper (ENAS): ops, conn., GED, reward'),
  );
  const rowOf = (name: string, title: string, row: SpearmanRow | null, paper: readonly number[] | undefined, note?: string) =>
    h(
      'tr',
      { 'data-row': name },
      h('th', { scope: 'row' }, title),
      ...(row
        ? [
            ...SPEARMAN_COLUMNS.map((column) => cell(row[column])),
            h(
              'td',
              { class: 'num' },
              row.reward_pairs === row.pairs ? String(row.pairs) : `${row.pairs} (${row.reward_pairs} with rewards)`,
            ),
            h('td', { class: 'num' }, String(row.distinct_architectures)),
          ]
        : [h('td', { colspan: 6, class: 'absent' }, note ?? 'absent')]),
      h('td', { class: 'paper num' }, paper ? paper.map((x) => x.toFixed(3)).join('  ') : '–'),
    );
  const rows = (['random', 'unsupervised', 'supervised'] as const).map((name) =>
    rowOf(
      name,
      ROW_TITLES[name],
      data.spearman[name],
      PAPER_TABLE1[name],
      name === 'supervised'
        ? 'absent: this run used no memory buffer (strategy.controller.memory_buffer)'
        : 'absent: this run trained with a memory buffer',
    ),
  );
  if (data.recorded) rows.push(rowOf('recorded', 'Recorded during the search', data.recorded, undefined));
  for (const name of ['random', 'unsupervised', 'supervised'] as const) {
    const row = data.spearmanDistinct[name];
    if (row) rows.push(rowOf(`${name}-distinct`, `${ROW_TITLES[name]}, distinct only`, row, undefined));
  }
  return h(
    'section',
    { class: 'card spearman' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Spearman correlation: hidden-state distance against architecture similarity (Table 1)')),
    h('table', { class: 'trials', id: 'spearman-table' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    h(
      'p',
      { class: 'caption' },
      `Over every pair of sampled architectures: the L2 distance of their final hidden states against ` +
        `the operations they share, the connections they share, their graph edit distance (${data.gedMethod}) and their ` +
        `reward gap. A hidden state that encodes the architecture correlates negatively with shared ` +
        `operations and connections, positively with edit distance. Rewards: ${data.rewardSource}. "Recorded during the ` +
        `search": the hidden states stored with the run's last trials, against their measured rewards. ` +
        `A controller that has collapsed samples few distinct architectures, and their identical pairs ` +
        `weigh on the ranks: the "distinct only" rows compare each controller's distinct architectures ` +
        `alone.`,
    ),
  );
}
