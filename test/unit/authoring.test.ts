import { test } from 'node:test';
import assert from 'node:assert/strict';
import { completionsAt, hoverAt } from '../../src/space/authoring.ts';
import { BACKENDS, CELL_OPERATIONS } from '../../src/space/config.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { TEMPLATES, templateText } from '../../src/space/template.ts';

/** Completion labels at the `|` of `text` (which is removed). */
function labelsAt(textWithCursor: string): string[] | undefined {
  const offset = textWithCursor.indexOf('|');
  const text = textWithCursor.slice(0, offset) + textWithCursor.slice(offset + 1);
  const before = text.slice(0, offset).split('\n');
  return completionsAt(text, before.length - 1, before.at(-1)!.length)?.items.map((item) => item.label);
}

const CELL_FILE = `name: c
dataset: { kind: digits, validation_split: 0.2 }
space:
  kind: cell
`;

test('completion offers the operation names in a flow list and in a block list', () => {
  assert.deepEqual(labelsAt(`${CELL_FILE}  operations: [conv3x3, |]\n`), [...CELL_OPERATIONS]);
  assert.deepEqual(labelsAt(`${CELL_FILE}  operations:\n    - conv3x3\n    - |\n`), [...CELL_OPERATIONS]);
  // A list at its key's own indentation is still that key's list.
  assert.deepEqual(labelsAt(`${CELL_FILE}  operations:\n  - |\n`), [...CELL_OPERATIONS]);
});

test('completion offers the keys of the kind written, without those already there', () => {
  assert.deepEqual(labelsAt(`${CELL_FILE}  nodes: 3\n  |\n`), ['operations', 'cells_per_stage', 'stages', 'filters', 'head', 'batch_norm']);
  assert.deepEqual(labelsAt(`${CELL_FILE.replace('cell', 'macro')}  |\n`), [
    'layers',
    'filter_heights',
    'filter_widths',
    'filters',
    'strides',
    'skip_connections',
    'head',
    'batch_norm',
  ]);
  assert.deepEqual(labelsAt(`name: c\ndataset: { kind: digits, validation_split: 0.2, | }\n`), [
    'test_split',
    'seed',
    'max_train_examples',
  ]);
  assert.deepEqual(labelsAt(`name: c\n|\n`), ['dataset', 'space', 'strategy', 'evaluation', 'scheduler', 'budget', 'runtime']);
  assert.deepEqual(labelsAt(`name: c\nstrategy:\n  kind: reinforce\n  controller:\n    hidden: 32\n    |\n`), [
    'learning_rate',
    'entropy_weight',
    'baseline_decay',
    'temperature',
    'tanh_constant',
    'batch_size',
    'memory_buffer',
  ]);
});

test('completion offers enum values: kinds, backends, optimizers, booleans', () => {
  assert.deepEqual(labelsAt('name: c\nspace:\n  kind: |\n'), ['macro', 'cell', 'nasbench201', 'recurrent']);
  assert.deepEqual(labelsAt('name: c\nstrategy: { kind: | }\n'), [
    'random',
    'reinforce',
    'evolution',
    'local',
    'bayesian',
    'enas',
    'random-ws',
    'darts',
  ]);
  assert.deepEqual(labelsAt('name: c\ndataset: { kind: d| }\n'), ['digits', 'cifar10', 'mnist', 'csv', 'image-folder', 'text']);
  assert.deepEqual(labelsAt('runtime:\n  backend: |\n'), [...BACKENDS]);
  // Evaluation dispatches with if/then/else: tabular, and train for every other kind.
  assert.deepEqual(labelsAt('evaluation: { kind: | }\n'), ['tabular', 'command', 'train']);
  assert.deepEqual(labelsAt('evaluation:\n  kind: tabular\n  |\n'), ['dataset']);
  assert.deepEqual(labelsAt('evaluation:\n  epochs: 2\n  |\n'), [
    'kind',
    'batch_size',
    'optimizer',
    'learning_rate',
    'reward_epochs',
    'nesterov',
    'lr_schedule',
    'warmup_epochs',
    'weight_decay',
    'label_smoothing',
    'bptt',
    'clip_norm',
    'dropout',
    'retrain',
    'augment',
  ]);
  assert.deepEqual(labelsAt('evaluation: { optimizer: | }\n'), ['adam', 'sgd', 'rmsprop']);
  assert.deepEqual(labelsAt('space:\n  kind: macro\n  skip_connections: |\n'), ['true', 'false']);
  // Completion of a kind carries the description of what it selects.
  const text = 'space:\n  kind: \n';
  const cell = completionsAt(text, 1, 8)?.items.find((item) => item.label === 'cell');
  assert.match(cell?.detail ?? '', /stacked/);
});

test('completion replaces the word being typed, and stays quiet in comments and strings', () => {
  const text = 'runtime:\n  backend: ten\n';
  assert.deepEqual((({ wordStart, wordEnd }) => ({ wordStart, wordEnd }))(completionsAt(text, 1, 13)!), { wordStart: 11, wordEnd: 14 });
  assert.equal(labelsAt('name: c # a comment |\n'), undefined);
  assert.equal(labelsAt('name: "my |\n'), undefined);
});

test('hover shows the schema description of a key, in block and flow style', () => {
  const text = `${CELL_FILE}  nodes: 3\nstrategy:\n  kind: reinforce\n  controller: { hidden: 32 }\n`;
  const nodes = hoverAt(text, 4, 3);
  assert.match(nodes?.markdown ?? '', /\*\*nodes\*\*[\s\S]*nodes per cell[\s\S]*Allowed: an integer ≥ 1 and ≤ 12[\s\S]*Default: `5`/);
  assert.deepEqual([nodes?.start, nodes?.end], [2, 7]);
  const hidden = hoverAt(text, 7, 17);
  assert.match(hidden?.markdown ?? '', /Units of the controller's LSTM/);
  const split = hoverAt(text, 1, 30);
  assert.match(split?.markdown ?? '', /held out for validation/);
  // Values and unknown keys have no hover.
  assert.equal(hoverAt(text, 3, 9), undefined);
  assert.equal(hoverAt('space:\n  colour: red\n', 1, 4), undefined);
});

test('an optional section without a default (the memory buffer) is shown switched off in templates', () => {
  const text = templateText('macro-search', TEMPLATES.macro);
  assert.match(text, /\n {4}# Optional\. Memory-buffer regularization/);
  assert.match(text, /\n {4}# memory_buffer:\n/);
  const strategy = parseSearchText(text, 'x.nas.yaml').config?.strategy;
  assert.ok(strategy?.kind === 'reinforce');
  assert.equal(strategy.controller.memory_buffer, undefined);
});

test('every template makes a file that validates, with the name given', () => {
  for (const [kind, template] of Object.entries(TEMPLATES)) {
    const text = templateText(`${kind}-search`, template);
    const { config, problems } = parseSearchText(text, `${kind}.nas.yaml`);
    assert.deepEqual(problems, [], kind);
    assert.equal(config?.name, `${kind}-search`);
    assert.equal(config?.space.kind, template.space);
  }
});

test('the manifest contributes the schema to Red Hat YAML and to VS Code JSON, and ships it', async () => {
  const { readFileSync, existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const root = join(__dirname, '..', '..');
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    contributes: { yamlValidation: Array<{ fileMatch: string; url: string }>; jsonValidation: Array<{ fileMatch: string; url: string }> };
    extensionDependencies?: string[];
  };
  assert.deepEqual(manifest.contributes.yamlValidation, [{ fileMatch: '*.nas.yaml', url: './schemas/nas-search.schema.json' }]);
  assert.deepEqual(manifest.contributes.jsonValidation, [{ fileMatch: '*.nas.json', url: './schemas/nas-search.schema.json' }]);
  assert.ok(existsSync(join(root, 'schemas', 'nas-search.schema.json')));
  // Red Hat's YAML extension helps when present and is never required.
  assert.equal(manifest.extensionDependencies, undefined);
  assert.doesNotMatch(readFileSync(join(root, '.vscodeignore'), 'utf8'), /schemas/);
});
