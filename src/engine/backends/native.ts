// The native builds (libtensorflow): optional installs that fail offline, loaded only when asked for.

import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { BackendCheck, BackendKind, BackendStart } from './backend-kind.ts';

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

/** The CUDA libraries tfjs-node-gpu's libtensorflow 2.9.1 was built against. */
const CUDA_LIBRARIES = ['libcudart.so.11.0', 'libcudnn.so.8'];

/**
 * The CUDA libraries the dynamic loader would not find. Without them libtensorflow loads anyway and
 * computes on the CPU without a word (tensorflow/tfjs#8362), so they are looked for first.
 */
function missingCudaLibraries(): string[] {
  if (process.platform !== 'linux') return [];
  let cache = '';
  try {
    cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // No ldconfig on PATH: only LD_LIBRARY_PATH is searched.
  }
  const folders = (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  return CUDA_LIBRARIES.filter((library) => !cache.includes(`${library} `) && !folders.some((folder) => existsSync(join(folder, library))));
}

const CUDA_HINT =
  'tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1 (libtensorflow 2.9.1); on a newer CUDA stack use backend webgpu, ' +
  'or see the README on a custom libtensorflow';

function nativeBackendKind(packageName: string, description: string, needsCuda: boolean): BackendKind {
  const missingCuda = (): string | undefined => {
    const missing = needsCuda ? missingCudaLibraries() : [];
    return missing.length ? `the CUDA libraries ${missing.join(', ')} are not found, so libtensorflow would run on the CPU` : undefined;
  };
  return {
    description,
    async start(): Promise<BackendStart> {
      const failure = loadNative(packageName) ?? missingCuda();
      if (failure === undefined && (await tf.setBackend('tensorflow'))) return { started: true, detail: `${packageName} (libtensorflow)` };
      return { started: false, failure: failure ?? `${packageName} loaded but its backend did not start` };
    },
    async check(): Promise<BackendCheck> {
      const failure = loadNative(packageName);
      if (failure !== undefined)
        return {
          usable: false,
          detail: failure,
          hint: `npm install ${packageName}@4.22.0 (it downloads libtensorflow)${needsCuda ? `; ${CUDA_HINT}` : ''}`,
        };
      const cuda = missingCuda();
      if (cuda !== undefined) return { usable: false, detail: cuda, hint: CUDA_HINT };
      return { usable: true, detail: `${packageName} loads` };
    },
  };
}

export const tensorflowGpuBackendKind = nativeBackendKind(
  '@tensorflow/tfjs-node-gpu',
  'libtensorflow with CUDA, through @tensorflow/tfjs-node-gpu',
  true,
);
export const tensorflowBackendKind = nativeBackendKind(
  '@tensorflow/tfjs-node',
  'libtensorflow on the CPU, through @tensorflow/tfjs-node',
  false,
);
