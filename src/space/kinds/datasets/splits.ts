// The rules every data set kind shares: training keeps enough of the examples, and an archive with its
// own test set takes no test_split.

import type { DatasetSplits } from '../../config.ts';
import type { RuleContext } from '../rule-context.ts';

// Training needs at least 10% of the examples.
const MAX_HELD_OUT = 0.9;
const TEST_SPLIT = ['dataset', 'test_split'];

export function splitRules(dataset: DatasetSplits, context: RuleContext): void {
  checkHeldOut(dataset.validation_split, dataset.test_split, context);
}

/**
 * mnist and cifar10: the archive's own test set is the test split, and validation_split holds out a
 * fraction of the training examples; test_split counts only when the file writes it (for an archive
 * without its test part; `ownTestSetRule` refuses it otherwise).
 */
export function archiveSplitRules(dataset: DatasetSplits, context: RuleContext): void {
  checkHeldOut(dataset.validation_split, context.written(TEST_SPLIT) ? dataset.test_split : 0, context);
}

/** A file that writes test_split for an archive whose test part (`testFile`) is present: refused, since that part is the test split. */
export function ownTestSetRule(testFile: string, context: RuleContext): void {
  if (!context.written(TEST_SPLIT)) return;
  const message =
    `dataset.test_split: ${testFile} is the archive's own test set, and it is the test split (rule: archive-test-split); ` +
    `remove test_split: it applies only to an archive without its test part`;
  context.report(TEST_SPLIT, message, 'archive-test-split', { atKey: true });
}

function checkHeldOut(validation: number, test: number, context: RuleContext): void {
  const heldOut = validation + test;
  // Tolerance so that 0.7 + 0.2 counts as 0.9 despite floating point.
  if (heldOut < MAX_HELD_OUT - 1e-9) return;
  const sum = Number(heldOut.toFixed(6));
  const message =
    `dataset: validation_split + test_split must be below ${MAX_HELD_OUT} so that training ` +
    `keeps at least ${Math.round((1 - MAX_HELD_OUT) * 100)}% of ` +
    `the examples, got ${validation} + ${test} = ${sum} (rule: split-sum)`;
  context.report(TEST_SPLIT, message, 'split-sum', { fallbackPath: ['dataset', 'validation_split'] });
}
