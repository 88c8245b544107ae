// The search runner of a strategy: the one its kind module names (one-shot kinds), else the ask/tell loop.

import type { StrategyConfig } from '../../space/config.ts';
import { strategyKind } from '../../space/kinds/strategies/registry.ts';
import { askTellRunner } from './ask-tell.ts';
import type { SearchRunner } from './runner.ts';

export async function searchRunner(strategy: StrategyConfig): Promise<SearchRunner> {
  const kind = strategyKind(strategy);
  return kind.runner ? kind.runner() : askTellRunner;
}
