// What a resumed search with a queue does first: the trials its killed engine left running may have
// been trained meanwhile, or still be training, on the workers. Their results are collected, not
// trained again; a trial whose job the queue no longer has is recorded interrupted, and retried.

import { finishStartedTrial, type TrialContext } from '../trial-lifecycle.ts';
import type { RemoteEvaluator } from './remote-evaluator.ts';

export async function collectQueuedTrials(context: TrialContext, remote: RemoteEvaluator, log: (message: string) => void): Promise<void> {
  const unfinished = context.store.listTrials(context.runId).filter((trial) => trial.status === 'running');
  if (unfinished.length === 0) return;
  log(`resume: collecting ${unfinished.length} trial(s) an earlier session left on the queue, finished or still training`);
  const outcomes = await Promise.all(
    unfinished.map((trial) => finishStartedTrial(context, trial.index, (onEpoch) => remote.follow(trial.index, onEpoch))),
  );
  const collected = outcomes.filter((outcome) => outcome.status !== 'interrupted').length;
  log(`resume: collected ${collected} of them; ${unfinished.length - collected} had left the queue and will be evaluated again`);
}
