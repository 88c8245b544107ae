// The pure-JavaScript CPU backend, always there, with the project's faster convolution kernels.

import * as tf from '@tensorflow/tfjs';
import { registerFastCpuKernels } from '../kernels/fast-cpu-kernels.ts';
import type { BackendKind } from './backend-kind.ts';

export const cpuBackendKind: BackendKind = {
  description: "pure-JavaScript CPU backend with the project's convolution kernels",
  async start() {
    registerFastCpuKernels();
    await tf.setBackend('cpu');
    return { started: true, detail: this.description };
  },
  async check() {
    return { usable: true, detail: 'always there' };
  },
};
