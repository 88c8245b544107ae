import type * as tf from '@tensorflow/tfjs';

/** The part of tfjs's 'cpu' backend the fast kernels use: its tensors' values, and making a tensor. */
export interface CpuBackend {
  data: { get(dataId: tf.DataId): { values?: tf.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** A replacement kernel: computes the result itself or hands the call to the stock kernel it replaces. */
export type FastKernel = (args: Parameters<tf.KernelFunc>[0], stock: tf.KernelFunc) => tf.TensorInfo | tf.TensorInfo[];
