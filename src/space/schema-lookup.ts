// Answers "what may be written here, and what does it mean" from schemas/nas-search.schema.json, the
// one source of truth of the file format: the editor's completion, hover and templates all read it here.

import schema from '../../schemas/nas-search.schema.json';

export interface SchemaNode {
  description?: string;
  type?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  allOf?: Array<{ if?: SchemaNode; then?: SchemaNode }>;
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
  $ref?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

const root = schema as SchemaNode & { definitions: Record<string, SchemaNode> };

function resolved(node: SchemaNode | undefined): SchemaNode | undefined {
  if (node?.$ref === undefined) return node;
  return root.definitions[node.$ref.replace('#/definitions/', '')];
}

/** The `kind` values that select a kind-specific schema (the `if` of a kind-dispatching `allOf`). */
function kindsSelecting(condition: SchemaNode | undefined): unknown[] {
  const kind = condition?.properties?.kind;
  if (kind === undefined) return [];
  return kind.const !== undefined ? [kind.const] : (kind.enum ?? []);
}

/**
 * The kind-specific branches of a mapping: each `allOf` entry's `if` selects its `then` by `kind`, and a
 * top-level `if`/`then`/`else` (whose `else` may dispatch again) gives the last `else` every other kind
 * (and a missing one).
 */
function kindBranches(node: SchemaNode | undefined): Array<{ kinds: unknown[]; branch: SchemaNode | undefined }> {
  const branches = (node?.allOf ?? []).map((entry) => ({ kinds: kindsSelecting(entry.if), branch: resolved(entry.then) }));
  const taken: unknown[] = [];
  for (let level = node; level?.if !== undefined; level = level.else) {
    const selected = kindsSelecting(level.if);
    branches.push({ kinds: selected, branch: resolved(level.then) });
    taken.push(...selected);
    if (level.else !== undefined && level.else.if === undefined) {
      const others = (node!.properties?.kind?.enum ?? []).filter((kind) => !taken.includes(kind));
      branches.push({ kinds: [...others, undefined], branch: resolved(level.else) });
    }
  }
  return branches;
}

/**
 * The keys a mapping may hold, with their schemas: its own properties, plus those of the branch its
 * `kind` selects. With no (or an unknown) kind only the shared keys are known, unless an `else` applies.
 */
export function mappingProperties(node: SchemaNode | undefined, kind: unknown): Record<string, SchemaNode> {
  const schemaNode = resolved(node);
  const properties: Record<string, SchemaNode> = { ...(schemaNode?.properties ?? {}) };
  for (const { kinds, branch } of kindBranches(schemaNode)) {
    if (kinds.includes(kind)) Object.assign(properties, branch?.properties ?? {});
  }
  return properties;
}

/** One step of a path: a key of a mapping (with the `kind` of the mapping it holds, when it has one) or an item of a list. */
export type PathStep = { key: string; kind?: unknown } | { item: true };

/** The schema of the value at `path` from the top of the file, or undefined where the schema allows nothing. */
export function schemaAt(path: readonly PathStep[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  // A step carries the kind of the mapping it leads to, which selects that mapping's keys at the next step.
  let kind: unknown;
  for (const step of path) {
    node = resolved(node);
    if (node === undefined) return undefined;
    node = 'item' in step ? node.items : mappingProperties(node, kind)[step.key];
    kind = 'item' in step ? undefined : step.kind;
  }
  return resolved(node);
}

/** The kinds a kind-dispatching mapping accepts, each with the description of the branch it selects. */
export function kindChoices(node: SchemaNode | undefined): Array<{ value: string; description?: string }> {
  const choices: Array<{ value: string; description?: string }> = [];
  for (const { kinds, branch } of kindBranches(resolved(node))) {
    for (const kind of kinds) if (kind !== undefined) choices.push({ value: String(kind), description: branch?.description });
  }
  return choices;
}

/** Values that complete a scalar: an enum's values, a constant, or true/false. */
export function valueChoices(node: SchemaNode | undefined): string[] {
  const schemaNode = resolved(node);
  if (schemaNode === undefined) return [];
  if (schemaNode.enum) return schemaNode.enum.map(String);
  if (schemaNode.const !== undefined) return [String(schemaNode.const)];
  if (schemaNode.type === 'boolean') return ['true', 'false'];
  return [];
}

/** Markdown for a key: its description, the values allowed, the default. */
export function documentation(name: string, node: SchemaNode | undefined): string {
  const schemaNode = resolved(node);
  const lines = [`**${name}**`];
  if (schemaNode?.description) lines.push(schemaNode.description);
  const allowed = allowedText(schemaNode);
  if (allowed) lines.push(`Allowed: ${allowed}`);
  if (schemaNode?.default !== undefined) lines.push(`Default: \`${inlineValue(schemaNode.default)}\``);
  return lines.join('\n\n');
}

function allowedText(node: SchemaNode | undefined): string | undefined {
  if (node === undefined) return undefined;
  const kinds = kindChoices(node);
  if (kinds.length > 0) return `a mapping whose \`kind\` is one of ${kinds.map((k) => `\`${k.value}\``).join(', ')}`;
  if (node.enum) return `one of ${node.enum.map((v) => `\`${String(v)}\``).join(', ')}`;
  if (node.type === 'array' && node.items) {
    const items = resolved(node.items);
    return items?.enum
      ? `a list of ${items.enum.map((v) => `\`${String(v)}\``).join(', ')}`
      : `a list of ${items?.type ?? 'values'}s${boundsText(items)}`;
  }
  if (node.type === 'integer' || node.type === 'number') return `${node.type === 'integer' ? 'an integer' : 'a number'}${boundsText(node)}`;
  if (node.type === 'string') return 'text';
  if (node.type === 'boolean') return '`true` or `false`';
  return undefined;
}

function boundsText(node: SchemaNode | undefined): string {
  const bounds: string[] = [];
  if (node?.minimum !== undefined) bounds.push(`≥ ${node.minimum}`);
  if (node?.exclusiveMinimum !== undefined) bounds.push(`> ${node.exclusiveMinimum}`);
  if (node?.maximum !== undefined) bounds.push(`≤ ${node.maximum}`);
  if (node?.exclusiveMaximum !== undefined) bounds.push(`< ${node.exclusiveMaximum}`);
  return bounds.length > 0 ? ` ${bounds.join(' and ')}` : '';
}

/** A value as it would be written in a flow-style YAML line. */
export function inlineValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([key, item]) => `${key}: ${inlineValue(item)}`)
      .join(', ')} }`;
  }
  return String(value);
}
