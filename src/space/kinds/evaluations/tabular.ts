// Look each architecture up in the NAS-Bench-201 table, which holds one space and names its own data sets.

import type { EvaluationKind, ImageShape } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

export const TABULAR_DATASETS = ['cifar10', 'cifar100', 'imagenet16'] as const;
export type TabularDataset = (typeof TABULAR_DATASETS)[number];

/** The images the benchmark's networks were trained on: CIFAR at 32x32, ImageNet16-120 at 16x16. */
export function tabularImageShape(dataset: TabularDataset): ImageShape {
  if (dataset === 'imagenet16') return { shape: [16, 16, 3], classes: 120, classesKnown: true };
  return { shape: [32, 32, 3], classes: dataset === 'cifar100' ? 100 : 10, classesKnown: true };
}

/** Look each architecture up in the NAS-Bench-201 table, measured on `dataset`. */
export interface TabularEvaluationConfig {
  kind: 'tabular';
  dataset: TabularDataset;
}

export const tabularEvaluation: EvaluationKind<TabularEvaluationConfig> = {
  kind: 'tabular',
  get description() {
    return kindDescription('evaluation', 'tabular');
  },
  evaluator: async () => (await import('../../../engine/evaluators/tabular.ts')).tabularEvaluatorKind,
  check(_evaluation, context) {
    const { space, dataset } = context.config;
    if (space.kind !== 'nasbench201') {
      const message =
        `evaluation.kind: tabular looks architectures up in the NAS-Bench-201 table, which holds only ` +
        `the nasbench201 space, got space kind ${space.kind}; use space: { kind: nasbench201 }, or evaluation kind ` +
        `train (rule: tabular-needs-nasbench201)`;
      context.report(['evaluation', 'kind'], message, 'tabular-needs-nasbench201');
    }
    if (dataset !== undefined) {
      const message =
        `dataset: not used by a tabular evaluation, whose table was measured on its own data sets; ` +
        `remove it and choose one with evaluation.dataset (cifar10, cifar100 or imagenet16) (rule: ` +
        `tabular-dataset)`;
      context.report(['dataset'], message, 'tabular-dataset', { atKey: true });
    }
  },
};
