// The command evaluator kind: the user's own training program, run once per architecture in a process
// group of its own. The trial is a JSON file named by NAS_STUDIO_TRIAL; the program writes JSON lines to
// the file descriptor named by NAS_STUDIO_REPORT_FD (3), apart from its prints, which are the trial's log:
//   {"epoch": 1, "val_accuracy": 0.91, "train_loss": 0.3, ...}    once per epoch; other numbers are kept as extras
//   {"final": true, "val_accuracy": 0.93, "test_accuracy": 0.92, "params": 1234, "flops": 5678}
// Each epoch line is answered on the same descriptor with a line of its own, {"epoch": 1, "stop": false};
// "stop": true means a scheduler pruned the trial: it should end (a final report is welcome), and its
// process group gets SIGTERM after a grace period if it does not. A program may ignore the answers.
// Every fault is the trial's: a non-zero exit, a timeout, a crash, a bad report line or no final report,
// except that a pruned trial may end however it likes.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import type { CommandEvaluationConfig, DatasetConfig, SearchConfig } from '../../space/config.ts';
import {
  actOnVerdict,
  EvaluationFailed,
  type EpochListener,
  type EvaluationRequest,
  type Evaluator,
  type EvaluatorKind,
} from './evaluator.ts';

/** The channel's descriptor in the trial: the first one after stdin, stdout and stderr. */
const REPORT_FD = 3;
/** How much of a trial's output is kept as its log: the end, where the error is. */
const LOG_LIMIT = 256 * 1024;
/** Of stderr, enough for its last lines, the failure's reason. */
const STDERR_LIMIT = 64 * 1024;
const STDERR_TAIL_LINES = 20;
/** Between SIGTERM to the trial's group and SIGKILL, for a program that saves or cleans up. */
const KILL_GRACE_MS = 5000;
/** Between the stop answer to a pruned trial and SIGTERM to its group: time to finish the epoch's bookkeeping and exit. */
const STOP_GRACE_MS = 10_000;
/** Report keys that map onto the epoch's standard metrics; any other number is an extra. */
const EPOCH_KEYS = { val_accuracy: 'valAccuracy', train_loss: 'trainLoss', train_accuracy: 'trainAccuracy', val_loss: 'valLoss' } as const;

/** The GPUs nvidia-smi lists, by index; none when it is absent or fails. */
function visibleGpus(): string[] {
  try {
    const listing = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
    return [...listing.matchAll(/^GPU (\d+):/gm)].map((match) => match[1]);
  } catch {
    return [];
  }
}

// The keys of a data-set block that name files: `path`, and a text corpus's three files.
const DATASET_FILE_KEYS = ['path', 'train', 'validation', 'test'];

/** The data-set block with its paths made absolute: the trial runs in the search file's folder, its helpers anywhere. */
function absoluteDataset(dataset: DatasetConfig | undefined, baseDir: string): DatasetConfig | null {
  if (dataset === undefined) return null;
  const entries = Object.entries(dataset).map(([key, value]) => [
    key,
    DATASET_FILE_KEYS.includes(key) && typeof value === 'string' ? resolve(baseDir, value) : value,
  ]);
  return Object.fromEntries(entries) as DatasetConfig;
}

/** The end of a text, at most `limit` characters, cut at a line start. */
function tail(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const cut = text.slice(-limit);
  const newline = cut.indexOf('\n');
  return newline >= 0 ? cut.slice(newline + 1) : cut;
}

class TrialFault extends Error {}

/** One report line, checked: an object of finite numbers (`final: true` marks the last). */
function parseReport(line: string, number: number): { final: boolean; values: Record<string, number> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    const nonFinite = /\b(NaN|-?Infinity)\b/.test(line) ? ' (NaN and Infinity are not numbers in JSON)' : '';
    throw new TrialFault(`report line ${number} is not valid JSON${nonFinite}: ${line.slice(0, 200)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new TrialFault(`report line ${number} is not a JSON object: ${line.slice(0, 200)}`);
  const { final, ...rest } = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(rest))
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new TrialFault(`report line ${number}: ${key} is ${JSON.stringify(value)}, not a finite number`);
  if (typeof rest.val_accuracy !== 'number') throw new TrialFault(`report line ${number} has no val_accuracy`);
  return { final: final === true, values: rest as Record<string, number> };
}

function epochMetrics(values: Record<string, number>, epoch: number, seconds: number): EpochMetrics {
  const extra = Object.fromEntries(Object.entries(values).filter(([key]) => key !== 'epoch' && !(key in EPOCH_KEYS)));
  return {
    epoch,
    valAccuracy: values.val_accuracy,
    trainLoss: values.train_loss ?? null,
    trainAccuracy: values.train_accuracy ?? null,
    valLoss: values.val_loss ?? null,
    seconds,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** Ends the trial's whole process group (its grandchildren too): SIGTERM, then SIGKILL after the grace. */
function endGroup(child: ChildProcess): void {
  const pid = child.pid!;
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => signalGroup(pid, 'SIGKILL'), KILL_GRACE_MS).unref();
}

/** For an engine that is exiting, with no time for a grace period. */
const killGroupNow = (pid: number) => signalGroup(pid, 'SIGKILL');

export class CommandEvaluator implements Evaluator {
  readonly backend = 'cpu';
  readonly backendDetail: string;
  readonly size: number;
  readonly recordedAs = 'command';
  private readonly running = new Set<{ child: ChildProcess; cancel: () => void; request: EvaluationRequest }>();
  /** Slot i runs on GPU gpus[i % gpus.length], when there are GPUs. */
  private readonly freeSlots: number[];
  private readonly waiting: (() => void)[] = [];

  /** Trials run in groups of their own, which a signal to the engine's group misses: they end with the engine. */
  private readonly endAllOnExit = () => {
    for (const { child } of this.running) if (child.pid !== undefined) killGroupNow(child.pid);
  };

  constructor(
    private readonly evaluation: CommandEvaluationConfig,
    private readonly search: SearchConfig,
    private readonly baseDir: string,
    private readonly gpus: string[],
    capacity?: number,
  ) {
    process.on('exit', this.endAllOnExit);
    this.size = capacity ?? evaluation.parallel ?? Math.max(1, gpus.length);
    this.freeSlots = Array.from({ length: this.size }, (_, i) => i);
    const onGpus = gpus.length ? `, on GPU ${gpus.join(', ')}` : '';
    this.backendDetail = `your command (${evaluation.command.join(' ')}), ${this.size} at a time${onGpus}`;
  }

  async evaluate(request: EvaluationRequest, onEpoch: EpochListener): Promise<TrialMeasurements> {
    while (this.freeSlots.length === 0) await new Promise<void>((wake) => this.waiting.push(wake));
    const slot = this.freeSlots.shift()!;
    const folder = mkdtempSync(join(tmpdir(), 'nas-studio-trial-'));
    try {
      return await this.run(request, slot, folder, onEpoch);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      this.freeSlots.push(slot);
      this.waiting.shift()?.();
    }
  }

  private run(request: EvaluationRequest, slot: number, folder: string, onEpoch: EpochListener) {
    const { command, epochs, timeout_minutes: timeoutMinutes, env } = this.evaluation;
    const trialFile = join(folder, 'trial.json');
    writeFileSync(
      trialFile,
      JSON.stringify({
        run: request.runId ?? null,
        trial: request.index ?? null,
        seed: request.seed,
        decisions: request.architecture,
        graph: request.graph,
        space: request.space,
        dataset: absoluteDataset(this.search.dataset, this.baseDir),
        epochs,
      }),
    );
    const [program, ...args] = command;
    // A program named by a relative path is the search file's; a bare name is looked up on PATH.
    const executable = !isAbsolute(program) && /[\\/]/.test(program) ? resolve(this.baseDir, program) : program;
    const gpu = this.gpus.length ? { CUDA_VISIBLE_DEVICES: this.gpus[slot % this.gpus.length] } : {};
    const started = performance.now();
    return new Promise<TrialMeasurements>((resolvePromise, reject) => {
      const child = spawn(executable, args, {
        cwd: this.baseDir,
        detached: true, // its own process group, ended whole
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        env: { ...process.env, ...env, ...gpu, NAS_STUDIO_TRIAL: trialFile, NAS_STUDIO_REPORT_FD: String(REPORT_FD) },
      });
      // Cut back only when twice the limit: a chatty program's output is not copied over at every chunk.
      let output = '';
      let stderr = '';
      const keep = (chunk: Buffer, isError: boolean) => {
        const text = chunk.toString('utf8');
        output += text;
        if (output.length > 2 * LOG_LIMIT) output = tail(output, LOG_LIMIT);
        if (!isError) return;
        stderr += text;
        if (stderr.length > 2 * STDERR_LIMIT) stderr = tail(stderr, STDERR_LIMIT);
      };
      child.stdout!.on('data', (chunk: Buffer) => keep(chunk, false));
      child.stderr!.on('data', (chunk: Buffer) => keep(chunk, true));

      const curve: EpochMetrics[] = [];
      let final: Record<string, number> | undefined;
      let fault: string | undefined;
      let cancelled = false;
      let pruned = false;
      let lastReport = started;
      let pending = '';
      let lines = 0;
      const failWith = (reason: string) => {
        if (fault === undefined && !cancelled) fault = reason;
        endGroup(child);
      };
      const readLine = (line: string) => {
        if (line.trim() === '' || fault !== undefined) return;
        lines += 1;
        try {
          const report = parseReport(line, lines);
          if (report.final) {
            final = report.values;
            return;
          }
          const now = performance.now();
          const epoch = report.values.epoch ?? curve.length + 1;
          const metrics = epochMetrics(report.values, epoch, (now - lastReport) / 1000);
          lastReport = now;
          curve.push(metrics);
          actOnVerdict(onEpoch(metrics), (verdict) => {
            const stop = verdict === 'stop';
            // A program that closed its end of the channel reads no answers; the error event takes that.
            channel.write(`${JSON.stringify({ epoch, stop })}\n`);
            if (stop && !pruned) {
              pruned = true;
              setTimeout(() => endGroup(child), STOP_GRACE_MS).unref();
            }
          });
        } catch (error) {
          failWith(error instanceof TrialFault ? error.message : String(error));
        }
      };
      const channel = child.stdio[REPORT_FD] as Socket;
      channel.on('error', () => undefined);
      channel.on('data', (chunk: Buffer) => {
        const parts = (pending + chunk.toString('utf8')).split('\n');
        pending = parts.pop()!;
        parts.forEach(readLine);
      });
      const timer = setTimeout(() => failWith(`timed out after ${timeoutMinutes} minutes`), timeoutMinutes * 60_000);
      const entry = { child, request, cancel: () => ((cancelled = true), endGroup(child)) };
      this.running.add(entry);

      child.on('error', (error) => failWith(`could not start ${program}: ${error.message}`));
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        this.running.delete(entry);
        if (pending) readLine(pending);
        // Whatever it left running in its group (a grandchild) goes with it.
        if (child.pid !== undefined) endGroup(child);
        const log = tail(output, LOG_LIMIT);
        const stderrTail = stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
        if (cancelled) return reject(new EvaluationFailed('the trial was stopped', true, false, false, log));
        // A pruned trial is measured by its last report, whichever way it ended (SIGTERM included).
        if (pruned && fault === undefined && final === undefined) final = { val_accuracy: curve[curve.length - 1].valAccuracy };
        if (fault === undefined && code !== 0 && !pruned)
          fault = `${program} ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${stderrTail ? `:\n${stderrTail}` : ''}`;
        if (fault === undefined && final === undefined)
          fault = 'the program ended without its final report ({"final": true, "val_accuracy": …})';
        if (fault !== undefined) return reject(new EvaluationFailed(fault, false, false, false, log));
        resolvePromise({
          valAccuracy: final!.val_accuracy,
          testAccuracy: final!.test_accuracy ?? null,
          params: final!.params ?? null,
          flops: final!.flops ?? null,
          seconds: (performance.now() - started) / 1000,
          curve,
          log,
        });
      });
    });
  }

  cancelAll(): void {
    for (const entry of this.running) entry.cancel();
  }

  cancel(request: EvaluationRequest): void {
    for (const entry of this.running) if (entry.request === request) entry.cancel();
  }

  async close(): Promise<void> {
    this.cancelAll();
    process.off('exit', this.endAllOnExit);
  }
}

export const commandEvaluatorKind: EvaluatorKind<CommandEvaluationConfig> = {
  description: "runs the search file's command once per architecture",
  start: async (evaluation, search, baseDir, _log, capacity) => new CommandEvaluator(evaluation, search, baseDir, visibleGpus(), capacity),
};
