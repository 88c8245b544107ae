// A text corpus for language models: one file split contiguously, three files (train, validation, test),
// or, with neither, the embedded Tiny Shakespeare.

import type { TextDatasetKind } from '../kind-module.ts';
import { kindDescription, type RuleContext } from '../rule-context.ts';
import { existingDatasetPath } from './dataset-path.ts';

export interface TextDatasetConfig {
  kind: 'text';
  /** One text file, split contiguously (never shuffled): first the training part, then validation, then test. */
  path?: string;
  /** Or three files, all given together (then path, validation_split and test_split must not be written). */
  train?: string;
  validation?: string;
  test?: string;
  tokens: 'char' | 'word';
  /** Words only: keep this many most frequent words (ties broken by first appearance), the rest become the unknown token `<unk>`. */
  max_vocabulary: number;
  /** Fractions of the tokens of `path`. */
  validation_split: number;
  test_split: number;
  /** Keep at most this many training tokens (the first ones); absent = all. */
  max_train_tokens?: number;
}

const SPLIT_FILES = ['train', 'validation', 'test'] as const;
const SPLITS = ['validation_split', 'test_split'] as const;
// Training keeps at least 10% of the text, as the image data sets keep of their examples.
const MAX_HELD_OUT = 0.9;

export const textDataset: TextDatasetKind<TextDatasetConfig> = {
  kind: 'text',
  modality: 'text',
  get description() {
    return kindDescription('dataset', 'text');
  },
  load: async (dataset, resolvePath) => (await import('../../../engine/data/text.ts')).loadTextCorpus(dataset, resolvePath),
  check(dataset, context) {
    filesRule(dataset, context);
    splitsRule(dataset, context);
    vocabularyRule(dataset, context);
    modelRule(context);
  },
  checkFiles(dataset, context, files) {
    for (const key of ['path', ...SPLIT_FILES] as const) {
      const path = dataset[key];
      if (path === undefined) continue;
      const existing = existingDatasetPath(path, context, files, key);
      if (existing === undefined) continue;
      if (!existing.status.isFile) {
        context.report(
          ['dataset', key],
          `dataset.${key}: ${existing.fullPath} is a folder (rule: path-kind); allowed: a text file`,
          'path-kind',
        );
      } else if (existing.status.size === 0) {
        const message = `dataset.${key}: ${existing.fullPath} is empty (rule: empty-file); a language model needs text to learn from`;
        context.report(['dataset', key], message, 'empty-file');
      }
    }
  },
};

/** Whether the corpus comes as three files rather than one to split. */
export function givesSplitFiles(dataset: TextDatasetConfig): boolean {
  return SPLIT_FILES.some((key) => dataset[key] !== undefined);
}

/** train, validation and test come all three or none, and not with path. */
function filesRule(dataset: TextDatasetConfig, context: RuleContext): void {
  const given = SPLIT_FILES.filter((key) => dataset[key] !== undefined);
  if (given.length === 0) return;
  if (dataset.path !== undefined) {
    const message =
      `dataset.${given[0]}: path and the three files train, validation and test exclude each other (rule: text-files); ` +
      `give path (one file, split by validation_split and test_split) or the three files`;
    context.report(['dataset', given[0]], message, 'text-files', { atKey: true });
    return;
  }
  const missing = SPLIT_FILES.filter((key) => dataset[key] === undefined);
  if (missing.length === 0) return;
  const message =
    `dataset.${given[0]}: train, validation and test are given all three or none, ${missing.join(' and ')} missing ` +
    `(rule: text-files); or give one file as path, split by validation_split and test_split`;
  context.report(['dataset', given[0]], message, 'text-files', { atKey: true });
}

/** With three files they are the splits; with one, training keeps at least 10% of it. */
function splitsRule(dataset: TextDatasetConfig, context: RuleContext): void {
  if (givesSplitFiles(dataset)) {
    for (const key of SPLITS.filter((split) => context.written(['dataset', split]))) {
      const message = `dataset.${key}: the files train, validation and test are the splits (rule: text-splits); remove ${key}`;
      context.report(['dataset', key], message, 'text-splits', { atKey: true });
    }
    return;
  }
  const heldOut = dataset.validation_split + dataset.test_split;
  // Tolerance so that 0.7 + 0.2 counts as 0.9 despite floating point.
  if (heldOut < MAX_HELD_OUT - 1e-9) return;
  const message =
    `dataset: validation_split + test_split must be below ${MAX_HELD_OUT} so that training keeps at least ` +
    `${Math.round((1 - MAX_HELD_OUT) * 100)}% of the text, got ${dataset.validation_split} + ${dataset.test_split} = ` +
    `${Number(heldOut.toFixed(6))} (rule: text-splits)`;
  context.report(['dataset', 'test_split'], message, 'text-splits', { fallbackPath: ['dataset', 'validation_split'] });
}

function vocabularyRule(dataset: TextDatasetConfig, context: RuleContext): void {
  if (dataset.tokens !== 'char' || !context.written(['dataset', 'max_vocabulary'])) return;
  const message =
    'dataset.max_vocabulary: applies to tokens: word only; with tokens: char every character of the text is in the ' +
    'vocabulary (rule: max-vocabulary-words)';
  context.report(['dataset', 'max_vocabulary'], message, 'max-vocabulary-words', { atKey: true });
}

/** Text trains language models, whose cell is a recurrent space's; a user's own command trains whatever it likes. */
function modelRule(context: RuleContext): void {
  const { space, evaluation } = context.config;
  if (space.kind === 'recurrent' || evaluation.kind !== 'train') return;
  const message =
    `dataset.kind: a text data set trains language models, and a ${space.kind} space builds image classifiers; ` +
    `use space: { kind: recurrent }, or an image data set (rule: text-needs-recurrent)`;
  context.report(['dataset', 'kind'], message, 'text-needs-recurrent');
}
