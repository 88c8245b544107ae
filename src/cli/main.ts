#!/usr/bin/env node
// `nas-studio`: the headless front end. It drives the same engine as the editor and reads the same database.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngineEvent, RunRecord, SearchOverrides, TrialRecord } from '../protocol/engine.ts';
import { BACKENDS, type BackendChoice, type ParetoCost, type SearchConfig } from '../space/config.ts';
import { drawArchitecture } from '../space/graph.ts';
import { formatProblem, loadSearchFile } from '../space/parse.ts';
import { InvalidSearchFile, createRunFromFile, runSearch } from '../engine/search.ts';
import { Store } from '../engine/store/store.ts';
import { controllerInsight } from '../engine/analysis/controller-insight.ts';
import { sampleText } from '../engine/analysis/sample-text.ts';
import { paretoFront } from '../engine/analysis/pareto.ts';
import { PARETO_COST_FIELDS } from '../shared/pareto-cost.ts';
import {
  PAPER_TABLE1,
  SPEARMAN_COLUMNS,
  sharedOperations,
  type ControllerInsight,
  type ControllerRow,
  type SpearmanRow,
} from '../protocol/insight.ts';
import { formatBackendReports, formatDuration, formatPerplexity, logTail, trialStatusLabel, trialWorkerLabel } from '../shared/format.ts';
import { checkBackends } from '../engine/backend.ts';
import { exportOptunaStudy } from '../engine/export/optuna.ts';
import { ONE_TRIAL_FORMATS, exportOneTrial, isModelFormat } from '../engine/export/trial.ts';
import { queueUrlProblem } from '../space/queue-url.ts';
import { retrainTrial } from '../engine/retrain.ts';
import { parseRetrainRecipe } from '../space/retrain-recipe.ts';
import type { RetrainRecipe } from '../space/kinds/evaluations/train.ts';
import { ProgressLine } from './progress.ts';

const USAGE = `nas-studio: neural architecture search on your machine

usage:
  nas-studio search <file.nas.yaml> [--db PATH] [--trials N] [--seed S] [--backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu]
                    [--queue redis://[:PASSWORD@]HOST:PORT/DB]   --queue: trials go to workers through this Redis (runtime.queue)
  nas-studio worker --queue redis://HOST:PORT/DB [--concurrency N] [--backend B] [--data-root DIR] [--allow-commands]
                    [--stall-seconds S]   takes trials from the queue, N at a time (default 1); relative data paths resolve
                    under DIR (default: here); --allow-commands lets it run a search file's own command (anyone who can
                    write to the queue could otherwise run code here); S: how soon a dead worker's trial goes back (default 30)
  nas-studio validate <file.nas.yaml>
  nas-studio resume <run> [--db PATH] [--force]   --force: take over a run whose writer cannot be checked (another host or container)
  nas-studio runs [--db PATH] [--json]
  nas-studio trials <run|latest> [--db PATH] [--json]
  nas-studio show <run|latest> <trial> [--db PATH] [--json]   its metrics, epochs and the end of its log, if it kept one
  nas-studio front <run|latest> [--db PATH] [--json]   the Pareto front of its done trials: validation accuracy vs params, or vs
                    the costs its Pareto evolution minimised (params, flops, latency)
  nas-studio analyze <run|latest> [--db PATH] [--json]   controller insight of a reinforce or enas run
  nas-studio sample <run|latest> <trial> [--prompt P] [--temperature T] [--length N] [--seed S] [--db PATH]
                                        text from a language-model trial's kept weights (defaults: "ROMEO:", 0.8, 200)
  nas-studio retrain <run|latest> [trial] [--epochs N] [--recipe YAML] [--db PATH]
                    trains the trial (default: the run's best) again from scratch with the final recipe (evaluation.retrain;
                    --recipe '{epochs: 30, augment: {crop_padding: 4, horizontal_flip: false}}' changes it) on the training
                    and validation examples, reports test accuracy (a language model's test perplexity), and keeps
                    its weights: a new trial of the run
  nas-studio export <run|latest> [trial] --format json|svg|optuna|tfjs|keras|pytorch --out PATH [--force]
                    json: a trial's architecture, decisions, graph and metrics; svg: its drawing as the trial view shows
                    it, as a standalone file; the trial defaults to the run's best done one. optuna: the whole run as an
                    Optuna study (Optuna's SQLite schema): optuna.load_study and optuna-dashboard open it.
                    tfjs, keras, pytorch: the trained model, into the folder PATH, from a trial that kept its weights
                    (a retrained trial, or runtime.keep_weights); the trial defaults to the run's latest retrained one
  nas-studio delete <run> [--db PATH]   deletes the run, its trials and their kept weights' files
  nas-studio doctor [--json]   which compute backends work here, what to do about the others, and which one auto picks

The database defaults to .nas-studio/runs.db under the current folder.
Exit status: 0 success, 1 failure, 2 invalid input.`;

class UsageError extends Error {}

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set([
  'db',
  'trials',
  'seed',
  'backend',
  'prompt',
  'temperature',
  'length',
  'queue',
  'concurrency',
  'data-root',
  'stall-seconds',
  'format',
  'out',
  'epochs',
  'recipe',
]);
const SWITCH_FLAGS = new Set(['json', 'help', 'force', 'allow-commands']);

function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      flags.set('help', true);
    } else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2);
      if (VALUE_FLAGS.has(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      } else if (SWITCH_FLAGS.has(name)) {
        flags.set(name, true);
      } else {
        throw new UsageError(`unknown option --${name}`);
      }
    } else {
      positional.push(arg);
    }
  }
  return { positional, flags };
}

function backendFlag(args: ParsedArgs): BackendChoice | undefined {
  const backend = args.flags.get('backend');
  if (backend !== undefined && !BACKENDS.includes(backend as BackendChoice)) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got "${String(backend)}"`);
  }
  return backend as BackendChoice | undefined;
}

function queueFlag(args: ParsedArgs): string | undefined {
  const queue = args.flags.get('queue');
  if (queue === undefined) return undefined;
  const problem = queueUrlProblem(String(queue));
  if (problem) throw new UsageError(`--queue: ${problem}`);
  return String(queue);
}

function intFlag(args: ParsedArgs, name: string, min: number): number | undefined {
  const raw = args.flags.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(raw)}"`);
  return value;
}

/**
 * Query commands open the database read-only: they can read one in a read-only folder and never change it. Only a
 * search creates one: any other command on a missing database has been given the wrong --db or folder, and says so.
 */
function openStore(args: ParsedArgs, options: { readonly?: boolean; creates?: boolean } = {}): Store {
  const db = args.flags.get('db');
  const path = resolve(typeof db === 'string' ? db : '.nas-studio/runs.db');
  if (!options.creates && !existsSync(path)) throw new Error(`${path}: no such database (a search creates it; --db names another)`);
  return new Store(path, { readonly: options.readonly });
}

const EXPORT_FORMATS = ['optuna', ...ONE_TRIAL_FORMATS] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The trial an export names, or the run's best finished one (highest reward). Only a finished trial (done, or
 * stopped early by the run's scheduler) has measurements to go with its architecture.
 */
function exportedTrial(store: Store, runId: number, raw: string | undefined): TrialRecord {
  if (raw === undefined) {
    const best = store.listTrials(runId, 'reward').find((trial) => trial.status === 'done');
    if (!best) throw new Error(`run ${runId} has no finished trial to export`);
    return best;
  }
  const index = Number(raw);
  const stored = Number.isInteger(index) ? store.getTrial(runId, index) : undefined;
  if (!stored) throw new UsageError(`run ${runId} has no trial "${raw}"`);
  const [trial] = store.liveTrials(runId, [stored]);
  if (trial.status !== 'done' && trial.status !== 'pruned') {
    throw new Error(`trial ${index} of run ${runId} is ${trialStatusLabel(trial)}, not finished; export a done trial`);
  }
  return trial;
}

function runIdArg(store: Store, raw: string | undefined): number {
  if (raw === undefined) throw new UsageError('a run id is needed (or "latest")');
  const id = raw === 'latest' ? store.latestRunId() : Number(raw);
  if (id === undefined) throw new UsageError(`no runs in ${store.path}`);
  if (!Number.isInteger(id) || !store.getRun(id)) throw new UsageError(`no run "${raw}" in ${store.path}`);
  return id;
}

const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? '-' : x.toFixed(digits));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * The trials table; a language model's adds its validation and test perplexity after the reward, and a search
 * on remote workers the worker of each trial (with its attempts when there were more than one).
 */
function trialTable(trials: TrialRecord[]): string {
  const perplexities = trials.some(isLanguageModelTrial);
  const workers = trials.some((trial) => trial.worker !== null);
  const header = [
    'trial',
    'status',
    'reward',
    ...(perplexities ? ['val_ppl', 'test_ppl'] : []),
    'val_acc',
    'test_acc',
    'params',
    'time',
    ...(workers ? ['worker'] : []),
    'architecture',
  ];
  const rows = trials.map((t) => [
    String(t.index),
    t.retrainedFrom === null ? trialStatusLabel(t) : `${trialStatusLabel(t)}, retrains ${t.retrainedFrom}`,
    fmt(t.reward),
    // A retraining held out the test examples alone: it has no validation figures of its own.
    ...(perplexities
      ? [t.retrainedFrom === null ? formatPerplexity(t.metrics?.valPerplexity) : '-', formatPerplexity(t.metrics?.testPerplexity)]
      : []),
    t.retrainedFrom === null ? fmt(t.metrics?.valAccuracy) : '-',
    fmt(t.metrics?.testAccuracy),
    String(t.metrics?.params ?? '-'),
    t.metrics ? formatDuration(t.metrics.seconds) : '-',
    ...(workers ? [workerLabel(t)] : []),
    t.key,
  ]);
  return table(header, rows);
}

/** The costs a run's front weighs against validation accuracy: those its Pareto evolution minimised, else parameters. */
function frontCosts(config: SearchConfig): readonly ParetoCost[] {
  return (config.strategy.kind === 'evolution' ? config.strategy.pareto?.minimise : undefined) ?? ['params'];
}

const costLabel = (cost: ParetoCost) => ({ params: 'a parameter count', flops: 'FLOPs', latency: 'a latency' })[cost];

const costOf = (trial: TrialRecord, cost: ParetoCost): number | null => trial.metrics?.[PARETO_COST_FIELDS[cost]] ?? null;

/** The done trials no other done trial beats in validation accuracy and every one of `costs`, least of the first cost first. */
function paretoTrials(trials: readonly TrialRecord[], costs: readonly ParetoCost[]): TrialRecord[] {
  const measured = trials.filter(
    (t) => t.status === 'done' && t.retrainedFrom === null && t.metrics !== null && costs.every((cost) => costOf(t, cost) !== null),
  );
  const points = measured.map((trial) =>
    Object.assign([-trial.metrics!.valAccuracy, ...costs.map((cost) => costOf(trial, cost)!)], { trial }),
  );
  return paretoFront(points)
    .map((point) => point.trial)
    .sort((a, b) => costOf(a, costs[0])! - costOf(b, costs[0])! || a.index - b.index);
}

const workerLabel = (trial: TrialRecord) => trialWorkerLabel(trial) ?? '-';

const isLanguageModelTrial = (trial: TrialRecord) => typeof trial.metrics?.valPerplexity === 'number';

/** How much of a trial's log `show` prints: its end, where a training script's last words are. */
const SHOWN_LOG_LINES = 40;

function shownLog(log: string): string {
  const { text, earlierLines } = logTail(log, SHOWN_LOG_LINES);
  return earlierLines > 0 ? `(${earlierLines} earlier lines; --json has them all)\n${text}` : text;
}

function runRows(runs: RunRecord[]): string[][] {
  return runs.map((r) => [
    String(r.id),
    r.name,
    r.strategy,
    r.spaceKind,
    r.backend ?? '-',
    r.status,
    `${r.trialsDone}/${r.budgetTrials}`,
    fmt(r.bestReward),
    r.createdAt,
  ]);
}

type Write = (text: string) => void;

async function search(mode: 'search' | 'resume', args: ParsedArgs, out: Write, err: Write): Promise<number> {
  const store = openStore(args, { creates: mode === 'search' });
  try {
    let runId: number;
    if (mode === 'search') {
      const file = args.positional[1];
      if (!file) throw new UsageError('search needs a search file');
      const overrides: SearchOverrides = {
        trials: intFlag(args, 'trials', 1),
        seed: intFlag(args, 'seed', 0),
        backend: backendFlag(args),
        queue: queueFlag(args),
      };
      runId = createRunFromFile(store, file, overrides);
    } else {
      runId = runIdArg(store, args.positional[1]);
      const run = store.getRun(runId)!;
      // A run marked done short of its budget (its trainers died under an older NAS Studio) resumes.
      if (run.status === 'done' && run.trialsDone >= run.budgetTrials) {
        out(`run ${runId} is already done (${run.trialsDone}/${run.budgetTrials} trials)\n`);
        return 0;
      }
      if (args.flags.has('force')) {
        if (store.runWriterMayBeAlive(runId)) {
          err(`warning: taking run ${runId} over from a writer that may still be alive; two writers on one run corrupt its search\n`);
        }
        store.claimRun(runId, { force: true });
      }
    }
    const progress = new ProgressLine(err);
    const controller = new AbortController();
    // SIGTERM (systemd, Slurm, `timeout`) and SIGHUP (a closed terminal, a dropped ssh) stop as Ctrl-C
    // does. Repeats while stopping are ignored but the third, which kills at once.
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals === 1) {
        err(`\nstopping (${signal}): the trials in training are cancelled; "nas-studio resume" continues; a third Ctrl-C kills\n`);
        controller.abort();
      } else if (signals === 2) {
        err('\nstill stopping cleanly; a third Ctrl-C kills without a clean stop\n');
      } else {
        detach();
        process.kill(process.pid, signal);
      }
    };
    const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const detach = () => STOP_SIGNALS.forEach((signal) => process.off(signal, stop));
    STOP_SIGNALS.forEach((signal) => process.on(signal, stop));
    const onEvent = (event: EngineEvent) => progress.onEvent(event);
    let status;
    try {
      status = await runSearch(store, runId, { onEvent, signal: controller.signal });
    } finally {
      detach();
      progress.end();
    }
    const trials = store.listTrials(runId, 'reward');
    const run = store.getRun(runId)!;
    out(
      `\nrun ${runId} "${run.name}": ${status}, ${run.trialsDone}/${run.budgetTrials} ` +
        `trials, backend ${run.backend}, database ${store.path}\n\n`,
    );
    out(`${trialTable(trials.slice(0, 10))}\n`);
    const best = trials.find((t) => t.status === 'done');
    if (best) {
      const score = isLanguageModelTrial(best)
        ? `val_ppl ${formatPerplexity(best.metrics?.valPerplexity)}`
        : `val_acc ${fmt(best.metrics?.valAccuracy)}`;
      out(`\nbest architecture (trial ${best.index}, reward ${fmt(best.reward)}, ${score}):\n${drawArchitecture(best.graph)}\n`);
    }
    return status === 'done' || status === 'stopped' ? 0 : 1;
  } finally {
    store.close();
  }
}

const signed = (x: number | null) => (x === null ? '-' : `${x >= 0 ? ' ' : ''}${x.toFixed(3)}`);

const ROW_NOTES: Record<ControllerRow, string> = {
  random: 'random (fresh init)',
  unsupervised: 'unsupervised (trained)',
  supervised: 'supervised (memory buffer)',
};

/** The analysis as `analyze --json` prints it: Table 1 under `spearman` for the run's trained controller, every row under `table`. */
function insightJson(insight: ControllerInsight) {
  return {
    run: insight.run.id,
    controller: insight.trainedAs,
    samples: insight.samples,
    controller_steps: insight.controllerSteps,
    spearman: insight.spearman[insight.trainedAs],
    table: { ...insight.spearman, recorded: insight.recorded },
    table_distinct: insight.spearmanDistinct,
    paper: PAPER_TABLE1,
    ged_method: insight.gedMethod,
    reward_source: insight.rewardSource,
    decisions: insight.decisions.map((name, i) => ({
      name,
      trained_argmax: insight.trained.argmax[i],
      fresh_argmax: insight.fresh.argmax[i],
      trained_entropy: insight.trained.entropy[i],
      fresh_entropy: insight.fresh.entropy[i],
    })),
    hidden_variance: insight.hiddenVariance,
  };
}

function insightText(insight: ControllerInsight): string {
  const { run } = insight;
  const spearmanCells = (row: SpearmanRow) => [
    ...SPEARMAN_COLUMNS.map((column) => signed(row[column])),
    String(row.pairs),
    String(row.reward_pairs),
    String(row.distinct_architectures),
  ];
  const header = ['controller', ...SPEARMAN_COLUMNS, 'pairs', 'reward pairs', 'distinct', 'paper (ENAS, Table 1)'];
  const rows = (['random', 'unsupervised', 'supervised'] as const).map((name) => {
    const row = insight.spearman[name];
    const paper = PAPER_TABLE1[name].map((x) => signed(x).trim()).join(' ');
    return [ROW_NOTES[name], ...(row ? spearmanCells(row) : ['absent', '-', '-', '-', '-', '-', '-']), paper];
  });
  const absent =
    insight.trainedAs === 'unsupervised'
      ? 'supervised: absent, this run used no memory buffer (strategy.controller.memory_buffer); `npm run bench:insight` trains both'
      : 'unsupervised: absent, this run trained with a memory buffer';
  if (insight.recorded) rows.push(['recorded during the search', ...spearmanCells(insight.recorded), '-']);
  for (const name of ['random', 'unsupervised', 'supervised'] as const) {
    const row = insight.spearmanDistinct[name];
    if (row) rows.push([`${ROW_NOTES[name]}, distinct only`, ...spearmanCells(row), '-']);
  }
  const decisions = insight.decisions.map((name, i) => [
    name,
    fmt(insight.trained.argmax[i], 3),
    fmt(insight.fresh.argmax[i], 3),
    fmt(insight.trained.entropy[i], 3),
    fmt(insight.fresh.entropy[i], 3),
  ]);
  const variance = insight.hiddenVariance;
  return [
    `run ${run.id} "${run.name}": controller insight, ${insight.samples} architectures sampled from each controller; trained = latest ` +
      `checkpoint after ${insight.controllerSteps} update(s)`,
    '',
    `Spearman correlation, over every pair of sampled architectures, between the L2 distance of their final hidden states and:`,
    `common_ops (${sharedOperations(run.spaceKind)} shared), common_connections (connections shared), ` +
      `ged (graph edit distance, ${insight.gedMethod}), ` +
      `reward_gap (|reward difference|).`,
    `A hidden state that encodes the architecture gives negative values for common_ops and common_connections and positive ones for ged.`,
    '',
    table(header, rows),
    '',
    absent,
    `rewards: ${insight.rewardSource}`,
    `"recorded during the search": the hidden states stored with the run's last finished trials, against their measured rewards.`,
    `distinct: different architectures among those sampled; a collapsed controller repeats a few, ` +
      `and its identical pairs (distance 0, everything shared) weigh on the ranks. "distinct only" ` +
      `rows: the same over each controller's distinct architectures.`,
    '',
    'per decision, mean over the samples: probability of the most likely option, and entropy (nats)',
    table(['decision', 'trained argmax', 'fresh argmax', 'trained entropy', 'fresh entropy'], decisions),
    '',
    `hidden state of the trained controller: ${variance.length} units, variance across ` +
      `architectures min ${fmt(Math.min(...variance), 5)}, mean ${fmt(variance.reduce((a, b) => a + b, 0) / variance.length, 5)}, ` +
      `max ${fmt(Math.max(...variance), 5)}`,
  ].join('\n');
}

async function analyze(args: ParsedArgs, out: Write): Promise<number> {
  const store = openStore(args, { readonly: true });
  try {
    const insight = await controllerInsight(store, runIdArg(store, args.positional[1]));
    out(args.flags.has('json') ? `${JSON.stringify(insightJson(insight), null, 2)}\n` : `${insightText(insight)}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** The prompt and its continuation, as the trial view shows them. */
async function sample(args: ParsedArgs, out: Write): Promise<number> {
  const store = openStore(args, { readonly: true });
  try {
    const runId = runIdArg(store, args.positional[1]);
    const index = Number(args.positional[2]);
    if (!Number.isInteger(index) || !store.getTrial(runId, index))
      throw new UsageError(`run ${runId} has no trial "${args.positional[2] ?? ''}"`);
    const promptFlag = args.flags.get('prompt');
    const prompt = typeof promptFlag === 'string' ? promptFlag : 'ROMEO:';
    const rawTemperature = args.flags.get('temperature');
    const temperature = rawTemperature === undefined ? 0.8 : Number(rawTemperature);
    if (!Number.isFinite(temperature) || temperature <= 0)
      throw new UsageError(`--temperature must be a number above 0, got "${String(rawTemperature)}"`);
    const text = await sampleText(store, {
      runId,
      index,
      prompt,
      temperature,
      length: intFlag(args, 'length', 1) ?? 200,
      seed: intFlag(args, 'seed', 0),
    });
    out(`${prompt}${text}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** The run's most recent retrained trial that is done: what a model export takes when no trial is named. */
function latestRetrained(store: Store, runId: number): TrialRecord {
  const retrained = store.listTrials(runId).filter((trial) => trial.retrainedFrom !== null && trial.status === 'done');
  if (retrained.length === 0)
    throw new Error(
      `run ${runId} has no retrained trial; retrain one first (nas-studio retrain ${runId}), or name a trial that kept its weights`,
    );
  return retrained[retrained.length - 1];
}

/** Retrains a trial with the final recipe, printing each epoch; Ctrl-C cancels it (the trial is then recorded interrupted). */
async function retrain(args: ParsedArgs, out: Write, err: Write): Promise<number> {
  const store = openStore(args);
  try {
    const runId = runIdArg(store, args.positional[1]);
    const rawTrial = args.positional[2];
    const trial = rawTrial === undefined ? undefined : Number(rawTrial);
    if (trial !== undefined && !Number.isInteger(trial)) throw new UsageError(`run ${runId} has no trial "${rawTrial}"`);
    const rawRecipe = args.flags.get('recipe');
    let recipe: RetrainRecipe;
    try {
      recipe = parseRetrainRecipe(typeof rawRecipe === 'string' ? rawRecipe : undefined);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const epochs = intFlag(args, 'epochs', 1);
    if (epochs !== undefined) recipe = { ...recipe, epochs };
    // A language model's epochs and result read as perplexities (of the next token, per token).
    const languageModel = store.runConfig(runId).config.space.kind === 'recurrent';
    const controller = new AbortController();
    const stop = () => {
      err('\nstopping: the retraining is cancelled and its trial recorded interrupted\n');
      controller.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let retrained: TrialRecord;
    try {
      retrained = await retrainTrial(store, runId, {
        trial,
        recipe,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'log') err(`${event.message}\n`);
          else if (event.type === 'epoch') {
            const m = event.metrics;
            const measured = languageModel
              ? `train_ppl ${formatPerplexity(Math.exp(m.trainLoss ?? NaN))}, test_ppl ${formatPerplexity(Math.exp(m.valLoss ?? NaN))}`
              : `train_acc ${fmt(m.trainAccuracy)}, test_acc ${fmt(m.valAccuracy)}`;
            err(`epoch ${m.epoch}: ${measured} (${formatDuration(m.seconds)})\n`);
          }
        },
      });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    if (retrained.status !== 'done') {
      out(
        `trial ${retrained.index} (retraining trial ${retrained.retrainedFrom}) ${trialStatusLabel(retrained)}: ${retrained.error ?? ''}\n`,
      );
      return 1;
    }
    const retrains = `trial ${retrained.index} of run ${runId} retrains trial ${retrained.retrainedFrom}`;
    out(
      languageModel
        ? `${retrains}: test_ppl ${formatPerplexity(retrained.metrics?.testPerplexity)} after ${retrained.epochsTrained} epochs; ` +
            `its weights are kept in the database\nsample from it with: nas-studio sample ${runId} ${retrained.index}\n`
        : `${retrains}: test_acc ${fmt(retrained.metrics?.testAccuracy ?? null)} after ${retrained.epochsTrained} epochs; ` +
            `weights in ${store.trialWeightsFolder(retrained)}\n` +
            `export it with: nas-studio export ${runId} ${retrained.index} --format tfjs|keras|pytorch --out DIR\n`,
    );
    return 0;
  } finally {
    store.close();
  }
}

/** Takes trials from the queue until stopped; a stop finishes the trials it holds, a second one exits at once. */
async function worker(args: ParsedArgs, err: Write): Promise<number> {
  const queueUrl = queueFlag(args);
  if (queueUrl === undefined) throw new UsageError('worker needs --queue redis://HOST:PORT/DB');
  const dataRoot = args.flags.get('data-root');
  // Loaded by this command alone: BullMQ and its Redis client stay out of the others.
  const { startWorker } = await import('../engine/remote/worker.ts');
  const running = await startWorker({
    queueUrl,
    concurrency: intFlag(args, 'concurrency', 1) ?? 1,
    backend: backendFlag(args) ?? 'auto',
    dataRoot: resolve(typeof dataRoot === 'string' ? dataRoot : '.'),
    allowCommands: args.flags.has('allow-commands'),
    stallSeconds: intFlag(args, 'stall-seconds', 1) ?? 30,
    log: (message) => err(`${new Date().toISOString()} ${message}\n`),
  });
  await new Promise<void>((stopped) => {
    let signals = 0;
    const stop = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) process.exit(130);
      err(`stopping (${signal}): finishing the trials this worker holds; again to exit at once\n`);
      void running.close().then(stopped);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  });
  return 0;
}

function validate(args: ParsedArgs, out: Write): number {
  const file = args.positional[1];
  if (!file) throw new UsageError('validate needs a search file');
  const { problems } = loadSearchFile(resolve(file));
  for (const problem of problems) out(`${formatProblem(problem)}\n`);
  if (problems.length === 0) out(`${file}: valid\n`);
  return problems.length ? 2 : 0;
}

async function withStoreAsync(args: ParsedArgs, body: (store: Store) => Promise<void>): Promise<number> {
  const store = openStore(args, { readonly: true });
  try {
    await body(store);
    return 0;
  } finally {
    store.close();
  }
}

function withStore(args: ParsedArgs, body: (store: Store) => void): number {
  const store = openStore(args, { readonly: true });
  try {
    body(store);
    return 0;
  } finally {
    store.close();
  }
}

export async function main(argv: string[], out: Write, err: Write): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positional[0];
    if (!command || args.flags.has('help')) {
      out(`${USAGE}\n`);
      return command || args.flags.has('help') ? 0 : 2;
    }
    const json = args.flags.has('json');
    switch (command) {
      case 'search':
        return await search('search', args, out, err);
      case 'resume':
        return await search('resume', args, out, err);
      case 'validate':
        return validate(args, out);
      case 'worker':
        return await worker(args, err);
      case 'export':
        return await withStoreAsync(args, async (store) => {
          const runId = runIdArg(store, args.positional[1]);
          const format = args.flags.get('format');
          if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
            throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${String(format ?? '')}"`);
          }
          const outFile = args.flags.get('out');
          if (typeof outFile !== 'string') throw new UsageError('export needs --out FILE');
          const outPath = resolve(outFile);
          const force = args.flags.has('force');
          if (format === 'optuna') {
            if (args.positional[2] !== undefined) throw new UsageError('--format optuna exports the whole run, not one trial');
            const written = exportOptunaStudy(store, runId, outPath, { force });
            out(`wrote run ${runId} as the Optuna study "${written.studyName}" (${written.trials} trials) to ${outPath}\n`);
            return;
          }
          const model = isModelFormat(format as string);
          // A model export takes the run's latest retraining by default; a trial's record or drawing, its best trial.
          const trial =
            args.positional[2] === undefined && model ? latestRetrained(store, runId) : exportedTrial(store, runId, args.positional[2]);
          const files = await exportOneTrial(store, trial, format as string, outPath, { force });
          out(
            model
              ? `wrote the trained model of trial ${trial.index} of run ${runId} as ${format} to ${outPath}: ${files.join(', ')}\n`
              : `wrote trial ${trial.index} of run ${runId} (reward ${fmt(trial.reward)}) as ${format} to ${outPath}\n`,
          );
        });
      case 'retrain':
        return await retrain(args, out, err);
      case 'delete': {
        const store = openStore(args);
        try {
          const raw = args.positional[1];
          if (raw === 'latest' || raw === undefined) throw new UsageError('delete needs a run id (not "latest": say which run to delete)');
          const runId = runIdArg(store, raw);
          store.deleteRun(runId);
          out(`deleted run ${runId} and its kept weights from ${store.path}\n`);
          return 0;
        } finally {
          store.close();
        }
      }
      case 'analyze':
        return await analyze(args, out);
      case 'sample':
        return await sample(args, out);
      case 'doctor': {
        const reports = await checkBackends();
        out(json ? `${JSON.stringify(reports, null, 2)}\n` : `${formatBackendReports(reports)}\n`);
        return 0;
      }
      case 'runs':
        return withStore(args, (store) => {
          const runs = store.listRuns().map((run) => store.liveRun(run));
          out(
            json
              ? `${JSON.stringify(runs, null, 2)}\n`
              : `${table(['run', 'name', 'strategy', 'space', 'backend', 'status', 'trials', 'best', 'created'], runRows(runs))}\n`,
          );
        });
      case 'trials':
        return withStore(args, (store) => {
          const runId = runIdArg(store, args.positional[1]);
          const trials = store.liveTrials(runId, store.listTrials(runId));
          out(json ? `${JSON.stringify(trials, null, 2)}\n` : `${trialTable(trials)}\n`);
        });
      case 'front':
        return withStore(args, (store) => {
          const runId = runIdArg(store, args.positional[1]);
          const costs = frontCosts(store.runConfig(runId).config);
          const front = paretoTrials(store.listTrials(runId), costs);
          // Parameters always, as the trials table shows them; FLOPs and latency when the run minimised them.
          const shown = costs.filter((cost) => cost !== 'params');
          if (json) out(`${JSON.stringify(front, null, 2)}\n`);
          else if (front.length === 0) out(`run ${runId} has no done trial with ${costs.map(costLabel).join(' and ')} measured\n`);
          else {
            const rows = front.map((t) => [
              String(t.index),
              fmt(t.metrics!.valAccuracy),
              fmt(t.metrics!.testAccuracy),
              String(t.metrics!.params ?? '-'),
              ...shown.map((cost) => (cost === 'latency' ? costOf(t, cost)!.toFixed(3) : String(costOf(t, cost)))),
              t.key,
            ]);
            const header = [
              'trial',
              'val_acc',
              'test_acc',
              'params',
              ...shown.map((cost) => (cost === 'latency' ? 'latency_ms' : cost)),
              'architecture',
            ];
            out(`${table(header, rows)}\n`);
          }
        });
      case 'show':
        return withStore(args, (store) => {
          const runId = runIdArg(store, args.positional[1]);
          const index = Number(args.positional[2]);
          const stored = Number.isInteger(index) ? store.getTrial(runId, index) : undefined;
          if (!stored) throw new UsageError(`run ${runId} has no trial "${args.positional[2] ?? ''}"`);
          const [trial] = store.liveTrials(runId, [stored]);
          const epochs = store.trialEpochs(runId, index);
          const log = store.trialLog(runId, index);
          if (json) {
            out(`${JSON.stringify({ ...trial, epochs, log }, null, 2)}\n`);
            return;
          }
          out(`run ${runId}, trial ${index}: ${trialStatusLabel(trial)}, reward ${fmt(trial.reward)}\n`);
          // A retraining trained on the validation examples too: what it held out, each epoch, is the test examples.
          const heldOut = trial.retrainedFrom === null ? 'val' : 'test';
          if (trial.retrainedFrom !== null)
            out(`retrains trial ${trial.retrainedFrom} with the final recipe, on the training and validation examples\n`);
          if (trial.metrics) {
            const m = trial.metrics;
            if (isLanguageModelTrial(trial)) {
              const validation = heldOut === 'val' ? `val_ppl ${formatPerplexity(m.valPerplexity)}  ` : '';
              out(`${validation}test_ppl ${formatPerplexity(m.testPerplexity)}  `);
            }
            out(
              `${heldOut === 'val' ? `val_acc ${fmt(m.valAccuracy)}  ` : ''}test_acc ${fmt(m.testAccuracy)}  params ${m.params ?? '-'} ` +
                ` flops ${m.flops ?? '-'}${typeof m.latencyMs === 'number' ? `  latency ${m.latencyMs.toFixed(3)} ms` : ''}` +
                `  time ${formatDuration(m.seconds)}\n`,
            );
          }
          const weights = store.trialWeightsFolder(trial);
          if (weights !== undefined) out(`weights: ${weights}\n`);
          if (trial.worker !== null) out(`worker: ${workerLabel(trial)}\n`);
          if (trial.error) out(`error: ${trial.error}\n`);
          out(`decisions: [${trial.architecture.join(', ')}]\n${drawArchitecture(trial.graph)}\n`);
          if (epochs.length) {
            // A training command's own numbers: a column each, in the order first reported.
            const extraNames = [...new Set(epochs.flatMap((e) => Object.keys(e.extra ?? {})))];
            out(
              `\n${table(
                ['epoch', 'train_loss', 'train_acc', `${heldOut}_loss`, `${heldOut}_acc`, 'time', ...extraNames],
                epochs.map((e) => [
                  String(e.epoch),
                  fmt(e.trainLoss),
                  fmt(e.trainAccuracy),
                  fmt(e.valLoss),
                  fmt(e.valAccuracy),
                  formatDuration(e.seconds),
                  ...extraNames.map((name) => fmt(e.extra?.[name])),
                ]),
              )}\n`,
            );
          }
          if (log) out(`\nlog:\n${shownLog(log)}\n`);
        });
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof InvalidSearchFile) {
      err(`${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError) {
      err(`nas-studio: ${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    err(`nas-studio: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // A reader that stopped reading (`nas-studio trials 1 | head`) ends the command quietly, as other tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  void main(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
  ).then((code) => {
    // Explicitly, once the output is written: Dawn, loaded by doctor or a webgpu backend, keeps Node alive.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
