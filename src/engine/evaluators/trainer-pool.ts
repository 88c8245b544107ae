// Runs children on trainer processes, several at once (one per core on the CPU, `children_per_gpu` on a
// GPU), as NAS-RL trains children in parallel. A trainer that dies (killed, out of memory) is replaced,
// and its child trained once more: a dead process is no verdict on the architecture.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { TrialMeasurements } from '../../protocol/engine.ts';
import type { TrainerCommand, TrainerReply, TrainerSetup } from '../../protocol/trainer.ts';
import { GPU_BACKENDS, type BackendName, type TrainEvaluationConfig } from '../../space/config.ts';
import {
  actOnVerdict,
  EvaluationFailed,
  RejectedBeforeTraining,
  type EpochListener,
  type EvaluationRequest,
  type Evaluator,
} from './evaluator.ts';

/** The trainer entry: bundled next to this code in dist/, or the TypeScript source under tsx. */
function trainerEntry(): string {
  const candidates = [join(__dirname, 'trainer-process.js'), join(__dirname, 'trainer-process.ts')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`trainer entry not found (looked for ${candidates.join(', ')}); run "npm run build"`);
  return found;
}

/** How many times one child is trained on a trainer that dies under it before its trial fails. */
const ATTEMPTS_PER_CHILD = 2;

interface Job {
  id: number;
  request: EvaluationRequest;
  attempts: number;
  /** A retried child goes only to a trainer started after its last one died: another may be dead with its exit not yet seen. */
  startedAfter: number;
  resolve: (measurements: TrialMeasurements) => void;
  reject: (error: Error) => void;
  onEpoch: EpochListener;
}

class Trainer {
  readonly process: ChildProcess;
  job: Job | undefined;
  constructor(
    readonly generation: number,
    onReply: (trainer: Trainer, reply: TrainerReply) => void,
  ) {
    this.process = fork(trainerEntry(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (reply: TrainerReply) => onReply(this, reply));
  }
  send(command: TrainerCommand): void {
    // A trainer that died is reported through its exit; a late command to it is dropped.
    if (this.process.connected) this.process.send(command, undefined, undefined, () => undefined);
  }
}

export class TrainerPool implements Evaluator {
  private readonly trainers: Trainer[] = [];
  private readonly waiting: (() => void)[] = [];
  /** Trainers being started to replace dead ones: waiters wait for them rather than fail. */
  private restarting = 0;
  private stopping = false;
  private closing = false;
  private nextJob = 1;
  /** Counts trainers started, so a retry can ask for one started after a death. */
  private generation = 0;
  private tensorsAtRest = 0;
  backend: BackendName = 'cpu';
  backendDetail = '';

  private constructor(
    private readonly setup: TrainerSetup,
    private readonly evaluation: TrainEvaluationConfig,
    private readonly log: (message: string) => void,
  ) {}

  /**
   * Starts one trainer and learns the backend it got, then starts the rest: one per core on a CPU backend,
   * `childrenPerGpu` on a GPU, one on native libtensorflow (which spreads one child over the cores itself); `trainers` when given.
   */
  static async start(
    setup: TrainerSetup,
    evaluation: TrainEvaluationConfig,
    log: (message: string) => void,
    childrenPerGpu = 1,
    trainers?: number,
  ): Promise<TrainerPool> {
    const pool = new TrainerPool(setup, evaluation, log);
    try {
      await pool.addTrainer();
      const onCpu = pool.backend === 'cpu' || pool.backend === 'wasm';
      const wanted = trainers ?? (onCpu ? availableParallelism() : GPU_BACKENDS.has(pool.backend) ? childrenPerGpu : 1);
      await Promise.all(Array.from({ length: wanted - 1 }, () => pool.addTrainer()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.trainers.length + this.restarting;
  }

  private addTrainer(): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      this.generation += 1;
      const trainer = new Trainer(this.generation, (from, reply) => {
        if (reply.type === 'ready') {
          ready = true;
          // A replacement that became ready after the pool closed has nothing to do.
          if (this.closing) {
            if (from.process.connected) from.process.disconnect();
            resolve();
            return;
          }
          // Every trainer loads the same data set: its notes are logged once, from the first.
          if (from.generation === 1) for (const note of reply.datasetNotes) this.log(note);
          this.backend = reply.backend;
          this.backendDetail = reply.backendDetail;
          this.tensorsAtRest = reply.tensorsAtRest;
          this.trainers.push(from);
          this.wakeAll();
          resolve();
        } else if (reply.type === 'setup-failed') {
          // A trainer ignores SIGTERM (the engine decides how a search stops); without its channel it exits.
          if (from.process.connected) from.process.disconnect();
          reject(new Error(reply.message));
        } else {
          this.onJobReply(from, reply);
        }
      });
      trainer.process.once('exit', (code, signal) => {
        if (ready) this.onTrainerExit(trainer, signal ?? `code ${code}`);
        else reject(new Error(`trainer process exited during setup (${signal ?? `code ${code}`})`));
      });
      trainer.send({ type: 'setup', setup: this.setup, evaluation: this.evaluation });
    });
  }

  private onTrainerExit(trainer: Trainer, how: string): void {
    const index = this.trainers.indexOf(trainer);
    if (index >= 0) this.trainers.splice(index, 1);
    const job = trainer.job;
    trainer.job = undefined;
    if (this.closing || this.stopping) {
      // A stop signalled to the whole process group may reach a trainer first: its child was interrupted, not failed.
      job?.reject(new EvaluationFailed(`trainer process exited (${how}) while the search stopped`, true));
    } else {
      this.log(`a trainer process exited (${how}); starting another`);
      const generationBeforeRestart = this.generation;
      this.restart();
      if (job && job.attempts < ATTEMPTS_PER_CHILD) void this.dispatch({ ...job, startedAfter: generationBeforeRestart });
      else
        job?.reject(
          new EvaluationFailed(
            `the trainer process died (${how}) each time it trained this child: an infrastructure fault, not the architecture's`,
            false,
            true,
          ),
        );
    }
    // Each waiter either finds a free trainer, waits for a restarted one, or learns that none is left.
    this.wakeAll();
  }

  private restart(): void {
    this.restarting += 1;
    this.addTrainer()
      .catch((error: unknown) =>
        this.log(`could not start a trainer process to replace one that died: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => {
        this.restarting -= 1;
        this.wakeAll();
      });
  }

  /** Wakes every waiter: a free trainer may suit only some of them (a retry wants a fresh one). */
  private wakeAll(): void {
    this.waiting.splice(0).forEach((wake) => wake());
  }

  private onJobReply(trainer: Trainer, reply: TrainerReply): void {
    const job = trainer.job;
    if (!job || !('job' in reply) || reply.job !== job.id) return;
    if (reply.type === 'epoch') {
      actOnVerdict(job.onEpoch(reply.metrics), (verdict) => trainer.send({ type: 'verdict', job: job.id, verdict }));
      return;
    }
    trainer.job = undefined;
    this.wakeAll();
    if (reply.type === 'trained') {
      if (reply.tensorsAfter !== this.tensorsAtRest) {
        this.log(`trainer holds ${reply.tensorsAfter} tensors after a trial, ${this.tensorsAtRest} at rest: a tensor leak`);
      }
      job.resolve(reply.measurements);
    } else if (reply.type === 'train-failed') {
      const { message, cancelled, latencyMs } = reply;
      job.reject(latencyMs === undefined ? new EvaluationFailed(message, cancelled) : new RejectedBeforeTraining(message, latencyMs));
    }
  }

  /** Trains one child on the first free trainer (waiting for one if all are busy). */
  evaluate(request: EvaluationRequest, onEpoch: EpochListener): Promise<TrialMeasurements> {
    return new Promise((resolve, reject) => {
      void this.dispatch({ id: 0, request, attempts: 0, startedAfter: 0, resolve, reject, onEpoch });
    });
  }

  /** Sends a job to the first free trainer, waiting for one (or a replacement) if there is none. */
  private async dispatch(job: Job): Promise<void> {
    const suitable = (t: Trainer): boolean => !t.job && t.generation > job.startedAfter;
    let trainer = this.trainers.find(suitable);
    while (!trainer) {
      if (this.closing || this.stopping) return job.reject(new EvaluationFailed('the search stopped before this child was trained', true));
      if (this.restarting === 0 && !this.trainers.some((t) => t.generation > job.startedAfter)) {
        // With trainers left, only this child's retry lacks a fresh one: its trial fails, the search goes on.
        if (this.trainers.length > 0)
          return job.reject(new EvaluationFailed('its trainer process died, and none could be started to train it again', false, true));
        return job.reject(new EvaluationFailed('no trainer process is left, and none could be started', false, true, true));
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      trainer = this.trainers.find(suitable);
    }
    job.id = this.nextJob++;
    job.attempts += 1;
    trainer.job = job;
    const { graph, space, seed, final, keepWeightsIn, maxLatencyMs } = job.request;
    trainer.send({ type: 'train', job: job.id, graph, space, evaluation: this.evaluation, seed, final, keepWeightsIn, maxLatencyMs });
  }

  /** Asks every busy trainer to stop its child at the next minibatch. */
  cancelAll(): void {
    this.stopping = true;
    for (const trainer of this.trainers) if (trainer.job) trainer.send({ type: 'cancel', job: trainer.job.id });
    this.wakeAll();
  }

  /** Asks the trainer of this one request to stop it at the next minibatch. */
  cancel(request: EvaluationRequest): void {
    for (const trainer of this.trainers) if (trainer.job?.request === request) trainer.send({ type: 'cancel', job: trainer.job.id });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.wakeAll();
    await Promise.all(
      this.trainers.map(
        (trainer) =>
          new Promise<void>((resolve) => {
            if (trainer.process.exitCode !== null || trainer.process.signalCode !== null) return resolve();
            trainer.process.once('exit', () => resolve());
            // A killed trainer may have lost its channel before its exit is seen.
            if (trainer.process.connected) trainer.process.disconnect();
          }),
      ),
    );
    this.trainers.length = 0;
  }
}
