// The model formats a trial is exported in, which of them need its trained weights, and the words for a trial that
// kept none: the engine refuses such an export with them, and the editor says them before it asks where to write.

export const MODEL_EXPORT_FORMATS = ['tfjs', 'keras', 'pytorch'] as const;
export type ModelExportFormat = (typeof MODEL_EXPORT_FORMATS)[number];

/** Whether an export is the trained weights (tfjs, Keras); PyTorch writes `model.py` alone where no weights were kept. */
export const needsTrainedWeights = (format: string): boolean => format === 'tfjs' || format === 'keras';

export function keptNoWeightsMessage(trial: { index: number; runId: number }, format: string): string {
  return (
    `trial ${trial.index} of run ${trial.runId} kept no weights, and a ${format} export needs them; retrain it ` +
    `(nas-studio retrain ${trial.runId} ${trial.index}), or search with runtime.keep_weights to keep the best trials' weights`
  );
}
