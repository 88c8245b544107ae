// Reading numbers off tensors. Engine code that may run on a GPU backend awaits its reads: in Node,
// tfjs-backend-webgpu has no synchronous read of a GPU tensor (its readSync needs OffscreenCanvas).

import * as tf from '@tensorflow/tfjs';

/** The first value of each tensor, read without blocking; the tensors are disposed. */
export async function scalarValues(tensors: readonly tf.Tensor[]): Promise<number[]> {
  try {
    const values = await Promise.all(tensors.map((tensor) => tensor.data()));
    return values.map((value) => Number(value[0]));
  } finally {
    tf.dispose([...tensors]);
  }
}

/**
 * Runs `work` on tfjs's cpu backend, then returns to the backend in use: for a small model that reads a
 * value at every step (the controller samples decision by decision), which on a GPU would be a round
 * trip per decision, and in Node a synchronous read the GPU backend cannot do. What `work` makes stays
 * on the cpu backend, and must not meet the GPU's tensors. tfjs switches to an initialised backend without
 * awaiting anything (Engine.setBackend awaits only a first initialisation); the switch is checked.
 */
export function onCpuBackend<T>(work: () => T): T {
  const previous = tf.getBackend();
  if (previous === 'cpu') return work();
  switchNow('cpu');
  try {
    return work();
  } finally {
    switchNow(previous);
  }
}

/** onCpuBackend for asynchronous work, which nothing else may run tensor work beside while it is pending. */
export async function onCpuBackendAsync<T>(work: () => Promise<T>): Promise<T> {
  const previous = tf.getBackend();
  if (previous === 'cpu') return work();
  switchNow('cpu');
  try {
    return await work();
  } finally {
    switchNow(previous);
  }
}

function switchNow(name: string): void {
  // Initialises it now if it never ran: the cpu backend initialises synchronously.
  if (!tf.findBackend(name)) throw new Error(`tfjs backend ${name} is not initialised`);
  void tf.setBackend(name);
  if (tf.getBackend() !== name) throw new Error(`tfjs did not switch to the ${name} backend at once`);
}
