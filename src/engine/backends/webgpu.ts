// WebGPU through Dawn: the `webgpu` package (Dawn's N-API addon, its binaries inside the npm package)
// under @tensorflow/tfjs-backend-webgpu. A GPU backend that needs no CUDA stack: Dawn drives the GPU
// through Vulkan (Linux, Windows), Metal or D3D12. Both packages are optional dependencies.
//
// Three things about it the rest of the engine relies on (../shared/notes/webgpu.md has the details):
// - Reads must be asynchronous: a synchronous read of a GPU tensor needs OffscreenCanvas, which Node lacks.
// - The device is requested with the adapter's own limits, and two stock kernels are replaced
//   (kernels/webgpu-kernels.ts): AddN over more inputs than a shader binds is silently wrong.
// - Dawn reports invalid work (a validation error means wrong numbers) only as an uncaptured error event:
//   those are kept, and `takeGpuFaults` hands them to whoever decides a trial's fate.

import * as tf from '@tensorflow/tfjs';
import { registerWebGpuKernels } from '../kernels/webgpu-kernels.ts';
import type { BackendCheck, BackendKind, BackendRequest, BackendStart } from './backend-kind.ts';

/** What Dawn says of the adapter it picked, and the limits the device got. */
interface GpuAdapterFacts {
  vendor: string;
  architecture: string;
  description: string;
  /** Dawn's software adapters (lavapipe, SwiftShader) say so: they compute on the CPU. */
  isFallbackAdapter: boolean;
  maxStorageBuffersPerShaderStage: number;
  maxBufferSize: number;
}

// The few WebGPU objects used here, typed locally: the `webgpu` package and its types may be absent.
interface GpuAdapter {
  readonly info: { vendor: string; architecture: string; description: string; device: string; isFallbackAdapter?: boolean };
  readonly isFallbackAdapter?: boolean;
  readonly limits: Record<string, number>;
  readonly features: ReadonlySet<string>;
  requestDevice(descriptor: { requiredLimits: Record<string, number>; requiredFeatures: string[] }): Promise<GpuDevice>;
}
interface GpuDevice {
  readonly limits: Record<string, number>;
  onuncapturederror: ((event: { error: { message: string } }) => void) | null;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapter | null>;
}

const ADAPTER_MISSING_HINT =
  'install the GPU vendor\'s Vulkan driver (NVIDIA: the driver\'s Vulkan ICD, with "graphics" in NVIDIA_DRIVER_CAPABILITIES ' +
  "in a container; AMD and Intel: Mesa's Vulkan drivers) and the Vulkan loader (libvulkan1)";

/** Dawn's entry, created once per process; its object keeps Node alive, so processes using it exit explicitly. */
let dawn: Promise<Gpu | string> | undefined;

function openDawn(): Promise<Gpu | string> {
  dawn ??= (async () => {
    try {
      const { create, globals } = (await import('webgpu')) as unknown as { create(flags: string[]): Gpu; globals: object };
      // tfjs-backend-webgpu looks for the WebGPU classes (GPUBufferUsage …) and navigator.gpu globally.
      Object.assign(globalThis, globals);
      const gpu = create([]);
      const existing = (globalThis as { navigator?: object }).navigator;
      Object.defineProperty(globalThis, 'navigator', { value: { ...existing, gpu }, configurable: true, writable: true });
      return gpu;
    } catch (error) {
      return `the webgpu package (Dawn) is not usable (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    }
  })();
  return dawn;
}

function describe(adapter: GpuAdapter): GpuAdapterFacts {
  const { info, limits } = adapter;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description || info.device,
    isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false,
    maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    maxBufferSize: limits.maxBufferSize,
  };
}

/** The adapter Dawn picks for compute, or why there is none. */
async function findAdapter(): Promise<{ adapter: GpuAdapter; facts: GpuAdapterFacts } | { failure: string; hint: string }> {
  const gpu = await openDawn();
  if (typeof gpu === 'string') return { failure: gpu, hint: 'npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0' };
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!adapter) return { failure: 'Dawn found no WebGPU adapter', hint: ADAPTER_MISSING_HINT };
  return { adapter, facts: describe(adapter) };
}

const adapterName = (facts: GpuAdapterFacts): string =>
  [facts.description, `${facts.vendor} ${facts.architecture}`.trim()].filter(Boolean).join(', ');

const FALLBACK_FAILURE = (facts: GpuAdapterFacts) =>
  `the only WebGPU adapter is a CPU fallback (${adapterName(facts)}), no faster than the CPU backends`;

/** Dawn's uncaptured errors: each is GPU work that did not run as written, so its numbers are wrong. */
const faults: string[] = [];

/** Dawn's uncaptured errors since the last call, as one error: the work they touched cannot be trusted. */
export function takeGpuFault(): Error | undefined {
  const taken = faults.splice(0);
  if (taken.length === 0) return undefined;
  const more = taken.length > 1 ? ` (and ${taken.length - 1} more)` : '';
  return new Error(`the GPU rejected work, so its results are wrong: ${taken[0]}${more}`);
}

/** For work whose faults are the whole run's (a supernet's weights): the run fails rather than search on wrong numbers. */
export function throwIfGpuFault(): void {
  const fault = takeGpuFault();
  if (fault) throw fault;
}

export const webgpuBackendKind: BackendKind = {
  description: 'the GPU through WebGPU (Dawn over Vulkan, Metal or D3D12), through @tensorflow/tfjs-backend-webgpu',
  async start(request: BackendRequest): Promise<BackendStart> {
    const found = await findAdapter();
    if ('failure' in found) return { started: false, failure: found.failure };
    const { adapter, facts } = found;
    if (facts.isFallbackAdapter && request === 'auto') return { started: false, failure: FALLBACK_FAILURE(facts) };
    let webgpu: typeof import('@tensorflow/tfjs-backend-webgpu');
    try {
      // Imported only now: it registers its backend on import, and only when navigator.gpu exists.
      webgpu = await import('@tensorflow/tfjs-backend-webgpu');
    } catch (error) {
      return {
        started: false,
        failure: `@tensorflow/tfjs-backend-webgpu is not usable (${error instanceof Error ? error.message : String(error)})`,
      };
    }
    // The adapter's own limits, not WebGPU's defaults: AddN and concat bind one storage buffer per input.
    const requiredLimits = Object.fromEntries(
      [
        'maxStorageBuffersPerShaderStage',
        'maxComputeWorkgroupStorageSize',
        'maxComputeWorkgroupsPerDimension',
        'maxStorageBufferBindingSize',
        'maxBufferSize',
        'maxComputeWorkgroupSizeX',
        'maxComputeInvocationsPerWorkgroup',
      ].map((limit) => [limit, adapter.limits[limit]]),
    );
    const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
    let device: GpuDevice;
    try {
      device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    } catch (error) {
      return { started: false, failure: `the WebGPU device could not be created on ${adapterName(facts)} (${String(error)})` };
    }
    device.onuncapturederror = (event) => {
      console.error(`WebGPU error: ${event.error.message}`);
      faults.push(event.error.message);
    };
    // Under the same name, or its kernels would not apply.
    tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new webgpu.WebGPUBackend(device as never, adapter.info as never), 3);
    if (!(await tf.setBackend('webgpu'))) return { started: false, failure: `the webgpu backend did not start on ${adapterName(facts)}` };
    registerWebGpuKernels();
    const software = facts.isFallbackAdapter ? ' (a CPU fallback adapter: correct, not fast)' : '';
    const bufferMiB = Math.round(facts.maxBufferSize / 2 ** 20);
    const limits = `${facts.maxStorageBuffersPerShaderStage} storage buffers per shader, ${bufferMiB} MiB buffers`;
    return { started: true, detail: `${adapterName(facts)}${software}; ${limits}` };
  },
  async check(): Promise<BackendCheck> {
    const found = await findAdapter();
    if ('failure' in found) return { usable: false, detail: found.failure, hint: found.hint };
    if (found.facts.isFallbackAdapter)
      return {
        usable: false,
        detail: FALLBACK_FAILURE(found.facts),
        hint: `${ADAPTER_MISSING_HINT}; "backend: webgpu" still runs on it, for testing`,
      };
    return { usable: true, detail: adapterName(found.facts) };
  },
};
