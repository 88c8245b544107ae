// The macro space's network: each layer a convolution of the concatenated outputs it reads.

import * as tf from '@tensorflow/tfjs';
import type { MacroSpaceConfig } from '../../space/config.ts';
import { macroOutputLayers, type MacroGraph } from '../../space/graph.ts';
import { classify, SYMBOLIC_OPS, type NetworkBuilder } from './layers.ts';
import { padAndConcat } from './pad-and-concat.ts';

export const macroNetwork: NetworkBuilder<MacroSpaceConfig, MacroGraph> = (graph, _space, image, layers, classes) => {
  const outputs: tf.SymbolicTensor[] = [];
  for (const layer of graph.layers) {
    const input = layer.inputs.length
      ? padAndConcat(
          layer.inputs.map((j) => outputs[j]),
          SYMBOLIC_OPS,
        )
      : image;
    outputs.push(layers.conv(layer.filters, [layer.filterHeight, layer.filterWidth], layer.stride).apply(input) as tf.SymbolicTensor);
  }
  return classify(
    padAndConcat(
      macroOutputLayers(graph).map((i) => outputs[i]),
      SYMBOLIC_OPS,
    ),
    layers,
    classes,
  );
};
