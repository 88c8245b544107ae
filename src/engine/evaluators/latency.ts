// A child's inference latency: the median time of one example's forward pass (batch 1) on the trainer's
// backend, measured on the built child before it trains, so that one over strategy.reward.constraints.
// max_latency_ms is stopped before its first batch.

import type * as tf from '@tensorflow/tfjs';
import { median } from '../schedulers/median.ts';
import { RejectedBeforeTraining } from './evaluator.ts';

/**
 * The first passes compile kernels and fill caches (WebGL shaders, WebGPU pipelines, V8's optimisation of the
 * JavaScript kernels): untimed. On the CPU backend 3 left the first child a trainer builds 2-3 times slower
 * than the same child measured again; 10 brought it within the spread of the others.
 */
const WARM_UP_PASSES = 10;
/**
 * Timed passes: a digits child's pass takes about a millisecond on the CPU backend, so 20 cost nothing beside
 * training, and their median shrugs off the odd pause (a garbage collection, another trainer's burst).
 */
const TIMED_PASSES = 20;

/**
 * Median milliseconds of `model`'s forward pass of `example` (a batch of one); each output is read back, so an
 * asynchronous backend (WebGL, WebGPU) is timed to completion, not to when its work was queued.
 */
export async function measureLatency(model: tf.LayersModel, example: tf.Tensor): Promise<number> {
  const times: number[] = [];
  for (let pass = 0; pass < WARM_UP_PASSES + TIMED_PASSES; pass++) {
    const started = performance.now();
    const output = model.predict(example) as tf.Tensor;
    try {
      await output.data();
    } finally {
      output.dispose();
    }
    if (pass >= WARM_UP_PASSES) times.push(performance.now() - started);
  }
  return median(times);
}

/** Throws RejectedBeforeTraining when the measured latency is over the search's limit (none: no limit). */
export function checkLatency(latencyMs: number, maxLatencyMs: number | undefined): void {
  if (maxLatencyMs !== undefined && latencyMs > maxLatencyMs)
    throw new RejectedBeforeTraining(
      `rejected before training: ${latencyMs.toFixed(3)} ms latency > max_latency_ms ${maxLatencyMs}`,
      latencyMs,
    );
}
