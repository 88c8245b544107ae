// The ask/tell loop: strategy.ask() -> evaluator -> strategy.tell(), with every step in the store.
// The strategy is small and lives in this process, on the CPU; children train in the evaluator.

import type { ControllerStepRecord, EpochMetrics, TrialRecord } from '../../protocol/engine.ts';
import { log10SpaceSize, type Architecture } from '../../space/decisions.ts';
import { compileSpace } from '../../space/graph.ts';
import { restoredScheduler } from '../schedulers/start.ts';
import { createAskTellStrategy, isAskTell } from '../strategies/registry.ts';
import { controllerStepRecord, type Strategy, type TrialCost } from '../strategies/strategy.ts';
import { evaluateTrial } from '../trial-lifecycle.ts';
import type { RunEnd, RunSession, SearchRunner } from './runner.ts';

/** How long the loop may run without yielding to the event loop (a stop must take effect within 200 ms). */
const YIELD_EVERY_MS = 20;

interface Outcome {
  index: number;
  architecture: Architecture;
  reward: number | null;
  pruned: boolean;
  cost: TrialCost | undefined;
}

/**
 * The asks a resumed strategy lost: those made after its checkpoint (the trials started since, in
 * index order) are made again, before the finished ones are told, as they were first made. Without
 * this the strategy's randomness would propose those architectures once more (issue 14, item 9).
 * Each proposal must be the trial's architecture. Local search and Bayesian optimisation keep their
 * proposals in flight out of their state, so when the checkpoint was taken with trials in flight what
 * they propose again can differ: the strategy is then put back as the checkpoint left it, which for
 * them is sound (they never propose an architecture they have been told).
 */
async function replayLostAsks(
  session: RunSession,
  strategy: Strategy,
  askedThrough: number,
  trials: readonly TrialRecord[],
): Promise<void> {
  const lost = trials.filter((trial) => trial.index > askedThrough);
  if (lost.length === 0) return;
  const before = structuredClone(await strategy.getState());
  for (const trial of lost) {
    const again = strategy.ask();
    if (again.length !== trial.architecture.length || again.some((choice, i) => choice !== trial.architecture[i])) {
      await strategy.setState(before);
      session.log(
        'info',
        `resume: trial ${trial.index} was proposed after the last checkpoint and is not proposed again; continuing from the checkpoint`,
      );
      return;
    }
  }
}

/**
 * The trials a stop or a kill interrupted that no later trial has evaluated again (the same
 * architecture key), in index order. Their architectures were proposed but never measured: a resumed
 * search evaluates them first, under new indices, so that it measures what the uninterrupted search would have.
 */
function interruptedToRetry(trials: readonly TrialRecord[]): Architecture[] {
  const lastIndexOf = new Map(trials.map((trial) => [trial.key, trial.index]));
  return trials.filter((trial) => trial.status === 'interrupted' && lastIndexOf.get(trial.key) === trial.index).map((t) => t.architecture);
}

/**
 * Runs (or resumes) an ask/tell search to its budget. A run resumes from its latest checkpoint: the
 * asks made after it are made again, finished trials the strategy had not yet learned from are told
 * again, interrupted trials are evaluated again, and new trials take fresh indices.
 */
async function searchAskTell(session: RunSession, strategy: Strategy): Promise<RunEnd> {
  const { store, runId, config, emit, checkpoint, stopped } = session;
  let toldThrough = -1;
  // An asynchronous search tells results as they arrive: those told past the in-order prefix `toldThrough`.
  const toldBeyond = new Set<number>(checkpoint?.toldBeyond);
  // No checkpoint: the strategy is as new, and has asked for nothing. A checkpoint from before asks
  // were recorded says nothing of them: none are made again.
  let askedThrough: number | undefined = -1;
  if (checkpoint) {
    await strategy.setState(checkpoint.state);
    toldThrough = checkpoint.toldThrough;
    askedThrough = checkpoint.askedThrough;
  }
  // Rebuilt from the stored curves before anything is told: a resumed run prunes as the uninterrupted one would.
  const scheduler = await restoredScheduler(config, store, runId);
  const evaluator = await session.startEvaluator();
  session.announce(
    { name: evaluator.backend, detail: evaluator.backendDetail },
    log10SpaceSize(compileSpace(config.space)),
    `${evaluator.size} evaluation(s) at a time; scheduler ${config.scheduler.kind}`,
  );

  let trialsDone = store.getRun(runId)?.trialsDone ?? 0;
  let nextIndex = store.nextTrialIndex(runId);
  // Indices past `toldThrough` that were interrupted (never told, never holding up a tell).
  const skippedBeyond = new Set<number>();
  const advanceToldThrough = () => {
    while (toldBeyond.delete(toldThrough + 1) || skippedBeyond.delete(toldThrough + 1)) toldThrough += 1;
  };
  // A failed trial is told with reward null, whatever failed: the architecture (a NaN loss, a result
  // the store refused) or the machinery (EvaluationFailed.infrastructure: its trainer died on every
  // attempt, a fresh one included). That is sound for every strategy: random ignores it; evolution
  // keeps it as a member that loses every tournament to a scored one until it ages out; local search
  // and Bayesian optimisation mark it told (never proposed again, nothing fitted to it), and must be
  // told to drop it from their proposals in flight; REINFORCE learns reward 0, which steers away from
  // it: right when a trainer dies twice on one child (most often its memory), one sample of noise in
  // a batch when the machine was at fault. The trial counts in the budget, as it was evaluated.
  // A pruned trial is told by the rule the strategy states (Strategy.learnsFromPruned).
  const tell = async (outcome: Outcome) => {
    const reward = outcome.pruned && !strategy.learnsFromPruned ? null : outcome.reward;
    const learned = strategy.tell(outcome.architecture, reward, outcome.cost);
    toldBeyond.add(outcome.index);
    advanceToldThrough();
    let controllerStep: ControllerStepRecord | undefined;
    if (learned?.kind === 'controller-step') {
      controllerStep = controllerStepRecord(runId, learned);
      emit({ type: 'controller-step', step: controllerStep });
    }
    const state = await strategy.getState();
    store.recordTell(runId, controllerStep, { toldThrough, askedThrough: nextIndex - 1, toldBeyond: [...toldBeyond], state });
  };

  const earlier = store.listTrials(runId);
  if (askedThrough !== undefined) await replayLostAsks(session, strategy, askedThrough, earlier);
  // Finished trials the checkpoint had not learned from (the writer died between the two).
  for (const trial of earlier) {
    const finishedHere = trial.status === 'done' || trial.status === 'pruned' || trial.status === 'failed';
    if (trial.index > toldThrough && trial.status === 'interrupted') skippedBeyond.add(trial.index);
    if (trial.index > toldThrough && finishedHere && !toldBeyond.has(trial.index)) {
      const { architecture, reward, metrics } = trial;
      await tell({ index: trial.index, architecture, reward, pruned: trial.status === 'pruned', cost: metrics ?? undefined });
    }
  }

  const retries = interruptedToRetry(earlier);

  const finished = new Map<number, Outcome>();
  const inFlight = new Set<Promise<void>>();
  let nextToTell = nextIndex;
  // An interrupted trial is not told (its architecture was not measured) but must not hold up the tells after it.
  const interrupted = new Set<number>();
  // Set when the evaluator can run nothing more (no trainer left, none could be started): asking stops,
  // and the run ends interrupted with this reason instead of failing every trial left in its budget.
  let noEvaluatorLeft: string | undefined;
  const halted = () => stopped() || noEvaluatorLeft !== undefined;
  const onEpoch = scheduler && ((metrics: EpochMetrics, index: number) => scheduler.report(index, metrics.epoch, metrics.valAccuracy));
  const evaluate = async (index: number, architecture: Architecture, hidden: number[] | undefined) => {
    const outcome = await evaluateTrial(session, { index, architecture, hidden }, evaluator, { onEpoch });
    const { status, reward, cost } = outcome;
    scheduler?.finish(index, status);
    noEvaluatorLeft ??= outcome.noEvaluatorLeft;
    if (status === 'interrupted') {
      interrupted.add(index);
      return;
    }
    trialsDone += 1;
    finished.set(index, { index, architecture, reward, pruned: status === 'pruned', cost });
  };

  const budget = config.budget.trials;
  const toAsk = budget - trialsDone;
  // Tells go in index order, whatever order training ends in. When what a strategy proposes depends
  // on what it was told, asks and tells also alternate in a fixed order (ask j only after tell
  // j - size), so a seed gives the same search however long each child takes to train. An
  // asynchronous search (runtime.asynchronous) gives that up for throughput: it tells each result as
  // it arrives and asks as soon as an evaluation is free, as NAS-RL's controller did.
  const asynchronous = config.runtime.asynchronous === true && strategy.adaptive;
  if (asynchronous && checkpoint === undefined && nextIndex === 0) {
    const note = store.addRunNote(
      runId,
      'warn',
      'asynchronous: the strategy learns from results in the order they arrive, so this run is not reproducible from its seed',
    );
    emit({ type: 'run-note', note });
  }
  const window = strategy.adaptive && !asynchronous ? evaluator.size : Number.POSITIVE_INFINITY;
  const skipInterrupted = () => {
    while (interrupted.delete(nextToTell)) {
      skippedBeyond.add(nextToTell);
      nextToTell += 1;
      told += 1;
    }
  };
  let asked = 0;
  let told = 0;
  let yieldedAt = performance.now();
  for (;;) {
    // A table lookup resolves in a microtask and the store is synchronous: without a turn of the event
    // loop now and then, a stop (Ctrl-C, SIGTERM, VS Code's Stop) would wait for the whole search.
    if (performance.now() - yieldedAt > YIELD_EVERY_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      yieldedAt = performance.now();
    }
    while (!halted() && asked < toAsk && asked - told < window && inFlight.size < evaluator.size) {
      asked += 1;
      // A retried architecture is told like any other, but the strategy did not propose it now.
      const retried = retries.shift();
      const architecture = retried ?? strategy.ask();
      const hidden = retried ? undefined : strategy.lastHiddenState?.();
      const running: Promise<void> = evaluate(nextIndex++, architecture, hidden).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    const mayTell = () => !strategy.adaptive || asynchronous || asked - told >= window || asked === toAsk || halted();
    let progressed = false;
    if (asynchronous) {
      for (const index of interrupted) {
        interrupted.delete(index);
        told += 1;
        skippedBeyond.add(index);
      }
      for (const [index, outcome] of finished) {
        finished.delete(index);
        told += 1;
        progressed = true;
        await tell(outcome);
      }
    }
    skipInterrupted();
    while (finished.has(nextToTell) && mayTell()) {
      const outcome = finished.get(nextToTell)!;
      finished.delete(nextToTell);
      nextToTell += 1;
      told += 1;
      progressed = true;
      await tell(outcome);
      skipInterrupted();
    }
    if (progressed) continue;
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
  return { progress: `after ${trialsDone} of ${budget} trials`, interruptedBecause: noEvaluatorLeft };
}

export const askTellRunner: SearchRunner = {
  oneShot: false,
  computeBackend: () => 'cpu',
  async run(session) {
    const { config } = session;
    if (!isAskTell(config.strategy)) throw new Error(`run ${session.runId} is a ${config.strategy.kind} search, not an ask/tell one`);
    const strategy = await createAskTellStrategy(config.strategy, compileSpace(config.space), config.runtime.seed);
    try {
      return await searchAskTell(session, strategy);
    } finally {
      strategy.dispose();
    }
  },
};
