// The trial table, rendered virtually: only the rows in view (plus a margin) exist in the DOM.
import { formatPerplexity, trialStatusLabel, trialWorkerLabel } from '../src/shared/format.ts';
import { fmt, h } from './common.ts';
import { filterAndSortTrials, formatCount, hasRetrained, hasWorkers, type TrialFilter, type TrialSortKey } from './transforms.ts';
import { dashboardPanel, type State } from './dashboard-state.ts';

const ROW_HEIGHT = 24;

export interface Table {
  root: HTMLElement;
  scroller: HTMLElement;
  body: HTMLTableSectionElement;
  count: HTMLElement;
  status: HTMLSelectElement;
  headers: Map<TrialSortKey, HTMLElement>;
  /** A language model's run: validation and test perplexity columns after the reward. */
  perplexities: boolean;
  /** The last column, shown once some trial ran on a remote worker (it may come with a live append). */
  workerHeader: HTMLElement;
  workers: boolean;
  /** "retrained from" and "test acc", shown once some trial is a retraining (it may come with a live append). */
  retrainedHeaders: HTMLElement[];
  retrained: boolean;
}

/**
 * `current` is the dashboard's state once rendered: filtering, sorting and opening act on it. A language
 * model's table (`perplexities`) has validation and test perplexity columns, and its accuracy is of the next token.
 */
export function buildTable(current: () => State | undefined, perplexities: boolean): Table {
  const status = h('select', { id: 'trial-status-filter', 'aria-label': 'status' });
  for (const value of ['all', 'done', 'pruned', 'failed', 'running', 'interrupted']) status.append(h('option', { value }, value));
  const count = h('span', { class: 'table-count', id: 'trial-count' });
  const headers = new Map<TrialSortKey, HTMLElement>();
  const workerHeader = h('th', { class: 'worker', id: 'trial-worker-column', hidden: true }, 'worker');
  const retrainedHeaders = [
    h('th', { id: 'trial-retrained-column', hidden: true }, 'retrained from'),
    h('th', { hidden: true }, 'test acc'),
  ];
  const sortable = (key: TrialSortKey, label: string) => {
    const button = h('button', { class: 'sort', type: 'button', 'data-sort': key }, label);
    headers.set(key, button);
    return h('th', {}, button);
  };
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      sortable('index', '#'),
      h('th', {}, 'status'),
      retrainedHeaders[0],
      sortable('reward', 'reward'),
      perplexities && h('th', {}, 'val ppl'),
      perplexities && h('th', {}, 'test ppl'),
      h('th', {}, perplexities ? 'val next-token acc' : 'val acc'),
      retrainedHeaders[1],
      sortable('params', 'params'),
      sortable('time', 'time (s)'),
      workerHeader,
    ),
  );
  const body = h('tbody');
  const scroller = h('div', { class: 'table-scroll', tabindex: 0 }, h('table', { class: 'trials', id: 'trial-table' }, head, body));
  const root = h(
    'section',
    { class: 'card table-card' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Trials'), h('label', {}, 'Status ', status), count),
    scroller,
  );

  status.addEventListener('change', () => {
    const state = current();
    if (!state) return;
    state.filter = { ...state.filter, status: status.value as TrialFilter['status'] };
    refreshTable(state);
  });
  head.addEventListener('click', (event) => {
    const key = (event.target as HTMLElement).closest('button')?.dataset.sort as TrialSortKey | undefined;
    const state = current();
    if (!state || !key) return;
    const f = state.filter;
    state.filter = { ...f, sortBy: key, descending: f.sortBy === key ? !f.descending : key === 'reward' };
    scroller.scrollTop = 0;
    refreshTable(state);
  });
  const open = (event: Event) => {
    const row = (event.target as HTMLElement).closest('tr[data-index]') as HTMLElement | null;
    const state = current();
    if (!state || !row) return;
    dashboardPanel.post({ type: 'open-trial', runId: state.data.run.id, index: Number(row.dataset.index) });
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
      const state = current();
      if (state) renderRows(state);
    });
  });
  return { root, scroller, body, count, status, headers, perplexities, workerHeader, workers: false, retrainedHeaders, retrained: false };
}

export function refreshTable(s: State): void {
  s.rows = filterAndSortTrials(s.data.trials, s.filter);
  s.table.workers = hasWorkers(s.data.trials);
  s.table.workerHeader.hidden = !s.table.workers;
  s.table.retrained = hasRetrained(s.data.trials);
  for (const header of s.table.retrainedHeaders) header.hidden = !s.table.retrained;
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
  const { scroller, body, perplexities, workers, retrained } = s.table;
  const view = scroller.clientHeight || 400;
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - 10);
  const last = Math.min(s.rows.length, first + Math.ceil(view / ROW_HEIGHT) + 20);
  const rows: HTMLElement[] = [];
  const columns = (perplexities ? 8 : 6) + (workers ? 1 : 0) + (retrained ? 2 : 0);
  if (first > 0) rows.push(spacer(first * ROW_HEIGHT, columns));
  for (let i = first; i < last; i++) {
    const t = s.rows[i];
    const worker = workers ? (trialWorkerLabel(t) ?? '–') : undefined;
    rows.push(
      h(
        'tr',
        { 'data-index': t.index, tabindex: 0, class: `trial-row trial-${t.status}` },
        h('td', { class: 'num' }, t.index),
        h('td', {}, trialStatusLabel(t)),
        retrained && h('td', { class: 'num' }, t.retrainedFrom === undefined ? '–' : `#${t.retrainedFrom}`),
        h('td', { class: 'num' }, fmt(t.reward)),
        // A retrained trial's curve is measured on the test examples: it has no validation figures of its own.
        perplexities && h('td', { class: 'num' }, t.retrainedFrom === undefined ? formatPerplexity(t.valPerplexity) : '–'),
        perplexities && h('td', { class: 'num' }, formatPerplexity(t.testPerplexity)),
        h('td', { class: 'num' }, t.retrainedFrom === undefined ? fmt(t.valAccuracy) : '–'),
        retrained && h('td', { class: 'num' }, fmt(t.testAccuracy ?? null)),
        h('td', { class: 'num' }, formatCount(t.params)),
        h('td', { class: 'num' }, t.seconds === null ? '–' : t.seconds.toFixed(1)),
        worker !== undefined && h('td', { class: 'worker', title: worker }, worker),
      ),
    );
  }
  if (last < s.rows.length) rows.push(spacer((s.rows.length - last) * ROW_HEIGHT, columns));
  body.replaceChildren(...rows);
}

function spacer(height: number, columns: number): HTMLElement {
  const td = h('td', { colspan: columns });
  const tr = h('tr', { class: 'spacer', 'aria-hidden': 'true' }, td);
  tr.style.height = `${height}px`;
  return tr;
}
