// New search files written from the schema: every key with its default and its description as a
// comment, so a template can never fall out of step with the format it teaches.

import { inlineValue, kindChoices, mappingProperties, schemaAt, type SchemaNode } from './schema-lookup.ts';

export interface TemplateChoice {
  /** The space kind the template searches. */
  space: string;
  /** The kinds of the other kind-selected sections; a section without one (and not required) is left out. */
  kinds: { dataset?: string; strategy: string; evaluation: string };
  /**
   * Values by dotted path where the schema's default is not the template's: required keys without a
   * default, and `null` for keys better left out (written commented).
   */
  values: Record<string, unknown>;
}

// Left out, reward_epochs follows a shorter training; written as its default 5 it would contradict epochs 3.
const SHARED_VALUES = { 'evaluation.reward_epochs': null };

const TRAINED = { dataset: 'digits', strategy: 'reinforce', evaluation: 'train' };

export const TEMPLATES: Record<string, TemplateChoice> = {
  macro: { space: 'macro', kinds: TRAINED, values: { ...SHARED_VALUES, 'space.layers': 4 } },
  cell: { space: 'cell', kinds: TRAINED, values: SHARED_VALUES },
  // Looked up, not trained: the NAS-Bench-201 paper's budget of 100, and the evolution settings its benchmark favours.
  // A language model on the embedded Tiny Shakespeare, cut to a size that trains in minutes on a CPU.
  recurrent: {
    space: 'recurrent',
    kinds: { dataset: 'text', strategy: 'reinforce', evaluation: 'train' },
    values: {
      ...SHARED_VALUES,
      'dataset.max_vocabulary': null,
      'dataset.max_train_tokens': 60000,
      'space.nodes': 6,
      'strategy.reward.metric': 'val_perplexity',
      'strategy.reward.transform': 'inverse_power',
      'evaluation.epochs': 2,
      'evaluation.batch_size': 32,
      'evaluation.learning_rate': 0.02,
      'evaluation.augment': null,
      'budget.trials': 16,
    },
  },
  nasbench201: {
    space: 'nasbench201',
    kinds: { strategy: 'evolution', evaluation: 'tabular' },
    values: { 'strategy.population_size': 20, 'strategy.sample_size': 5, 'budget.trials': 100 },
  },
};

const COMMENT_WIDTH = 100;

/** What each template searches, for a picker: the space kind's description from the schema. */
export function templateDescription(template: TemplateChoice): string {
  return kindChoices(schemaAt([{ key: 'space' }])).find((choice) => choice.value === template.space)?.description ?? '';
}

/** The text of a new search file named `name`. */
export function templateText(name: string, template: TemplateChoice): string {
  const kinds: Record<string, string | undefined> = { ...template.kinds, space: template.space };
  const required = schemaAt([])?.required ?? [];
  const lines = [
    `# A NAS Studio search. Each key shows its default: hover a key to read what it does, and press`,
    `# Ctrl+Space for the keys and values it can take. Start the search with the "Start search" lens above.`,
  ];
  const top = schemaAt([]);
  for (const [key, property] of Object.entries(mappingProperties(top, undefined))) {
    if (property.properties?.kind !== undefined && kinds[key] === undefined && !required.includes(key)) continue;
    lines.push(...comment(property.description, ''));
    if (key === 'name') lines.push(`name: ${name}`);
    else lines.push(`${key}:`, ...mappingLines(property, kinds[key], template.values, key, '  '));
  }
  return `${lines.join('\n')}\n`;
}

function mappingLines(node: SchemaNode, kind: string | undefined, values: Record<string, unknown>, path: string, indent: string): string[] {
  const lines: string[] = [];
  const defaults = (node.default ?? {}) as Record<string, unknown>;
  for (const [key, property] of Object.entries(mappingProperties(node, kind))) {
    const keyPath = `${path}.${key}`;
    const value = key === 'kind' ? kind : keyPath in values ? (values[keyPath] ?? undefined) : (property.default ?? defaults[key]);
    const text = property.description ?? '';
    // A section with no default anywhere (strategy.controller.memory_buffer) is off unless written: it stays commented.
    const optionalSection = value === undefined && !(node.required ?? []).includes(key);
    if (property.type === 'object' && property.properties && !optionalSection) {
      lines.push(...comment(text, indent), `${indent}${key}:`, ...mappingLines(property, undefined, values, keyPath, `${indent}  `));
    } else if (value === undefined) {
      // Optional and without a default: shown, switched off, so the user knows it exists.
      lines.push(...comment(`Optional. ${text}`, indent), `${indent}# ${key}:`);
    } else {
      lines.push(...comment(text, indent), `${indent}${key}: ${inlineValue(value)}`);
    }
  }
  return lines;
}

function comment(text: string | undefined, indent: string): string[] {
  if (!text) return [];
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current && indent.length + 2 + current.length + 1 + word.length > COMMENT_WIDTH) {
      lines.push(`${indent}# ${current}`);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(`${indent}# ${current}`);
  return lines;
}
