// The training recipe of `evaluation` beyond the optimizer: the learning rate of each step, label
// smoothing, and augmentation of the training images. The PyTorch reference (bench/reference_torch.py)
// follows the same formulas, so the two trainers can be compared step for step.

import * as tf from '@tensorflow/tfjs';
import type { TrainEvaluationConfig } from '../../space/config.ts';
import type { TrainingAugmentation } from '../../space/kinds/evaluations/train.ts';
import type { Rng } from '../../space/rng.ts';

type Schedule = Pick<TrainEvaluationConfig, 'learning_rate' | 'lr_schedule' | 'warmup_epochs'>;

/**
 * The rate of step `step` (from 0) of `totalSteps`: during warm-up it rises linearly to `learning_rate`
 * (reached at the warm-up's last step); after it, constant or annealed by a half cosine towards 0.
 */
export function learningRateAt(schedule: Schedule, step: number, totalSteps: number, stepsPerEpoch: number): number {
  const warmupSteps = Math.round(schedule.warmup_epochs * stepsPerEpoch);
  if (step < warmupSteps) return (schedule.learning_rate * (step + 1)) / warmupSteps;
  if (schedule.lr_schedule === 'constant') return schedule.learning_rate;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return 0.5 * schedule.learning_rate * (1 + Math.cos(Math.PI * progress));
}

/** Targets mixed with the uniform distribution: 1 - s + s/K for the true class, s/K for the others. */
export function smoothedTargets(oneHot: tf.Tensor2D, smoothing: number): tf.Tensor2D {
  if (smoothing === 0) return oneHot;
  const classes = oneHot.shape[1];
  return tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / classes);
}

/**
 * Pad each image by `crop_padding` zeros and crop its own size back at an offset drawn from `rng`, and
 * mirror it when a draw says so; with neither, the images as they are (and no draw). One gather picks
 * every output pixel from the padded batch, so no value is interpolated: wasm's crop-and-resize, which
 * did this before, returned some crops at the wrong offset (those of the top row, measured on 4.22).
 */
export function augmentBatch(images: tf.Tensor4D, augment: TrainingAugmentation, rng: Rng): tf.Tensor4D {
  if (augment.crop_padding === 0 && !augment.horizontal_flip) return images;
  const [count, height, width, channels] = images.shape;
  const pad = augment.crop_padding;
  const [paddedHeight, paddedWidth] = [height + 2 * pad, width + 2 * pad];
  const sources = new Int32Array(count * height * width);
  for (let i = 0, out = 0; i < count; i++) {
    const top = rng.int(2 * pad + 1);
    const left = rng.int(2 * pad + 1);
    const mirrored = augment.horizontal_flip && rng.next() < 0.5;
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++, out++)
        sources[out] = (i * paddedHeight + top + y) * paddedWidth + left + (mirrored ? width - 1 - x : x);
  }
  return tf.tidy(() => {
    const padded = tf.pad(images, [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ]);
    const pixels = tf.reshape(padded, [count * paddedHeight * paddedWidth, channels]);
    return tf.reshape(tf.gather(pixels, tf.tensor1d(sources, 'int32')), [count, height, width, channels]);
  });
}
