// Formatting shared by the CLI, the extension and the panels: one way to write a duration, a trial's status,
// a perplexity, the backend check, and the end of a trial's log.

import type { BackendReport, TrialStatus } from '../protocol/engine.ts';
import type { LogTail } from '../protocol/webview.ts';

/** A duration as a person would write it: `4.3s`, `2m05s`, `3h07m`; `-` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  if (seconds < 59.95) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** A trial's status as every front end writes it: a pruned trial says the epoch it stopped at (`pruned @ epoch 2`). */
export function trialStatusLabel(trial: { status: TrialStatus; epochsTrained: number }): string {
  return trial.status === 'pruned' ? `pruned @ epoch ${trial.epochsTrained}` : trial.status;
}

/** A language model's perplexity as every front end writes it: two decimals (`12.34`); `-` when not measured. */
export function formatPerplexity(perplexity: number | null | undefined): string {
  return perplexity === null || perplexity === undefined || !Number.isFinite(perplexity) ? '-' : perplexity.toFixed(2);
}

/** The backend check as `nas-studio doctor` prints it and NAS: Check Backends shows it: a line per backend, its hint under it. */
export function formatBackendReports(reports: BackendReport[]): string {
  const width = Math.max(...reports.map((report) => report.name.length));
  const lines = reports.flatMap((report) => [
    `${report.name.padEnd(width)}  ${(report.usable ? 'usable' : 'not usable').padEnd('not usable'.length)}  ${report.detail}`,
    ...(report.hint ? [`${' '.repeat(width)}  what to do: ${report.hint}`] : []),
  ]);
  const picked = reports.find((report) => report.pickedByAuto);
  return [...lines, `auto picks: ${picked?.name ?? 'none'}`].join('\n');
}

/** The last `count` lines of a program's output (its final newline dropped), and how many lines came before them. */
export function logTail(output: string, count: number): LogTail {
  const lines = output.replace(/\r?\n$/, '').split(/\r?\n/);
  const earlierLines = Math.max(0, lines.length - count);
  return { text: lines.slice(earlierLines).join('\n'), earlierLines };
}

/**
 * Where a trial ran, as the panels write it: the remote worker (`vm pid 1234, wasm`), and `(attempt 2)` when a
 * worker started it more than once; undefined for a trial that ran on the search's own machine.
 */
export function trialWorkerLabel(trial: { worker?: string | null; attempts?: number | null }): string | undefined {
  if (trial.worker === null || trial.worker === undefined) return undefined;
  const attempts = trial.attempts ?? 1;
  return attempts > 1 ? `${trial.worker} (attempt ${attempts})` : trial.worker;
}
