import * as tf from '@tensorflow/tfjs';

// Batch norm in training mode as one operation with its closed-form gradient. tfjs's layer computes it from
// tf.moments and tf.batchNorm, and differentiates through both: about 45 passes over the activations per
// layer and step, where the closed form needs about 18. On wasm that was a third of a 28x28 cell child's
// training step. Inference is tfjs's own, and so is everything a saved model holds.

/** The statistics the normalisation used: the batch's mean and (biased) variance per channel. */
export interface BatchStatistics {
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Normalises `x` per channel (its last axis) with the batch's statistics, then, given `affine`, scales by
 * gamma and shifts by beta. The gradient is the closed form
 * dx = gamma / sqrt(var + eps) * (dy - mean(dy) - x̂ * mean(dy * x̂)), with the means over all but the channels.
 */
export function normalizeInTraining(
  x: tf.Tensor,
  epsilon: number,
  affine?: { gamma: tf.Tensor1D; beta: tf.Tensor1D },
): { normalized: tf.Tensor; statistics: BatchStatistics } {
  const axes = x.shape.slice(0, -1).map((_, axis) => axis);
  const count = x.size / x.shape[x.rank - 1];
  let kept: BatchStatistics | undefined;
  const normalize = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [input, gamma, beta] = args as tf.Tensor[];
    const mean = tf.mean(input, axes) as tf.Tensor1D;
    const centered = tf.sub(input, mean);
    const variance = tf.mean(tf.square(centered), axes) as tf.Tensor1D;
    const inverseDeviation = tf.rsqrt(tf.add(variance, epsilon));
    const normalizedInput = tf.mul(centered, inverseDeviation);
    // Kept past the operation's own scope, which disposes what it does not return or save.
    kept = { mean: tf.keep(mean), variance: tf.keep(variance) };
    save(gamma ? [normalizedInput, inverseDeviation, gamma] : [normalizedInput, inverseDeviation]);
    return {
      value: gamma ? tf.add(tf.mul(normalizedInput, gamma), beta) : normalizedInput,
      gradFunc: (dy, saved) => {
        const [normalizedSaved, inverseSaved, gammaSaved] = saved;
        const gradient = dy as tf.Tensor;
        const betaGradient = tf.sum(gradient, axes);
        const gammaGradient = tf.sum(tf.mul(gradient, normalizedSaved), axes);
        const centeredGradient = tf.sub(
          tf.sub(gradient, tf.div(betaGradient, count)),
          tf.mul(normalizedSaved, tf.div(gammaGradient, count)),
        );
        const inputGradient = tf.mul(centeredGradient, gammaSaved ? tf.mul(gammaSaved, inverseSaved) : inverseSaved);
        return gammaSaved ? [inputGradient, gammaGradient, betaGradient] : [inputGradient];
      },
    };
  });
  const normalized = affine ? normalize(x, affine.gamma, affine.beta) : normalize(x);
  // Handed to the caller's scope like any tensor it makes: clones it owns, the kept originals released.
  const statistics = { mean: kept!.mean.clone(), variance: kept!.variance.clone() };
  tf.dispose([kept!.mean, kept!.variance]);
  return { normalized, statistics };
}

/** tfjs's BatchNormalization class, which tfjs does not export by name. */
const StockBatchNormalization = tf.layers.batchNormalization({}).constructor as new (args: BatchNormArgs) => tf.layers.Layer;

interface BatchNormArgs {
  axis: -1;
  momentum: number;
  epsilon: number;
}

/**
 * tfjs's BatchNormalization (same class name, weights and configuration, so a saved model is a standard one)
 * whose training-mode call is normalizeInTraining. It keeps the stock layer's scale, shift and channels-last axis.
 */
class ClosedFormBatchNormalization extends StockBatchNormalization {
  static readonly className = 'BatchNormalization';
  private readonly settings: BatchNormArgs;

  constructor(args: BatchNormArgs) {
    super(args);
    this.settings = args;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    if (kwargs.training !== true) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const input = Array.isArray(inputs) ? inputs[0] : inputs;
      const [gamma, beta] = this.trainableWeights.map((weight) => weight.read() as tf.Tensor1D);
      const { normalized, statistics } = normalizeInTraining(input, this.settings.epsilon, { gamma, beta });
      // The running statistics move as tfjs's layer moves them: by (1 - momentum) towards the batch's.
      const [movingMean, movingVariance] = this.nonTrainableWeights;
      for (const [moving, batch] of [
        [movingMean, statistics.mean],
        [movingVariance, statistics.variance],
      ] as const) {
        const value = moving.read();
        moving.write(tf.sub(value, tf.mul(tf.sub(value, batch), 1 - this.settings.momentum)));
      }
      return normalized;
    });
  }
}

/** A batch-norm layer over the channels (last axis) that trains with the closed-form gradient. */
export function batchNormalization(args: { momentum: number; epsilon: number }): tf.layers.Layer {
  return new ClosedFormBatchNormalization({ axis: -1, ...args });
}
