// The NAS-RL / ENAS controller: a one-layer LSTM that emits an architecture one decision at a time,
// fed the embedding of its previous choice, and trained with REINFORCE against a moving-average baseline.
import * as tf from '@tensorflow/tfjs';
import { fixedAnchorCount, type AnchorRef, type Architecture, type Decision } from '../../space/decisions.ts';
import type { ControllerConfig } from '../../space/config.ts';
import { createRng, sampleIndex, type Rng } from '../../space/rng.ts';

/** Weights start uniform in [-INIT_RANGE, INIT_RANGE], as in ENAS. */
const INIT_RANGE = 0.1;

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

export interface SavedTensor {
  name: string;
  shape: number[];
  /** The float32 values as base64 of their bytes: exact, and a third the size of JSON numbers. */
  base64: string;
}

export function savedValues(saved: SavedTensor): Float32Array {
  const bytes = Buffer.from(saved.base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Everything needed to resume a controller exactly; plain JSON. */
export interface ControllerState {
  weights: SavedTensor[];
  optimizer: { iterations: number; slots: SavedTensor[] };
  baseline: number | null;
}

interface AttentionWeights {
  anchor: tf.Variable;
  query: tf.Variable;
  score: tf.Variable;
}

interface LstmState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

/** Picks each decision's option for every row of the batch, given that decision's logits. */
type ChoosePolicy = (decisionIndex: number, logits: tf.Tensor2D) => number[];

// tfjs variable names are global to the engine, so every controller gets its own prefix.
let controllersCreated = 0;

export class LstmController {
  private readonly decisions: readonly Decision[];
  private readonly config: ControllerConfig;
  private readonly namePrefix: string;
  /** Every weight by its name within this controller, in creation order (the checkpoint order). */
  private readonly weights = new Map<string, tf.Variable>();
  private readonly lstmKernel: tf.Variable;
  private readonly lstmBias: tf.Variable;
  private readonly startEmbedding: tf.Variable;
  /** Per decision, one learned input vector per option: how the next step is told what was chosen. */
  private readonly choiceEmbeddings: tf.Variable[];
  /** Softmax heads of the categorical decisions; undefined for attention decisions. */
  private readonly heads: ({ kernel: tf.Variable; bias: tf.Variable } | undefined)[];
  private readonly attention: AttentionWeights | undefined;
  private readonly fixedAnchors: tf.Variable | undefined;
  /** Decision indices whose hidden state (the LSTM output that made that decision) a later decision attends to. */
  private readonly anchorSteps: ReadonlySet<number>;
  /** The weights the loss depends on, in a fixed order: Adam keys its slots by position. */
  private readonly trainable: tf.Variable[];
  private optimizer: tf.AdamOptimizer;
  private baseline: number | null = null;

  constructor(decisions: readonly Decision[], config: ControllerConfig, seed: number) {
    validateDecisions(decisions);
    this.decisions = decisions;
    this.config = config;
    this.namePrefix = `lstm_controller_${controllersCreated++}`;
    const rng = createRng(seed);
    const hidden = config.hidden;
    const create = (name: string, shape: number[]) => this.createWeight(name, shape, rng);

    this.lstmKernel = create('lstm/kernel', [2 * hidden, 4 * hidden]);
    this.lstmBias = create('lstm/bias', [4 * hidden]);
    this.startEmbedding = create('start_embedding', [1, hidden]);
    this.choiceEmbeddings = decisions.map((d, i) => create(`decision_${i}/embedding`, [d.options.length, hidden]));
    this.heads = decisions.map((d, i) =>
      d.kind === 'categorical'
        ? {
            kernel: create(`decision_${i}/head/kernel`, [hidden, d.options.length]),
            bias: create(`decision_${i}/head/bias`, [d.options.length]),
          }
        : undefined,
    );
    const usesAttention = decisions.some((d) => d.kind !== 'categorical');
    this.attention = usesAttention
      ? {
          anchor: create('attention/anchor', [hidden, hidden]),
          query: create('attention/query', [hidden, hidden]),
          score: create('attention/score', [hidden, 1]),
        }
      : undefined;
    const fixedCount = fixedAnchorCount(decisions);
    this.fixedAnchors = fixedCount > 0 ? create('fixed_anchors', [fixedCount, hidden]) : undefined;

    const steps = new Set<number>();
    for (const d of decisions) {
      for (const ref of anchorsOf(d)) if ('step' in ref) steps.add(ref.step);
    }
    this.anchorSteps = steps;

    // The last decision's embedding only feeds the final hidden state kept for analysis; no
    // log-probability depends on it, so it has no gradient and stays as initialised.
    const analysisOnly = this.choiceEmbeddings[decisions.length - 1];
    this.trainable = [...this.weights.values()].filter((w) => w !== analysisOnly);
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
      const { hidden } = this.unroll(
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
    this.validateArchitecture(architecture);
    return tf.tidy(() => {
      const { logits } = this.unroll(1, (index) => [architecture[index]], false);
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
      this.unroll(
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
    architectures.forEach((a) => this.validateArchitecture(a));
    remembered.forEach((a) => this.validateArchitecture(a));
    const meanReward = batch.reduce((sum, b) => sum + b.reward, 0) / batch.length;
    // Initialised to the first batch's mean reward rather than 0, so the first advantages are
    // centred instead of all sharing the sign of the (positive) rewards.
    const baseline = this.baseline ?? meanReward;
    const advantages = batch.map((b) => b.reward - baseline);

    let entropy = 0;
    let supervisedLoss: number | null = null;
    const lossTensor = this.optimizer.minimize(
      () => {
        const scored = this.scoreArchitectures(architectures);
        const policyLoss = tf.neg(tf.mean(tf.mul(tf.tensor1d(advantages), scored.logProb)));
        const meanEntropy = tf.mean(scored.entropy);
        entropy = meanEntropy.dataSync()[0];
        const loss = tf.sub(policyLoss, tf.mul(this.config.entropy_weight, meanEntropy)) as tf.Scalar;
        if (remembered.length === 0) return loss;
        const negativeLogLikelihood = tf.neg(tf.mean(this.scoreArchitectures(remembered).logProb));
        supervisedLoss = negativeLogLikelihood.dataSync()[0];
        return tf.add(loss, negativeLogLikelihood) as tf.Scalar;
      },
      true,
      this.trainable,
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
    architectures.forEach((a) => this.validateArchitecture(a));
    return tf.tidy(() => -tf.mean(this.scoreArchitectures(architectures).logProb).dataSync()[0]);
  }

  /** Every weight, the Adam slots and the baseline, as plain JSON. */
  async getState(): Promise<ControllerState> {
    const weights = [...this.weights].map(([name, w]) => saveTensor(name, w));
    const [iterations, ...slots] = await this.optimizer.getWeights();
    const iterationCount = (await iterations.tensor.data())[0];
    iterations.tensor.dispose();
    return {
      weights,
      optimizer: {
        iterations: iterationCount,
        slots: slots.map((slot) => saveTensor(this.localName(slot.name), slot.tensor)),
      },
      baseline: this.baseline,
    };
  }

  /** Restores a state taken from a controller built on the same decisions and hidden size. */
  async setState(state: ControllerState): Promise<void> {
    this.checkStateFits(state);
    for (const saved of state.weights) {
      const weight = required(this.weights.get(saved.name), `weight ${saved.name}`);
      tf.tidy(() => weight.assign(tf.tensor(savedValues(saved), saved.shape)));
    }
    this.optimizer.dispose();
    this.optimizer = tf.train.adam(this.config.learning_rate);
    const slotTensors = [
      { name: 'iter', tensor: tf.scalar(state.optimizer.iterations, 'int32') },
      ...state.optimizer.slots.map((slot) => ({
        name: `${this.namePrefix}/${slot.name}`,
        tensor: tf.tensor(savedValues(slot), slot.shape),
      })),
    ];
    await this.optimizer.setWeights(slotTensors);
    // setWeights makes its own variables from these.
    tf.dispose(slotTensors.map((s) => s.tensor));
    this.baseline = state.baseline;
  }

  dispose(): void {
    this.weights.forEach((w) => w.dispose());
    this.weights.clear();
    this.optimizer.dispose();
  }

  /** Throws, before anything is overwritten, unless the state was taken from a controller like this one. */
  private checkStateFits(state: ControllerState): void {
    if (state.weights.length !== this.weights.size) {
      throw new Error(`The state has ${state.weights.length} weights; this controller has ${this.weights.size}.`);
    }
    for (const saved of state.weights) {
      const weight = this.weights.get(saved.name);
      if (weight === undefined) throw new Error(`The state has a weight ${saved.name} this controller lacks.`);
      if (!sameShape(weight.shape, saved.shape)) {
        throw new Error(`Weight ${saved.name} has shape [${saved.shape}]; expected [${weight.shape}].`);
      }
    }
    // Adam holds a first and a second moment per trainable weight, in trainable order (none before the first update).
    const slots = state.optimizer.slots;
    const count = this.trainable.length;
    if (slots.length !== 0 && slots.length !== 2 * count) {
      throw new Error(`The state has ${slots.length} optimizer slots; expected 0 or ${2 * count}.`);
    }
    slots.forEach((slot, i) => {
      const expected = this.trainable[i % count].shape;
      if (!sameShape(slot.shape, expected)) {
        throw new Error(`Optimizer slot ${slot.name} has shape [${slot.shape}]; expected [${expected}].`);
      }
    });
  }

  private createWeight(name: string, shape: number[], rng: Rng): tf.Variable {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) values[i] = (2 * rng.next() - 1) * INIT_RANGE;
    const initial = tf.tensor(values, shape);
    const weight = tf.variable(initial, true, `${this.namePrefix}/${name}`);
    initial.dispose();
    this.weights.set(name, weight);
    return weight;
  }

  private localName(variableName: string): string {
    const prefix = `${this.namePrefix}/`;
    return variableName.startsWith(prefix) ? variableName.slice(prefix.length) : variableName;
  }

  /**
   * Runs the LSTM over the decisions for a batch of rows, letting `choose` pick each option.
   * Returns each decision's logits (after temperature and tanh clipping), the chosen indices, and
   * the last hidden state (after feeding the final choice back in when `feedFinalChoice`).
   */
  private unroll(
    batchSize: number,
    choose: ChoosePolicy,
    feedFinalChoice: boolean,
  ): { logits: tf.Tensor2D[]; choices: tf.Tensor1D[]; hidden: tf.Tensor2D } {
    const hidden = this.config.hidden;
    let state: LstmState = { h: tf.zeros([batchSize, hidden]), c: tf.zeros([batchSize, hidden]) };
    let input = tf.tile(this.startEmbedding, [batchSize, 1]) as tf.Tensor2D;
    // Anchors are compared through W_anchor · h_anchor; project each once, when it appears.
    const anchorKeys = new Map<number, tf.Tensor2D>();
    const fixedKeys =
      this.fixedAnchors && this.attention ? (tf.matMul(this.fixedAnchors, this.attention.anchor) as tf.Tensor2D) : undefined;
    const keyOf = (ref: AnchorRef): tf.Tensor2D => {
      const key = 'step' in ref ? anchorKeys.get(ref.step) : fixedKeys?.slice([ref.fixed, 0], [1, hidden]);
      if (key === undefined) throw new Error(`No anchor ${JSON.stringify(ref)} at this point.`);
      return key;
    };

    const logits: tf.Tensor2D[] = [];
    const choices: tf.Tensor1D[] = [];
    const last = this.decisions.length - 1;
    this.decisions.forEach((decision, index) => {
      state = this.cell(input, state);
      if (this.attention && this.anchorSteps.has(index)) {
        anchorKeys.set(index, tf.matMul(state.h, this.attention.anchor));
      }
      const decisionLogits = this.scaleLogits(this.rawLogits(index, decision, state.h, keyOf));
      logits.push(decisionLogits);
      const chosen = tf.tensor1d(choose(index, decisionLogits), 'int32');
      choices.push(chosen);
      if (index < last || feedFinalChoice) input = tf.gather(this.choiceEmbeddings[index], chosen) as tf.Tensor2D;
    });
    if (feedFinalChoice) state = this.cell(input, state);
    return { logits, choices, hidden: state.h };
  }

  private cell(input: tf.Tensor2D, { h, c }: LstmState): LstmState {
    const gates = tf.add(tf.matMul(tf.concat([input, h], 1), this.lstmKernel), this.lstmBias);
    const [inputGate, forgetGate, candidate, outputGate] = tf.split(gates, 4, 1);
    const nextC = tf.add(tf.mul(tf.sigmoid(forgetGate), c), tf.mul(tf.sigmoid(inputGate), tf.tanh(candidate)));
    const nextH = tf.mul(tf.sigmoid(outputGate), tf.tanh(nextC));
    return { h: nextH as tf.Tensor2D, c: nextC as tf.Tensor2D };
  }

  private rawLogits(index: number, decision: Decision, h: tf.Tensor2D, keyOf: (ref: AnchorRef) => tf.Tensor2D): tf.Tensor2D {
    if (decision.kind === 'categorical') {
      const head = required(this.heads[index], `the head of ${decision.name}`);
      return tf.add(tf.matMul(h, head.kernel), head.bias);
    }
    const attention = required(this.attention, 'attention weights');
    // score_k = v · tanh(W_anchor h_anchor_k + W_query h_t)
    const query = tf.matMul(h, attention.query);
    const anchors = anchorsOf(decision);
    const batchSize = h.shape[0];
    const summed = tf.stack(
      anchors.map((ref) => tf.add(keyOf(ref), query)),
      1,
    );
    const flat = tf.reshape(tf.tanh(summed), [batchSize * anchors.length, this.config.hidden]);
    const scores = tf.reshape(tf.matMul(flat, attention.score), [batchSize, anchors.length]) as tf.Tensor2D;
    // A skip is a sigmoid on its score: softmax over [0, score].
    return decision.kind === 'skip' ? tf.concat([tf.zeros([batchSize, 1]), scores], 1) : scores;
  }

  private scaleLogits(logits: tf.Tensor2D): tf.Tensor2D {
    const { temperature, tanh_constant: tanhConstant } = this.config;
    const tempered = temperature === 1 ? logits : tf.div<tf.Tensor2D>(logits, temperature);
    return tanhConstant > 0 ? tf.mul<tf.Tensor2D>(tf.tanh(tempered), tanhConstant) : tempered;
  }

  /** Per-row log-probability and summed entropy of the given architectures, teacher-forced. */
  private scoreArchitectures(architectures: readonly Architecture[]): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    const { logits, choices } = this.unroll(architectures.length, (index) => architectures.map((a) => a[index]), false);
    const logProbs: tf.Tensor1D[] = [];
    const entropies: tf.Tensor1D[] = [];
    logits.forEach((z, index) => {
      const logP = tf.logSoftmax(z);
      const chosen = tf.oneHot(choices[index], z.shape[1], 1, 0, 'float32');
      logProbs.push(tf.sum<tf.Tensor1D>(tf.mul(logP, chosen), 1));
      entropies.push(tf.neg(tf.sum<tf.Tensor1D>(tf.mul(tf.exp(logP), logP), 1)));
    });
    return { logProb: tf.addN(logProbs), entropy: tf.addN(entropies) };
  }

  private validateArchitecture(architecture: Architecture): void {
    if (architecture.length !== this.decisions.length) {
      throw new Error(`An architecture has ${this.decisions.length} choices; got ${architecture.length}.`);
    }
    architecture.forEach((choice, i) => {
      const count = this.decisions[i].options.length;
      if (!Number.isInteger(choice) || choice < 0 || choice >= count) {
        throw new Error(`Choice ${choice} of decision ${this.decisions[i].name} is not in [0, ${count}).`);
      }
    });
  }
}

function validateDecisions(decisions: readonly Decision[]): void {
  if (decisions.length === 0) throw new Error('A controller needs at least one decision.');
  decisions.forEach((d, index) => {
    if (d.options.length === 0) throw new Error(`Decision ${d.name} has no options.`);
    if (d.kind === 'skip' && d.options.length !== 2) {
      throw new Error(`Skip decision ${d.name} must have options [no, yes].`);
    }
    if (d.kind === 'input' && d.anchors.length !== d.options.length) {
      throw new Error(`Input decision ${d.name} needs one anchor per option.`);
    }
    for (const ref of anchorsOf(d)) {
      if ('step' in ref && (ref.step < 0 || ref.step >= index)) {
        throw new Error(`Decision ${d.name} (#${index}) attends to step ${ref.step}: not an earlier decision.`);
      }
    }
  });
}

/** The earlier layers or nodes a decision attends to (none for a categorical one). */
function anchorsOf(decision: Decision): AnchorRef[] {
  if (decision.kind === 'input') return decision.anchors;
  if (decision.kind === 'skip') return [decision.anchor];
  return [];
}

/** Unwraps a value the constructor guarantees for the decisions it was given. */
function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`The controller has no ${what}.`);
  return value;
}

export function saveTensor(name: string, tensor: tf.Tensor): SavedTensor {
  const values = tensor.dataSync() as Float32Array;
  return { name, shape: [...tensor.shape], base64: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
