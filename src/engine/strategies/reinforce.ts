// REINFORCE (NAS-RL, ENAS): the LSTM controller samples architectures; after every M evaluated
// ones it takes one policy-gradient step on their rewards. With a memory buffer (Adam & Lorraine),
// the controller also learns to reproduce architectures it sampled earlier, so that its hidden
// state comes to encode its past decisions.

import type { ControllerConfig, MemoryBufferConfig } from '../../space/config.ts';
import type { Architecture, Decision } from '../../space/decisions.ts';
import { createRng, type Rng } from '../../space/rng.ts';
import { LstmController, type ControllerState } from './controller.ts';
import type { AskTellKind, Learned, Strategy } from './strategy.ts';

interface ReinforceState {
  rng: number;
  step: number;
  pending: { architecture: Architecture; reward: number }[];
  controller: ControllerState;
  /** Oldest first; absent in states saved before memory buffers existed. */
  memoryBuffer?: Architecture[];
}

/** The controller's part of a saved REINFORCE state (a checkpoint), checked enough to say what is wrong. */
export function controllerStateOf(state: unknown): ControllerState {
  const controller = (state as Partial<ReinforceState> | null)?.controller;
  if (typeof controller !== 'object' || controller === null || !Array.isArray(controller.weights)) {
    throw new Error('the checkpoint holds no controller state: it was not saved by the reinforce strategy');
  }
  return controller;
}

export class ReinforceStrategy implements Strategy {
  readonly adaptive = true;
  /** A pruned child's reward at the epoch it reached is low, as its full one would likely be: the policy steers away from it. */
  readonly learnsFromPruned = true;
  private readonly controller: LstmController;
  private pending: { architecture: Architecture; reward: number }[] = [];
  private step = 0;
  private memoryBuffer: Architecture[] = [];
  private lastHidden: number[] | undefined;

  constructor(
    decisions: readonly Decision[],
    private readonly config: ControllerConfig,
    private readonly seed: number,
    private rng: Rng,
  ) {
    this.controller = new LstmController(decisions, config, seed);
  }

  ask(): Architecture {
    const sample = this.controller.sample(this.rng);
    this.lastHidden = sample.finalHidden;
    return sample.architecture;
  }

  lastHiddenState(): number[] | undefined {
    return this.lastHidden;
  }

  tell(architecture: Architecture, reward: number | null): Learned | undefined {
    // A child that failed to train earns nothing, which steers the controller away from it.
    this.pending.push({ architecture, reward: reward ?? 0 });
    if (this.pending.length < this.config.batch_size) return undefined;
    const buffer = this.config.memory_buffer;
    const remembered = buffer && this.step >= buffer.loss_start_step ? this.drawFromBuffer(buffer.batch_size) : [];
    const update = this.controller.update(this.pending, remembered);
    this.pending = [];
    this.step += 1;
    if (buffer && this.step > buffer.start_step) this.refillBuffer(buffer);
    const { probabilities } = this.controller.mostLikely();
    return { kind: 'controller-step', ...update, step: this.step, probabilities };
  }

  /** The architectures in the memory buffer, oldest first. */
  bufferedArchitectures(): readonly Architecture[] {
    return this.memoryBuffer;
  }

  /** Up to `count` distinct buffer entries, drawn at random (a partial Fisher-Yates shuffle). */
  private drawFromBuffer(count: number): Architecture[] {
    const indices = this.memoryBuffer.map((_, i) => i);
    const drawn = Math.min(count, indices.length);
    for (let i = 0; i < drawn; i++) {
      const j = i + Math.floor(this.rng.next() * (indices.length - i));
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    return indices.slice(0, drawn).map((i) => this.memoryBuffer[i]);
  }

  /** Samples add_per_step architectures into the buffer until it is full, then `replace` in place of the oldest. */
  private refillBuffer(buffer: MemoryBufferConfig): void {
    const full = this.memoryBuffer.length >= buffer.size;
    const count = full ? buffer.replace : Math.min(buffer.add_per_step, buffer.size - this.memoryBuffer.length);
    for (let i = 0; i < count; i++) this.memoryBuffer.push(this.controller.sample(this.rng).architecture);
    if (full) this.memoryBuffer.splice(0, count);
  }

  async getState(): Promise<ReinforceState> {
    return {
      rng: this.rng.state(),
      step: this.step,
      pending: this.pending,
      controller: await this.controller.getState(),
      memoryBuffer: this.memoryBuffer,
    };
  }

  async setState(state: unknown): Promise<void> {
    const saved = state as ReinforceState;
    await this.controller.setState(saved.controller);
    this.rng = createRng(this.seed, saved.rng);
    this.step = saved.step;
    this.pending = saved.pending;
    this.memoryBuffer = saved.memoryBuffer ?? [];
  }

  dispose(): void {
    this.controller.dispose();
  }
}

export const reinforceKind: AskTellKind<{ controller: ControllerConfig }> = {
  description: 'REINFORCE: an LSTM controller samples architectures and learns from their rewards by policy gradient',
  create: (options, decisions, seed) => new ReinforceStrategy(decisions, options.controller, seed, createRng(seed)),
};
