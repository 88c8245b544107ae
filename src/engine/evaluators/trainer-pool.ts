// Runs children on trainer processes, several at once when the backend is the CPU (one per core),
// as NAS-RL trains children in parallel.

import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import type { TrainerCommand, TrainerReply, TrainerSetup } from '../../protocol/trainer.ts';
import type { BackendName, TrainEvaluationConfig } from '../../space/config.ts';
import { EvaluationFailed, type EvaluationRequest, type Evaluator } from './evaluator.ts';

/** The trainer entry: bundled next to this code in dist/, or the TypeScript source under tsx. */
function trainerEntry(): string {
  const candidates = [join(__dirname, 'trainer-process.js'), join(__dirname, 'trainer-process.ts')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`trainer entry not found (looked for ${candidates.join(', ')}); run "npm run build"`);
  return found;
}

interface Job {
  resolve: (measurements: TrialMeasurements) => void;
  reject: (error: Error) => void;
  onEpoch: (metrics: EpochMetrics) => void;
}

class Trainer {
  readonly process: ChildProcess;
  job: { id: number } & Job | undefined;
  constructor(private readonly onReply: (trainer: Trainer, reply: TrainerReply) => void) {
    this.process = fork(trainerEntry(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (reply: TrainerReply) => this.onReply(this, reply));
    this.process.on('exit', (code, signal) => {
      this.job?.reject(new EvaluationFailed(`trainer process exited (${signal ?? `code ${code}`})`, false));
      this.job = undefined;
    });
  }
  send(command: TrainerCommand): void {
    // A trainer that died is reported through its exit; a late command to it is dropped.
    if (this.process.connected) this.process.send(command, undefined, undefined, () => undefined);
  }
}

export class TrainerPool implements Evaluator {
  private readonly trainers: Trainer[] = [];
  private readonly waiting: (() => void)[] = [];
  private nextJob = 1;
  private tensorsAtRest = 0;
  backend: BackendName = 'cpu';
  backendDetail = '';

  private constructor(
    private readonly setup: TrainerSetup,
    private readonly evaluation: TrainEvaluationConfig,
    private readonly log: (message: string) => void,
  ) {}

  /** Starts one trainer, learns the backend it got, then starts more if the backend is the CPU. */
  static async start(setup: TrainerSetup, evaluation: TrainEvaluationConfig, log: (message: string) => void): Promise<TrainerPool> {
    const pool = new TrainerPool(setup, evaluation, log);
    try {
      await pool.addTrainer();
      const wanted = pool.backend === 'cpu' ? availableParallelism() : 1;
      await Promise.all(Array.from({ length: wanted - 1 }, () => pool.addTrainer()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.trainers.length;
  }

  private addTrainer(): Promise<void> {
    return new Promise((resolve, reject) => {
      const trainer = new Trainer((from, reply) => {
        if (reply.type === 'ready') {
          this.backend = reply.backend;
          this.backendDetail = reply.backendDetail;
          this.tensorsAtRest = reply.tensorsAtRest;
          this.trainers.push(from);
          from.process.once('exit', () => this.removeTrainer(from));
          resolve();
        } else if (reply.type === 'setup-failed') {
          from.process.kill();
          reject(new Error(reply.message));
        } else {
          this.onJobReply(from, reply);
        }
      });
      trainer.process.once('exit', (code) => reject(new Error(`trainer process exited during setup (code ${code})`)));
      trainer.send({ type: 'setup', setup: this.setup });
    });
  }

  private removeTrainer(trainer: Trainer): void {
    const index = this.trainers.indexOf(trainer);
    if (index >= 0) this.trainers.splice(index, 1);
    // Wake every waiter: each either finds a free trainer or learns that none is left.
    this.waiting.splice(0).forEach((wake) => wake());
  }

  private onJobReply(trainer: Trainer, reply: TrainerReply): void {
    const job = trainer.job;
    if (!job) return;
    if (reply.type === 'epoch') {
      job.onEpoch(reply.metrics);
      return;
    }
    trainer.job = undefined;
    this.waiting.shift()?.();
    if (reply.type === 'trained') {
      if (reply.tensorsAfter !== this.tensorsAtRest) {
        this.log(`trainer holds ${reply.tensorsAfter} tensors after a trial, ${this.tensorsAtRest} at rest: a tensor leak`);
      }
      job.resolve(reply.measurements);
    } else if (reply.type === 'train-failed') {
      job.reject(new EvaluationFailed(reply.message, reply.cancelled));
    }
  }

  /** Trains one child on the first free trainer (waiting for one if all are busy). */
  async evaluate(request: EvaluationRequest, onEpoch: (metrics: EpochMetrics) => void): Promise<TrialMeasurements> {
    let trainer = this.trainers.find((t) => !t.job);
    while (!trainer) {
      if (this.trainers.length === 0) throw new EvaluationFailed('no trainer process is left', false);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      trainer = this.trainers.find((t) => !t.job);
    }
    const id = this.nextJob++;
    const claimed = trainer;
    return new Promise((resolve, reject) => {
      claimed.job = { id, resolve, reject, onEpoch };
      claimed.send({ type: 'train', job: id, graph: request.graph, space: request.space, evaluation: this.evaluation, seed: request.seed });
    });
  }

  /** Asks every busy trainer to stop its child at the next minibatch. */
  cancelAll(): void {
    for (const trainer of this.trainers) if (trainer.job) trainer.send({ type: 'cancel', job: trainer.job.id });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.trainers.map(
        (trainer) =>
          new Promise<void>((resolve) => {
            if (trainer.process.exitCode !== null || trainer.process.signalCode !== null) return resolve();
            trainer.process.once('exit', () => resolve());
            trainer.process.disconnect();
          }),
      ),
    );
    this.trainers.length = 0;
  }
}
