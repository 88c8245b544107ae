// What the weight-sharing runner (ENAS, random-ws) asks of the data it searches on: the shared weights of
// an image supernet on minibatches (image-shared-weights.ts), or of a recurrent cell's language model on
// BPTT windows (language-shared-weights.ts). The runner owns the phases, the strategy, the trials and
// the checkpoints; a task owns its supernet and where it reads its data.

import * as tf from '@tensorflow/tfjs';
import type { TrialMeasurements } from '../../protocol/engine.ts';
import type { ArchitectureGraph } from '../../space/graph.ts';
import { savedValues, type SavedTensor } from '../strategies/saved-tensor.ts';

/** The figures of one training step, summed over its examples (or tokens). */
export interface SharedStep {
  /** Summed loss (cross-entropy). */
  loss: number;
  /** Correct predictions. */
  hits: number;
  /** Examples or tokens the step trained on. */
  count: number;
}

/** A task's part of a checkpoint. */
export interface SharedWeightsState {
  supernet: SavedTensor[];
  /** A language model's state carried from one training window to the next, mid-epoch. */
  carried?: SavedTensor[];
}

/** A shared child's figures; the runner adds the seconds and the (empty) curve. */
export type SharedScore = Omit<TrialMeasurements, 'seconds' | 'curve'>;

export interface SharedWeightsTask {
  /** Training steps (minibatches, windows) in one epoch. */
  readonly stepsPerEpoch: number;
  /** Step `step` (from 0) of epoch `epoch` (from 0): trains the shared weights through `graph`. */
  trainStep(graph: ArchitectureGraph, epoch: number, step: number): Promise<SharedStep>;
  /** Scores `graph` with the shared weights on validation batch `batch` (counted over the run), or on the final samples' fixed one. */
  score(graph: ArchitectureGraph, batch: number | 'final'): Promise<SharedScore>;
  /** The epoch's line in the run log, from its summed step figures. */
  describeEpoch(summed: SharedStep): string;
  getState(): Promise<SharedWeightsState>;
  setState(state: SharedWeightsState): void;
  dispose(): void;
}

/** Restores a supernet's weights, by name, from a checkpoint of the same supernet; checks every one before writing any. */
export function restoreNamedWeights(weights: ReadonlyMap<string, tf.Variable>, saved: readonly SavedTensor[]): void {
  if (saved.length !== weights.size) throw new Error(`The state has ${saved.length} shared weights; this supernet has ${weights.size}.`);
  for (const s of saved) {
    const weight = weights.get(s.name);
    if (!weight) throw new Error(`The state has a shared weight ${s.name} this supernet lacks.`);
    if (weight.shape.join(',') !== s.shape.join(','))
      throw new Error(`Shared weight ${s.name} has shape [${s.shape}]; expected [${weight.shape}].`);
  }
  for (const s of saved) tf.tidy(() => weights.get(s.name)!.assign(tf.tensor(savedValues(s), s.shape)));
}
