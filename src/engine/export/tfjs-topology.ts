// What the Keras and PyTorch exports read alike from a saved tfjs model's Keras-style topology.

/** One layer of the topology; each application of it (inbound node) lists [layer, node, tensor, kwargs] per input. */
export interface TopologyLayer<Config = Record<string, unknown>> {
  name: string;
  class_name: string;
  config: Config;
  inbound_nodes: [string, number, number, Record<string, unknown>][][];
}

/** Output size along one axis of a windowed layer (convolution, pooling) of `padding` 'same' or 'valid'. */
export function windowOutputSize(size: number, window: number, stride: number, padding: unknown, dilation = 1): number {
  const span = (window - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - span) / stride) + 1;
}
