// A trained child as PyTorch, for a reader or a paper: model.py, one nn.Module generated layer by layer
// from the tfjs topology (its forward one statement per tfjs layer, TensorFlow's conventions made explicit),
// and model.safetensors, its weights under the module's state_dict names and in PyTorch's layouts.
// model.py needs torch alone: it reads the safetensors file itself.

import { windowOutputSize, type TopologyLayer as SavedLayer } from './tfjs-topology.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { namedWeights, type ModelArtifacts } from '../model/model-files.ts';

const PYTORCH_MODEL_FILE = 'model.py';
const PYTORCH_WEIGHTS_FILE = 'model.safetensors';

/** The configuration fields of a topology layer that the exported layers read. */
interface LayerConfig {
  batch_input_shape?: (number | null)[];
  filters?: number;
  kernel_size?: number[];
  strides?: number[];
  padding?: string | number[][];
  dilation_rate?: number[];
  data_format?: string;
  use_bias?: boolean;
  activation?: string;
  axis?: number | number[];
  epsilon?: number;
  momentum?: number;
  center?: boolean;
  scale?: boolean;
  max_value?: number | null;
  pool_size?: number[];
  units?: number;
}

type TopologyLayer = SavedLayer<LayerConfig>;

/** One entry of the state_dict: its values already in PyTorch's layout. */
interface StateTensor {
  name: string;
  dtype: 'F32' | 'I64';
  shape: number[];
  bytes: Uint8Array;
}

const DTYPE_BYTES = { F32: 4, I64: 8 };

/** Python's keywords and the names model.py's forward uses itself: no layer's variable may take them. */
const RESERVED_NAMES = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from global if ' +
    'import in is lambda nonlocal not or pass raise return try while with yield x self torch nn F average_pool_inside'
  ).split(' '),
);

/** Explanations for the class docstring, each given when a layer needs it. */
const NOTES = {
  samePadding:
    "Padding is TensorFlow's 'same': ceil(size / stride) outputs, and an odd total puts the extra row or column at the " +
    'bottom or right. nn.Conv2d and the pooling functions pad both sides alike, so where the total is odd a layer pads with F.pad first.',
  averagePooling: 'Average pooling divides by the pixels of each window inside the image, as TensorFlow does (count_include_pad=False).',
  batchNorm:
    "Batch norm's momentum is 1 minus tfjs's (PyTorch weighs the new batch by momentum, tfjs the running value); call " +
    'model.eval() before predicting, so that it normalises with the running statistics.',
  flatten: 'Flatten reads channels last, as tfjs flattens, so that the classifier keeps its trained weights in their order.',
  separable:
    'A separable convolution (tfjs SeparableConv2D) is two modules: <name>_depthwise, one filter per channel (groups), ' +
    'then <name>_pointwise, a 1x1 convolution.',
};

/** The PyTorch export's context: the tfjs weights it reads, and what the module collects as its layers are written. */
interface ExportState {
  weights: ReturnType<typeof namedWeights>;
  /** Every name given out: attributes and forward's variables share them. */
  taken: Set<string>;
  declarations: string[];
  statements: string[];
  tensors: StateTensor[];
  notes: Set<string>;
  /** Whether forward calls average_pool_inside, which model.py then defines. */
  usesAveragePoolInside: boolean;
  /** Whether the weights are trained ones, written to model.safetensors. */
  trained: boolean;
}

const tuple = (values: readonly number[]) => `(${values.join(', ')})`;
const unsupported = (layer: TopologyLayer, what: string) => new Error(`layer ${layer.name} (${layer.class_name}) ${what}`);

/** A float as Python writes it (1e-05, 0.1, 1.0), without the float noise of tfjs's configuration (1 - 0.9 = 0.1). */
const pythonFloat = (value: number) => {
  const rounded = Number(value.toPrecision(10));
  if (rounded !== 0 && Math.abs(rounded) < 1e-4) return rounded.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
};

/**
 * The layer's attribute and variable name: tfjs names layers "<prefix>_<ClassName><n>" ("conv2d_Conv2D3"), read
 * here as Keras spells it ("conv2d_3"), as a Python identifier no other layer has; `suffixes` claims the
 * attributes a layer of two modules adds ("_depthwise").
 */
function layerName(layer: TopologyLayer, state: ExportState, suffixes: string[] = []): string {
  const keras = layer.name.match(new RegExp(`^(.+)_${layer.class_name}(\\d+)$`));
  let base = (keras ? `${keras[1]}_${keras[2]}` : layer.name).replace(/\W/g, '_');
  if (/^\d/.test(base) || RESERVED_NAMES.has(base)) base = `layer_${base}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}_${n}`;
    const names = [name, ...suffixes.map((suffix) => name + suffix)];
    if (names.every((candidate) => !state.taken.has(candidate))) {
      names.forEach((candidate) => state.taken.add(candidate));
      return name;
    }
  }
}

/** `values` of `shape` with its axes in `order` (numpy's transpose). */
function transpose(values: Float32Array, shape: number[], order: number[]): Float32Array {
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const outShape = order.map((axis) => shape[axis]);
  const out = new Float32Array(values.length);
  const index = outShape.map(() => 0);
  for (let i = 0; i < out.length; i++) {
    out[i] = values[index.reduce((offset, position, axis) => offset + position * strides[order[axis]], 0)];
    for (let axis = index.length - 1; axis >= 0 && ++index[axis] === outShape[axis]; axis--) index[axis] = 0;
  }
  return out;
}

function tfjsWeight(state: ExportState, layer: TopologyLayer, weight: string) {
  const tfjs = state.weights.get(`${layer.name}/${weight}`);
  if (tfjs === undefined) throw unsupported(layer, `has no weight ${weight} in the saved model`);
  return tfjs;
}

/** Adds the tfjs weight `layer/weight` to the state_dict as `name`, its axes in `order` and then reshaped to `shape`. */
function addWeight(state: ExportState, layer: TopologyLayer, weight: string, name: string, order?: number[], shape?: number[]): void {
  const tfjs = tfjsWeight(state, layer, weight);
  // Untrained, the module is the architecture alone: no weights are written.
  if (!state.trained) return;
  const values = order ? transpose(tfjs.values, tfjs.shape, order) : tfjs.values;
  const pytorchShape = shape ?? (order ? order.map((axis) => tfjs.shape[axis]) : tfjs.shape);
  // safetensors is little-endian, as the hosts NAS Studio runs on are.
  state.tensors.push({
    name,
    dtype: 'F32',
    shape: pytorchShape,
    bytes: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  });
}

/** TensorFlow's 'same' padding of one axis: enough for ceil(size / stride) outputs, the odd pixel after. */
function samePadding(size: number, kernel: number, stride: number): [before: number, after: number] {
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + kernel - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** A windowed layer's padding (F.pad's order: left, right, top, bottom) and its output's height and width. */
function windowGeometry(layer: TopologyLayer, input: number[], kernel: number[], strides: number[]) {
  const [height, width] = input;
  if (layer.config.padding === 'valid')
    return {
      pad: [0, 0, 0, 0],
      size: [windowOutputSize(height, kernel[0], strides[0], 'valid'), windowOutputSize(width, kernel[1], strides[1], 'valid')],
    };
  if (layer.config.padding !== 'same') throw unsupported(layer, `has padding ${String(layer.config.padding)}, which has no PyTorch export`);
  const [top, bottom] = samePadding(height, kernel[0], strides[0]);
  const [left, right] = samePadding(width, kernel[1], strides[1]);
  return {
    pad: [left, right, top, bottom],
    size: [windowOutputSize(height, kernel[0], strides[0], 'same'), windowOutputSize(width, kernel[1], strides[1], 'same')],
  };
}

/**
 * How a windowed layer pads in PyTorch: symmetric padding as the layer's own argument, any other with F.pad first,
 * with a comment that says where the odd pixels go.
 */
function padding(
  pad: number[],
  state: ExportState,
): { argument: string; padInput: (input: string, fill?: string) => string; comment?: string } {
  const [left, right, top, bottom] = pad;
  if (left === right && top === bottom)
    return { argument: top || left ? `, padding=${tuple([top, left])}` : '', padInput: (input) => input };
  state.notes.add(NOTES.samePadding);
  const odd = [...(bottom > top ? ['row at the bottom'] : []), ...(right > left ? ['column at the right'] : [])];
  return {
    argument: '',
    padInput: (input, fill) => `F.pad(${input}, ${tuple(pad)}${fill ? `, value=${fill}` : ''})`,
    comment: `TensorFlow's 'same' padding: the odd ${odd.join(' and ')}`,
  };
}

/** A channels-last axis of a [height, width, channels] tensor that means its channels: dim 1 in NCHW. */
function checkChannelsAxis(layer: TopologyLayer, axis: number | number[] | undefined): void {
  if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3)))
    throw unsupported(layer, `works on axis ${JSON.stringify(axis)}; only the channels axis has a PyTorch export`);
}

function checkConvolution(layer: TopologyLayer): void {
  const { dilation_rate: dilation = [1, 1], data_format: dataFormat = 'channels_last' } = layer.config;
  if (dilation.some((rate) => rate !== 1) || dataFormat !== 'channels_last')
    throw unsupported(layer, `is dilated or channels first, which has no PyTorch export`);
}

/** The layer's activation applied to `expression`; the output classifier's softmax is left out, so forward returns logits. */
function activate(layer: TopologyLayer, expression: string, isOutput: boolean): string {
  const activation = layer.config.activation ?? 'linear';
  if (activation === 'linear' || (activation === 'softmax' && isOutput)) return expression;
  if (activation === 'relu') return `F.relu(${expression})`;
  throw unsupported(layer, `has activation ${activation}, which has no PyTorch export`);
}

/**
 * Declares `layer`'s modules and weights and returns forward's expression for its output (reading `inputs`, the
 * variables of its inputs, of channels-last shapes `shapes`) and that output's channels-last shape.
 */
function translateLayer(
  layer: TopologyLayer,
  name: string,
  inputs: string[],
  shapes: number[][],
  isOutput: boolean,
  state: ExportState,
): { expression: string; comment?: string; shape: number[] } {
  const { config } = layer;
  const [x] = inputs;
  const [input] = shapes;
  const declare = (line: string) => state.declarations.push(`self.${line}`);
  switch (layer.class_name) {
    case 'Conv2D': {
      checkConvolution(layer);
      const { kernel_size: kernel = [], strides = [1, 1], filters = 0, use_bias: useBias = true } = config;
      const { pad, size } = windowGeometry(layer, input, kernel, strides);
      const { argument, padInput, comment } = padding(pad, state);
      declare(
        `${name} = nn.Conv2d(${input[2]}, ${filters}, kernel_size=${tuple(kernel)}, stride=${tuple(strides)}${argument}` +
          `${useBias ? '' : ', bias=False'})`,
      );
      addWeight(state, layer, 'kernel', `${name}.weight`, [3, 2, 0, 1]);
      if (useBias) addWeight(state, layer, 'bias', `${name}.bias`);
      return { expression: activate(layer, `self.${name}(${padInput(x)})`, isOutput), comment, shape: [...size, filters] };
    }
    case 'SeparableConv2D': {
      checkConvolution(layer);
      const { kernel_size: kernel = [], strides = [1, 1], filters = 0, use_bias: useBias = true } = config;
      // From the depthwise kernel, [height, width, channels, multiplier]: tfjs leaves depthMultiplier out of the configuration it saves.
      const multiplier = tfjsWeight(state, layer, 'depthwise_kernel').shape[3];
      const { pad, size } = windowGeometry(layer, input, kernel, strides);
      const { argument, padInput, comment } = padding(pad, state);
      const channels = input[2];
      state.notes.add(NOTES.separable);
      declare(
        `${name}_depthwise = nn.Conv2d(${channels}, ${channels * multiplier}, kernel_size=${tuple(kernel)}, stride=${tuple(strides)}` +
          `${argument}, groups=${channels}, bias=False)`,
      );
      declare(`${name}_pointwise = nn.Conv2d(${channels * multiplier}, ${filters}, kernel_size=(1, 1)${useBias ? '' : ', bias=False'})`);
      // tfjs keeps a channel's multiplier filters together ([.., channel, multiplier]), as grouped convolutions order them.
      addWeight(
        state,
        layer,
        'depthwise_kernel',
        `${name}_depthwise.weight`,
        [2, 3, 0, 1],
        [channels * multiplier, 1, kernel[0], kernel[1]],
      );
      addWeight(state, layer, 'pointwise_kernel', `${name}_pointwise.weight`, [3, 2, 0, 1]);
      if (useBias) addWeight(state, layer, 'bias', `${name}_pointwise.bias`);
      return {
        expression: activate(layer, `self.${name}_pointwise(self.${name}_depthwise(${padInput(x)}))`, isOutput),
        comment,
        shape: [...size, filters],
      };
    }
    case 'BatchNormalization': {
      checkChannelsAxis(layer, config.axis);
      if (config.center === false || config.scale === false) throw unsupported(layer, 'has no scale or shift, which has no PyTorch export');
      state.notes.add(NOTES.batchNorm);
      const { epsilon = 1e-3, momentum = 0.99 } = config;
      declare(`${name} = nn.BatchNorm2d(${input[2]}, eps=${pythonFloat(epsilon)}, momentum=${pythonFloat(1 - momentum)})`);
      addWeight(state, layer, 'gamma', `${name}.weight`);
      addWeight(state, layer, 'beta', `${name}.bias`);
      addWeight(state, layer, 'moving_mean', `${name}.running_mean`);
      addWeight(state, layer, 'moving_variance', `${name}.running_var`);
      // tfjs does not count batches; PyTorch reads the count only when momentum is None.
      state.tensors.push({ name: `${name}.num_batches_tracked`, dtype: 'I64', shape: [], bytes: new Uint8Array(8) });
      return { expression: `self.${name}(${x})`, shape: input };
    }
    case 'ReLU':
      if (config.max_value !== null && config.max_value !== undefined) throw unsupported(layer, 'is capped, which has no PyTorch export');
      return { expression: `F.relu(${x})`, shape: input };
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const { pool_size: kernel = [], strides = kernel } = config;
      const { pad, size } = windowGeometry(layer, input, kernel, strides);
      const { argument, padInput, comment } = padding(pad, state);
      const shape = [...size, input[2]];
      const window = `kernel_size=${tuple(kernel)}, stride=${tuple(strides)}`;
      // PyTorch's max pooling pads with -inf itself; F.pad needs to be told.
      if (layer.class_name === 'MaxPooling2D')
        return { expression: `F.max_pool2d(${padInput(x, 'float("-inf")')}, ${window}${argument})`, comment, shape };
      if (pad.every((pixels) => pixels === 0)) return { expression: `F.avg_pool2d(${x}, ${window})`, shape };
      state.notes.add(NOTES.averagePooling);
      if (argument) return { expression: `F.avg_pool2d(${x}, ${window}${argument}, count_include_pad=False)`, shape };
      state.usesAveragePoolInside = true;
      return { expression: `average_pool_inside(${x}, ${window}, padding=${tuple(pad)})`, comment, shape };
    }
    case 'ZeroPadding2D': {
      const [[top, bottom], [left, right]] = config.padding as number[][];
      return {
        expression: `F.pad(${x}, ${tuple([left, right, top, bottom])})`,
        comment: "zero padding in F.pad's order: (left, right, top, bottom)",
        shape: [input[0] + top + bottom, input[1] + left + right, input[2]],
      };
    }
    case 'Concatenate':
      checkChannelsAxis(layer, config.axis);
      return {
        expression: `torch.cat([${inputs.join(', ')}], dim=1)`,
        shape: [input[0], input[1], shapes.reduce((sum, shape) => sum + shape[2], 0)],
      };
    case 'Add':
      return { expression: inputs.join(' + '), shape: input };
    case 'GlobalAveragePooling2D':
      return { expression: `${x}.mean(dim=(2, 3))`, shape: [input[2]] };
    case 'Flatten':
      state.notes.add(NOTES.flatten);
      return {
        expression: `torch.flatten(${x}.permute(0, 2, 3, 1), 1)`,
        comment: 'channels last, as tfjs flattens',
        shape: [input.reduce((a, b) => a * b, 1)],
      };
    case 'Dense': {
      if (input.length !== 1) throw unsupported(layer, 'reads a tensor of more than one axis, which has no PyTorch export');
      const { units = 0, use_bias: useBias = true } = config;
      declare(`${name} = nn.Linear(${input[0]}, ${units}${useBias ? '' : ', bias=False'})`);
      addWeight(state, layer, 'kernel', `${name}.weight`, [1, 0]);
      if (useBias) addWeight(state, layer, 'bias', `${name}.bias`);
      const logits = config.activation === 'softmax' && isOutput;
      return {
        expression: activate(layer, `self.${name}(${x})`, isOutput),
        comment: logits ? "logits: tfjs's softmax is left out" : undefined,
        shape: [units],
      };
    }
    default:
      throw unsupported(layer, 'has no PyTorch export');
  }
}

/** A Python docstring's text: backslashes and triple quotes kept literal. */
const docstringText = (text: string) => text.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');

/** Lines of `text` wrapped at `width` characters (minus `indent`), each starting with `indent`. */
function wrap(text: string, indent: string, width = 110): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, indent + line];
}

const AVERAGE_POOL_INSIDE = `
def average_pool_inside(x, kernel_size, stride, padding):
    """Average pooling over each window's pixels inside the image, as TensorFlow's 'same' pooling averages, where the
    padding (left, right, top, bottom) is larger after than before, which F.avg_pool2d cannot pad."""
    window_sums = F.avg_pool2d(F.pad(x, padding), kernel_size, stride, divisor_override=1)
    pixels_inside = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), padding), kernel_size, stride, divisor_override=1)
    return window_sums / pixels_inside

`;

const LOAD_WEIGHTS = `
def load_weights(model, path):
    """Loads the safetensors file at path into model (every tensor of its state_dict, no other), with torch alone:
    an 8-byte little-endian header length, the JSON header, then the tensors' little-endian data."""
    data = bytearray(pathlib.Path(path).read_bytes())
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    dtypes = {"F32": (torch.float32, 4), "I64": (torch.int64, 8)}
    state_dict = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype, size = dtypes[entry["dtype"]]
        begin, end = entry["data_offsets"]
        values = torch.frombuffer(data, dtype=dtype, count=(end - begin) // size, offset=8 + header_length + begin)
        state_dict[name] = values.reshape(entry["shape"])
    model.load_state_dict(state_dict)
`;

/** The safetensors file of `tensors`: eight-byte values first, so that every tensor's data is aligned to its element size. */
function safetensors(tensors: StateTensor[]): Buffer {
  const ordered = [...tensors].sort((a, b) => DTYPE_BYTES[b.dtype] - DTYPE_BYTES[a.dtype]);
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const tensor of ordered) {
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  // Padded with spaces, as the format allows, so that the data starts at a multiple of 8.
  const headerBytes = Buffer.concat([json, Buffer.alloc((8 - (json.length % 8)) % 8, ' ')]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  return Buffer.concat([length, headerBytes, ...ordered.map((tensor) => tensor.bytes)]);
}

/** The model's single input or output layer's name, from the topology's input_layers or output_layers. */
function endLayer(topology: ModelArtifacts['topology'], key: 'input_layers' | 'output_layers'): string {
  const ends = topology.config[key] as [string, number, number][] | undefined;
  if (ends?.length !== 1) throw new Error(`the model has ${ends?.length ?? 0} ${key.replace('_layers', 's')}; a PyTorch export needs one`);
  return ends[0][0];
}

/**
 * Writes `artifacts` as PyTorch into the empty folder `outDir`: model.py (the network as a module named Child,
 * whose docstring starts with `about.title`) and, when they are `about.trained` weights, model.safetensors (its
 * state_dict). Returns the written files' names.
 * A layer with no PyTorch counterpart is an error naming the layer and its class.
 */
export function writePytorchExport(artifacts: ModelArtifacts, outDir: string, about: { title: string; trained: boolean }): string[] {
  const { topology } = artifacts;
  if (topology.class_name !== 'Model') throw new Error(`a ${topology.class_name} topology has no PyTorch export; a functional Model has`);
  const inputLayer = endLayer(topology, 'input_layers');
  const outputLayer = endLayer(topology, 'output_layers');
  const state: ExportState = {
    weights: namedWeights(artifacts),
    taken: new Set(),
    declarations: [],
    statements: [],
    tensors: [],
    notes: new Set(),
    usesAveragePoolInside: false,
    trained: about.trained,
  };
  const variables = new Map<string, string>();
  const shapes = new Map<string, number[]>();
  let inputShape: (number | null)[] = [];
  let outputShape: number[] = [];
  let logits = false;
  for (const layer of topology.config.layers as TopologyLayer[]) {
    if (layer.class_name === 'InputLayer') {
      if (layer.name !== inputLayer) throw unsupported(layer, 'is a second input, which has no PyTorch export');
      inputShape = layer.config.batch_input_shape ?? [];
      variables.set(layer.name, 'x');
      shapes.set(layer.name, inputShape.slice(1) as number[]);
      continue;
    }
    if (layer.inbound_nodes.length !== 1) throw unsupported(layer, 'is applied more than once, which has no PyTorch export');
    const sources = layer.inbound_nodes[0].map(([source]) => source);
    const isOutput = layer.name === outputLayer;
    const name = layerName(layer, state, layer.class_name === 'SeparableConv2D' ? ['_depthwise', '_pointwise'] : []);
    const translated = translateLayer(
      layer,
      name,
      sources.map((source) => variables.get(source)!),
      sources.map((source) => shapes.get(source)!),
      isOutput,
      state,
    );
    if (translated.comment) state.statements.push(`# ${translated.comment}`);
    state.statements.push(`${name} = ${translated.expression}`);
    variables.set(layer.name, name);
    shapes.set(layer.name, translated.shape);
    if (isOutput) {
      outputShape = translated.shape;
      logits = layer.class_name === 'Dense' && layer.config.activation === 'softmax';
    }
  }
  if (inputShape.length !== 4) throw new Error(`the model's input of shape ${JSON.stringify(inputShape)} is not a batch of images`);
  const [height, width, channels] = inputShape.slice(1) as number[];

  const title = docstringText(about.title.replace(/\s+/g, ' ').trim());
  const classDoc = [
    title,
    '',
    ...wrap(
      `Input: images of shape (N, C, H, W) = (N, ${channels}, ${height}, ${width}), channels first, where tfjs computes ` +
        `channels last: x.permute(0, 3, 1, 2) turns tfjs's input into this one, and tfjs's channel axis -1 is dim 1 here.`,
      '    ',
    ),
    ...wrap(
      logits
        ? `Output: logits of shape (N, ${outputShape.join(', ')}). tfjs's classifier ends in a softmax, left out here (as ` +
            `nn.CrossEntropyLoss expects): torch.softmax(logits, dim=1) gives its probabilities.`
        : `Output: shape (N, ${outputShape.join(', ')}).`,
      '    ',
    ),
    ...[...state.notes].flatMap((note) => ['', ...wrap(note, '    ')]),
  ];
  const python = [
    `"""${title}`,
    '',
    'A NAS Studio child, exported from its trained tfjs model: the network as one PyTorch module, written out layer by',
    'layer in the order tfjs computes them, and load_weights, which reads its trained weights from model.safetensors with',
    'torch alone. `python model.py` builds it, loads those weights and runs it on a zero image.',
    '"""',
    '',
    'import json',
    'import pathlib',
    'import struct',
    '',
    'import torch',
    'import torch.nn.functional as F',
    'from torch import nn',
    '',
    state.usesAveragePoolInside ? AVERAGE_POOL_INSIDE : '',
    'class Child(nn.Module):',
    `    """${classDoc.join('\n')}`,
    '    """',
    '',
    '    def __init__(self):',
    '        super().__init__()',
    ...state.declarations.map((line) => `        ${line}`),
    '',
    '    def forward(self, x):',
    ...state.statements.map((line) => `        ${line}`),
    `        return ${variables.get(outputLayer)}`,
    '',
    LOAD_WEIGHTS,
    '',
    'if __name__ == "__main__":',
    '    model = Child()',
    about.trained
      ? `    load_weights(model, pathlib.Path(__file__).with_name("${PYTORCH_WEIGHTS_FILE}"))`
      : '    # The trial kept no trained weights: the module keeps its initial values (retrain the trial to get them).',
    '    model.eval()',
    '    with torch.no_grad():',
    `        output = model(torch.zeros(1, ${channels}, ${height}, ${width}))`,
    `    print("${logits ? 'logits' : 'output'}:", tuple(output.shape))`,
    '',
  ];
  writeFileSync(join(outDir, PYTORCH_MODEL_FILE), python.join('\n'));
  if (!about.trained) return [PYTORCH_MODEL_FILE];
  writeFileSync(join(outDir, PYTORCH_WEIGHTS_FILE), safetensors(state.tensors));
  return [PYTORCH_MODEL_FILE, PYTORCH_WEIGHTS_FILE];
}
