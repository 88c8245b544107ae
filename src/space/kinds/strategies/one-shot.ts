// What the one-shot strategies (darts, enas, random-ws) share: shared weights are trained here, on a
// data set (images, or text for enas and random-ws on a recurrent cell), and a looked-up table has neither.

import type { RuleContext } from '../rule-context.ts';

export function oneShotEvaluationRule(strategyKind: string, context: RuleContext): void {
  const { evaluation } = context.config;
  if (evaluation.kind === 'train') return;
  const message =
    `evaluation.kind: strategy ${strategyKind} trains shared weights on a data set and retrains its best architecture ` +
    `from scratch, so it needs evaluation kind train, got ${evaluation.kind} (rule: oneshot-evaluation); allowed: ` +
    `train`;
  context.report(['evaluation', 'kind'], message, 'oneshot-evaluation');
}
