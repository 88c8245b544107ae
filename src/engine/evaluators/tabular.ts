// The tabular evaluator: an architecture's measurements are read from the NAS-Bench-201 table,
// so a search of hundreds of trials takes a second. Like every evaluator it returns validation and
// test accuracy; the search loop turns only the validation accuracy into the reward a strategy is told.

import type { TrialMeasurements } from '../../protocol/engine.ts';
import type { Architecture } from '../../space/decisions.ts';
import type { TabularDataset, TabularEvaluationConfig } from '../../space/config.ts';
import { tabularImageShape } from '../../space/kinds/evaluations/tabular.ts';
import { NASBENCH201_OPERATIONS, nasBench201Cost } from '../../space/nasbench201.ts';
import { shippedNasBench201Table, type NasBench201Table } from '../data/nas-bench-201.ts';
import { EvaluationFailed, type EvaluationRequest, type Evaluator, type EvaluatorKind } from './evaluator.ts';

/** The table holds no parameter counts, FLOPs or learning curves: the cost is counted from the cell. */
function cellCost(architecture: Architecture, dataset: TabularDataset) {
  return nasBench201Cost(
    architecture.map((choice) => NASBENCH201_OPERATIONS[choice]),
    tabularImageShape(dataset),
  );
}

export class TabularEvaluator implements Evaluator {
  // A lookup needs no accelerator; one at a time keeps sequential strategies (evolution) sequential.
  readonly backend = 'cpu';
  readonly size = 1;
  readonly recordedAs = 'tabular';
  readonly backendDetail: string;

  constructor(
    private readonly table: NasBench201Table,
    private readonly dataset: TabularDataset,
  ) {
    this.backendDetail = `NAS-Bench-201 table lookup, ${dataset}`;
  }

  async evaluate(request: EvaluationRequest): Promise<TrialMeasurements> {
    if (request.space.kind !== 'nasbench201')
      throw new EvaluationFailed(`the NAS-Bench-201 table has no ${request.space.kind} architectures`, false);
    const started = performance.now();
    const { valAccuracy, testAccuracy } = this.table.accuracies(request.architecture, this.dataset);
    const { params, flops } = cellCost(request.architecture, this.dataset);
    return { valAccuracy, testAccuracy, params, flops, seconds: (performance.now() - started) / 1000, curve: [] };
  }

  cancelAll(): void {}

  async close(): Promise<void> {}
}

export const tabularEvaluatorKind: EvaluatorKind<TabularEvaluationConfig> = {
  description: 'looks each architecture up in the NAS-Bench-201 table',
  start: async (evaluation) => new TabularEvaluator(shippedNasBench201Table(), evaluation.dataset),
  knownAccuracy: (evaluation) => {
    const table = shippedNasBench201Table();
    return {
      valAccuracy: (architecture) => table.accuracies(architecture, evaluation.dataset).valAccuracy,
      cost: (architecture) => cellCost(architecture, evaluation.dataset),
      source: `NAS-Bench-201 table (${evaluation.dataset}): every sampled architecture's reward is known`,
    };
  },
};
