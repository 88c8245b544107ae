// The native builds (libtensorflow): optional installs that fail offline, loaded only when asked for.

import * as tf from '@tensorflow/tfjs';
import type { BackendKind, BackendStart } from './backend-kind.ts';

function loadNative(packageName: string): string | undefined {
  try {
    // A runtime name keeps the bundler from resolving a package that is usually not installed.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand; it registers the backend as a side effect
    require(packageName);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return `${packageName} is not usable (${message})`;
  }
}

function nativeBackendKind(packageName: string, description: string): BackendKind {
  return {
    description,
    async start(): Promise<BackendStart> {
      const failure = loadNative(packageName);
      if (failure === undefined && (await tf.setBackend('tensorflow'))) return { started: true, detail: `${packageName} (libtensorflow)` };
      return { started: false, failure: failure ?? `${packageName} loaded but its backend did not start` };
    },
  };
}

export const tensorflowGpuBackendKind = nativeBackendKind(
  '@tensorflow/tfjs-node-gpu',
  'libtensorflow with CUDA, through @tensorflow/tfjs-node-gpu',
);
export const tensorflowBackendKind = nativeBackendKind('@tensorflow/tfjs-node', 'libtensorflow on the CPU, through @tensorflow/tfjs-node');
