// Picks the tfjs backend for training from the backend kinds (one module each, in backends/). The
// native builds are optional installs that fail offline; webgpu needs a GPU adapter Dawn can drive; wasm
// ships in the npm package; the pure-JavaScript CPU backend is always there.

import * as tf from '@tensorflow/tfjs';
import type { BackendReport } from '../protocol/engine.ts';
import type { BackendChoice, BackendName } from '../space/config.ts';
import type { BackendCheck, BackendKind } from './backends/backend-kind.ts';
import { cpuBackendKind } from './backends/cpu.ts';
import { tensorflowBackendKind, tensorflowGpuBackendKind } from './backends/native.ts';
import { wasmBackendKind } from './backends/wasm.ts';
import { webgpuBackendKind } from './backends/webgpu.ts';

export interface SelectedBackend {
  name: BackendName;
  /** Why this one: what was tried and what failed, for the log and the run record. */
  detail: string;
}

export const backendKinds: { readonly [Name in BackendName]: BackendKind } = {
  'tensorflow-gpu': tensorflowGpuBackendKind,
  webgpu: webgpuBackendKind,
  tensorflow: tensorflowBackendKind,
  wasm: wasmBackendKind,
  cpu: cpuBackendKind,
};

/** What "auto" tries, fastest first; the CPU backend always starts. */
export const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export async function selectBackend(choice: BackendChoice): Promise<SelectedBackend> {
  // Production mode skips debug checks and the console banner the CPU backend prints in Node.
  tf.enableProdMode();
  const tried: string[] = [];
  const candidates = choice === 'auto' ? AUTO_ORDER : [choice];
  for (const name of candidates) {
    const start = await backendKinds[name].start(choice === 'auto' ? 'auto' : 'named');
    if (start.started) {
      // The CPU backends say what failed before them: why the run is not on a faster one.
      const reason = (name === 'cpu' || name === 'wasm') && tried.length ? `; ${tried.join('; ')}` : '';
      return { name, detail: `${start.detail}${reason}` };
    }
    tried.push(start.failure);
  }
  throw new Error(`backend "${choice}" is not available: ${tried.join('; ')}. Use backend "auto" or "cpu".`);
}

/** Every backend's check, in the order `auto` tries them, the first usable marked as auto's pick: what `nas-studio doctor` reports. */
export async function checkBackends(
  kinds: { readonly [Name in BackendName]: Pick<BackendKind, 'check'> } = backendKinds,
): Promise<BackendReport[]> {
  const reports: BackendReport[] = [];
  for (const name of AUTO_ORDER) {
    let check: BackendCheck;
    try {
      check = await kinds[name].check();
    } catch (error) {
      // A check that breaks says why rather than hiding the other backends' answers.
      check = { usable: false, detail: `the check failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    reports.push({ name, ...check, pickedByAuto: check.usable && !reports.some((report) => report.pickedByAuto) });
  }
  return reports;
}
