// Does the controller learn anything? The analysis of Adam & Lorraine ("Understanding Neural
// Architecture Search Techniques") for one REINFORCE run: each decision's certainty and entropy,
// trained against freshly initialised; the hidden states of sampled architectures; and how well the
// distance between two hidden states follows how alike the two architectures are (their Table 1).
// Runs in the engine (tfjs), never in the editor.

import type { ControllerInsight, DecisionProfile, SpearmanRow } from '../../protocol/insight.ts';
import { entropy } from '../../protocol/webview.ts';
import type { SearchConfig } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import { architectureKey, compileSpace, decodeArchitecture, type ArchitectureGraph } from '../../space/graph.ts';
import { evaluationKind } from '../../space/kinds/evaluations/registry.ts';
import { controllerKinds, strategyKind } from '../../space/kinds/strategies/registry.ts';
import { createRng } from '../../space/rng.ts';
import { selectBackend } from '../backend.ts';
import { brokenConstraint } from '../constraints.ts';
import { applyReward } from '../search.ts';
import type { Store } from '../store/store.ts';
import { LstmController } from '../strategies/controller.ts';
import { controllerStateOf } from '../strategies/reinforce.ts';
import {
  architectureEditDistance,
  commonConnections,
  commonOperations,
  editDistanceMethod,
  similarityView,
  type SimilarityView,
} from './graph-similarity.ts';
import { spearman } from './rank-correlation.ts';

/** As in the paper: 100 architectures, so 4,950 pairs. */
const INSIGHT_SAMPLES = 100;

/** One architecture as the correlations need it. */
interface AnalysedArchitecture {
  graph: ArchitectureGraph;
  hidden: readonly number[];
  reward: number | null;
}

interface ControllerSamples {
  architectures: AnalysedArchitecture[];
  profile: DecisionProfile;
}

export async function controllerInsight(store: Store, runId: number, samples = INSIGHT_SAMPLES): Promise<ControllerInsight> {
  const run = store.getRun(runId);
  if (!run) throw new Error(`no run ${runId} in ${store.path}`);
  const { config } = store.runConfig(runId);
  const { strategy } = config;
  const controllerState = strategyKind(strategy).controllerState;
  if (controllerState === undefined || !('controller' in strategy)) {
    throw new Error(
      `run ${runId} used the ${strategy.kind} strategy; controller insight analyses the LSTM controller of a ` +
        `${controllerKinds().join(' or ')} run`,
    );
  }
  const checkpoint = store.latestCheckpoint(runId);
  if (!checkpoint) throw new Error(`run ${runId} has no controller checkpoint yet: no trial has finished`);
  const controllerConfig = strategy.controller;
  const decisions = compileSpace(config.space);
  await selectBackend('cpu');
  const fresh = new LstmController(decisions, controllerConfig, config.runtime.seed);
  const trained = new LstmController(decisions, controllerConfig, config.runtime.seed);
  try {
    await trained.setState(controllerStateOf(controllerState(checkpoint.state)));
    const rewards = await rewardLookup(store, runId, config);
    const freshSamples = sampleController(fresh, config, rewards.of, samples);
    const trainedSamples = sampleController(trained, config, rewards.of, samples);
    const trainedRow = correlations(trainedSamples.architectures);
    const trainedDistinctRow = correlations(distinct(trainedSamples.architectures));
    const trainedAs = controllerConfig.memory_buffer ? 'supervised' : 'unsupervised';
    const hiddenStates = trainedSamples.architectures.map((a) => [...a.hidden]);
    return {
      run,
      decisions: decisions.map((d) => d.name),
      samples,
      controllerSteps: store.controllerSteps(runId).length,
      trainedAs,
      trained: trainedSamples.profile,
      fresh: freshSamples.profile,
      hiddenStates,
      hiddenVariance: columnVariance(hiddenStates),
      spearman: {
        random: correlations(freshSamples.architectures),
        unsupervised: trainedAs === 'unsupervised' ? trainedRow : null,
        supervised: trainedAs === 'supervised' ? trainedRow : null,
      },
      spearmanDistinct: {
        random: correlations(distinct(freshSamples.architectures)),
        unsupervised: trainedAs === 'unsupervised' ? trainedDistinctRow : null,
        supervised: trainedAs === 'supervised' ? trainedDistinctRow : null,
      },
      recorded: recordedCorrelations(store, runId, samples),
      gedMethod: editDistanceMethod(similarityView(trainedSamples.architectures[0].graph)),
      rewardSource: rewards.source,
    };
  } finally {
    fresh.dispose();
    trained.dispose();
  }
}

/**
 * The reward of a sampled architecture: looked up in the NAS-Bench-201 table for a tabular run (every
 * architecture is known), otherwise the mean reward of the run's finished trials of the same
 * architecture (by its key), and unknown for architectures the run never trained.
 */
async function rewardLookup(
  store: Store,
  runId: number,
  config: SearchConfig,
): Promise<{ of: (architecture: Architecture, graph: ArchitectureGraph) => number | null; source: string }> {
  const { evaluation } = config;
  const known = (await evaluationKind(evaluation).evaluator()).knownAccuracy?.(evaluation);
  if (known !== undefined) {
    return {
      // As the search would score it: a child over a constraint is rejected, and has no reward.
      of: (architecture, graph) =>
        brokenConstraint(config, graph) === undefined
          ? applyReward(config.strategy.reward, { valAccuracy: known.valAccuracy(architecture), ...known.cost(architecture) })
          : null,
      source: known.source,
    };
  }
  const sums = new Map<string, { sum: number; count: number }>();
  for (const trial of store.listTrials(runId)) {
    if (trial.status !== 'done' || trial.reward === null) continue;
    const entry = sums.get(trial.key) ?? { sum: 0, count: 0 };
    entry.sum += trial.reward;
    entry.count += 1;
    sums.set(trial.key, entry);
  }
  return {
    of: (_, graph) => {
      const entry = sums.get(architectureKey(graph));
      return entry ? entry.sum / entry.count : null;
    },
    source:
      "the run's finished trials of the same architecture; pairs with an architecture the run never trained are left out of reward_gap",
  };
}

/** Samples from a controller with a fixed rng, so that both controllers are read the same way. */
function sampleController(
  controller: LstmController,
  config: SearchConfig,
  rewardOf: (architecture: Architecture, graph: ArchitectureGraph) => number | null,
  samples: number,
): ControllerSamples {
  const rng = createRng(config.runtime.seed);
  const architectures: AnalysedArchitecture[] = [];
  let argmax: number[] = [];
  let entropies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const sample = controller.sample(rng);
    const graph = decodeArchitecture(config.space, sample.architecture);
    architectures.push({ graph, hidden: sample.finalHidden, reward: rewardOf(sample.architecture, graph) });
    if (i === 0) {
      argmax = sample.probabilities.map(() => 0);
      entropies = sample.probabilities.map(() => 0);
    }
    sample.probabilities.forEach((probs, d) => {
      argmax[d] += Math.max(...probs) / samples;
      entropies[d] += entropy(probs) / samples;
    });
  }
  return { architectures, profile: { argmax, entropy: entropies } };
}

/** The last `samples` finished trials whose hidden state was recorded during the search, with their measured rewards. */
function recordedCorrelations(store: Store, runId: number, samples: number): SpearmanRow | null {
  const hidden = new Map(store.hiddenStates(runId).map((h) => [h.index, h.hidden]));
  const recorded: AnalysedArchitecture[] = store
    .listTrials(runId)
    .filter((trial) => trial.status === 'done' && hidden.has(trial.index))
    .slice(-samples)
    .map((trial) => ({ graph: trial.graph, hidden: hidden.get(trial.index)!, reward: trial.reward }));
  return recorded.length >= 2 ? correlations(recorded) : null;
}

/** The first sample of each architecture. */
function distinct(architectures: readonly AnalysedArchitecture[]): AnalysedArchitecture[] {
  const seen = new Set<string>();
  return architectures.filter((a) => {
    const key = architectureKey(a.graph);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Table 1's row: over every pair, Spearman between the hidden-state distance and each similarity measure. */
function correlations(architectures: readonly AnalysedArchitecture[]): SpearmanRow {
  const views: SimilarityView[] = architectures.map((a) => similarityView(a.graph));
  const distances: number[] = [];
  const operations: number[] = [];
  const connections: number[] = [];
  const editDistances: number[] = [];
  const rewardDistances: number[] = [];
  const rewardGaps: number[] = [];
  for (let i = 0; i < architectures.length; i++) {
    for (let j = i + 1; j < architectures.length; j++) {
      const distance = euclidean(architectures[i].hidden, architectures[j].hidden);
      distances.push(distance);
      operations.push(commonOperations(views[i], views[j]));
      connections.push(commonConnections(views[i], views[j]));
      editDistances.push(architectureEditDistance(views[i], views[j]).distance);
      const [ri, rj] = [architectures[i].reward, architectures[j].reward];
      if (ri !== null && rj !== null) {
        rewardDistances.push(distance);
        rewardGaps.push(Math.abs(ri - rj));
      }
    }
  }
  return {
    common_ops: spearman(distances, operations),
    common_connections: spearman(distances, connections),
    ged: spearman(distances, editDistances),
    reward_gap: spearman(rewardDistances, rewardGaps),
    pairs: distances.length,
    reward_pairs: rewardGaps.length,
    distinct_architectures: new Set(architectures.map((a) => architectureKey(a.graph))).size,
  };
}

function euclidean(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`hidden states of different sizes: ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return Math.sqrt(sum);
}

function columnVariance(rows: readonly number[][]): number[] {
  if (rows.length === 0) return [];
  return rows[0].map((_, column) => {
    const mean = rows.reduce((sum, row) => sum + row[column], 0) / rows.length;
    return rows.reduce((sum, row) => sum + (row[column] - mean) ** 2, 0) / rows.length;
  });
}
