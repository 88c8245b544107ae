// Builds a trainable tfjs model from a decoded architecture graph, with the network its space kind's
// module loads (the builders live in this folder, one per space kind).

import * as tf from '@tensorflow/tfjs';
import type { SpaceConfig } from '../../space/config.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import { spaceKind } from '../../space/kinds/spaces/registry.ts';
import { LayerFactory, type Shape3 } from './layers.ts';

export interface BuildOptions {
  inputShape: Shape3;
  classes: number;
  /** Seeds every initializer, so the same architecture starts from the same weights. */
  seed: number;
  /** Starting values instead of the initializers: per weighted layer in creation order, its weights in tfjs order (a supernet's slices). */
  weights?: tf.Tensor[][];
}

/** Builds models of `space`'s architectures (synchronously, once its kind's network is loaded). */
export async function modelBuilder(space: SpaceConfig): Promise<(graph: ArchitectureGraph, options: BuildOptions) => tf.LayersModel> {
  const network = await spaceKind(space).network?.();
  return (graph, options) => {
    if (network === undefined || graph.kind !== space.kind)
      throw new Error(`a ${graph.kind} architecture is not built in a ${space.kind} space`);
    const layers = new LayerFactory(options.seed);
    const image = tf.input({ shape: options.inputShape });
    const output = network(graph, space, image, layers, options.classes);
    const model = tf.model({ inputs: image, outputs: output });
    if (options.weights) {
      const { weights } = options;
      if (weights.length !== layers.weighted.length) {
        model.dispose();
        throw new Error(`${weights.length} layers of weights given; the network has ${layers.weighted.length} layers with weights`);
      }
      layers.weighted.forEach((layer, i) => layer.setWeights(weights[i]));
    }
    return model;
  };
}

export async function buildModel(graph: ArchitectureGraph, space: SpaceConfig, options: BuildOptions): Promise<tf.LayersModel> {
  return (await modelBuilder(space))(graph, options);
}

/**
 * Floating-point operations of one forward pass of one example: 2 per multiply-add of the conv and dense
 * layers, 2 per value that batch norm scales and shifts.
 */
export function countFlops(model: tf.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const out = layer.outputShape as number[];
    const className = layer.getClassName();
    const shapeOf = (i: number) => layer.weights[i].shape as number[];
    if (className === 'Conv2D') {
      const [kh, kw, cin, cout] = shapeOf(0);
      flops += 2 * out[1] * out[2] * kh * kw * cin * cout;
    } else if (className === 'SeparableConv2D') {
      const [kh, kw, cin] = shapeOf(0);
      const cout = shapeOf(1)[3];
      flops += 2 * out[1] * out[2] * (kh * kw * cin + cin * cout);
    } else if (className === 'BatchNormalization') {
      // At inference a scale and a shift per value.
      flops += 2 * out.slice(1).reduce((a, b) => a * b, 1);
    } else if (className === 'Dense') {
      const [inputs, units] = shapeOf(0);
      flops += 2 * inputs * units;
    }
  }
  return flops;
}
