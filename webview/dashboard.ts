// The run dashboard: header (progress, elapsed, ETA, Stop/Resume), four charts and the trial table.
// A `dashboard` message renders everything; `dashboard-append` pushes the new points into the
// existing chart datasets and calls chart.update('none'): the charts are never rebuilt for it.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Chart, Decimation, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, ScatterController, Tooltip, type ChartDataset } from 'chart.js';
import type { RunRecord } from '../src/protocol/engine.ts';
import type { AlphaPoint, DashboardData, StepPoint, TrialPoint } from '../src/protocol/webview.ts';
import { appRoot, applyAxisTheme, baseOptions, chartCard, fmt, h, linearAxis, listen, onThemeChange, post, readTheme, seriesDash, type Theme } from './common.ts';
import {
  argmaxSeries,
  bestSoFar,
  emaBaselineSeries,
  entropySeries,
  estimateRemainingMs,
  extendBestSoFar,
  filterAndSortTrials,
  formatCount,
  paretoFront,
  perDecisionEntropy,
  stepCorners,
  trialsPerStep,
  type TrialFilter,
  type TrialSortKey,
  type XY,
} from './transforms.ts';
import { formatDuration } from '../src/shared/format.ts';

Chart.register(ScatterController, LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Decimation);

type LineDataset = ChartDataset<'line', XY[]>;
type ScatterDataset = ChartDataset<'scatter', XY[]>;

interface Charts {
  reward: Chart<'scatter', XY[]>;
  entropy: Chart<'line', XY[]>;
  argmax: Chart<'line', XY[]>;
  pareto: Chart<'scatter', XY[]>;
  /** DARTS runs only. */
  alpha?: Chart<'line', XY[]>;
}

/** Everything the page holds for one run. The raw series are ours; chart.js may decimate what it draws. */
interface State {
  data: DashboardData;
  byIndex: Map<number, TrialPoint>;
  series: {
    rewards: XY[];
    best: XY[];
    /** `best` with only the points where it rises (and the last), drawn stepped. */
    bestSteps: XY[];
    baseline: XY[];
    entropy: XY[];
    perDecisionEntropy: XY[][];
    argmax: XY[][];
    all: XY[];
    front: XY[];
    /** DARTS: per cell type then mixed operation, its mean weight over the cell's edges against the alpha step. */
    alphas: XY[][];
  };
  plotted: Set<number>;
  trialsPerStep: number;
  filter: TrialFilter;
  rows: TrialPoint[];
  showPerDecision: boolean;
  theme: Theme;
  charts: Charts;
  header: Header;
  table: Table;
  notes: HTMLElement;
}

let state: State | undefined;
let clock: ReturnType<typeof setInterval> | undefined;

const ROW_HEIGHT = 24;
const DECIMATION = { enabled: true, algorithm: 'lttb' as const, samples: 600 };

listen((message) => {
  switch (message.type) {
    case 'dashboard':
      render(message.data);
      break;
    case 'dashboard-append':
      if (state) append(state, message.run, message.trials, message.steps, message.alphas, message.notes);
      break;
    default:
      break;
  }
});

onThemeChange((theme) => {
  if (!state) return;
  state.theme = theme;
  recolour(state);
});

// ---------------------------------------------------------------------------------------
// Full render

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
  const rewards = trials.filter((t) => t.reward !== null).map((t) => ({ x: t.index, y: t.reward as number }));
  const series: State['series'] = {
    rewards,
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
  paretoSeries(trials, series);
  replace(series.bestSteps, stepCorners(series.best));

  const header = buildHeader(data.run);
  const reward = chartCard('chart-reward', 'Reward per trial');
  const entropyToggle = h('input', { type: 'checkbox', id: 'toggle-per-decision' });
  const entropy = chartCard('chart-entropy', 'Controller entropy', h('label', { class: 'toggle' }, entropyToggle, ' per decision'));
  const argmax = chartCard('chart-argmax', 'Most likely option: probability per decision');
  const pareto = chartCard('chart-pareto', 'Validation accuracy vs parameters (Pareto front)');
  argmax.card.classList.add('wide');
  const table = buildTable();
  const notes = h('section', { class: 'run-notes', id: 'run-notes' });
  showNotes(notes, data.notes);
  const alpha = data.darts ? chartCard('chart-alpha', 'DARTS: mean weight of each operation over a cell\'s edges (softmax of alpha)') : undefined;
  alpha?.card.classList.add('wide');
  app.append(header.root, notes, h('div', { class: 'charts' }, reward.card, entropy.card, argmax.card, pareto.card, ...(alpha ? [alpha.card] : [])), table.root);

  // Colours go in before the first draw (a recolour would cost a second full update).
  const charts: Charts = {
    reward: new Chart(reward.canvas, {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'reward', data: series.rewards, pointRadius: trials.length > 2000 ? 1.5 : 2.5, pointBorderWidth: 0, pointHoverRadius: 4, ...colours(theme.blue, 0.8) },
          { label: 'best so far', data: series.bestSteps, showLine: true, stepped: 'after', pointRadius: 0, borderWidth: 2, ...colours(theme.green, 1) },
          { label: 'EMA baseline', data: series.baseline, showLine: true, pointRadius: 0, borderWidth: 1.5, borderDash: [5, 3], ...colours(theme.orange, 1) },
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
        plugins: { ...baseOptions(theme).plugins, decimation: DECIMATION, legend: { ...baseOptions(theme).plugins?.legend, position: 'right' } },
        scales: { x: linearAxis(theme, 'controller step'), y: linearAxis(theme, 'max probability', { min: 0, max: 1 }) },
      },
    }),
    pareto: new Chart(pareto.canvas, {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'trials', data: series.all, pointRadius: trials.length > 2000 ? 1.5 : 2.5, pointBorderWidth: 0, ...colours(theme.muted, 0.75) },
          { label: 'Pareto front', data: series.front, showLine: true, pointRadius: 4, pointHoverRadius: 6, borderWidth: 2, ...colours(theme.red, 1) },
        ],
      },
      options: {
        ...(baseOptions(theme) as object),
        scales: { x: linearAxis(theme, 'parameters', { type: 'logarithmic' }), y: linearAxis(theme, 'validation accuracy') },
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
        plugins: { ...baseOptions(theme).plugins, decimation: DECIMATION, legend: { ...baseOptions(theme).plugins?.legend, position: 'right' } },
        // No fixed minimum: alpha starts uniform (1 / operations) and a short search moves it by
        // less than a hundredth, which a 0-based axis squashes into one line.
        scales: { x: linearAxis(theme, 'alpha step'), y: linearAxis(theme, 'mean weight', { grace: '5%' }) },
      },
    });
  }
  // Read by the e2e tests and bench/dashboard-render.ts to count points. The reward chart's first
  // dataset holds one point per trial with a reward and is never decimated (scatter).
  window.__nasCharts = { ...charts };

  state = {
    data,
    byIndex,
    series,
    plotted: new Set(rewards.map((p) => p.x)),
    trialsPerStep: m,
    filter: { status: 'all', sortBy: 'index', descending: false },
    rows: [],
    showPerDecision: false,
    theme,
    charts,
    header,
    table,
    notes,
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

function paretoSeries(trials: readonly TrialPoint[], series: State['series']): void {
  series.all.length = 0;
  for (const t of trials) if (t.valAccuracy !== null && t.params !== null && t.params > 0) series.all.push({ x: t.params, y: t.valAccuracy });
  series.front.length = 0;
  for (const p of paretoFront(trials)) if (p.params > 0) series.front.push({ x: p.params, y: p.valAccuracy });
}

// ---------------------------------------------------------------------------------------
// Live appends

function append(s: State, run: RunRecord, trials: TrialPoint[], steps: StepPoint[], alphas: AlphaPoint[], notes: string[]): void {
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
    if (s.plotted.has(t.index)) {
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
  paretoSeries(s.data.trials, s.series);

  // The raw arrays were pushed to in place; assigning them again reaches chart.js through the
  // decimation plugin's setter when it has swapped `data` for a decimated copy.
  const { reward, entropy, argmax: argmaxChart, pareto } = s.charts;
  reward.data.datasets[0].data = s.series.rewards;
  replace(s.series.bestSteps, stepCorners(s.series.best));
  reward.data.datasets[1].data = s.series.bestSteps;
  reward.data.datasets[2].data = s.series.baseline;
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
function alphaSeries(alphas: readonly AlphaPoint[], operations: number): XY[][] {
  const series: XY[][] = Array.from({ length: 2 * operations }, () => []);
  for (const a of alphas) {
    a.normal.forEach((w, op) => series[op].push({ x: a.step, y: w }));
    a.reduction.forEach((w, op) => series[operations + op].push({ x: a.step, y: w }));
  }
  return series;
}

function showNotes(root: HTMLElement, notes: readonly string[]): void {
  root.replaceChildren(...notes.map((note) => h('p', { class: 'note-warn', role: 'status' }, note)));
  root.hidden = notes.length === 0;
}

function replace<T>(target: T[], values: T[]): void {
  target.length = 0;
  target.push(...values);
}

// ---------------------------------------------------------------------------------------
// Colours and the per-decision entropy toggle

function recolour(s: State): void {
  const t = s.theme;
  const [rewardSet, bestSet, baselineSet] = s.charts.reward.data.datasets as ScatterDataset[];
  paint(rewardSet, t.blue, 0.8);
  paint(bestSet, t.green, 1);
  paint(baselineSet, t.orange, 1);
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
function colours(colour: string, alpha: number): { borderColor: string; backgroundColor: string; pointBorderColor: string } {
  const fill = alpha < 1 ? withAlpha(colour, alpha) : colour;
  return { borderColor: colour, backgroundColor: fill, pointBorderColor: fill };
}

/**
 * The alpha chart's colours: the legend draws each dataset's box filled with its background and
 * stroked with its dash, so a reduction line (dashed) gets an empty box with a dashed outline and
 * reads apart from the normal cell's filled one.
 */
function alphaColours(colour: string, cell: 'normal' | 'reduction'): { borderColor: string; backgroundColor: string; pointBorderColor: string } {
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

function setPerDecision(s: State, on: boolean): void {
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

// ---------------------------------------------------------------------------------------
// Header

interface Header {
  root: HTMLElement;
  title: HTMLElement;
  meta: HTMLElement;
  status: HTMLElement;
  bar: HTMLElement;
  progressText: HTMLElement;
  elapsed: HTMLElement;
  eta: HTMLElement;
  best: HTMLElement;
  stop: HTMLElement;
  resume: HTMLElement;
}

function buildHeader(run: RunRecord): Header {
  const title = h('h1', {}, run.name);
  const status = h('span', { class: 'status', id: 'run-status' });
  const meta = h('span', { class: 'meta' });
  const bar = h('div', { class: 'progress-bar' });
  const progressText = h('span', { class: 'progress-text', id: 'run-progress' });
  const elapsed = h('span', { id: 'run-elapsed' });
  const eta = h('span', { id: 'run-eta' });
  const best = h('span', { id: 'run-best' });
  const stop = h('vscode-button', { id: 'run-stop', secondary: true }, 'Stop');
  const resume = h('vscode-button', { id: 'run-resume' }, 'Resume');
  const root = h(
    'header',
    { class: 'run-header' },
    h('div', { class: 'title-row' }, title, status, h('span', { class: 'spacer' }), stop, resume),
    meta,
    h('div', { class: 'progress-row' }, h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'trials done' }, bar), progressText),
    h('div', { class: 'facts' }, h('span', {}, 'Elapsed ', elapsed), h('span', {}, 'ETA ', eta), h('span', {}, 'Best reward ', best)),
  );
  const click = (kind: 'stop' | 'resume') => () => {
    const button = kind === 'stop' ? stop : resume;
    if (!state || button.hasAttribute('disabled')) return;
    post({ type: kind, runId: state.data.run.id });
  };
  stop.addEventListener('click', click('stop'));
  resume.addEventListener('click', click('resume'));
  return { root, title, meta, status, bar, progressText, elapsed, eta, best, stop, resume };
}

function updateHeader(s: State): void {
  const { run } = s.data;
  const hd = s.header;
  hd.title.textContent = run.name;
  hd.status.textContent = run.status;
  hd.status.className = `status status-${run.status}`;
  hd.meta.textContent = [`run #${run.id}`, `strategy ${run.strategy}`, `${run.spaceKind} space`, `backend ${run.backend ?? '–'}`, `seed ${run.seed}`].join(' · ');
  const fraction = run.budgetTrials > 0 ? Math.min(1, run.trialsDone / run.budgetTrials) : 0;
  hd.bar.style.width = `${(fraction * 100).toFixed(1)}%`;
  const progress = hd.bar.parentElement;
  progress?.setAttribute('aria-valuenow', String(run.trialsDone));
  progress?.setAttribute('aria-valuemax', String(run.budgetTrials));
  hd.progressText.textContent = `${run.trialsDone} / ${run.budgetTrials} trials`;
  hd.best.textContent = fmt(run.bestReward);
  hd.stop.toggleAttribute('disabled', run.status !== 'running');
  hd.resume.toggleAttribute('disabled', !(run.status === 'stopped' || run.status === 'interrupted'));
  updateTimes(s);
}

function updateTimes(s: State): void {
  const { run } = s.data;
  const created = Date.parse(run.createdAt);
  let end = run.finishedAt ? Date.parse(run.finishedAt) : NaN;
  if (!Number.isFinite(end)) {
    if (run.status === 'running') end = Date.now();
    else end = created + Math.max(0, ...s.data.trials.map((t) => t.finishedMs ?? 0));
  }
  const elapsedMs = end - created;
  s.header.elapsed.textContent = formatDuration(elapsedMs / 1000);
  const remaining = run.status === 'running' ? estimateRemainingMs(elapsedMs, run.trialsDone, run.budgetTrials) : null;
  s.header.eta.textContent = remaining === null ? '–' : formatDuration(remaining / 1000);
}

// ---------------------------------------------------------------------------------------
// Trial table, rendered virtually: only the rows in view (plus a margin) exist in the DOM.

interface Table {
  root: HTMLElement;
  scroller: HTMLElement;
  body: HTMLTableSectionElement;
  count: HTMLElement;
  status: HTMLSelectElement;
  headers: Map<TrialSortKey, HTMLElement>;
}

function buildTable(): Table {
  const status = h('select', { id: 'trial-status-filter', 'aria-label': 'status' });
  for (const value of ['all', 'done', 'failed', 'running', 'interrupted']) status.append(h('option', { value }, value));
  const count = h('span', { class: 'table-count', id: 'trial-count' });
  const headers = new Map<TrialSortKey, HTMLElement>();
  const sortable = (key: TrialSortKey, label: string) => {
    const button = h('button', { class: 'sort', type: 'button', 'data-sort': key }, label);
    headers.set(key, button);
    return h('th', {}, button);
  };
  const head = h('thead', {}, h('tr', {}, sortable('index', '#'), h('th', {}, 'status'), sortable('reward', 'reward'), h('th', {}, 'val acc'), sortable('params', 'params'), sortable('time', 'time (s)')));
  const body = h('tbody');
  const scroller = h('div', { class: 'table-scroll', tabindex: 0 }, h('table', { class: 'trials', id: 'trial-table' }, head, body));
  const root = h('section', { class: 'card table-card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Trials'), h('label', {}, 'Status ', status), count), scroller);

  status.addEventListener('change', () => {
    if (!state) return;
    state.filter = { ...state.filter, status: status.value as TrialFilter['status'] };
    refreshTable(state);
  });
  head.addEventListener('click', (event) => {
    const key = (event.target as HTMLElement).closest('button')?.dataset.sort as TrialSortKey | undefined;
    if (!state || !key) return;
    const f = state.filter;
    state.filter = { ...f, sortBy: key, descending: f.sortBy === key ? !f.descending : key === 'reward' };
    scroller.scrollTop = 0;
    refreshTable(state);
  });
  const open = (event: Event) => {
    const row = (event.target as HTMLElement).closest('tr[data-index]') as HTMLElement | null;
    if (!state || !row) return;
    post({ type: 'open-trial', runId: state.data.run.id, index: Number(row.dataset.index) });
  };
  body.addEventListener('click', open);
  body.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      open(event);
    }
  });
  let pending = false;
  scroller.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (state) renderRows(state);
    });
  });
  return { root, scroller, body, count, status, headers };
}

function refreshTable(s: State): void {
  s.rows = filterAndSortTrials(s.data.trials, s.filter);
  const total = s.data.trials.length;
  s.table.count.textContent = s.rows.length === total ? `${total} trials` : `${s.rows.length} of ${total} trials`;
  for (const [key, button] of s.table.headers) {
    const active = s.filter.sortBy === key;
    button.classList.toggle('active', active);
    button.parentElement?.setAttribute('aria-sort', active ? (s.filter.descending ? 'descending' : 'ascending') : 'none');
    button.dataset.arrow = active ? (s.filter.descending ? '▼' : '▲') : '';
  }
  renderRows(s);
}

function renderRows(s: State): void {
  const { scroller, body } = s.table;
  const view = scroller.clientHeight || 400;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 10);
  const last = Math.min(s.rows.length, first + Math.ceil(view / ROW_HEIGHT) + 20);
  const rows: HTMLElement[] = [];
  if (first > 0) rows.push(spacer(first * ROW_HEIGHT));
  for (let i = first; i < last; i++) {
    const t = s.rows[i];
    rows.push(
      h(
        'tr',
        { 'data-index': t.index, tabindex: 0, class: `trial-row trial-${t.status}` },
        h('td', { class: 'num' }, t.index),
        h('td', {}, t.status),
        h('td', { class: 'num' }, fmt(t.reward)),
        h('td', { class: 'num' }, fmt(t.valAccuracy)),
        h('td', { class: 'num' }, formatCount(t.params)),
        h('td', { class: 'num' }, t.seconds === null ? '–' : t.seconds.toFixed(1)),
      ),
    );
  }
  if (last < s.rows.length) rows.push(spacer((s.rows.length - last) * ROW_HEIGHT));
  body.replaceChildren(...rows);
}

function spacer(height: number): HTMLElement {
  const td = h('td', { colspan: 6 });
  const tr = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, td);
  tr.style.height = `${height}px`;
  return tr;
}
