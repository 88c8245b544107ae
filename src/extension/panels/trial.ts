// The trial view: one trial's architecture, its epochs and its metrics.
import type { TrialData } from '../../protocol/webview.ts';
import { definePanel, fieldChecks, requestCheck, type Ready } from '../panel-kind.ts';

export type TrialState = { view: 'trial'; runId: number; index: number };
export type TrialMessage = { type: 'trial'; data: TrialData };
export type TrialRequest = Ready | { type: 'copy-architecture'; runId: number; index: number; format: 'yaml' | 'json' };

const { ready, isId } = fieldChecks;

export const trialPanel = definePanel<TrialState, TrialMessage, TrialRequest>({
  view: 'trial',
  title: (state) => `Run ${state.runId} · Trial ${state.index}`,
  isRequest: requestCheck<TrialRequest>({
    ready,
    'copy-architecture': (m) => isId(m.runId) && isId(m.index) && (m.format === 'yaml' || m.format === 'json'),
  }),
  command: {
    id: 'nasStudio.openTrial',
    state(ui, node) {
      const trial = ui.trialOf(node);
      return trial && { view: 'trial', runId: trial.runId, index: trial.index };
    },
  },
  open(panel) {
    const { runId, index } = panel.state;
    return {
      async handle(request) {
        if (request.type === 'copy-architecture') return panel.actions.copyArchitecture(request.runId, request.index, request.format);
        const data = await panel.queries.query(panel.db(), { kind: 'trial-view', runId, index });
        if (!data) throw new Error(`run ${runId} has no trial ${index}`);
        panel.post({ type: 'trial', data });
      },
    };
  },
});
