// A strategy whose tensors live on tfjs's cpu backend while the supernet beside it trains on a GPU: the
// controller reads a value at every decision, a round trip on a GPU, and impossible synchronously there.

import { onCpuBackend, onCpuBackendAsync } from '../tensor-values.ts';
import type { Strategy } from './strategy.ts';

export function strategyOnCpu(create: () => Strategy): Strategy {
  const strategy = onCpuBackend(create);
  const { lastHiddenState } = strategy;
  return {
    adaptive: strategy.adaptive,
    learnsFromPruned: strategy.learnsFromPruned,
    ask: () => onCpuBackend(() => strategy.ask()),
    lastHiddenState: lastHiddenState && (() => onCpuBackend(() => lastHiddenState.call(strategy))),
    tell: (architecture, reward) => onCpuBackend(() => strategy.tell(architecture, reward)),
    getState: () => onCpuBackendAsync(() => strategy.getState()),
    setState: (state) => onCpuBackendAsync(() => strategy.setState(state)),
    dispose: () => onCpuBackend(() => strategy.dispose()),
  };
}
