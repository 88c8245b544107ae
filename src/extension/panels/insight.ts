// Controller insight: what a reinforce or enas run's LSTM controller has learned (an analysis of seconds).
import type { ControllerInsight } from '../../protocol/insight.ts';
import { controllerKinds } from '../../space/kinds/strategies/registry.ts';
import { definePanel, fieldChecks, requestCheck, type Ready } from '../panel-kind.ts';

export type InsightState = { view: 'insight'; runId: number };
export type InsightMessage =
  | { type: 'insight'; data: ControllerInsight }
  /** The analysis could not be made (not a reinforce run, no checkpoint yet): the panel says why. */
  | { type: 'insight-failed'; message: string };
export type InsightRequest = Ready;

export const insightPanel = definePanel<InsightState, InsightMessage, InsightRequest>({
  view: 'insight',
  title: (state) => `Controller Insight: Run ${state.runId}`,
  isRequest: requestCheck<InsightRequest>({ ready: fieldChecks.ready }),
  command: {
    id: 'nasStudio.showControllerInsight',
    async state(ui, node) {
      const withController = controllerKinds();
      const clicked = ui.runOf(node);
      const controllerRuns = (await ui.listRuns()).filter((run) => withController.includes(run.strategy)).reverse();
      if (!clicked && controllerRuns.length === 0) {
        ui.inform(
          `Controller Insight analyses the LSTM controller of a ${withController.join(' or ')} run; there is none in this database yet.`,
        );
        return undefined;
      }
      const run = clicked ?? (await ui.pickRun(controllerRuns, 'NAS: Controller Insight'));
      return run && { view: 'insight', runId: run.id };
    },
  },
  open(panel) {
    return {
      async handle() {
        try {
          const data = await panel.analyses.query(panel.db(), { kind: 'controller-insight', runId: panel.state.runId });
          panel.setTitle(`Controller Insight: Run ${data.run.id} ${data.run.name}`);
          panel.post({ type: 'insight', data });
        } catch (error) {
          // Shown in the panel itself: it is the answer to "what does this run's controller know?".
          panel.post({ type: 'insight-failed', message: error instanceof Error ? error.message : String(error) });
        }
      },
    };
  },
});
