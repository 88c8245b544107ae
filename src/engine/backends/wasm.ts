// tfjs's WebAssembly backend (XNNPACK, SIMD): the fast CPU backend that installs offline, since its .wasm
// files ship inside the npm package. The build copies them into dist/ beside the bundles.

import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { registerWasmGradientKernels } from '../kernels/wasm-kernels.ts';
import type { BackendCheck, BackendKind, BackendStart } from './backend-kind.ts';

const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';

/** The folder holding the .wasm files: beside the bundle (dist/), or the package's own folder when run from source. */
function wasmFolder(): { folder: string; where: string } | undefined {
  if (existsSync(join(__dirname, SIMD_BINARY))) return { folder: __dirname, where: 'dist' };
  try {
    const packageFolder = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    if (existsSync(join(packageFolder, SIMD_BINARY))) return { folder: packageFolder, where: 'node_modules' };
  } catch {
    // Not installed: reported below.
  }
  return undefined;
}

export const wasmBackendKind: BackendKind = {
  description: 'WebAssembly on the CPU (XNNPACK, SIMD, one thread), through @tensorflow/tfjs-backend-wasm',
  async start(): Promise<BackendStart> {
    const found = wasmFolder();
    if (found === undefined) return { started: false, failure: `${SIMD_BINARY} is neither in ${__dirname} nor in node_modules` };
    // Loaded on demand: importing it registers a backend that outranks 'cpu' for code that never picks one.
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // One trainer process per core already fills the machine; threads would only compete with it.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    wasm.setWasmPaths(`${found.folder}/`);
    try {
      if (!(await tf.setBackend('wasm'))) return { started: false, failure: 'the wasm backend did not start' };
    } catch (error) {
      return { started: false, failure: `the wasm backend did not start (${error instanceof Error ? error.message : String(error)})` };
    }
    registerWasmGradientKernels();
    const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
    return {
      started: true,
      detail: `tfjs-backend-wasm ${wasm.version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, one thread, .wasm from ${found.where}`,
    };
  },
  async check(): Promise<BackendCheck> {
    const found = wasmFolder();
    if (found === undefined)
      return { usable: false, detail: `${SIMD_BINARY} is missing`, hint: 'run "npm run build", which copies it into dist/' };
    return { usable: true, detail: `.wasm from ${found.where}; SIMD when this Node supports it` };
  },
};
