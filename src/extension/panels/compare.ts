// The run comparison: two or more runs' trials on one set of charts.
import type { CompareData } from '../../protocol/webview.ts';
import { definePanel, fieldChecks, requestCheck, type Ready } from '../panel-kind.ts';

export type CompareState = { view: 'compare'; runIds: number[] };
export type CompareMessage = { type: 'compare'; data: CompareData };
export type CompareRequest = Ready;

export const comparePanel = definePanel<CompareState, CompareMessage, CompareRequest>({
  view: 'compare',
  title: (state) => `Compare Runs ${state.runIds.join(', ')}`,
  isRequest: requestCheck<CompareRequest>({ ready: fieldChecks.ready }),
  command: {
    id: 'nasStudio.compareRuns',
    async state(ui, node, selected) {
      let runs = Array.isArray(selected) ? selected.map(ui.runOf).filter((run) => run !== undefined) : [];
      if (runs.length < 2) {
        const chosen = new Set(runs.map((run) => run.id));
        const clicked = ui.runOf(node)?.id;
        runs = await ui.pickRuns((await ui.listRuns()).reverse(), (run) => chosen.has(run.id) || run.id === clicked, 'NAS: Compare Runs');
      }
      if (runs.length === 1) ui.inform('Pick at least two runs to compare.');
      return runs.length >= 2 ? { view: 'compare', runIds: runs.map((run) => run.id).sort((a, b) => a - b) } : undefined;
    },
  },
  open(panel) {
    return {
      async handle() {
        panel.post({ type: 'compare', data: await panel.queries.query(panel.db(), { kind: 'compare', runIds: panel.state.runIds }) });
      },
    };
  },
});
