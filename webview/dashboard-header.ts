// The dashboard's header: progress, elapsed time, ETA, best reward, Stop and Resume.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { RunRecord } from '../src/protocol/engine.ts';
import { formatDuration } from '../src/shared/format.ts';
import { fmt, h } from './common.ts';
import { estimateRemainingMs } from './transforms.ts';
import { dashboardPanel, type State } from './dashboard-state.ts';

export interface Header {
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

/** `current` is the dashboard's state once rendered: the buttons act on its run. */
export function buildHeader(run: RunRecord, current: () => State | undefined): Header {
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
    h(
      'div',
      { class: 'progress-row' },
      h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'trials done' }, bar),
      progressText,
    ),
    h('div', { class: 'facts' }, h('span', {}, 'Elapsed ', elapsed), h('span', {}, 'ETA ', eta), h('span', {}, 'Best reward ', best)),
  );
  const click = (kind: 'stop' | 'resume') => () => {
    const button = kind === 'stop' ? stop : resume;
    const state = current();
    if (!state || button.hasAttribute('disabled')) return;
    dashboardPanel.post({ type: kind, runId: state.data.run.id });
  };
  stop.addEventListener('click', click('stop'));
  resume.addEventListener('click', click('resume'));
  return { root, title, meta, status, bar, progressText, elapsed, eta, best, stop, resume };
}

export function updateHeader(s: State): void {
  const { run } = s.data;
  const hd = s.header;
  hd.title.textContent = run.name;
  hd.status.textContent = run.status;
  hd.status.className = `status status-${run.status}`;
  hd.meta.textContent = [
    `run #${run.id}`,
    `strategy ${run.strategy}`,
    `${run.spaceKind} space`,
    `backend ${run.backend ?? '–'}`,
    `seed ${run.seed}`,
  ].join(' · ');
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

export function updateTimes(s: State): void {
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
