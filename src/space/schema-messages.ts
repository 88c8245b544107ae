// JSON Schema validation of a search file, and the wording of what ajv reports: which key, what was
// found, what the schema allows.

import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Document } from 'yaml';
import schema from '../../schemas/nas-search.schema.json';
import { codePoint, describeValue, locate, quoted, type Problem, type Reporter } from './problem.ts';

let compiledValidator: ValidateFunction | undefined;

export function searchValidator(): ValidateFunction {
  // verbose: errors carry the offending value and the schema around it, which the messages quote.
  compiledValidator ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true }).compile(schema);
  return compiledValidator;
}

let compiledRecipeValidator: ValidateFunction | undefined;

/** The schema's evaluation.retrain alone: what a final recipe written on the command line (`retrain --recipe`) is checked against. */
export function retrainRecipeValidator(): ValidateFunction {
  compiledRecipeValidator ??= new Ajv({ allErrors: true, verbose: true }).compile(schema.definitions.trainEvaluation.properties.retrain);
  return compiledRecipeValidator;
}

export function schemaProblem(error: ErrorObject, doc: Document, at: Reporter): Problem | undefined {
  const path = pointerSegments(error.instancePath);
  const label = pathLabel(path);
  const owner = error.parentSchema as JsonSchema | undefined;
  const here = () => locate(doc, path).span;
  switch (error.keyword) {
    case 'if':
      // Only says that the kind's own schema failed; that schema's errors say how.
      return undefined;
    case 'required':
      return at(here(), `${label}: missing required key "${error.params.missingProperty}" (rule: required)`, 'required');
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const allowed = Object.keys(owner?.properties ?? {}).join(', ');
      // A lookalike (a fullwidth colon, a zero-width space, a no-break space) is the usual reason a key looks right.
      const foreign = /[^\x20-\x7E]/u.exec(key)?.[0];
      const hint = foreign === undefined ? '' : `, which contains the non-ASCII character ${codePoint(foreign)}`;
      return at(
        locate(doc, [...path, key], true).span,
        `${label}: unknown key ${quoted(key)}${hint} (rule: unknown-key); allowed: ${allowed}`,
        'unknown-key',
      );
    }
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).join(', ');
      return at(here(), `${label}: unknown value ${describeValue(error.data)} (rule: enum); allowed: ${allowed}`, 'enum');
    }
    case 'type':
      return at(here(), `${label}: must be ${expectation(owner)}, got ${describeValue(error.data)} (rule: type)`, 'type');
    case 'minimum':
    case 'exclusiveMinimum':
      return at(here(), `${label}: must be ${expectation(owner)}, got ${describeValue(error.data)} (rule: minimum)`, 'minimum');
    case 'maximum':
    case 'exclusiveMaximum':
      return at(here(), `${label}: must be ${expectation(owner)}, got ${describeValue(error.data)} (rule: maximum)`, 'maximum');
    case 'minItems':
    case 'maxItems': {
      const rule = error.keyword === 'minItems' ? 'min-items' : 'max-items';
      const count = Array.isArray(error.data) ? error.data.length : 0;
      const got = count === 0 ? 'an empty list' : `${count}`;
      return at(here(), `${label}: must list ${itemCountExpectation(owner)}, got ${got} (rule: ${rule})`, rule);
    }
    case 'minLength':
      return at(here(), `${label}: must not be empty (rule: min-length)`, 'min-length');
    case 'uniqueItems': {
      const first = Math.min(error.params.i, error.params.j);
      const repeat = Math.max(error.params.i, error.params.j);
      const items = error.data as unknown[];
      const repeatPath = [...path, String(repeat)];
      const message =
        `${pathLabel(repeatPath)}: ${describeValue(items[repeat])} is already listed at ${label}[${first}] ` +
        `(rule: unique-items); each choice may appear once`;
      return at(locate(doc, repeatPath).span, message, 'unique-items');
    }
    default:
      return at(here(), `${label}: ${error.message ?? 'is not allowed'} (rule: ${error.keyword})`, error.keyword);
  }
}

type JsonSchema = {
  type?: string;
  enum?: unknown[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  minItems?: number;
  maxItems?: number;
};

function expectation(schema: JsonSchema | undefined): string {
  switch (schema?.type) {
    case 'integer':
      return `an integer${rangeText(schema)}`;
    case 'number':
      return `a number${rangeText(schema)}`;
    case 'string':
      return schema.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping';
    case 'array':
      return schema.items ? `a list of ${itemsText(schema.items)}` : 'a list';
    default:
      return schema?.enum ? `one of ${schema.enum.join(', ')}` : 'a valid value';
  }
}

function itemsText(items: JsonSchema): string {
  if (items.type === 'integer') return `integers${rangeText(items)}`;
  if (items.type === 'number') return `numbers${rangeText(items)}`;
  if (items.enum) return `values among ${items.enum.join(', ')}`;
  return 'values';
}

function rangeText(schema: JsonSchema): string {
  if (schema.minimum !== undefined && schema.maximum !== undefined) return ` from ${schema.minimum} to ${schema.maximum}`;
  const bounds: string[] = [];
  if (schema.minimum !== undefined) bounds.push(`≥ ${schema.minimum}`);
  if (schema.exclusiveMinimum !== undefined) bounds.push(`> ${schema.exclusiveMinimum}`);
  if (schema.maximum !== undefined) bounds.push(`≤ ${schema.maximum}`);
  if (schema.exclusiveMaximum !== undefined) bounds.push(`< ${schema.exclusiveMaximum}`);
  return bounds.length > 0 ? ` ${bounds.join(' and ')}` : '';
}

function itemCountExpectation(schema: JsonSchema | undefined): string {
  const min = schema?.minItems;
  const max = schema?.maxItems;
  if (min !== undefined && min === max) return `exactly ${min} values`;
  if (min !== undefined) return `at least ${min} ${min === 1 ? 'value' : 'values'}`;
  return `at most ${max} values`;
}

function pointerSegments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pathLabel(path: readonly string[]): string {
  if (path.length === 0) return 'top level';
  return path.reduce((label, segment) => {
    if (/^\d+$/.test(segment)) return `${label}[${segment}]`;
    return label === '' ? segment : `${label}.${segment}`;
  }, '');
}
