// An engine for the reliability tests that kills itself (SIGKILL) at a chosen instant: right after
// trial `killAt` is recorded finished, before the strategy is told of it and the checkpoint written.
// `search FILE DB TRIALS KILL_AT` creates run 1 from FILE and searches it; `resume DB KILL_AT` resumes it.
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';

const [mode, ...args] = process.argv.slice(2);
const [db, killAt] = mode === 'search' ? [args[1], Number(args[3])] : [args[0], Number(args[1])];
const store = new Store(db);
const runId = mode === 'search' ? createRunFromFile(store, args[0], { trials: Number(args[2]) }) : 1;
void runSearch(store, runId, {
  onEvent: (event) => {
    // trial-finished is emitted in the same turn the trial is stored, before its tell.
    if (event.type === 'trial-finished' && event.trial.index === killAt) process.kill(process.pid, 'SIGKILL');
  },
}).finally(() => store.close());
