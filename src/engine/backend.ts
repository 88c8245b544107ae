// Picks the tfjs backend for training. The native builds (libtensorflow) are optional installs that
// fail offline; the pure-JavaScript CPU backend is always there, with the project's faster
// convolution kernels registered on it.

import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendName } from '../space/config.ts';
import { registerFastCpuKernels } from './kernels/fast-cpu-kernels.ts';

export interface SelectedBackend {
  name: BackendName;
  /** Why this one: what was tried and what failed, for the log and the run record. */
  detail: string;
}

const NATIVE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

function loadNative(name: 'tensorflow-gpu' | 'tensorflow'): string | undefined {
  try {
    // A runtime name keeps the bundler from resolving a package that is usually not installed.
    const packageName = NATIVE_PACKAGES[name];
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand; it registers the backend as a side effect
    require(packageName);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    return `${NATIVE_PACKAGES[name]} is not usable (${message})`;
  }
}

export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  // Production mode skips debug checks and the console banner the CPU backend prints in Node.
  tf.enableProdMode();
  const tried: string[] = [];
  const candidates: BackendName[] = choice === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'cpu'] : [choice];
  for (const name of candidates) {
    if (name === 'cpu') {
      registerFastCpuKernels();
      await tf.setBackend('cpu');
      const reason = tried.length ? `; ${tried.join('; ')}` : '';
      return { name, detail: `pure-JavaScript CPU backend with the project's convolution kernels${reason}` };
    }
    const failure = loadNative(name);
    if (failure === undefined && (await tf.setBackend('tensorflow'))) {
      return { name, detail: `${NATIVE_PACKAGES[name]} (libtensorflow)` };
    }
    tried.push(failure ?? `${NATIVE_PACKAGES[name]} loaded but its backend did not start`);
  }
  throw new Error(`backend "${choice}" is not available: ${tried.join('; ')}. Use backend "auto" or "cpu".`);
}
