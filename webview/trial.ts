// The trial view: the architecture drawn as SVG (laid out by src/shared/architecture-drawing.ts), the
// learning curves, the details and the decisions, the end of the trial's log when it keeps one, and text
// sampled from a language model whose weights the store kept.
// Nodes have class `arch-node` and edges class `arch-edge` (the e2e tests count them).
import type { trialPanel } from '../src/extension/panels/trial.ts';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { LogTail, TrialData } from '../src/protocol/webview.ts';
import { architectureFigures, type DrawingElement } from '../src/shared/architecture-drawing.ts';
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
  svg,
  type Theme,
} from './common.ts';
import { formatDuration, formatPerplexity, trialStatusLabel, trialWorkerLabel } from '../src/shared/format.ts';
import { formatCount, learningCurves, type Curve, type CurvePoint } from './transforms.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

let charts: Chart<'line', CurvePoint[]>[] = [];
let markerSeq = 0;

const panel = panelChannel<typeof trialPanel>('trial');

panel.listen((message) => {
  if (message.type === 'trial') render(message.data);
  else showSample(message.type === 'sampled-text' ? { text: message.text } : { error: message.message });
});

onThemeChange((theme) => {
  for (const chart of charts) {
    colourCurves(chart, theme);
    applyAxisTheme(chart, theme);
    chart.update('none');
  }
});

function render(data: TrialData): void {
  for (const chart of charts) chart.destroy();
  charts = [];
  const theme = readTheme();
  const { trial, run } = data;
  const app = appRoot();
  app.replaceChildren();
  app.className = 'trial-view';

  const copy = (format: 'yaml' | 'json', label: string) => {
    const button = h('vscode-button', { id: `copy-${format}`, secondary: true }, label);
    button.addEventListener('click', () => panel.post({ type: 'copy-architecture', runId: run.id, index: trial.index, format }));
    return button;
  };
  // Retrain… and Export Model… of a finished trial (a retrained trial's Retrain… retrains the trial it came from).
  const action = (id: string, label: string, request: 'retrain' | 'export-model') => {
    const button = h('vscode-button', { id, secondary: true }, label);
    button.addEventListener('click', () => panel.post({ type: request }));
    return button;
  };
  const finished = trial.status === 'done' || trial.status === 'pruned';
  const worker = trialWorkerLabel(trial);
  const retrainedFrom = trial.retrainedFrom;
  const header = h(
    'header',
    { class: 'run-header' },
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, `Trial ${trial.index}`),
      h('span', { class: `status status-${trial.status}`, id: 'trial-status' }, trialStatusLabel(trial)),
      retrainedFrom !== null && h('span', { class: 'status', id: 'trial-retrained-from' }, `retrained from trial ${retrainedFrom}`),
      h('span', { class: 'spacer' }),
      trial.status === 'done' && action('trial-retrain', 'Retrain…', 'retrain'),
      finished && action('trial-export', 'Export Model…', 'export-model'),
      copy('yaml', 'Copy as YAML'),
      copy('json', 'Copy as JSON'),
    ),
    h(
      'span',
      { class: 'meta' },
      `${run.name} (run #${run.id}) · ${run.strategy} · ${run.spaceKind} space`,
      // A trial a remote worker ran: which one, and the attempt when one started it more than once.
      worker !== undefined && h('span', { id: 'trial-worker' }, ` · worker ${worker}`),
    ),
  );

  const architecture = h('section', { class: 'card architecture' }, h('div', { class: 'card-head' }, h('h2', {}, 'Architecture')));
  const figures = architectureFigures(trial.graph, () => `arrow-${++markerSeq}`);
  for (const figure of figures) {
    if (figure.title !== undefined) architecture.append(h('h3', { class: 'cell-title' }, figure.title));
    architecture.append(drawingElement(figure.svg));
  }
  if (figures.length === 0) {
    // A space kind with no drawing: its decisions (under Details) describe it.
    architecture.append(h('p', {}, `A ${(trial.graph as { kind: string }).kind} architecture: its decisions are listed under Details.`));
  }

  const m = trial.metrics;
  const started = Date.parse(trial.startedAt);
  const ended = trial.finishedAt ? Date.parse(trial.finishedAt) : NaN;
  const facts: [string, string][] = [
    ['status', trialStatusLabel(trial)],
    ...(retrainedFrom !== null
      ? ([
          [
            'retrained from',
            `trial ${retrainedFrom}, with the final recipe: trained on the training and validation examples, measured on the test examples`,
          ],
        ] satisfies [string, string][])
      : []),
    ['epochs trained', String(trial.epochsTrained)],
    // A retraining has no reward: it is measured on the test examples alone.
    ['reward', retrainedFrom !== null ? '– (a retraining is measured on test)' : fmt(trial.reward)],
    // A language model's accuracies are of its next-token guesses; its perplexity comes first.
    ...(typeof m?.valPerplexity === 'number'
      ? retrainedFrom !== null
        ? ([
            ['test perplexity', formatPerplexity(m.testPerplexity)],
            ['test next-token accuracy', fmt(m.testAccuracy)],
          ] satisfies [string, string][])
        : ([
            ['validation perplexity', formatPerplexity(m.valPerplexity)],
            ['test perplexity', formatPerplexity(m.testPerplexity)],
            ['validation next-token accuracy', fmt(m.valAccuracy)],
            ['test next-token accuracy', fmt(m.testAccuracy)],
          ] satisfies [string, string][])
      : retrainedFrom !== null
        ? ([['test accuracy', fmt(m?.testAccuracy)]] satisfies [string, string][])
        : ([
            ['validation accuracy', fmt(m?.valAccuracy)],
            ['test accuracy', fmt(m?.testAccuracy)],
          ] satisfies [string, string][])),
    ['parameters', m && m.params !== null ? `${formatCount(m.params)} (${m.params.toLocaleString('en-US')})` : '–'],
    ['FLOPs', formatCount(m?.flops ?? null)],
    ['training time', m ? `${m.seconds.toFixed(1)} s` : Number.isFinite(ended) ? formatDuration((ended - started) / 1000) : '–'],
    ['trained weights', trial.weightsPath === null ? 'not kept (Retrain… keeps them)' : `kept (${trial.weightsPath})`],
    ['started', trial.startedAt],
    ['finished', trial.finishedAt ?? '–'],
    ['key', trial.key],
    ...(worker !== undefined ? ([['worker', worker]] satisfies [string, string][]) : []),
  ];
  const details = h('section', { class: 'card details' }, h('div', { class: 'card-head' }, h('h2', {}, 'Details')));
  const list = h('dl', { id: 'trial-details' });
  for (const [name, value] of facts) list.append(h('dt', {}, name), h('dd', {}, value));
  details.append(list);
  if (trial.error) details.append(h('div', { class: 'error-box', id: 'trial-error' }, trial.error));
  if (trial.status === 'pruned')
    details.append(
      h(
        'p',
        { class: 'caption', id: 'trial-pruned' },
        `The run's scheduler stopped this trial after epoch ${trial.epochsTrained}: ` +
          'its reward and accuracies are those of that epoch, not of full training.',
      ),
    );

  const decisions = h('ul', { class: 'decisions', id: 'trial-decisions' });
  trial.architecture.forEach((choice, i) => {
    const decision = data.decisions[i];
    const name = decision?.name ?? `decision ${i}`;
    const option = decision?.options[choice] ?? String(choice);
    decisions.append(h('li', {}, h('span', { class: 'name' }, name), ' = ', option));
  });
  details.append(h('h3', { class: 'cell-title' }, `Decisions (${trial.architecture.length})`), decisions);

  if (data.epochs.length === 0) {
    // Looked-up trials (NAS-Bench-201) and failed ones have no learning curve to draw.
    const why =
      trial.graph.kind === 'nasbench201'
        ? 'its accuracies were looked up in the NAS-Bench-201 table, not trained here'
        : 'no epoch finished';
    app.append(header, h('div', { class: 'trial-grid' }, architecture, details), h('p', { class: 'empty' }, `No learning curve: ${why}.`));
    appendLog(app, data.log);
    if (data.hasWeights) app.append(sampleCard());
    performance.mark('nas-trial-rendered');
    return;
  }
  const curves = learningCurves(data.epochs, retrainedFrom === null ? 'validation' : 'test');
  // With neither loss reported there is no loss chart.
  const languageModel = typeof m?.valPerplexity === 'number';
  const loss =
    curves.loss.length > 0 ? chartCard('chart-loss', languageModel ? 'Loss per epoch (nats per token)' : 'Loss per epoch') : undefined;
  const accuracy = chartCard('chart-accuracy', languageModel ? 'Next-token accuracy per epoch' : 'Accuracy per epoch');
  const chartCards = h('div', { class: 'trial-grid' }, loss?.card, accuracy.card);

  app.append(header, h('div', { class: 'trial-grid' }, architecture, details), chartCards);
  appendLog(app, data.log);
  if (data.hasWeights) app.append(sampleCard());

  const lossChart = loss && curveChart(loss.canvas, theme, 'loss', curves.loss);
  const accuracyChart = curveChart(accuracy.canvas, theme, 'accuracy', curves.accuracy);
  charts = lossChart ? [lossChart, accuracyChart] : [accuracyChart];
  // Read by the e2e tests.
  window.__nasCharts = { loss: lossChart, accuracy: accuracyChart };
  performance.mark('nas-trial-rendered');
}

/** The end of the trial's log as plain text, scrolled to its last line; nothing for a trial that keeps no log. */
function appendLog(app: HTMLElement, log: LogTail | null): void {
  if (!log) return;
  const card = h('section', { class: 'card trial-log' }, h('div', { class: 'card-head' }, h('h2', {}, 'Log')));
  if (log.earlierLines > 0) card.append(h('p', { class: 'caption', id: 'trial-log-cut' }, `${log.earlierLines} earlier lines not shown`));
  const text = h('pre', { id: 'trial-log' });
  text.textContent = log.text;
  card.append(text);
  app.append(card);
  text.scrollTop = text.scrollHeight;
}

/**
 * Sample text: a prompt, a temperature and a button; the engine reads the prompt through the trial's kept
 * weights and draws the continuation, shown after the prompt in a <pre>.
 */
function sampleCard(): HTMLElement {
  const prompt = h('input', { type: 'text', id: 'sample-prompt', value: 'ROMEO:', 'aria-label': 'prompt', spellcheck: 'false' });
  const temperature = h('input', {
    type: 'number',
    id: 'sample-temperature',
    value: '0.8',
    min: '0.05',
    max: '5',
    step: '0.05',
    'aria-label': 'temperature',
  });
  const button = h('vscode-button', { id: 'sample-button' }, 'Sample text');
  const output = h('pre', { id: 'sample-output', class: 'sample-output' });
  const error = h('div', { class: 'error-box', id: 'sample-error', hidden: true });
  button.addEventListener('click', () => {
    if (button.hasAttribute('disabled')) return;
    button.setAttribute('disabled', '');
    output.dataset.prompt = prompt.value;
    output.textContent = 'Sampling…';
    error.hidden = true;
    panel.post({ type: 'sample-text', prompt: prompt.value, temperature: Number(temperature.value) });
  });
  return h(
    'section',
    { class: 'card sample-text', id: 'sample-card' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Sample text')),
    h(
      'p',
      { class: 'caption' },
      'The trained model continues the prompt, one token at a time, drawn at the temperature (lower: more likely tokens).',
    ),
    h('div', { class: 'sample-controls' }, h('label', {}, 'Prompt ', prompt), h('label', {}, 'Temperature ', temperature), button),
    error,
    output,
  );
}

/** The engine's answer to the last sample request: the prompt (kept apart, so the continuation can be read alone) and its continuation. */
function showSample(answer: { text: string } | { error: string }): void {
  const output = document.getElementById('sample-output');
  const error = document.getElementById('sample-error');
  document.getElementById('sample-button')?.removeAttribute('disabled');
  if (!output || !error) return;
  if ('error' in answer) {
    output.textContent = '';
    error.textContent = answer.error;
    error.hidden = false;
    return;
  }
  const continuation = h('span', { id: 'sample-continuation' }, answer.text);
  output.replaceChildren(h('span', { class: 'sample-prompt' }, output.dataset.prompt ?? ''), continuation);
}

function curveChart(canvas: HTMLCanvasElement, theme: Theme, y: string, datasets: Curve[]): Chart<'line', CurvePoint[]> {
  return new Chart<'line', CurvePoint[]>(canvas, {
    type: 'line',
    // Coloured from the start: chart.js resolves point colours when the chart is built.
    data: {
      datasets: datasets.map((d): ChartDataset<'line', CurvePoint[]> => ({
        ...d,
        pointRadius: 3,
        borderWidth: 2,
        ...curveStyle(d.label, theme),
      })),
    },
    options: {
      ...baseOptions(theme),
      scales: { x: linearAxis(theme, 'epoch', { ticks: { precision: 0, color: theme.foreground } }), y: linearAxis(theme, y) },
    },
  });
}

/** Train dashed blue, validation solid orange: by label, as a chart may lack either curve. */
function curveStyle(label: string | undefined, theme: Theme) {
  const train = label?.startsWith('train ') === true;
  const colour = train ? theme.blue : theme.orange;
  return {
    borderColor: colour,
    backgroundColor: colour,
    pointBorderColor: colour,
    pointBackgroundColor: colour,
    borderDash: train ? [5, 3] : [],
  };
}

function colourCurves(chart: Chart<'line', CurvePoint[]>, theme: Theme): void {
  for (const dataset of chart.data.datasets) Object.assign(dataset, curveStyle(dataset.label, theme));
}

/** A drawing's element tree as SVG DOM (labels are text nodes). */
function drawingElement(drawing: DrawingElement): SVGElement {
  const element = svg(drawing.tag as keyof SVGElementTagNameMap, drawing.attributes, drawing.text);
  element.append(...drawing.children.map(drawingElement));
  return element;
}
