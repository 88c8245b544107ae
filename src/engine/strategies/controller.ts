// The NAS-RL / ENAS controller: samples an architecture one decision at a time from its LSTM network
// (controller-network.ts), and learns with REINFORCE against a moving-average baseline.
import * as tf from '@tensorflow/tfjs';
import type { Architecture, Decision } from '../../space/decisions.ts';
import type { ControllerConfig } from '../../space/config.ts';
import { sampleIndex, type Rng } from '../../space/rng.ts';
import { ControllerNetwork, required } from './controller-network.ts';
import { sameShape, saveTensor, savedValues, type SavedTensor } from './saved-tensor.ts';

export interface ControllerSample {
  architecture: Architecture;
  /** log P(architecture) under the controller. */
  logProb: number;
  /** Sum over decisions of the entropy of each decision's distribution. */
  entropy: number;
  /** The distribution each decision was drawn from, in decision order. */
  probabilities: number[][];
  /** The LSTM hidden state once it has been fed the final choice: the whole architecture, encoded. */
  finalHidden: number[];
}

export interface ControllerUpdate {
  loss: number;
  meanReward: number;
  /** The baseline the advantages were taken against (its value before this batch moved it). */
  baseline: number;
  /** Mean over the batch of the summed per-decision entropy. */
  entropy: number;
  /** Mean advantage of the batch: meanReward - baseline. */
  advantage: number;
  /** L_sup, the mean negative log-likelihood of the memory-buffer batch, before the step; null when there was none. */
  supervisedLoss: number | null;
}

/** Everything needed to resume a controller exactly; plain JSON. */
export interface ControllerState {
  weights: SavedTensor[];
  optimizer: { iterations: number; slots: SavedTensor[] };
  baseline: number | null;
}

export class LstmController {
  private readonly config: ControllerConfig;
  private readonly network: ControllerNetwork;
  private optimizer: tf.AdamOptimizer;
  private baseline: number | null = null;

  constructor(decisions: readonly Decision[], config: ControllerConfig, seed: number) {
    this.config = config;
    this.network = new ControllerNetwork(decisions, config, seed);
    this.optimizer = tf.train.adam(config.learning_rate);
  }

  /** Draws an architecture, decision by decision, from the seeded rng. */
  sample(rng: Rng): ControllerSample {
    const architecture: number[] = [];
    const probabilities: number[][] = [];
    let logProb = 0;
    let entropy = 0;
    let finalHidden: number[] = [];
    tf.tidy(() => {
      const { hidden } = this.network.unroll(
        1,
        (_, logits) => {
          const probs = tf.softmax(logits).dataSync();
          const choice = sampleIndex(probs, rng);
          architecture.push(choice);
          probabilities.push(Array.from(probs));
          logProb += Math.log(probs[choice]);
          for (const p of probs) if (p > 0) entropy -= p * Math.log(p);
          return [choice];
        },
        true,
      );
      finalHidden = Array.from(hidden.dataSync());
    });
    return { architecture, logProb, entropy, probabilities, finalHidden };
  }

  /** Each decision's distribution along the given architecture (teacher forcing). */
  probabilitiesOf(architecture: Architecture): number[][] {
    this.network.validateArchitecture(architecture);
    return tf.tidy(() => {
      const { logits } = this.network.unroll(1, (index) => [architecture[index]], false);
      return logits.map((z) => Array.from(tf.softmax(z).dataSync()));
    });
  }

  /**
   * The architecture made of each decision's most likely option, fed back greedily, with each
   * decision's distribution along it (what probabilitiesOf would give for it, in one pass).
   */
  mostLikely(): { architecture: Architecture; probabilities: number[][] } {
    const architecture: number[] = [];
    const probabilities: number[][] = [];
    tf.tidy(() => {
      this.network.unroll(
        1,
        (_, logits) => {
          const probs = tf.softmax(logits).dataSync();
          let best = 0;
          for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
          architecture.push(best);
          probabilities.push(Array.from(probs));
          return [best];
        },
        false,
      );
    });
    return { architecture, probabilities };
  }

  /**
   * One REINFORCE step on a batch of evaluated architectures. With `remembered` architectures (a
   * memory-buffer batch), their mean negative log-likelihood is added to the loss: L = L_PG + L_sup.
   */
  update(batch: readonly { architecture: Architecture; reward: number }[], remembered: readonly Architecture[] = []): ControllerUpdate {
    if (batch.length === 0) throw new Error('A controller update needs at least one architecture.');
    const architectures = batch.map((b) => b.architecture);
    architectures.forEach((a) => this.network.validateArchitecture(a));
    remembered.forEach((a) => this.network.validateArchitecture(a));
    const meanReward = batch.reduce((sum, b) => sum + b.reward, 0) / batch.length;
    // Initialised to the first batch's mean reward rather than 0, so the first advantages are
    // centred instead of all sharing the sign of the (positive) rewards.
    const baseline = this.baseline ?? meanReward;
    const advantages = batch.map((b) => b.reward - baseline);

    let entropy = 0;
    let supervisedLoss: number | null = null;
    const lossTensor = this.optimizer.minimize(
      () => {
        const scored = this.network.scoreArchitectures(architectures);
        const policyLoss = tf.neg(tf.mean(tf.mul(tf.tensor1d(advantages), scored.logProb)));
        const meanEntropy = tf.mean(scored.entropy);
        entropy = meanEntropy.dataSync()[0];
        const loss = tf.sub(policyLoss, tf.mul(this.config.entropy_weight, meanEntropy)) as tf.Scalar;
        if (remembered.length === 0) return loss;
        const negativeLogLikelihood = tf.neg(tf.mean(this.network.scoreArchitectures(remembered).logProb));
        supervisedLoss = negativeLogLikelihood.dataSync()[0];
        return tf.add(loss, negativeLogLikelihood) as tf.Scalar;
      },
      true,
      this.network.trainable,
    );
    if (lossTensor === null) throw new Error('The optimizer returned no loss.');
    const loss = lossTensor.dataSync()[0];
    lossTensor.dispose();

    const decay = this.config.baseline_decay;
    this.baseline = decay * baseline + (1 - decay) * meanReward;
    return { loss, meanReward, baseline, entropy, advantage: meanReward - baseline, supervisedLoss };
  }

  /** The mean negative log-likelihood of the architectures under the controller (the supervised loss, without a step). */
  negativeLogLikelihood(architectures: readonly Architecture[]): number {
    if (architectures.length === 0) throw new Error('A negative log-likelihood needs at least one architecture.');
    architectures.forEach((a) => this.network.validateArchitecture(a));
    return tf.tidy(() => -tf.mean(this.network.scoreArchitectures(architectures).logProb).dataSync()[0]);
  }

  /** Every weight, the Adam slots and the baseline, as plain JSON. */
  async getState(): Promise<ControllerState> {
    const weights = await Promise.all([...this.network.weights].map(([name, w]) => saveTensor(name, w)));
    const [iterations, ...slots] = await this.optimizer.getWeights();
    const iterationCount = (await iterations.tensor.data())[0];
    iterations.tensor.dispose();
    return {
      weights,
      optimizer: {
        iterations: iterationCount,
        slots: await Promise.all(slots.map((slot) => saveTensor(this.localName(slot.name), slot.tensor))),
      },
      baseline: this.baseline,
    };
  }

  /** Restores a state taken from a controller built on the same decisions and hidden size. */
  async setState(state: ControllerState): Promise<void> {
    this.checkStateFits(state);
    for (const saved of state.weights) {
      const weight = required(this.network.weights.get(saved.name), `weight ${saved.name}`);
      tf.tidy(() => weight.assign(tf.tensor(savedValues(saved), saved.shape)));
    }
    this.optimizer.dispose();
    this.optimizer = tf.train.adam(this.config.learning_rate);
    const slotTensors = [
      { name: 'iter', tensor: tf.scalar(state.optimizer.iterations, 'int32') },
      ...state.optimizer.slots.map((slot) => ({
        name: `${this.network.namePrefix}/${slot.name}`,
        tensor: tf.tensor(savedValues(slot), slot.shape),
      })),
    ];
    await this.optimizer.setWeights(slotTensors);
    // setWeights makes its own variables from these.
    tf.dispose(slotTensors.map((s) => s.tensor));
    this.baseline = state.baseline;
  }

  dispose(): void {
    this.network.weights.forEach((w) => w.dispose());
    this.network.weights.clear();
    this.optimizer.dispose();
  }

  /** Throws, before anything is overwritten, unless the state was taken from a controller like this one. */
  private checkStateFits(state: ControllerState): void {
    if (state.weights.length !== this.network.weights.size) {
      throw new Error(`The state has ${state.weights.length} weights; this controller has ${this.network.weights.size}.`);
    }
    for (const saved of state.weights) {
      const weight = this.network.weights.get(saved.name);
      if (weight === undefined) throw new Error(`The state has a weight ${saved.name} this controller lacks.`);
      if (!sameShape(weight.shape, saved.shape)) {
        throw new Error(`Weight ${saved.name} has shape [${saved.shape}]; expected [${weight.shape}].`);
      }
    }
    // Adam holds a first and a second moment per trainable weight, in trainable order (none before the first update).
    const slots = state.optimizer.slots;
    const count = this.network.trainable.length;
    if (slots.length !== 0 && slots.length !== 2 * count) {
      throw new Error(`The state has ${slots.length} optimizer slots; expected 0 or ${2 * count}.`);
    }
    slots.forEach((slot, i) => {
      const expected = this.network.trainable[i % count].shape;
      if (!sameShape(slot.shape, expected)) {
        throw new Error(`Optimizer slot ${slot.name} has shape [${slot.shape}]; expected [${expected}].`);
      }
    });
  }

  private localName(variableName: string): string {
    const prefix = `${this.network.namePrefix}/`;
    return variableName.startsWith(prefix) ? variableName.slice(prefix.length) : variableName;
  }
}
