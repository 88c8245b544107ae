// The run dashboard: header (progress, elapsed, ETA, Stop/Resume), four charts (and DARTS' alphas, or the
// intermediate values of a run whose trials train in epochs, dashboard-intermediate.ts) and the trial table.
// A `dashboard` message renders everything (here); `dashboard-append` pushes the new points into the
// existing chart datasets (dashboard-append.ts): the charts are never rebuilt for it. The header,
// the trial table and the colours live in dashboard-header.ts, dashboard-table.ts, dashboard-colours.ts.
import {
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
} from 'chart.js';
import type { DashboardData, ParetoObjective, TrialPoint } from '../src/protocol/webview.ts';
import { appRoot, baseOptions, chartCard, h, linearAxis, onThemeChange, readTheme, seriesDash } from './common.ts';
import { argmaxSeries, bestSoFar, emaBaselineSeries, entropySeries, rewardPoints, stepCorners, trialsPerStep } from './transforms.ts';
import { type Charts, dashboardPanel, type State } from './dashboard-state.ts';
import { alphaSeries, append, paretoSeries, replace, showNotes } from './dashboard-append.ts';
import { alphaColours, colours, hollow, recolour, setPerDecision } from './dashboard-colours.ts';
import { intermediateCard, paintIntermediate } from './dashboard-intermediate.ts';
import { buildHeader, updateHeader, updateTimes } from './dashboard-header.ts';
import { buildTable, refreshTable } from './dashboard-table.ts';

Chart.register(ScatterController, LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Decimation);

let state: State | undefined;
let clock: ReturnType<typeof setInterval> | undefined;

const DECIMATION = { enabled: true, algorithm: 'lttb' as const, samples: 600 };

/** The Pareto chart's axis, per cost: its title and the chart's. */
const PARETO_AXES: Record<ParetoObjective, string> = { params: 'parameters', flops: 'FLOPs', latency: 'latency (ms)' };

dashboardPanel.listen((message) => {
  switch (message.type) {
    case 'dashboard':
      render(message.data);
      break;
    case 'dashboard-append':
      if (state) append(state, message);
      break;
  }
});

onThemeChange((theme) => {
  if (!state) return;
  state.theme = theme;
  if (state.intermediate) paintIntermediate(state.intermediate, theme);
  recolour(state);
});

function render(data: DashboardData): void {
  if (state) for (const chart of Object.values(state.charts)) chart.destroy();
  const theme = readTheme();
  const app = appRoot();
  app.replaceChildren();
  app.className = 'dashboard';

  const byIndex = new Map<number, TrialPoint>();
  for (const t of data.trials) byIndex.set(t.index, t);
  const trials = [...byIndex.values()].sort((a, b) => a.index - b.index);
  data = { ...data, trials, steps: [...data.steps].sort((a, b) => a.step - b.step) };
  const m = trialsPerStep(trials, data.steps);
  const decisions = Math.max(data.decisions.length, ...data.steps.map((s) => s.argmax.length), 0);
  const { trained: rewards, pruned } = rewardPoints(trials);
  const series: State['series'] = {
    rewards,
    pruned,
    best: bestSoFar(trials),
    bestSteps: [],
    baseline: emaBaselineSeries(data.steps, m),
    entropy: entropySeries(data.steps),
    perDecisionEntropy: [],
    argmax: argmaxSeries(data.steps, decisions),
    all: [],
    front: [],
    alphas: alphaSeries(data.darts?.alphas ?? [], data.darts?.operations.length ?? 0),
  };
  const objective = data.pareto?.minimise ?? 'params';
  paretoSeries(trials, objective, series);
  replace(series.bestSteps, stepCorners(series.best));

  const header = buildHeader(data.run, () => state);
  const reward = chartCard('chart-reward', 'Reward per trial');
  const entropyToggle = h('input', { type: 'checkbox', id: 'toggle-per-decision' });
  const entropy = chartCard('chart-entropy', 'Controller entropy', h('label', { class: 'toggle' }, entropyToggle, ' per decision'));
  const argmax = chartCard('chart-argmax', 'Most likely option: probability per decision');
  // A Pareto search's chart is against the cost it minimised, and its front is the one it optimised.
  const pareto = chartCard(
    'chart-pareto',
    data.pareto
      ? `Validation accuracy vs ${PARETO_AXES[objective]}: the Pareto front the search optimised`
      : 'Validation accuracy vs parameters (Pareto front)',
  );
  argmax.card.classList.add('wide');
  const table = buildTable(() => state, data.run.spaceKind === 'recurrent');
  const notes = h('section', { class: 'run-notes', id: 'run-notes' });
  showNotes(notes, data.notes);
  const alpha = data.darts
    ? chartCard('chart-alpha', "DARTS: mean weight of each operation over a cell's edges (softmax of alpha)")
    : undefined;
  alpha?.card.classList.add('wide');
  const intermediateView = data.intermediate && intermediateCard();
  // Only a scheduler prunes: other runs' reward charts have no pruned series to show.
  const prunes = data.intermediate !== undefined && data.intermediate.scheduler !== 'none';
  app.append(
    header.root,
    notes,
    h(
      'div',
      { class: 'charts' },
      reward.card,
      entropy.card,
      argmax.card,
      pareto.card,
      ...(alpha ? [alpha.card] : []),
      ...(intermediateView ? [intermediateView.card] : []),
    ),
    table.root,
  );

  // Colours go in before the first draw (a recolour would cost a second full update).
  const charts: Charts = {
    reward: new Chart(reward.canvas, {
      type: 'scatter',
      data: {
        datasets: [
          {
            label: 'reward',
            data: series.rewards,
            pointRadius: trials.length > 2000 ? 1.5 : 2.5,
            pointBorderWidth: 0,
            pointHoverRadius: 4,
            ...colours(theme.blue, 0.8),
          },
          {
            label: 'best so far',
            data: series.bestSteps,
            showLine: true,
            stepped: 'after',
            pointRadius: 0,
            borderWidth: 2,
            ...colours(theme.green, 1),
          },
          {
            label: 'EMA baseline',
            data: series.baseline,
            showLine: true,
            pointRadius: 0,
            borderWidth: 1.5,
            borderDash: [5, 3],
            ...colours(theme.orange, 1),
          },
          ...(prunes
            ? [
                {
                  label: 'pruned (reward at its last epoch)',
                  data: series.pruned,
                  pointRadius: 3,
                  pointBorderWidth: 1.5,
                  pointHoverRadius: 4,
                  ...hollow(theme.blue),
                },
              ]
            : []),
        ],
      },
      options: {
        ...(baseOptions(theme) as object),
        scales: { x: linearAxis(theme, 'trial'), y: linearAxis(theme, 'reward') },
      },
    }),
    entropy: new Chart(entropy.canvas, {
      type: 'line',
      data: { datasets: [{ label: 'total', data: series.entropy, pointRadius: 0, borderWidth: 2, ...colours(theme.purple, 1) }] },
      options: {
        ...baseOptions(theme),
        plugins: { ...baseOptions(theme).plugins, decimation: DECIMATION },
        scales: { x: linearAxis(theme, 'controller step'), y: linearAxis(theme, 'entropy (nats)') },
      },
    }),
    argmax: new Chart(argmax.canvas, {
      type: 'line',
      data: {
        datasets: series.argmax.map((points, d) => ({
          label: data.decisions[d] ?? `decision ${d}`,
          data: points,
          pointRadius: 0,
          borderWidth: 1.5,
          borderDash: seriesDash(d, theme.series.length),
          ...colours(theme.series[d % theme.series.length], 1),
        })),
      },
      options: {
        ...baseOptions(theme),
        plugins: {
          ...baseOptions(theme).plugins,
          decimation: DECIMATION,
          legend: { ...baseOptions(theme).plugins?.legend, position: 'right' },
        },
        scales: { x: linearAxis(theme, 'controller step'), y: linearAxis(theme, 'max probability', { min: 0, max: 1 }) },
      },
    }),
    pareto: new Chart(pareto.canvas, {
      type: 'scatter',
      data: {
        datasets: [
          {
            label: 'trials',
            data: series.all,
            pointRadius: trials.length > 2000 ? 1.5 : 2.5,
            pointBorderWidth: 0,
            ...colours(theme.muted, 0.75),
          },
          {
            label: data.pareto ? `Pareto front (accuracy ↑, ${PARETO_AXES[objective]} ↓)` : 'Pareto front',
            data: series.front,
            showLine: true,
            pointRadius: 4,
            pointHoverRadius: 6,
            borderWidth: 2,
            ...colours(theme.red, 1),
          },
        ],
      },
      options: {
        ...(baseOptions(theme) as object),
        scales: { x: linearAxis(theme, PARETO_AXES[objective], { type: 'logarithmic' }), y: linearAxis(theme, 'validation accuracy') },
      },
    }),
  };
  if (alpha && data.darts) {
    const operations = data.darts.operations;
    charts.alpha = new Chart(alpha.canvas, {
      type: 'line',
      data: {
        datasets: series.alphas.map((points, i) => {
          const op = i % operations.length;
          const cell = i < operations.length ? 'normal' : 'reduction';
          return {
            label: `${cell} ${operations[op]}`,
            data: points,
            pointRadius: 0,
            borderWidth: 1.5,
            borderDash: cell === 'normal' ? [] : [5, 3],
            ...alphaColours(theme.series[op % theme.series.length], cell),
          };
        }),
      },
      options: {
        ...baseOptions(theme),
        plugins: {
          ...baseOptions(theme).plugins,
          decimation: DECIMATION,
          legend: { ...baseOptions(theme).plugins?.legend, position: 'right' },
        },
        // No fixed minimum: alpha starts uniform (1 / operations) and a short search moves it by
        // less than a hundredth, which a 0-based axis squashes into one line.
        scales: { x: linearAxis(theme, 'alpha step'), y: linearAxis(theme, 'mean weight', { grace: '5%' }) },
      },
    });
  }
  const intermediate = data.intermediate && intermediateView?.build(data.intermediate, theme);
  if (intermediate) charts.intermediate = intermediate.chart;
  // Read by the e2e tests and bench/dashboard-render.ts to count points. The reward chart's first
  // dataset holds one point per trial with a reward but the pruned (their own dataset) and is never decimated (scatter).
  window.__nasCharts = { ...charts };

  state = {
    data,
    byIndex,
    series,
    plotted: new Set([...rewards, ...pruned].map((p) => p.x)),
    trialsPerStep: m,
    filter: { status: 'all', sortBy: 'index', descending: false },
    rows: [],
    showPerDecision: false,
    theme,
    charts,
    header,
    table,
    notes,
    intermediate,
  };
  const s = state;
  entropyToggle.addEventListener('change', () => setPerDecision(s, entropyToggle.checked));
  refreshTable(s);
  updateHeader(s);
  if (clock) clearInterval(clock);
  clock = setInterval(() => {
    if (state?.data.run.status === 'running') updateTimes(state);
  }, 1000);
  // Read by bench/dashboard-render.ts: the end of a full render (charts drawn, table filled).
  performance.mark('nas-dashboard-rendered');
}
