// Entry point of a trainer process: a plain Node child that holds tfjs and the data set, and trains
// the children the engine sends it, one at a time. Separate processes (not worker threads) because
// the native tfjs builds cannot be loaded twice in one process, and a crash stays contained.

import * as tf from '@tensorflow/tfjs';
import type { EpochMetrics, TrialMeasurements } from '../../protocol/engine.ts';
import type { TrainerCommand, TrainerReply } from '../../protocol/trainer.ts';
import { isImageDataset } from '../../space/kinds/datasets/registry.ts';
import { selectBackend } from '../backend.ts';
import { takeGpuFault, throwIfGpuFault } from '../backends/webgpu.ts';
import { splitDataset } from '../data/dataset.ts';
import { loadDataset, loadTextCorpus } from '../data/load.ts';
import { checkTextWindows } from '../data/text.ts';
import { RejectedBeforeTraining, type EpochVerdict } from './evaluator.ts';
import { prepareTrainingData, trainFromScratch, TrainingCancelled, type TrainingData } from './train-from-scratch.ts';
import { trainRecurrentChild, type LanguageData } from './train-language-model.ts';

// The engine may be gone between the check and the write (EPIPE): the callback takes that error.
const send = (reply: TrainerReply) => {
  if (process.connected) process.send?.(reply, undefined, undefined, () => undefined);
};
/** Images for image classifiers, token ids for language models (a recurrent space on a text data set). */
let data: { images: TrainingData } | { text: LanguageData } | undefined;
let cancelledJob: number | undefined;
let queue = Promise.resolve();
/** The job waiting for the engine's verdict on its last epoch, and how to give it. */
let awaitingVerdict: { job: number; answer: (verdict: EpochVerdict) => void } | undefined;

async function handle(command: TrainerCommand): Promise<void> {
  switch (command.type) {
    case 'setup': {
      try {
        const backend = await selectBackend(command.setup.backend);
        const { dataset, baseDir } = command.setup;
        const { evaluation } = command;
        let datasetNotes: string[];
        if (isImageDataset(dataset)) {
          const loaded = await loadDataset(dataset, baseDir);
          data = { images: prepareTrainingData(splitDataset(loaded, dataset)) };
          datasetNotes = loaded.notes ?? [];
        } else {
          const corpus = await loadTextCorpus(dataset, baseDir);
          checkTextWindows(corpus, evaluation.bptt, evaluation.batch_size);
          const { tokens, vocabulary, unknownId, train, validation, test } = corpus;
          data = { text: { tokens, vocabulary, unknownId, train, validation, test } };
          datasetNotes = corpus.notes ?? [];
        }
        send({ type: 'ready', backend: backend.name, backendDetail: backend.detail, tensorsAtRest: tf.memory().numTensors, datasetNotes });
      } catch (error) {
        send({ type: 'setup-failed', message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    case 'train': {
      const { job } = command;
      try {
        if (!data) throw new Error('the trainer was not set up');
        takeGpuFault();
        const onEpoch = (metrics: EpochMetrics) =>
          new Promise<EpochVerdict>((answer) => {
            awaitingVerdict = { job, answer };
            send({ type: 'epoch', job, metrics });
          });
        const isCancelled = () => cancelledJob === job;
        const { graph, space } = command;
        let measurements: TrialMeasurements;
        if ('text' in data) {
          if (graph.kind !== 'recurrent' || space.kind !== 'recurrent') throw new Error(`a ${space.kind} space does not train on text`);
          measurements = await trainRecurrentChild({ ...command, graph, space }, data.text, onEpoch, isCancelled);
        } else measurements = await trainFromScratch(command, data.images, onEpoch, isCancelled);
        // A fault seen now is this child's: any from an earlier, cancelled one were dropped when it started.
        throwIfGpuFault();
        send({ type: 'trained', job, measurements, tensorsAfter: tf.memory().numTensors });
      } catch (error) {
        const cancelled = error instanceof TrainingCancelled;
        const rejected = error instanceof RejectedBeforeTraining ? { latencyMs: error.latencyMs } : {};
        send({ type: 'train-failed', job, message: error instanceof Error ? error.message : String(error), cancelled, ...rejected });
      }
      return;
    }
    case 'cancel':
      cancelledJob = command.job;
      // A job waiting for its verdict goes on to its next batch, where it sees the cancel.
      if (awaitingVerdict?.job === command.job) answerVerdict('continue');
      return;
    case 'verdict':
      if (awaitingVerdict?.job === command.job) answerVerdict(command.verdict);
      return;
  }
}

function answerVerdict(verdict: EpochVerdict): void {
  const waiting = awaitingVerdict!;
  awaitingVerdict = undefined;
  waiting.answer(verdict);
}

process.on('message', (command: TrainerCommand) => {
  // A cancel or a verdict must take effect while a job trains; everything else runs in order.
  if (command.type === 'cancel' || command.type === 'verdict') void handle(command);
  else queue = queue.then(() => handle(command));
});
// Ctrl-C in a terminal, a closed terminal's SIGHUP and a SIGTERM sent to the whole process group
// (systemd, Slurm, `timeout`) reach the trainers too; the engine decides how a search stops (it
// cancels the child in training, which is then interrupted, not failed), so a trainer does not die
// of them mid-trial.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});
// The engine is gone (even killed with SIGKILL): leave no orphan behind.
process.on('disconnect', () => process.exit(0));
