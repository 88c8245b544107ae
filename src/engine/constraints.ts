// strategy.reward.constraints: a child's cost counted from its shapes before it is evaluated, so one
// over a limit is never trained. The search file's rules allow constraints only where these counts exist.
// max_latency_ms needs the built child: its trainer checks it before the first batch (evaluators/latency.ts).

import type { SearchConfig } from '../space/config.ts';
import { countFlops, countParameters, imageShapeOf } from '../space/estimate.ts';
import type { ArchitectureGraph } from '../space/graph.ts';
import { isImageDataset } from '../space/kinds/datasets/registry.ts';
import { tabularImageShape } from '../space/kinds/evaluations/tabular.ts';
import type { ImageShape } from '../space/kinds/kind-module.ts';

/** The images a child of this search sees: the benchmark's for a table lookup, else the data set's. */
function imagesOf(config: SearchConfig): ImageShape {
  if (config.evaluation.kind === 'tabular') return tabularImageShape(config.evaluation.dataset);
  if (config.dataset === undefined || !isImageDataset(config.dataset))
    throw new Error('cost constraints count a child on images, and this search has no image data set');
  return imageShapeOf(config.dataset);
}

/** Which limit of strategy.reward.constraints the child breaks, said as "<n> parameters > max_params <m>"; undefined when none. */
export function brokenConstraint(config: SearchConfig, graph: ArchitectureGraph): string | undefined {
  const constraints = config.strategy.reward.constraints;
  if (constraints === undefined) return undefined;
  const image = imagesOf(config);
  const { max_params: maxParams, max_flops: maxFlops } = constraints;
  if (maxParams !== undefined) {
    const params = countParameters(graph, config.space, image);
    if (params > maxParams) return `${params} parameters > max_params ${maxParams}`;
  }
  if (maxFlops !== undefined) {
    const flops = countFlops(graph, config.space, image);
    if (flops > maxFlops) return `${flops} FLOPs > max_flops ${maxFlops}`;
  }
  return undefined;
}
