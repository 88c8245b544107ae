// Completion and hover for search files, free of any editor API: the VS Code side only converts
// these into its own types.

import { documentation, inlineValue, kindChoices, mappingProperties, schemaAt, valueChoices } from './schema-lookup.ts';
import { cursorContext, keyAt } from './yaml-context.ts';

export interface Completion {
  label: string;
  /** What replaces the word at the cursor. */
  insertText: string;
  role: 'key' | 'value';
  /** One line shown beside the label. */
  detail?: string;
  /** Markdown. */
  documentation?: string;
}

export interface Completions {
  items: Completion[];
  /** The 0-based columns of the word the items replace. */
  wordStart: number;
  wordEnd: number;
}

/** What may be written at a 0-based line and column. */
export function completionsAt(text: string, line: number, column: number): Completions | undefined {
  const context = cursorContext(text, line, column);
  if (context === undefined) return undefined;
  const { container, slot, wordStart, wordEnd } = context;
  const items: Completion[] = [];
  if (slot.kind === 'key') {
    const mapping = schemaAt(container);
    if (mapping === undefined) return undefined;
    const kind = container.at(-1);
    const properties = mappingProperties(mapping, kind && 'key' in kind ? kind.kind : undefined);
    for (const [name, property] of Object.entries(properties)) {
      if (slot.present.includes(name)) continue;
      items.push({
        label: name,
        insertText: `${name}: `,
        role: 'key',
        detail: property.description,
        documentation: documentation(name, property),
      });
    }
  } else if (slot.kind === 'value') {
    const mapping = schemaAt(container);
    const value = schemaAt([...container, { key: slot.key }]);
    if (value === undefined) return undefined;
    if (slot.key === 'kind') {
      for (const choice of kindChoices(mapping)) {
        items.push({
          label: choice.value,
          insertText: choice.value,
          role: 'value',
          detail: choice.description,
          documentation: choice.description,
        });
      }
    } else {
      for (const choice of valueChoices(value))
        items.push({ label: choice, insertText: choice, role: 'value', documentation: documentation(slot.key, value) });
      if (value.default !== undefined && !valueChoices(value).includes(String(value.default))) {
        const written = inlineValue(value.default);
        items.push({
          label: written,
          insertText: written,
          role: 'value',
          detail: 'default',
          documentation: documentation(slot.key, value),
        });
      }
    }
  } else {
    const listKey = container.at(-1);
    const item = schemaAt([...container, { item: true }]);
    for (const choice of valueChoices(item)) {
      items.push({
        label: choice,
        insertText: choice,
        role: 'value',
        documentation: listKey && 'key' in listKey ? documentation(listKey.key, schemaAt(container)) : undefined,
      });
    }
  }
  return { items, wordStart, wordEnd };
}

export interface Hover {
  markdown: string;
  /** 0-based columns of the hovered key. */
  start: number;
  end: number;
}

/** The schema's description of the key under a 0-based line and column. */
export function hoverAt(text: string, line: number, column: number): Hover | undefined {
  const found = keyAt(text, line, column);
  if (found === undefined) return undefined;
  const node = schemaAt([...found.context.container, { key: found.key }]);
  if (node === undefined) return undefined;
  return { markdown: documentation(found.key, node), start: found.context.wordStart, end: found.context.wordEnd };
}
