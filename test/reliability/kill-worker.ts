// An engine for the reliability tests that kills at a chosen instant, with its log on stderr.
// `search FILE DB TRIALS KILL_AT`: creates run 1 from FILE and searches it, and kills itself (SIGKILL)
// right after trial KILL_AT is recorded finished, before the strategy is told of it and the checkpoint written.
// `retrain FILE DB`: searches a one-shot run, and kills its trainers (SIGKILL) at the first epoch the
// retraining of the best architecture reports.
import { spawnSync } from 'node:child_process';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import type { EngineEvent } from '../../src/protocol/engine.ts';

const [mode, file, db, trials, killAt] = process.argv.slice(2);
const store = new Store(db);
const runId = createRunFromFile(store, file, mode === 'search' ? { trials: Number(trials) } : {});

let retraining = false;
let trainersKilled = false;
function onEvent(event: EngineEvent): void {
  if (event.type === 'log') process.stderr.write(`${event.level}: ${event.message}\n`);
  if (mode === 'search') {
    // trial-finished is emitted in the same turn the trial is stored, before its tell.
    if (event.type === 'trial-finished' && event.trial.index === Number(killAt)) process.kill(process.pid, 'SIGKILL');
  } else {
    // The one-shot runners log the architecture they retrain just before retraining it.
    if (event.type === 'log' && /derived cell|retrained from scratch/.test(event.message)) retraining = true;
    if (event.type === 'epoch' && retraining && !trainersKilled) {
      trainersKilled = true;
      const trainers = spawnSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter(Boolean);
      process.stderr.write(`killing the trainers ${trainers.join(' ')} after epoch ${event.metrics.epoch} of trial ${event.trial}\n`);
      for (const pid of trainers) process.kill(Number(pid), 'SIGKILL');
    }
  }
}

void runSearch(store, runId, { onEvent })
  .then((status) => process.stderr.write(`run ${runId} ${status}\n`))
  .finally(() => store.close());
