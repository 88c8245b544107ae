// The rule every data set kind shares: training keeps enough of the examples.

import type { DatasetSplits } from '../../config.ts';
import type { RuleContext } from '../rule-context.ts';

// Training needs at least 10% of the examples.
const MAX_HELD_OUT = 0.9;

export function splitRules(dataset: DatasetSplits, context: RuleContext): void {
  const heldOut = dataset.validation_split + dataset.test_split;
  // Tolerance so that 0.7 + 0.2 counts as 0.9 despite floating point.
  if (heldOut < MAX_HELD_OUT - 1e-9) return;
  const sum = Number(heldOut.toFixed(6));
  const message =
    `dataset: validation_split + test_split must be below ${MAX_HELD_OUT} so that training ` +
    `keeps at least ${Math.round((1 - MAX_HELD_OUT) * 100)}% of ` +
    `the examples, got ${dataset.validation_split} + ${dataset.test_split} = ${sum} (rule: split-sum)`;
  context.report(['dataset', 'test_split'], message, 'split-sum', { fallbackPath: ['dataset', 'validation_split'] });
}
