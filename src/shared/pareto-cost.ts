// Where a trial's record holds each cost a Pareto search can minimise: the engine's costs told to a strategy,
// the CLI's front and the dashboard's chart all read them through this one map.

import type { ParetoCost } from '../space/config.ts';

export const PARETO_COST_FIELDS: Record<ParetoCost, 'params' | 'flops' | 'latencyMs'> = {
  params: 'params',
  flops: 'flops',
  latency: 'latencyMs',
};
