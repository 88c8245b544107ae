// Every benchmark, one after the other; each prints its own figures.
import { runCommandTrainerBench } from './command-trainer.ts';
import { runConvKernelBench } from './conv-kernels.ts';
import { runDashboardRenderBench } from './dashboard-render.ts';
import { runDistributedBench } from './distributed.ts';
import { runEngineOverheadBench } from './engine-overhead.ts';
import { runFidelityBench } from './fidelity.ts';
import { runRecurrentBench } from './recurrent.ts';
import { runOneShotBench } from './one-shot.ts';
import { runValidationBench } from './validation.ts';
import { runNasBench201Bench } from './nasbench201.ts';
import { runParetoBench } from './pareto.ts';
import { runControllerInsightBench } from './controller-insight.ts';
import { runTrainingBench } from './training.ts';

(async () => {
  await runConvKernelBench();
  runTrainingBench();
  await runEngineOverheadBench();
  // Skipped, saying why, without redis-server.
  await runDistributedBench([]);
  await runCommandTrainerBench();
  runValidationBench();
  await runNasBench201Bench([]);
  await runParetoBench([]);
  await runOneShotBench();
  await runControllerInsightBench([]);
  await runFidelityBench([]);
  await runRecurrentBench([]);
  // Needs a browser: run `npm run e2e:setup` once first.
  await runDashboardRenderBench();
})();
