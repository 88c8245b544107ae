// The live progress line of `nas-studio search`: trial i/N, best reward so far, elapsed time, ETA.

import { countsInBudget, rewardCountsForBest, type EngineEvent } from '../protocol/engine.ts';
import { formatDuration, trialStatusLabel } from '../shared/format.ts';

export class ProgressLine {
  private started = Date.now();
  private budget = 0;
  private doneAtStart = 0;
  private done = 0;
  private best: number | null = null;
  private lastLine = '';
  private timer: NodeJS.Timeout | undefined;
  /** On a terminal the line is redrawn in place; in a log it is printed once per finished trial. */
  private readonly live = Boolean(process.stderr.isTTY);

  constructor(private readonly write: (text: string) => void) {}

  onEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'run-started':
        this.started = Date.now();
        this.budget = event.run.budgetTrials;
        this.done = this.doneAtStart = event.run.trialsDone;
        this.best = event.run.bestReward;
        this.print(
          `${event.resumed ? 'resuming' : 'starting'} run ${event.run.id} "${event.run.name}": ${event.run.strategy} ` +
            `on a ${event.run.spaceKind} space of 10^${event.log10SpaceSize.toFixed(1)} architectures, ` +
            `backend ${event.backend}`,
        );
        if (this.live) this.timer = setInterval(() => this.redraw(), 1000);
        break;
      case 'trial-finished': {
        const { trial } = event;
        if (!countsInBudget(trial.status)) break;
        this.done += 1;
        if (rewardCountsForBest(trial) && (this.best === null || trial.reward! > this.best)) this.best = trial.reward;
        if (trial.status === 'failed') this.print(`trial ${trial.index} failed: ${trial.error}`);
        if (trial.status === 'pruned') this.print(`trial ${trial.index} ${trialStatusLabel(trial)}`);
        if (!this.live) this.print(this.status());
        else this.redraw();
        break;
      }
      case 'log':
        if (event.level !== 'info' || !this.live) this.print(`${event.level}: ${event.message}`);
        break;
      default:
        break;
    }
  }

  private status(): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const finishedHere = this.done - this.doneAtStart;
    const eta = finishedHere > 0 ? (elapsed / finishedHere) * (this.budget - this.done) : Number.NaN;
    const best = this.best === null ? '-' : this.best.toFixed(4);
    return `trial ${this.done}/${this.budget}  best reward ${best}  elapsed ${formatDuration(elapsed)}  eta ${formatDuration(eta)}`;
  }

  private redraw(): void {
    const line = this.status();
    this.write(`\r${line.padEnd(this.lastLine.length)}`);
    this.lastLine = line;
  }

  private print(line: string): void {
    if (this.live && this.lastLine) this.write(`\r${' '.repeat(this.lastLine.length)}\r`);
    this.write(`${line}\n`);
    if (this.live && this.lastLine) this.redraw();
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.live && this.lastLine) this.write('\n');
  }
}
