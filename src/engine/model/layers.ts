// What every space's network builder shares: layers seeded one by one, padding and concatenation as
// layers, and the classifier on top.

import * as tf from '@tensorflow/tfjs';
import { batchNormalization } from './batch-norm.ts';
import { resolveHead, type ClassifierHead } from '../../space/kinds/spaces/parameters.ts';
import type { PadAndConcatOps } from './pad-and-concat.ts';

export type Shape3 = [number, number, number];

/**
 * A space kind's network (its kind module loads it): the layers from the input image to the class
 * probabilities, every weighted layer made through `layers`.
 */
export type NetworkBuilder<Space, Graph> = (
  graph: Graph,
  space: Space,
  image: tf.SymbolicTensor,
  layers: LayerFactory,
  classes: number,
) => tf.SymbolicTensor;

export /** Hands out a fresh initializer seed per layer. */
class LayerFactory {
  private nextSeed: number;
  /** Every layer with weights, in creation order. */
  readonly weighted: tf.layers.Layer[] = [];
  constructor(seed: number) {
    this.nextSeed = seed * 7919;
  }
  private track(layer: tf.layers.Layer): tf.layers.Layer {
    this.weighted.push(layer);
    return layer;
  }
  private init() {
    return tf.initializers.heNormal({ seed: this.nextSeed++ });
  }
  /** ReLU follows, or with `beforeNorm` batch norm: then no activation and no bias (the norm's shift replaces it). */
  private ending(beforeNorm: boolean) {
    return beforeNorm ? { useBias: false } : { activation: 'relu' as const };
  }
  conv(filters: number, kernelSize: [number, number], strides: number, beforeNorm = false): tf.layers.Layer {
    return this.track(
      tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', ...this.ending(beforeNorm), kernelInitializer: this.init() }),
    );
  }
  separableConv(filters: number, size: number, strides: number, beforeNorm = false): tf.layers.Layer {
    return this.track(
      tf.layers.separableConv2d({
        filters,
        kernelSize: size,
        strides,
        padding: 'same',
        ...this.ending(beforeNorm),
        depthwiseInitializer: this.init(),
        pointwiseInitializer: this.init(),
      }),
    );
  }
  /** Scale, shift and running statistics (counted in `params`, as tfjs counts every weight). */
  batchNorm(): tf.layers.Layer {
    // Momentum 0.9 (PyTorch's 0.1), not tfjs' 0.99: children train for a few hundred steps, and the
    // running statistics that validation uses must have caught up by then.
    return this.track(batchNormalization({ momentum: 0.9, epsilon: 1e-5 }));
  }
  classifier(classes: number): tf.layers.Layer {
    return this.track(
      tf.layers.dense({
        units: classes,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: this.nextSeed++ }),
      }),
    );
  }
}

export const relu = (t: tf.SymbolicTensor) => tf.layers.reLU().apply(t) as tf.SymbolicTensor;

export /** Padding and concatenation as layers of the model. */
const SYMBOLIC_OPS: PadAndConcatOps<tf.SymbolicTensor> = {
  spatialSize: (t) => [t.shape[1] as number, t.shape[2] as number],
  zeroPad: (t, padding) => tf.layers.zeroPadding2d({ padding }).apply(t) as tf.SymbolicTensor,
  concatDepth: (tensors) => tf.layers.concatenate({ axis: -1 }).apply(tensors) as tf.SymbolicTensor,
};

/** The dense softmax classifier on the features, pooled or flattened as `head` says (`resolveHead` picks `auto`'s). */
export function classify(
  features: tf.SymbolicTensor,
  layers: LayerFactory,
  classes: number,
  head: ClassifierHead | 'auto',
  image: tf.SymbolicTensor,
): tf.SymbolicTensor {
  const reduce =
    resolveHead(head, image.shape.slice(1) as number[]) === 'gap' ? tf.layers.globalAveragePooling2d({}) : tf.layers.flatten({});
  return layers.classifier(classes).apply(reduce.apply(features)) as tf.SymbolicTensor;
}
