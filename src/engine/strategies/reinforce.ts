// REINFORCE (NAS-RL, ENAS): the LSTM controller samples architectures; after every M evaluated
// ones it takes one policy-gradient step on their rewards.

import type { ControllerConfig } from '../../space/config.ts';
import type { Architecture, Decision } from '../../space/decisions.ts';
import { createRng, type Rng } from '../../space/rng.ts';
import { LstmController, type ControllerState } from './controller.ts';
import type { PolicyUpdate, Strategy } from './strategy.ts';

interface ReinforceState {
  rng: number;
  step: number;
  pending: { architecture: Architecture; reward: number }[];
  controller: ControllerState;
}

export class ReinforceStrategy implements Strategy {
  readonly adaptive = true;
  private readonly controller: LstmController;
  private pending: { architecture: Architecture; reward: number }[] = [];
  private step = 0;

  constructor(
    decisions: readonly Decision[],
    private readonly config: ControllerConfig,
    private readonly seed: number,
    private rng: Rng,
  ) {
    this.controller = new LstmController(decisions, config, seed);
  }

  ask(): Architecture {
    return this.controller.sample(this.rng).architecture;
  }

  tell(architecture: Architecture, reward: number | null): PolicyUpdate | undefined {
    // A child that failed to train earns nothing, which steers the controller away from it.
    this.pending.push({ architecture, reward: reward ?? 0 });
    if (this.pending.length < this.config.batch_size) return undefined;
    const update = this.controller.update(this.pending);
    this.pending = [];
    this.step += 1;
    const { probabilities } = this.controller.mostLikely();
    return { ...update, step: this.step, probabilities };
  }

  async getState(): Promise<ReinforceState> {
    return { rng: this.rng.state(), step: this.step, pending: this.pending, controller: await this.controller.getState() };
  }

  async setState(state: unknown): Promise<void> {
    const saved = state as ReinforceState;
    await this.controller.setState(saved.controller);
    this.rng = createRng(this.seed, saved.rng);
    this.step = saved.step;
    this.pending = saved.pending;
  }

  dispose(): void {
    this.controller.dispose();
  }
}
