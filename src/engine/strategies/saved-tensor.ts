// Tensors saved into a checkpoint as plain JSON: the controller's weights, and the one-shot supernets' and optimizers'.
import type * as tf from '@tensorflow/tfjs';

export interface SavedTensor {
  name: string;
  shape: number[];
  /** The float32 values as base64 of their bytes: exact, and a third the size of JSON numbers. */
  base64: string;
}

export function savedValues(saved: SavedTensor): Float32Array {
  const bytes = Buffer.from(saved.base64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Read asynchronously: a tensor on a GPU backend cannot be read synchronously in Node. */
export async function saveTensor(name: string, tensor: tf.Tensor): Promise<SavedTensor> {
  const values = (await tensor.data()) as Float32Array;
  return { name, shape: [...tensor.shape], base64: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64') };
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
