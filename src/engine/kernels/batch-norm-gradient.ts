import * as tf from '@tensorflow/tfjs';

// tfjs's own gradient of FusedBatchNorm tiles 1/sqrt(variance + epsilon) to the input's whole shape before
// multiplying it into dy. On wasm that Tile took a third of a training step of a 28x28 cell child with batch
// norm (measured: 508 of 1,592 CPU-ms). This gradient is the same expression with the per-channel factors
// broadcast instead; every value it returns is the stock one's, computed the same way.

interface BatchNormAttrs {
  varianceEpsilon: number;
}

const batchNormGradient: tf.GradConfig = {
  kernelName: tf.FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy, saved, attrs) => {
    const gradient = dy as tf.Tensor;
    const { varianceEpsilon } = attrs as unknown as BatchNormAttrs;
    const [x, mean, variance, scale] = saved;
    // The axes mean and variance were broadcast along: every one but the channels' for per-channel statistics.
    const reductionAxes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const toStatisticShape = (perElement: tf.Tensor) =>
      (reductionAxes.length ? tf.sum(perElement, reductionAxes) : perElement).reshape(mean.shape);
    const xMinusMean = tf.sub(x, mean);
    const dyTimesScale = tf.mul(gradient, scale);
    const oneOverSqrtVariance = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
    const minusHalfCube = tf.mul(tf.mul(tf.mul(oneOverSqrtVariance, oneOverSqrtVariance), oneOverSqrtVariance), tf.scalar(-0.5));
    return {
      x: () => tf.mul(tf.mul(gradient, oneOverSqrtVariance), scale).reshape(x.shape),
      mean: () => toStatisticShape(tf.mul(tf.mul(oneOverSqrtVariance, tf.scalar(-1)), dyTimesScale)),
      variance: () => toStatisticShape(tf.mul(tf.mul(minusHalfCube, xMinusMean), dyTimesScale)),
      scale: () => toStatisticShape(tf.mul(gradient, tf.mul(xMinusMean, oneOverSqrtVariance))),
      offset: () => toStatisticShape(gradient),
    };
  },
};

/** Puts the broadcasting gradient of FusedBatchNorm in tfjs's (global) gradient registry, for every backend. */
export function registerBatchNormGradient(): void {
  tf.registerGradient(batchNormGradient);
}
