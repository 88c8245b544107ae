// The controller's network: a one-layer LSTM over the decisions, fed the embedding of each previous choice,
// with a softmax head per categorical decision and attention over earlier steps for input and skip decisions.
// It holds the weights and runs the forward pass; the policy that samples from it and learns lives in controller.ts.
import * as tf from '@tensorflow/tfjs';
import { fixedAnchorCount, type AnchorRef, type Architecture, type Decision } from '../../space/decisions.ts';
import type { ControllerConfig } from '../../space/config.ts';
import { createRng, type Rng } from '../../space/rng.ts';

/** Weights start uniform in [-INIT_RANGE, INIT_RANGE], as in ENAS. */
const INIT_RANGE = 0.1;

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

export class ControllerNetwork {
  private readonly decisions: readonly Decision[];
  private readonly config: ControllerConfig;
  readonly namePrefix: string;
  /** Every weight by its name within this controller, in creation order (the checkpoint order). */
  readonly weights = new Map<string, tf.Variable>();
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
  readonly trainable: tf.Variable[];

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

  /**
   * Runs the LSTM over the decisions for a batch of rows, letting `choose` pick each option.
   * Returns each decision's logits (after temperature and tanh clipping), the chosen indices, and
   * the last hidden state (after feeding the final choice back in when `feedFinalChoice`).
   */
  unroll(
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
  scoreArchitectures(architectures: readonly Architecture[]): { logProb: tf.Tensor1D; entropy: tf.Tensor1D } {
    const { logits, choices } = this.unroll(architectures.length, (index) => architectures.map((a) => a[index]), false);
    const logProbs: tf.Tensor1D[] = [];
    const entropies: tf.Tensor1D[] = [];
    logits.forEach((z, index) => {
      const logP = tf.logSoftmax(z);
      // tfjs' oneHot refuses a depth of 1; a decision of one option is certain (log-probability 0, entropy 0).
      const chosen = z.shape[1] === 1 ? tf.onesLike(z) : tf.oneHot(choices[index], z.shape[1], 1, 0, 'float32');
      logProbs.push(tf.sum<tf.Tensor1D>(tf.mul(logP, chosen), 1));
      entropies.push(tf.neg(tf.sum<tf.Tensor1D>(tf.mul(tf.exp(logP), logP), 1)));
    });
    return { logProb: tf.addN(logProbs), entropy: tf.addN(entropies) };
  }

  validateArchitecture(architecture: Architecture): void {
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
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`The controller has no ${what}.`);
  return value;
}
