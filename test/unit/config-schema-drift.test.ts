// The TypeScript config types mirror schemas/nas-search.schema.json, the one source of the file format:
// this reads both (the types through the TypeScript compiler) and fails on any kind, key, required or
// optional status, or enum that differs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import schemaJson from '../../schemas/nas-search.schema.json';
import { DATASET_KINDS } from '../../src/space/kinds/datasets/registry.ts';
import { EVALUATION_KINDS } from '../../src/space/kinds/evaluations/registry.ts';
import { kindDescription } from '../../src/space/kinds/rule-context.ts';
import { SCHEDULER_KINDS } from '../../src/space/kinds/schedulers/registry.ts';
import { SPACE_KINDS } from '../../src/space/kinds/spaces/registry.ts';
import { STRATEGY_KINDS } from '../../src/space/kinds/strategies/registry.ts';

interface SchemaNode {
  $ref?: string;
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  required?: string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  allOf?: Array<{ if: SchemaNode; then: SchemaNode }>;
  if?: SchemaNode;
  then?: SchemaNode;
  else?: SchemaNode;
}

const schema = schemaJson as unknown as SchemaNode & { definitions: Record<string, SchemaNode> };
const FAMILIES = ['dataset', 'space', 'strategy', 'evaluation', 'scheduler'] as const;

function resolved(node: SchemaNode): SchemaNode {
  return node.$ref === undefined ? node : schema.definitions[node.$ref.replace('#/definitions/', '')];
}

function selectedKinds(condition: SchemaNode): string[] {
  const kind = condition.properties!.kind;
  return (kind.const !== undefined ? [kind.const] : kind.enum!).map(String);
}

/** The schema of each kind of a family: its branch merged with the family's shared keys. */
function schemaKinds(family: SchemaNode): Map<string, SchemaNode[]> {
  const kinds = new Map<string, SchemaNode[]>();
  for (const entry of family.allOf ?? []) for (const kind of selectedKinds(entry.if)) kinds.set(kind, [family, resolved(entry.then)]);
  // An `else` may dispatch again; the last one takes every kind no `if` selected.
  const taken: string[] = [];
  for (let level: SchemaNode | undefined = family; level?.if !== undefined; level = level.else) {
    const selected = selectedKinds(level.if);
    for (const kind of selected) kinds.set(kind, [family, resolved(level.then!)]);
    taken.push(...selected);
    if (level.else !== undefined && level.else.if === undefined)
      for (const kind of family.properties!.kind.enum!.map(String))
        if (!taken.includes(kind)) kinds.set(kind, [family, resolved(level.else)]);
  }
  return kinds;
}

interface KeyShape {
  optional: boolean;
  enum?: string[];
  nested?: Map<string, KeyShape>;
}

/** Keys as the resolved config holds them: a key is optional when it is neither required nor given a default. */
function schemaShape(nodes: SchemaNode[]): Map<string, KeyShape> {
  const shape = new Map<string, KeyShape>();
  const required = new Set(nodes.flatMap((node) => node.required ?? []));
  const keys = new Set(nodes.flatMap((node) => Object.keys(node.properties ?? {})));
  for (const key of keys) {
    const variants = nodes
      .map((node) => node.properties?.[key])
      .filter((node) => node !== undefined)
      .map(resolved);
    const value = variants[variants.length - 1];
    const optional = !required.has(key) && variants.every((variant) => variant.default === undefined);
    const values = value.enum ?? value.items?.enum ?? (value.const !== undefined ? [value.const] : undefined);
    const nested = value.properties !== undefined && key !== 'kind' ? schemaShape([value]) : undefined;
    shape.set(key, { optional, enum: key === 'kind' ? undefined : values?.map(String).sort(), nested });
  }
  return shape;
}

const program = (() => {
  const configFile = ts.readConfigFile(join(__dirname, '..', '..', 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, join(__dirname, '..', '..'));
  return ts.createProgram([join(__dirname, '..', '..', 'src', 'space', 'config.ts')], options);
})();
const checker = program.getTypeChecker();

function searchConfigType(): ts.Type {
  const source = program.getSourceFile(join(__dirname, '..', '..', 'src', 'space', 'config.ts'))!;
  const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).find((exported) => exported.name === 'SearchConfig')!;
  return checker.getDeclaredTypeOfSymbol(symbol);
}

function stringLiterals(type: ts.Type): string[] | undefined {
  const members = (type.isUnion() ? type.types : [type]).filter((member) => !(member.flags & ts.TypeFlags.Undefined));
  if (members.length === 0 || !members.every((member) => member.isStringLiteral())) return undefined;
  return members.map((member) => (member as ts.StringLiteralType).value).sort();
}

function typeShape(type: ts.Type): Map<string, KeyShape> {
  const shape = new Map<string, KeyShape>();
  for (const property of checker.getPropertiesOfType(type)) {
    const propertyType = checker.getNonNullableType(checker.getTypeOfSymbol(property));
    // `key?: never` says the key cannot be there.
    if (propertyType.flags & ts.TypeFlags.Never) continue;
    const element = checker.isArrayType(propertyType) ? checker.getTypeArguments(propertyType as ts.TypeReference)[0] : propertyType;
    const isObject =
      !checker.isArrayType(propertyType) &&
      !checker.isTupleType(propertyType) &&
      (propertyType.flags & (ts.TypeFlags.Object | ts.TypeFlags.Intersection)) !== 0;
    shape.set(property.name, {
      optional: (property.flags & ts.SymbolFlags.Optional) !== 0,
      enum: property.name === 'kind' ? undefined : stringLiterals(element),
      nested: isObject && property.name !== 'kind' ? typeShape(propertyType) : undefined,
    });
  }
  return shape;
}

function familyMembers(family: string): Map<string, ts.Type> {
  const property = searchConfigType().getProperty(family)!;
  const type = checker.getNonNullableType(checker.getTypeOfSymbol(property));
  const members = new Map<string, ts.Type>();
  for (const member of type.isUnion() ? type.types : [type])
    members.set(stringLiterals(checker.getTypeOfSymbol(member.getProperty('kind')!))![0], member);
  return members;
}

/** Differences between two shapes, as readable lines. */
function differences(where: string, fromSchema: Map<string, KeyShape>, fromTypes: Map<string, KeyShape>): string[] {
  const found: string[] = [];
  for (const key of new Set([...fromSchema.keys(), ...fromTypes.keys()])) {
    const inSchema = fromSchema.get(key);
    const inTypes = fromTypes.get(key);
    const path = `${where}.${key}`;
    if (inSchema === undefined || inTypes === undefined) {
      found.push(`${path}: ${inSchema === undefined ? 'only in the types' : 'only in the schema'}`);
      continue;
    }
    if (inSchema.optional !== inTypes.optional)
      found.push(
        `${path}: ${inSchema.optional ? 'optional' : 'required'} in the schema, ${inTypes.optional ? 'optional' : 'required'} in the types`,
      );
    if (inSchema.enum !== undefined && JSON.stringify(inSchema.enum) !== JSON.stringify(inTypes.enum)) {
      found.push(`${path}: values ${inSchema.enum.join(', ')} in the schema, ${inTypes.enum?.join(', ') ?? 'not an enum'} in the types`);
    }
    if (inSchema.nested !== undefined && inTypes.nested !== undefined) found.push(...differences(path, inSchema.nested, inTypes.nested));
    else if (inSchema.nested !== undefined) found.push(`${path}: a mapping in the schema, not in the types`);
  }
  return found;
}

test('every kind of every family has the same keys, required keys and enums in the schema and in the config types', () => {
  const found: string[] = [];
  for (const family of FAMILIES) {
    const schemaFamily = schemaKinds(resolved(schema.properties![family]));
    const typeFamily = familyMembers(family);
    assert.deepEqual([...typeFamily.keys()].sort(), [...schemaFamily.keys()].sort(), `${family}: the kinds differ`);
    for (const [kind, nodes] of schemaFamily)
      found.push(...differences(`${family}(${kind})`, schemaShape(nodes), typeShape(typeFamily.get(kind)!)));
  }
  assert.deepEqual(found, []);
});

test('the top-level keys and the shared settings (budget, runtime) match the schema', () => {
  const topSchema = schemaShape([schema]);
  const topTypes = typeShape(searchConfigType());
  // The families are compared kind by kind above.
  for (const family of FAMILIES) {
    topSchema.get(family)!.nested = undefined;
    topTypes.get(family)!.nested = undefined;
  }
  assert.deepEqual(differences('search', topSchema, topTypes), []);
});

test('each family has one kind module per kind, whose description is the schema one', () => {
  const registries = {
    dataset: DATASET_KINDS,
    space: SPACE_KINDS,
    strategy: STRATEGY_KINDS,
    evaluation: EVALUATION_KINDS,
    scheduler: SCHEDULER_KINDS,
  };
  for (const family of FAMILIES) {
    const modules = Object.values(registries[family]);
    assert.deepEqual(
      modules.map((module) => module.kind).sort(),
      [...schemaKinds(resolved(schema.properties![family])).keys()].sort(),
      family,
    );
    for (const module of modules) {
      assert.ok(module.description, `${family} ${module.kind} has a description in the schema`);
      assert.equal(module.description, kindDescription(family, module.kind));
    }
  }
});
