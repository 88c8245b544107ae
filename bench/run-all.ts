// Every benchmark, one after the other; each prints its own figures.
import { runConvKernelBench } from './conv-kernels.ts';
import { runEngineOverheadBench } from './engine-overhead.ts';

(async () => {
  await runConvKernelBench();
  await runEngineOverheadBench();
})();
