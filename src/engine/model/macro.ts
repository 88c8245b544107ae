// The macro space's network: each layer a convolution of the concatenated outputs it reads (then batch
// norm and ReLU when the space has batch_norm, as NAS-RL's later experiments).

import * as tf from '@tensorflow/tfjs';
import type { MacroSpaceConfig } from '../../space/config.ts';
import { macroOutputLayers, type MacroGraph } from '../../space/graph.ts';
import { classify, relu, SYMBOLIC_OPS, type NetworkBuilder } from './layers.ts';
import { padAndConcat } from './pad-and-concat.ts';

export const macroNetwork: NetworkBuilder<MacroSpaceConfig, MacroGraph> = (graph, space, image, layers, classes) => {
  const outputs: tf.SymbolicTensor[] = [];
  for (const layer of graph.layers) {
    const input = layer.inputs.length
      ? padAndConcat(
          layer.inputs.map((j) => outputs[j]),
          SYMBOLIC_OPS,
        )
      : image;
    const kernel: [number, number] = [layer.filterHeight, layer.filterWidth];
    if (space.batch_norm) {
      const convolved = layers.conv(layer.filters, kernel, layer.stride, true).apply(input) as tf.SymbolicTensor;
      outputs.push(relu(layers.batchNorm().apply(convolved) as tf.SymbolicTensor));
    } else {
      outputs.push(layers.conv(layer.filters, kernel, layer.stride).apply(input) as tf.SymbolicTensor);
    }
  }
  return classify(
    padAndConcat(
      macroOutputLayers(graph).map((i) => outputs[i]),
      SYMBOLIC_OPS,
    ),
    layers,
    classes,
    space.head,
    image,
  );
};
