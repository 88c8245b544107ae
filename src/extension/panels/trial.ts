// The trial view: one trial's architecture, its epochs and its metrics; text sampled from a language model it kept;
// Retrain… and Export Model… of a finished trial.
import type { TrialData } from '../../protocol/webview.ts';
import { definePanel, fieldChecks, requestCheck, type Ready } from '../panel-kind.ts';

export type TrialState = { view: 'trial'; runId: number; index: number };
export type TrialMessage =
  | { type: 'trial'; data: TrialData }
  | { type: 'sampled-text'; text: string }
  /** The sample could not be made (a character outside the vocabulary, a bad temperature): the panel says why. */
  | { type: 'sample-failed'; message: string };
export type TrialRequest =
  | Ready
  | { type: 'copy-architecture'; runId: number; index: number; format: 'yaml' | 'json' }
  | { type: 'sample-text'; prompt: string; temperature: number }
  | { type: 'retrain' }
  | { type: 'export-model' };

const { ready, isId } = fieldChecks;

/** Characters the trial view samples per request, as the issue asks: enough to judge a model by. */
export const SAMPLE_LENGTH = 200;
/** A prompt longer than this is not a prompt (and would take the engine long to read). */
const MAX_PROMPT_LENGTH = 2000;

export const trialPanel = definePanel<TrialState, TrialMessage, TrialRequest>({
  view: 'trial',
  title: (state) => `Run ${state.runId} · Trial ${state.index}`,
  isRequest: requestCheck<TrialRequest>({
    ready,
    'copy-architecture': (m) => isId(m.runId) && isId(m.index) && (m.format === 'yaml' || m.format === 'json'),
    'sample-text': (m) =>
      typeof m.prompt === 'string' &&
      m.prompt.length <= MAX_PROMPT_LENGTH &&
      typeof m.temperature === 'number' &&
      Number.isFinite(m.temperature),
    retrain: () => true,
    'export-model': () => true,
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
        if (request.type === 'retrain') return panel.actions.retrain(runId, index);
        if (request.type === 'export-model') return panel.actions.exportTrial(runId, index);
        if (request.type === 'sample-text') {
          const { prompt, temperature } = request;
          try {
            const text = await panel.analyses.query(panel.db(), {
              kind: 'sample-text',
              runId,
              index,
              prompt,
              temperature,
              length: SAMPLE_LENGTH,
            });
            panel.post({ type: 'sampled-text', text });
          } catch (error) {
            panel.post({ type: 'sample-failed', message: error instanceof Error ? error.message : String(error) });
          }
          return;
        }
        const data = await panel.queries.query(panel.db(), { kind: 'trial-view', runId, index });
        if (!data) throw new Error(`run ${runId} has no trial ${index}`);
        panel.post({ type: 'trial', data });
      },
    };
  },
});
