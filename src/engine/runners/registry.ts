// The search runner of each strategy kind: the ask/tell loop for the ask/tell kinds, and a one-shot
// runner for each one-shot family.

import type { StrategyConfig } from '../../space/config.ts';
import { dartsRunner } from '../oneshot/darts.ts';
import { weightSharingRunner } from '../oneshot/weight-sharing.ts';
import { askTellRunner } from './ask-tell.ts';
import type { SearchRunner } from './runner.ts';

export const searchRunners: { readonly [Kind in StrategyConfig['kind']]: SearchRunner } = {
  random: askTellRunner,
  reinforce: askTellRunner,
  evolution: askTellRunner,
  local: askTellRunner,
  bayesian: askTellRunner,
  enas: weightSharingRunner,
  'random-ws': weightSharingRunner,
  darts: dartsRunner,
};
