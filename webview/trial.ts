// The trial view: the architecture drawn as SVG (macro: the stack of layers with skip arrows; cell:
// the normal and reduction cells as DAGs; nasbench201: its 4 nodes with the operation on each edge;
// recurrent: ENAS's cell from x_t and h_{t-1} to the mean of its leaves), the learning curves, the details
// and the decisions, the end of the trial's log when it keeps one, and text sampled from a language model
// whose weights the store kept.
// Nodes have class `arch-node` and edges class `arch-edge` (the e2e tests count them).
import type { trialPanel } from '../src/extension/panels/trial.ts';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartDataset } from 'chart.js';
import type { LogTail, TrialData } from '../src/protocol/webview.ts';
import {
  cellOutputNodes,
  macroOutputLayers,
  recurrentLeaves,
  type CellNode,
  type MacroGraph,
  type NasBench201Graph,
  type RecurrentGraph,
} from '../src/space/graph.ts';
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
  const worker = trialWorkerLabel(trial);
  const header = h(
    'header',
    { class: 'run-header' },
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, `Trial ${trial.index}`),
      h('span', { class: `status status-${trial.status}`, id: 'trial-status' }, trialStatusLabel(trial)),
      h('span', { class: 'spacer' }),
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
  if (trial.graph.kind === 'macro') {
    architecture.append(drawMacro(trial.graph));
  } else if (trial.graph.kind === 'nasbench201') {
    architecture.append(h('h3', { class: 'cell-title' }, 'NAS-Bench-201 cell'), drawNasBench201(trial.graph));
  } else if (trial.graph.kind === 'recurrent') {
    architecture.append(h('h3', { class: 'cell-title' }, 'Recurrent cell'), drawRecurrent(trial.graph));
  } else if (trial.graph.kind === 'cell') {
    architecture.append(h('h3', { class: 'cell-title' }, 'Normal cell'), drawCell(trial.graph.normal, 'normal'));
    architecture.append(h('h3', { class: 'cell-title' }, 'Reduction cell'), drawCell(trial.graph.reduction, 'reduction'));
  } else {
    // A space kind this panel has no drawing for: its decisions (under Details) describe it.
    architecture.append(h('p', {}, `A ${(trial.graph as { kind: string }).kind} architecture: its decisions are listed under Details.`));
  }

  const m = trial.metrics;
  const started = Date.parse(trial.startedAt);
  const finished = trial.finishedAt ? Date.parse(trial.finishedAt) : NaN;
  const facts: [string, string][] = [
    ['status', trialStatusLabel(trial)],
    ['epochs trained', String(trial.epochsTrained)],
    ['reward', fmt(trial.reward)],
    // A language model's accuracies are of its next-token guesses; its perplexity comes first.
    ...(typeof m?.valPerplexity === 'number'
      ? ([
          ['validation perplexity', formatPerplexity(m.valPerplexity)],
          ['test perplexity', formatPerplexity(m.testPerplexity)],
          ['validation next-token accuracy', fmt(m.valAccuracy)],
          ['test next-token accuracy', fmt(m.testAccuracy)],
        ] satisfies [string, string][])
      : ([
          ['validation accuracy', fmt(m?.valAccuracy)],
          ['test accuracy', fmt(m?.testAccuracy)],
        ] satisfies [string, string][])),
    ['parameters', m && m.params !== null ? `${formatCount(m.params)} (${m.params.toLocaleString('en-US')})` : '–'],
    ['FLOPs', formatCount(m?.flops ?? null)],
    ['training time', m ? `${m.seconds.toFixed(1)} s` : Number.isFinite(finished) ? formatDuration((finished - started) / 1000) : '–'],
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
  const curves = learningCurves(data.epochs);
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

// ---------------------------------------------------------------------------------------
// SVG drawing (createElementNS only; labels are text nodes)

const NODE_W = 230;
const NODE_H = 30;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function svgRoot(width: number, height: number, label: string): { root: SVGSVGElement; markerId: string } {
  const markerId = `arrow-${++markerSeq}`;
  const root = svg('svg', { class: 'arch-svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const marker = svg('marker', {
    id: markerId,
    viewBox: '0 0 10 10',
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: 'auto-start-reverse',
  });
  marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
  const defs = svg('defs');
  defs.append(marker);
  root.append(defs);
  return { root, markerId };
}

function node(parent: SVGElement, box: Box, label: string, extraClass = '', id?: string): void {
  const g = svg('g', { class: `arch-node${extraClass ? ` ${extraClass}` : ''}`, ...(id ? { 'data-node': id } : {}) });
  g.append(svg('rect', { x: box.x, y: box.y, width: box.w, height: box.h, rx: 4 }));
  g.append(svg('text', { x: box.x + box.w / 2, y: box.y + box.h / 2, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, label));
  const title = svg('title', {}, label);
  g.append(title);
  parent.append(g);
}

function edge(parent: SVGElement, d: string, markerId: string, extraClass = '', label?: { x: number; y: number; text: string }): void {
  const g = svg('g', { class: `arch-edge${extraClass ? ` ${extraClass}` : ''}` });
  g.append(svg('path', { d, 'marker-end': `url(#${markerId})` }));
  if (label) g.append(svg('text', { x: label.x, y: label.y, 'text-anchor': 'middle', 'dominant-baseline': 'central' }, label.text));
  parent.append(g);
}

/** Image at the top, the layers below it, the classifier at the bottom; skips curve on the right. */
function drawMacro(graph: MacroGraph): SVGSVGElement {
  const gap = 26;
  const left = 20;
  const count = graph.layers.length + 2;
  const maxSpan = Math.max(1, ...graph.layers.flatMap((layer, i) => layer.inputs.map((j) => i - j)), graph.layers.length);
  const width = left + NODE_W + 40 + Math.min(maxSpan, 12) * 14 + 20;
  const height = 20 + count * (NODE_H + gap);
  const { root, markerId } = svgRoot(width, height, 'macro architecture');
  const box = (row: number): Box => ({ x: left, y: 10 + row * (NODE_H + gap), w: NODE_W, h: NODE_H });
  const edges = svg('g');
  const nodes = svg('g');
  root.append(edges, nodes);

  node(nodes, box(0), 'image', 'io', 'image');
  graph.layers.forEach((layer, i) => {
    node(
      nodes,
      box(i + 1),
      `conv ${layer.filterHeight}x${layer.filterWidth}, ${layer.filters} filters (stride ${layer.stride})`,
      '',
      `layer${i}`,
    );
  });
  const classifierRow = graph.layers.length + 1;
  node(nodes, box(classifierRow), 'classifier', 'output', 'classifier');

  const link = (fromRow: number, toRow: number) => {
    const from = box(fromRow);
    const to = box(toRow);
    if (toRow - fromRow === 1) {
      const x = from.x + from.w / 2;
      edge(edges, `M ${x} ${from.y + from.h} L ${x} ${to.y}`, markerId);
      return;
    }
    // A skip: out of the right side, around, into the right side of the target.
    const span = toRow - fromRow;
    const bulge = from.x + from.w + 16 + Math.min(span, 12) * 14;
    const y1 = from.y + from.h / 2;
    const y2 = to.y + to.h / 2;
    edge(edges, `M ${from.x + from.w} ${y1} C ${bulge} ${y1}, ${bulge} ${y2}, ${to.x + to.w + 1} ${y2}`, markerId, 'skip');
  };
  graph.layers.forEach((layer, i) => {
    const inputs = layer.inputs.length === 0 ? [-1] : layer.inputs; // -1: the image
    for (const j of inputs) link(j + 1, i + 1);
  });
  const outputs = graph.layers.length === 0 ? [-1] : macroOutputLayers(graph);
  for (const j of outputs) link(j + 1, classifierRow);
  return root;
}

/** A cell as a DAG: inputs on top, each node one level below its deepest input, the output at the bottom. */
function drawCell(nodes: readonly CellNode[], kind: string): SVGSVGElement {
  const w = 110;
  const hgap = 80;
  const vgap = 96;
  const level: number[] = [0, 0];
  nodes.forEach((n) => level.push(1 + Math.max(level[n.inputs[0]], level[n.inputs[1]])));
  const outputLevel = Math.max(...level) + 1;
  const rows = new Map<number, number[]>();
  level.forEach((l, i) => rows.set(l, [...(rows.get(l) ?? []), i]));
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const width = 20 + widest * (w + hgap);
  const height = 20 + (outputLevel + 1) * (NODE_H + vgap) - vgap;
  const { root, markerId } = svgRoot(width, height, `${kind} cell`);
  const boxes: Box[] = [];
  for (const [l, members] of rows) {
    const rowWidth = members.length * w + (members.length - 1) * hgap;
    members.forEach((member, k) => {
      boxes[member] = { x: (width - rowWidth) / 2 + k * (w + hgap), y: 10 + l * (NODE_H + vgap), w, h: NODE_H };
    });
  }
  const outputBox: Box = { x: (width - w) / 2, y: 10 + outputLevel * (NODE_H + vgap), w, h: NODE_H };
  const edgeLayer = svg('g');
  const nodeLayer = svg('g');
  root.append(edgeLayer, nodeLayer);
  const label = (i: number) => (i < 2 ? `input${i}` : `node${i - 2}`);
  boxes.forEach((b, i) => node(nodeLayer, b, label(i), i < 2 ? 'io' : '', `${kind}.${label(i)}`));
  node(nodeLayer, outputBox, 'output', 'output', `${kind}.output`);

  const curve = (from: Box, to: Box, bend: number) => {
    const x1 = from.x + from.w / 2;
    const y1 = from.y + from.h;
    const x2 = to.x + to.w / 2 + bend * 0.4;
    const y2 = to.y;
    const cx = (x1 + x2) / 2 + bend;
    const cy = (y1 + y2) / 2;
    // Labels sit at t = 0.35 (first input) or 0.65 (second) along the curve, so the two edges of
    // a node rarely put theirs in the same place.
    const at = (t: number) => ({
      x: (1 - t) ** 2 * x1 + 2 * (1 - t) * t * cx + t ** 2 * x2,
      y: (1 - t) ** 2 * y1 + 2 * (1 - t) * t * cy + t ** 2 * y2,
    });
    return { d: `M ${x1} ${y1} Q ${cx} ${cy}, ${x2} ${y2}`, at };
  };
  nodes.forEach((n, j) => {
    const target = boxes[j + 2];
    [0, 1].forEach((side) => {
      const same = n.inputs[0] === n.inputs[1];
      const bend = same ? (side === 0 ? -28 : 28) : 0;
      const { d, at } = curve(boxes[n.inputs[side]], target, bend);
      const mid = at(side === 0 ? 0.35 : 0.65);
      edge(edgeLayer, d, markerId, '', { x: mid.x, y: mid.y, text: n.operations[side] });
    });
  });
  for (const j of cellOutputNodes(nodes)) edge(edgeLayer, curve(boxes[j + 2], outputBox, 0).d, markerId, 'to-output');
  return root;
}

/**
 * ENAS's recurrent cell: x_t and h_{t-1} on top, both read by node1; each later node one level below the
 * node it reads, labelled with its activation; the leaves (nodes no other reads) feed the mean, which is h_t.
 */
function drawRecurrent(graph: RecurrentGraph): SVGSVGElement {
  const w = 130;
  const hgap = 40;
  const vgap = 56;
  // Boxes 0 and 1 are x_t and h_{t-1}; node k is box k + 2.
  const level: number[] = [0, 0];
  graph.nodes.forEach((n, k) => level.push(k === 0 ? 1 : level[n.input + 2] + 1));
  const meanLevel = Math.max(...level) + 1;
  const rows = new Map<number, number[]>();
  level.forEach((l, i) => rows.set(l, [...(rows.get(l) ?? []), i]));
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const width = 20 + widest * (w + hgap);
  const height = 20 + (meanLevel + 2) * (NODE_H + vgap) - vgap;
  const { root, markerId } = svgRoot(width, height, 'recurrent cell');
  const boxAt = (l: number, k: number, count: number): Box => {
    const rowWidth = count * w + (count - 1) * hgap;
    return { x: (width - rowWidth) / 2 + k * (w + hgap), y: 10 + l * (NODE_H + vgap), w, h: NODE_H };
  };
  const boxes: Box[] = [];
  for (const [l, members] of rows) members.forEach((member, k) => (boxes[member] = boxAt(l, k, members.length)));
  const meanBox = boxAt(meanLevel, 0, 1);
  const outputBox = boxAt(meanLevel + 1, 0, 1);
  const edgeLayer = svg('g');
  const nodeLayer = svg('g');
  root.append(edgeLayer, nodeLayer);
  node(nodeLayer, boxes[0], 'x_t', 'io', 'recurrent.x');
  node(nodeLayer, boxes[1], 'h_{t-1}', 'io', 'recurrent.h_prev');
  graph.nodes.forEach((n, k) => node(nodeLayer, boxes[k + 2], `node${k + 1}: ${n.activation}`, '', `recurrent.node${k + 1}`));
  node(nodeLayer, meanBox, 'mean', '', 'recurrent.mean');
  node(nodeLayer, outputBox, 'h_t', 'output', 'recurrent.h');
  const link = (from: Box, to: Box, extraClass = '') => {
    const x1 = from.x + from.w / 2;
    const y1 = from.y + from.h;
    const x2 = to.x + to.w / 2;
    const y2 = to.y;
    edge(edgeLayer, `M ${x1} ${y1} C ${x1} ${(y1 + y2) / 2}, ${x2} ${(y1 + y2) / 2}, ${x2} ${y2}`, markerId, extraClass);
  };
  graph.nodes.forEach((n, k) => {
    const inputs = k === 0 ? [0, 1] : [n.input + 2];
    for (const input of inputs) link(boxes[input], boxes[k + 2]);
  });
  for (const leaf of recurrentLeaves(graph.nodes)) link(boxes[leaf + 2], meanBox, 'to-output');
  link(meanBox, outputBox, 'to-output');
  return root;
}

/**
 * The NAS-Bench-201 cell: node0 (input) at the top down to node3 (output). Edges between neighbours
 * run straight; the longer ones bend to either side so no two share a path. `none` edges are cut.
 */
function drawNasBench201(graph: NasBench201Graph): SVGSVGElement {
  const w = 110;
  const vgap = 70;
  const width = 560;
  const nodeCount = 4;
  const height = 20 + nodeCount * (NODE_H + vgap) - vgap;
  const { root, markerId } = svgRoot(width, height, 'NAS-Bench-201 cell');
  const box = (i: number): Box => ({ x: (width - w) / 2, y: 10 + i * (NODE_H + vgap), w, h: NODE_H });
  const edgeLayer = svg('g');
  const nodeLayer = svg('g');
  root.append(edgeLayer, nodeLayer);
  for (let i = 0; i < nodeCount; i++) {
    const label = i === 0 ? 'node0 (input)' : i === nodeCount - 1 ? `node${i} (output)` : `node${i}`;
    node(nodeLayer, box(i), label, i === 0 ? 'io' : i === nodeCount - 1 ? 'output' : '', `nasbench201.node${i}`);
  }
  // Horizontal offset of the control point per edge span and side: 0->2 right, 1->3 left, 0->3 far right.
  const bendOf = (from: number, to: number) => (to - from === 1 ? 0 : to - from === 3 ? 260 : from === 0 ? 150 : -150);
  for (const e of graph.edges) {
    if (e.operation === 'none') continue;
    const from = box(e.from);
    const to = box(e.to);
    const bend = bendOf(e.from, e.to);
    const side = Math.sign(bend);
    const x1 = from.x + from.w / 2 + (side * from.w) / 2;
    const x2 = to.x + to.w / 2 + (side * to.w) / 2;
    const y1 = bend === 0 ? from.y + from.h : from.y + from.h / 2;
    const y2 = bend === 0 ? to.y : to.y + to.h / 2;
    const cx = (x1 + x2) / 2 + bend;
    const cy = (y1 + y2) / 2;
    // The curve's midpoint: a quarter of each end plus half the control point.
    const mid = { x: (x1 + x2) / 4 + cx / 2, y: (y1 + y2) / 4 + cy / 2 };
    const label = bend === 0 ? { x: mid.x + 60, y: mid.y, text: e.operation } : { ...mid, text: e.operation };
    edge(edgeLayer, `M ${x1} ${y1} Q ${cx} ${cy}, ${x2} ${y2}`, markerId, '', label);
  }
  return root;
}
