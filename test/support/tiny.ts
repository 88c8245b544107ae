// A search small enough to run in seconds, shared by the engine, CLI, e2e and desktop tests.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainEvaluationConfig } from '../../src/space/config.ts';

export interface TinySearch {
  trials?: number;
  strategy?: 'random' | 'reinforce';
  name?: string;
}

export function tinySearchText(options: TinySearch = {}): string {
  const strategy = options.strategy === 'random' ? '{ kind: random }' : '{ kind: reinforce, controller: { hidden: 16, batch_size: 2 } }';
  return `name: ${options.name ?? 'tiny'}
dataset: { kind: digits, validation_split: 0.2, test_split: 0.1, seed: 1, max_train_examples: 96 }
space: { kind: macro, layers: 2, filter_heights: [1, 3], filter_widths: [1, 3], filters: [4, 8], skip_connections: true }
strategy: ${strategy}
evaluation: { epochs: 1, batch_size: 32, learning_rate: 0.003 }
budget: { trials: ${options.trials ?? 3} }
runtime: { backend: cpu, seed: 7 }
`;
}

/** Writes the tiny search as tiny.nas.yaml in a new temporary folder (or `dir`) and returns its path. */
export function tinySearchFile(options: TinySearch & { dir?: string } = {}): string {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nas-tiny-'));
  const file = join(dir, 'tiny.nas.yaml');
  writeFileSync(file, tinySearchText(options));
  return file;
}

/** The training recipe's fields at their defaults: no schedule, decay, smoothing or augmentation. */
export const PLAIN_RECIPE = {
  nesterov: false,
  lr_schedule: 'constant',
  warmup_epochs: 0,
  weight_decay: 0,
  label_smoothing: 0,
  augment: { crop_padding: 0, horizontal_flip: false },
  bptt: 35,
  clip_norm: 0.25,
  dropout: 0,
} as const;

/** Three epochs of Adam at 0.003 on batches of 32, with the plain recipe: the trainer tests' evaluation. */
export const THREE_EPOCHS_OF_ADAM: TrainEvaluationConfig = {
  kind: 'train',
  epochs: 3,
  batch_size: 32,
  optimizer: 'adam',
  learning_rate: 0.003,
  reward_epochs: 1,
  ...PLAIN_RECIPE,
};

/** A few lines of verse: a character corpus small enough to train a language model on in a second. */
export const TINY_CORPUS = `${[
  'ROMEO: But soft, what light through yonder window breaks?',
  'JULIET: O Romeo, Romeo, wherefore art thou Romeo?',
  'ROMEO: Shall I hear more, or shall I speak at this?',
  'JULIET: What is in a name? That which we call a rose',
  'By any other word would smell as sweet.',
]
  .join('\n')
  .repeat(4)}\n`;

/** A recurrent cell of 2 nodes (hidden 8) searched on TINY_CORPUS for `trials` trials of one epoch. */
export function tinyRecurrentSearchText(trials = 2): string {
  return `name: tiny-recurrent
dataset: { kind: text, tokens: char, path: corpus.txt, validation_split: 0.1, test_split: 0.1 }
space: { kind: recurrent, nodes: 2, hidden: 8 }
strategy: { kind: random }
evaluation: { kind: train, epochs: 1, batch_size: 4, bptt: 8, optimizer: adam, learning_rate: 0.01 }
budget: { trials: ${trials} }
runtime: { backend: cpu, seed: 7 }
`;
}

/** Writes TINY_CORPUS as corpus.txt and the tiny recurrent search as tiny-recurrent.nas.yaml in `dir` (or a new temporary folder). */
export function tinyRecurrentSearchFile(options: { trials?: number; dir?: string } = {}): string {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'nas-tiny-recurrent-'));
  writeFileSync(join(dir, 'corpus.txt'), TINY_CORPUS);
  const file = join(dir, 'tiny-recurrent.nas.yaml');
  writeFileSync(file, tinyRecurrentSearchText(options.trials));
  return file;
}
