// A trained child as a Keras 3 `.keras` file, which `keras.saving.load_model` opens (Keras 3.0 onwards): a zip
// of `metadata.json`, `config.json` (the Functional model as Keras 3 serializes it) and `model.weights.h5`.
// The weights go in HDF5 because Keras' other store, `model.weights.npz`, pickles a dict per layer, which
// Keras 3.10 onwards refuses to unpickle. The HDF5 file is the smallest one libhdf5 reads: format 0
// superblock, one symbol table per group, contiguous float32 datasets.
//
// What Keras 3 reads (keras/src/saving/saving_lib.py, serialization_lib.py, models/functional.py):
// - config.json: `deserialize_keras_object` builds the Functional model; `functional_from_config` calls each
//   layer on the `__keras_tensor__` arguments of its inbound node, whose `keras_history` names the layer,
//   node and tensor that made them.
// - model.weights.h5: `_load_state` walks `model.layers` (`map_graph`'s order: deepest first, ties in the
//   order a depth-first walk from the outputs first meets them) and loads layer i's variables from the
//   group `layers/<its class in snake case>[_<n-th of that class>]/vars`, dataset "0", "1", ... in the order
//   the layer creates them.

import { windowOutputSize, type TopologyLayer } from './tfjs-topology.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { namedWeights, type ModelArtifacts } from '../model/model-files.ts';
import { zipStored } from './zip.ts';

export const KERAS_FILE = 'model.keras';

/** The Keras release whose loader first reads this layout, as `metadata.json` names the writer's. */
const KERAS_VERSION = '3.0.0';

type Shape = (number | null)[];
type Config = Record<string, unknown>;

type TfjsLayer = TopologyLayer<Config>;

/** A supported layer class (all in `keras.layers`): its config from tfjs's, its output shape and its variables in Keras' order. */
interface LayerConversion {
  config: (tfjs: Config) => Config;
  outputShape: (tfjs: Config, inputs: Shape[]) => Shape;
  variables: (tfjs: Config) => string[];
}

// Every layer takes these; the dtype as a plain name, which every Keras 3 reads (3.4 onwards write a policy object).
const base = (c: Config) => ({ name: c.name, trainable: c.trainable ?? true, dtype: 'float32' });

function windowed(input: Shape, window: number[], strides: number[], padding: unknown, channels: number | null, dilation = [1, 1]): Shape {
  const [batch, height, width] = input;
  return [
    batch,
    windowOutputSize(height as number, window[0], strides[0], padding, dilation[0]),
    windowOutputSize(width as number, window[1], strides[1], padding, dilation[1]),
    channels,
  ];
}

const pair = (value: unknown) => (Array.isArray(value) ? (value as number[]) : [value as number, value as number]);
const withBias = (c: Config, variables: string[]) => (c.use_bias === false ? variables : [...variables, 'bias']);

const convolution = (c: Config) => ({
  filters: c.filters,
  kernel_size: pair(c.kernel_size),
  strides: pair(c.strides),
  padding: c.padding,
  data_format: c.data_format ?? 'channels_last',
  dilation_rate: pair(c.dilation_rate ?? 1),
  activation: c.activation ?? 'linear',
  use_bias: c.use_bias ?? true,
});

const pooling: LayerConversion = {
  config: (c) => ({
    ...base(c),
    pool_size: pair(c.pool_size),
    padding: c.padding,
    strides: pair(c.strides ?? c.pool_size),
    data_format: c.data_format ?? 'channels_last',
  }),
  outputShape: (c, [input]) => windowed(input, pair(c.pool_size), pair(c.strides ?? c.pool_size), c.padding, input[3]),
  variables: () => [],
};

const sameShape = (_: Config, [input]: Shape[]) => input;

/** A layer's kernel and bias settings as Keras names them (Conv2D and Dense share them). */
const kernelAndBias = (c: Config) => ({
  kernel_initializer: c.kernel_initializer,
  bias_initializer: c.bias_initializer,
  kernel_regularizer: c.kernel_regularizer,
  bias_regularizer: c.bias_regularizer,
  activity_regularizer: c.activity_regularizer,
  kernel_constraint: c.kernel_constraint,
  bias_constraint: c.bias_constraint,
});

const CONVERSIONS: Record<string, LayerConversion> = {
  InputLayer: {
    config: (c) => ({ batch_shape: c.batch_input_shape, dtype: c.dtype ?? 'float32', sparse: c.sparse ?? false, name: c.name }),
    outputShape: (c) => c.batch_input_shape as Shape,
    variables: () => [],
  },
  Conv2D: {
    config: (c) => ({
      ...base(c),
      ...convolution(c),
      groups: 1,
      ...kernelAndBias(c),
    }),
    outputShape: (c, [input]) =>
      windowed(input, pair(c.kernel_size), pair(c.strides), c.padding, c.filters as number, pair(c.dilation_rate ?? 1)),
    variables: (c) => withBias(c, ['kernel']),
  },
  SeparableConv2D: {
    config: (c) => ({
      ...base(c),
      depth_multiplier: c.depth_multiplier ?? 1,
      ...convolution(c),
      depthwise_initializer: c.depthwise_initializer,
      pointwise_initializer: c.pointwise_initializer,
      bias_initializer: c.bias_initializer,
      depthwise_regularizer: c.depthwise_regularizer,
      pointwise_regularizer: c.pointwise_regularizer,
      bias_regularizer: c.bias_regularizer,
      activity_regularizer: c.activity_regularizer,
      depthwise_constraint: c.depthwise_constraint,
      pointwise_constraint: c.pointwise_constraint,
      bias_constraint: c.bias_constraint,
    }),
    outputShape: (c, [input]) =>
      windowed(input, pair(c.kernel_size), pair(c.strides), c.padding, c.filters as number, pair(c.dilation_rate ?? 1)),
    variables: (c) => withBias(c, ['depthwise_kernel', 'pointwise_kernel']),
  },
  BatchNormalization: {
    config: (c) => ({
      ...base(c),
      axis: c.axis,
      momentum: c.momentum,
      epsilon: c.epsilon,
      center: c.center,
      scale: c.scale,
      beta_initializer: c.beta_initializer,
      gamma_initializer: c.gamma_initializer,
      moving_mean_initializer: c.moving_mean_initializer,
      moving_variance_initializer: c.moving_variance_initializer,
      beta_regularizer: c.beta_regularizer,
      gamma_regularizer: c.gamma_regularizer,
      beta_constraint: c.beta_constraint,
      gamma_constraint: c.gamma_constraint,
      synchronized: false,
    }),
    outputShape: sameShape,
    variables: (c) => [...(c.scale === false ? [] : ['gamma']), ...(c.center === false ? [] : ['beta']), 'moving_mean', 'moving_variance'],
  },
  ReLU: {
    config: (c) => ({ ...base(c), max_value: c.max_value ?? null, negative_slope: 0, threshold: 0 }),
    outputShape: sameShape,
    variables: () => [],
  },
  MaxPooling2D: pooling,
  AveragePooling2D: pooling,
  ZeroPadding2D: {
    config: (c) => ({ ...base(c), padding: c.padding, data_format: c.data_format ?? 'channels_last' }),
    outputShape: (c, [[batch, height, width, channels]]) => {
      const [[top, bottom], [left, right]] = c.padding as number[][];
      return [batch, (height as number) + top + bottom, (width as number) + left + right, channels];
    },
    variables: () => [],
  },
  Concatenate: {
    config: (c) => ({ ...base(c), axis: c.axis ?? -1 }),
    outputShape: (c, inputs) => {
      const given = (c.axis as number | undefined) ?? -1;
      const axis = given < 0 ? inputs[0].length + given : given;
      const shape = [...inputs[0]];
      shape[axis] = inputs.reduce((sum, input) => sum + (input[axis] as number), 0);
      return shape;
    },
    variables: () => [],
  },
  Add: { config: base, outputShape: sameShape, variables: () => [] },
  GlobalAveragePooling2D: {
    config: (c) => ({ ...base(c), data_format: c.data_format ?? 'channels_last', keepdims: false }),
    outputShape: (_, [input]) => [input[0], input[3]],
    variables: () => [],
  },
  Flatten: {
    config: (c) => ({ ...base(c), data_format: c.data_format ?? 'channels_last' }),
    outputShape: (_, [input]) => [input[0], input.slice(1).reduce((size: number, n) => size * (n as number), 1)],
    variables: () => [],
  },
  Dense: {
    config: (c) => ({
      ...base(c),
      units: c.units,
      activation: c.activation ?? 'linear',
      use_bias: c.use_bias ?? true,
      ...kernelAndBias(c),
    }),
    outputShape: (c, [input]) => [...input.slice(0, -1), c.units as number],
    variables: (c) => withBias(c, ['kernel']),
  },
};

const MERGE_LAYERS = new Set(['Concatenate', 'Add']);
const ACTIVATIONS = new Set(['linear', 'relu', 'softmax']);
const REGULARIZER_OR_CONSTRAINT = /_(regularizer|constraint)$/;
const INITIALIZER = /_initializer$/;

/**
 * tfjs's initializer as Keras 3 serializes one. tfjs's VarianceScaling `normal` is a truncated normal (Keras 2's
 * name for it), which Keras 3.0 only accepts as `truncated_normal`. Only what children use converts.
 */
function kerasInitializer(layer: string, key: string, initializer: unknown): Config {
  const { class_name: className, config = {} } = (initializer ?? {}) as { class_name?: string; config?: Config };
  const converted =
    className === 'VarianceScaling'
      ? { ...config, distribution: config.distribution === 'normal' ? 'truncated_normal' : config.distribution }
      : className === 'Zeros' || className === 'Ones'
        ? {}
        : undefined;
  if (converted === undefined) throw new Error(`layer ${layer}: ${key} ${className ?? 'null'} is not exported to Keras`);
  return { module: 'keras.initializers', class_name: className, config: converted, registered_name: null };
}

/** The Keras 3 config of `layer`; what has no Keras meaning here (a regularizer, another activation) is an error. */
function kerasLayerConfig(layer: TfjsLayer, conversion: LayerConversion): Config {
  const config = conversion.config(layer.config);
  for (const [key, value] of Object.entries(config)) {
    if (REGULARIZER_OR_CONSTRAINT.test(key) && value != null) throw new Error(`layer ${layer.name}: ${key} is not exported to Keras`);
    if (INITIALIZER.test(key)) config[key] = kerasInitializer(layer.name, key, value);
    if (key === 'activation' && !ACTIVATIONS.has(value as string))
      throw new Error(`layer ${layer.name}: activation ${String(value)} is not exported to Keras`);
  }
  return config;
}

const inputNames = (layer: TfjsLayer) => (layer.inbound_nodes[0] ?? []).map(([name]) => name);

/**
 * The layers `map_graph` lists as `model.layers` (keras/src/ops/function.py): by depth (the longest path to an
 * output) from the deepest, ties in the order that a depth-first walk from the outputs, each node's inputs in
 * order, first reaches them. The weights file numbers a class's layers in this order.
 */
function kerasLayerOrder(layers: Map<string, TfjsLayer>, outputs: string[]): TfjsLayer[] {
  const firstReached = new Map<string, number>();
  // Insertion-ordered: each layer after all its inputs.
  const finished = new Set<string>();
  const visit = (name: string) => {
    if (finished.has(name)) return;
    if (!firstReached.has(name)) firstReached.set(name, firstReached.size);
    for (const input of inputNames(layers.get(name)!)) visit(input);
    finished.add(name);
  };
  outputs.forEach(visit);
  // Outputs first: every layer comes after all the layers it feeds.
  const depth = new Map<string, number>();
  for (const name of [...finished].reverse()) {
    const own = depth.get(name) ?? 0;
    depth.set(name, own);
    for (const input of inputNames(layers.get(name)!)) depth.set(input, Math.max(depth.get(input) ?? 0, own + 1));
  }
  return [...finished]
    .sort((a, b) => depth.get(b)! - depth.get(a)! || firstReached.get(a)! - firstReached.get(b)!)
    .map((name) => layers.get(name)!);
}

/** Keras' naming.to_snake_case: the weights file's name for a layer class. */
function snakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

interface Dataset {
  shape: number[];
  values: Float32Array;
}
interface Group {
  [name: string]: Group | Dataset;
}

const isDataset = (node: Group | Dataset): node is Dataset => node.values instanceof Float32Array;

// ---- HDF5, format 0 (the HDF5 file format specification, version 0 superblock and version 1 object headers).

const UNDEFINED_ADDRESS = 0xffffffffffffffffn;
/** Group internal node K (B-tree fan-out); a group's names all fit one leaf (symbol table node), so one B-tree node. */
const GROUP_INTERNAL_K = 16;
const MIN_GROUP_LEAF_K = 4;
const SYMBOL_ENTRY_SIZE = 40;
const SUPERBLOCK_SIZE = 56 + SYMBOL_ENTRY_SIZE;
const BTREE_NODE_SIZE = 24 + 2 * GROUP_INTERNAL_K * 8 + (2 * GROUP_INTERNAL_K + 1) * 8;
/** libhdf5's H5HL_FREE_NULL: a local heap with no free block. */
const HEAP_NO_FREE_BLOCK = 1n;

const MESSAGE_DATASPACE = 0x0001;
const MESSAGE_DATATYPE = 0x0003;
const MESSAGE_LAYOUT = 0x0008;
const MESSAGE_SYMBOL_TABLE = 0x0011;

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The file being written: blocks appended at 8-byte aligned addresses. */
class FileImage {
  private readonly blocks: Buffer[] = [];
  size = 0;
  /** Appends `block` itself (not a copy: the superblock is filled in last) and returns its address. */
  append(block: Buffer): number {
    const address = this.size;
    const padding = align8(block.length) - block.length;
    this.blocks.push(block, Buffer.alloc(padding));
    this.size += block.length + padding;
    return address;
  }
  bytes(): Buffer {
    return Buffer.concat(this.blocks);
  }
}

/** A version 1 object header holding `messages` (type and body, each body padded to 8 bytes). */
function objectHeader(messages: [number, Buffer, number?][]): Buffer {
  const bodies = messages.map(([type, body, flags = 0]) => {
    const message = Buffer.alloc(8 + align8(body.length));
    message.writeUInt16LE(type, 0);
    message.writeUInt16LE(message.length - 8, 2);
    message.writeUInt8(flags, 4);
    body.copy(message, 8);
    return message;
  });
  const prefix = Buffer.alloc(16);
  prefix.writeUInt8(1, 0);
  prefix.writeUInt16LE(messages.length, 2);
  prefix.writeUInt32LE(1, 4); // reference count
  prefix.writeUInt32LE(
    bodies.reduce((size, body) => size + body.length, 0),
    8,
  );
  return Buffer.concat([prefix, ...bodies]);
}

/** A symbol table entry: a name in the group's heap, the object's header, and for a group its B-tree and heap. */
function symbolEntry(nameOffset: number, header: number, group?: { btree: number; heap: number }): Buffer {
  const entry = Buffer.alloc(SYMBOL_ENTRY_SIZE);
  entry.writeBigUInt64LE(BigInt(nameOffset), 0);
  entry.writeBigUInt64LE(BigInt(header), 8);
  if (group) {
    entry.writeUInt32LE(1, 16); // scratch pad caches the symbol table's addresses
    entry.writeBigUInt64LE(BigInt(group.btree), 24);
    entry.writeBigUInt64LE(BigInt(group.heap), 32);
  }
  return entry;
}

function writeDataset(file: FileImage, { shape, values }: Dataset): number {
  const data = file.append(Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  const dataspace = Buffer.alloc(8 + 8 * shape.length);
  dataspace.writeUInt8(1, 0);
  dataspace.writeUInt8(shape.length, 1);
  shape.forEach((size, i) => dataspace.writeBigUInt64LE(BigInt(size), 8 + 8 * i));
  // IEEE 754 binary32, little-endian: class 1 (floating point) version 1, implied mantissa bit, sign at bit 31.
  const datatype = Buffer.alloc(20);
  datatype.writeUInt8(0x11, 0);
  datatype.writeUInt8(0x20, 1);
  datatype.writeUInt8(31, 2);
  datatype.writeUInt32LE(4, 4);
  datatype.writeUInt16LE(0, 8);
  datatype.writeUInt16LE(32, 10);
  datatype.writeUInt8(23, 12); // exponent location
  datatype.writeUInt8(8, 13); // exponent size
  datatype.writeUInt8(0, 14); // mantissa location
  datatype.writeUInt8(23, 15); // mantissa size
  datatype.writeUInt32LE(127, 16);
  // Layout version 3, contiguous: the data's address and size.
  const layout = Buffer.alloc(18);
  layout.writeUInt8(3, 0);
  layout.writeUInt8(1, 1);
  layout.writeBigUInt64LE(BigInt(data), 2);
  layout.writeBigUInt64LE(BigInt(values.byteLength), 10);
  return file.append(
    objectHeader([
      [MESSAGE_DATASPACE, dataspace],
      [MESSAGE_DATATYPE, datatype, 1],
      [MESSAGE_LAYOUT, layout],
    ]),
  );
}

interface WrittenGroup {
  header: number;
  btree: number;
  heap: number;
}

/** Writes `group`'s members, then its heap of names, its one symbol table node, its B-tree and its header. */
function writeGroup(file: FileImage, group: Group, leafK: number): WrittenGroup {
  // libhdf5 looks names up by binary search: the node's entries are in strcmp order.
  const names = Object.keys(group).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const heapParts: Buffer[] = [Buffer.alloc(8)]; // offset 0: the empty name, the B-tree's first key
  let heapSize = 8;
  const entries = names.map((name) => {
    const member = group[name];
    const nameOffset = heapSize;
    const nameBytes = Buffer.alloc(align8(Buffer.byteLength(name) + 1));
    nameBytes.write(name);
    heapParts.push(nameBytes);
    heapSize += nameBytes.length;
    if (isDataset(member)) return { nameOffset, entry: symbolEntry(nameOffset, writeDataset(file, member)) };
    const written = writeGroup(file, member, leafK);
    return { nameOffset, entry: symbolEntry(nameOffset, written.header, written) };
  });
  const heapData = file.append(Buffer.concat(heapParts));
  const heapHeader = Buffer.alloc(32);
  heapHeader.write('HEAP', 0, 'latin1');
  heapHeader.writeBigUInt64LE(BigInt(heapSize), 8);
  heapHeader.writeBigUInt64LE(HEAP_NO_FREE_BLOCK, 16);
  heapHeader.writeBigUInt64LE(BigInt(heapData), 24);
  const heap = file.append(heapHeader);

  const btreeNode = Buffer.alloc(BTREE_NODE_SIZE);
  btreeNode.write('TREE', 0, 'latin1');
  btreeNode.writeUInt8(0, 4); // a group's B-tree
  btreeNode.writeUInt8(0, 5); // a leaf
  btreeNode.writeBigUInt64LE(UNDEFINED_ADDRESS, 8);
  btreeNode.writeBigUInt64LE(UNDEFINED_ADDRESS, 16);
  if (entries.length > 0) {
    const symbolNode = Buffer.alloc(8 + 2 * leafK * SYMBOL_ENTRY_SIZE);
    symbolNode.write('SNOD', 0, 'latin1');
    symbolNode.writeUInt8(1, 4);
    symbolNode.writeUInt16LE(entries.length, 6);
    entries.forEach(({ entry }, i) => entry.copy(symbolNode, 8 + i * SYMBOL_ENTRY_SIZE));
    // One child between the keys "" and the child's last name.
    btreeNode.writeUInt16LE(1, 6);
    btreeNode.writeBigUInt64LE(0n, 24);
    btreeNode.writeBigUInt64LE(BigInt(file.append(symbolNode)), 32);
    btreeNode.writeBigUInt64LE(BigInt(entries[entries.length - 1].nameOffset), 40);
  }
  const btree = file.append(btreeNode);
  const symbolTable = Buffer.alloc(16);
  symbolTable.writeBigUInt64LE(BigInt(btree), 0);
  symbolTable.writeBigUInt64LE(BigInt(heap), 8);
  return { header: file.append(objectHeader([[MESSAGE_SYMBOL_TABLE, symbolTable]])), btree, heap };
}

const largestGroup = (group: Group): number =>
  Math.max(Object.keys(group).length, ...Object.values(group).map((member) => (isDataset(member) ? 0 : largestGroup(member))));

/** The HDF5 file of `root`'s groups and float32 datasets. */
function hdf5File(root: Group): Buffer {
  const file = new FileImage();
  const superblock = Buffer.alloc(SUPERBLOCK_SIZE);
  file.append(superblock);
  // Each group's names fit one symbol table node of 2K entries.
  const leafK = Math.max(MIN_GROUP_LEAF_K, Math.ceil(largestGroup(root) / 2));
  const written = writeGroup(file, root, leafK);
  Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]).copy(superblock, 0);
  superblock.writeUInt8(8, 13); // size of offsets
  superblock.writeUInt8(8, 14); // size of lengths
  superblock.writeUInt16LE(leafK, 16);
  superblock.writeUInt16LE(GROUP_INTERNAL_K, 18);
  superblock.writeBigUInt64LE(0n, 24); // base address
  superblock.writeBigUInt64LE(UNDEFINED_ADDRESS, 32); // no free-space info
  superblock.writeBigUInt64LE(BigInt(file.size), 40); // end of file
  superblock.writeBigUInt64LE(UNDEFINED_ADDRESS, 48); // no driver info
  symbolEntry(0, written.header, written).copy(superblock, 56);
  return file.bytes();
}

// ---- The .keras archive.

const kerasTensor = (shapes: Map<string, Shape>, [name, node, tensor]: [string, number, number, Config]) => ({
  class_name: '__keras_tensor__',
  config: { shape: shapes.get(name), dtype: 'float32', keras_history: [name, node, tensor] },
});

/**
 * Writes the model in `artifacts` to `outDir` as `model.keras`, and returns the names written. A layer of a class
 * that children do not use, or with settings that do not convert, is an error naming it.
 */
export function writeKerasExport(artifacts: ModelArtifacts, outDir: string): string[] {
  const topology = artifacts.topology.config as {
    name: string;
    layers: TfjsLayer[];
    input_layers: [string, number, number][];
    output_layers: [string, number, number][];
  };
  if (artifacts.topology.class_name !== 'Model') throw new Error(`a tfjs ${artifacts.topology.class_name} is not exported to Keras`);
  const layers = new Map(topology.layers.map((layer) => [layer.name, layer]));
  for (const layer of topology.layers) {
    if (!Object.hasOwn(CONVERSIONS, layer.class_name))
      throw new Error(`layer ${layer.name} is a ${layer.class_name}, which the Keras export does not support`);
    if (layer.inbound_nodes.length > 1) throw new Error(`layer ${layer.name} is shared, which the Keras export does not support`);
  }
  const order = kerasLayerOrder(
    layers,
    topology.output_layers.map(([name]) => name),
  );

  // Keras' order has every layer after its inputs.
  const shapes = new Map<string, Shape>();
  for (const layer of order) {
    const inputs = inputNames(layer).map((name) => shapes.get(name)!);
    shapes.set(layer.name, CONVERSIONS[layer.class_name].outputShape(layer.config, inputs));
  }

  const weights = namedWeights(artifacts);
  const weightGroups: Group = {};
  const seenClasses = new Map<string, number>();
  const kerasLayers = order.map((layer) => {
    const conversion = CONVERSIONS[layer.class_name];
    const inputs = layer.inbound_nodes[0] ?? [];
    const inputShapes = inputs.map(([name]) => shapes.get(name)!);
    const snake = snakeCase(layer.class_name);
    const seen = seenClasses.get(snake);
    seenClasses.set(snake, (seen ?? -1) + 1);
    const variables = conversion.variables(layer.config).map((variable) => {
      const weight = weights.get(`${layer.name}/${variable}`);
      if (!weight) throw new Error(`layer ${layer.name}: the saved model has no weight ${variable}`);
      return weight;
    });
    if (variables.length > 0) {
      weightGroups[seen === undefined ? snake : `${snake}_${seen + 1}`] = {
        vars: Object.fromEntries(variables.map((variable, i) => [String(i), variable])),
      };
    }
    // A merge layer is called on one list of tensors, every other layer on its one tensor.
    const merges = MERGE_LAYERS.has(layer.class_name);
    const tensors = inputs.map((input) => kerasTensor(shapes, input));
    return {
      module: 'keras.layers',
      class_name: layer.class_name,
      config: kerasLayerConfig(layer, conversion),
      registered_name: null,
      ...(inputs.length > 0 && { build_config: { input_shape: merges ? inputShapes : inputShapes[0] } }),
      name: layer.name,
      inbound_nodes: inputs.length > 0 ? [{ args: merges ? [tensors] : tensors, kwargs: {} }] : [],
    };
  });

  // One input or output is written as its own [layer, node, tensor], as Keras writes a model of one.
  const ends = (tensors: [string, number, number][]) => (tensors.length === 1 ? tensors[0] : tensors);
  const config = {
    module: 'keras.src.models.functional',
    class_name: 'Functional',
    config: {
      name: topology.name,
      trainable: true,
      layers: kerasLayers,
      input_layers: ends(topology.input_layers),
      output_layers: ends(topology.output_layers),
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
  const now = new Date().toISOString();
  const metadata = { keras_version: KERAS_VERSION, date_saved: `${now.slice(0, 10)}@${now.slice(11, 19)}` };
  const archive = zipStored([
    { name: 'metadata.json', data: Buffer.from(JSON.stringify(metadata)) },
    { name: 'config.json', data: Buffer.from(JSON.stringify(config)) },
    { name: 'model.weights.h5', data: hdf5File(Object.keys(weightGroups).length > 0 ? { layers: weightGroups } : {}) },
  ]);
  writeFileSync(join(outDir, KERAS_FILE), archive);
  return [KERAS_FILE];
}
