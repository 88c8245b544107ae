// ENAS's recurrent cell (Pham et al., 2018), the cell NAS-RL, ENAS and DARTS search for language models:
// node 1 reads the step's input x_t and the previous state h_{t-1}; every later node reads one earlier
// node through its own weights and applies an activation; the cell's new state is the mean of the nodes
// no other node reads.

import type { Decision } from '../../decisions.ts';
import { indexIn, type SpaceKind } from '../kind-module.ts';
import { kindDescription } from '../rule-context.ts';

export const RECURRENT_ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'identity'] as const;
export type RecurrentActivation = (typeof RECURRENT_ACTIVATIONS)[number];

export interface RecurrentSpaceConfig {
  kind: 'recurrent';
  /** N: nodes of the cell, node 1 included. */
  nodes: number;
  /** Activations a node may apply. */
  activations: RecurrentActivation[];
  /** Width of the hidden state (and of the token embedding). */
  hidden: number;
  /** ENAS's highway gating: each node mixes its activation with its input through a learned sigmoid gate. */
  highway: boolean;
  /** The softmax reuses the embedding's weights (Press & Wolf), as ENAS's and DARTS' language models do. */
  tie_weights: boolean;
}

/**
 * Node k of the cell (from 0; drawn as node k+1). `input` is the earlier node it reads, or -1 for node 0,
 * which reads x_t and h_{t-1}.
 */
export interface RecurrentNode {
  input: number;
  activation: RecurrentActivation;
}

export interface RecurrentGraph {
  kind: 'recurrent';
  nodes: RecurrentNode[];
}

/** The nodes no other node reads: the cell's output is their mean. */
export function recurrentLeaves(nodes: readonly RecurrentNode[]): number[] {
  const read = new Set(nodes.map((node) => node.input));
  return nodes.map((_, k) => k).filter((k) => !read.has(k));
}

const nodeLabel = (k: number) => `node${k + 1}`;

export const recurrentSpace: SpaceKind<RecurrentSpaceConfig, RecurrentGraph> = {
  kind: 'recurrent',
  get description() {
    return kindDescription('space', 'recurrent');
  },
  check(_space, context) {
    if (context.config.dataset?.kind === 'text' || context.config.evaluation.kind === 'command') return;
    const message =
      `space.kind: a recurrent cell is trained as a language model on text; set dataset: { kind: text } ` +
      `(the embedded Tiny Shakespeare when it names no file) (rule: recurrent-needs-text)`;
    context.report(['space', 'kind'], message, 'recurrent-needs-text');
  },
  compile(space) {
    const decisions: Decision[] = [];
    // After each node's activation decision the controller's state stands for that node: the anchor of later inputs.
    const nodeSteps: number[] = [];
    for (let k = 0; k < space.nodes; k++) {
      if (k > 0) {
        const options = nodeSteps.map((_, j) => nodeLabel(j));
        decisions.push({ kind: 'input', name: `${nodeLabel(k)}.input`, options, anchors: nodeSteps.map((step) => ({ step })) });
      }
      decisions.push({ kind: 'categorical', name: `${nodeLabel(k)}.activation`, options: [...space.activations] });
      nodeSteps.push(decisions.length - 1);
    }
    return decisions;
  },
  decode(space, take) {
    return {
      kind: 'recurrent',
      nodes: Array.from({ length: space.nodes }, (_, k) => {
        const input = k === 0 ? -1 : take();
        return { input, activation: space.activations[take()] };
      }),
    };
  },
  encode(space, graph, architecture) {
    graph.nodes.forEach((node, k) => {
      if (k > 0) architecture.push(node.input);
      architecture.push(indexIn(space.activations, node.activation, 'activation'));
    });
  },
  // Every choice changes the function the cell computes (nodes are ordered, weights are per node): the choices are the key.
  key(graph) {
    return `recurrent[${graph.nodes.map((node, k) => (k === 0 ? node.activation : `${node.input + 1}>${node.activation}`)).join(';')}]`;
  },
  draw(graph) {
    const lines = ['recurrent cell:'];
    graph.nodes.forEach((node, k) => {
      const reads = k === 0 ? 'x_t, h_{t-1}' : nodeLabel(node.input);
      lines.push(`  ${nodeLabel(k)} = ${node.activation}(${reads})`);
    });
    lines.push(`  h_t = mean(${recurrentLeaves(graph.nodes).map(nodeLabel).join(', ')})`);
    return lines.join('\n');
  },
};

/**
 * Trainable parameters of the language model around a cell of `space` over `vocabulary` tokens: the
 * embedding, node 1's input and state weights, one matrix per later node (twice as wide with highway
 * gates, no biases, as ENAS), and the softmax's bias (and weights, when not tied to the embedding).
 */
export function recurrentParameters(space: Pick<RecurrentSpaceConfig, 'nodes' | 'hidden' | 'highway' | 'tie_weights'>, vocabulary: number) {
  const width = space.highway ? 2 * space.hidden : space.hidden;
  const cell = 2 * space.hidden * width + (space.nodes - 1) * space.hidden * width;
  const softmax = (space.tie_weights ? 0 : space.hidden * vocabulary) + vocabulary;
  return vocabulary * space.hidden + cell + softmax;
}

/** Floating-point operations per token of the language model's forward pass: 2 per multiply-add of the cell's and softmax's matrices. */
export function recurrentFlopsPerToken(space: Pick<RecurrentSpaceConfig, 'nodes' | 'hidden' | 'highway'>, vocabulary: number) {
  const width = space.highway ? 2 * space.hidden : space.hidden;
  return 2 * (2 * space.hidden * width + (space.nodes - 1) * space.hidden * width + space.hidden * vocabulary);
}
