// Reads a `*.nas.yaml` search file into a resolved SearchConfig, or into positioned problems that
// say which rule was broken and what is allowed. Never throws: the editor calls this on every keystroke.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import {
  LineCounter,
  Parser,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Alias,
  type CST,
  type Document,
  type YAMLError,
} from 'yaml';
import schema from '../../schemas/nas-search.schema.json';
import type { SearchConfig } from './config.ts';
import { compileSpace } from './graph.ts';

export interface Problem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  /** Short id of the broken rule, e.g. `enum`, `unknown-key`, `yaml-syntax`. */
  rule: string;
}

export interface ParseOptions {
  /** Folder that relative dataset paths start from; defaults to the folder of `file`. */
  baseDir?: string;
  /** Check that a dataset `path` exists (default true). */
  checkFiles?: boolean;
}

export interface ParseResult {
  /** Present only when there are no problems. */
  config?: SearchConfig;
  problems: Problem[];
}

// A search file is a few dozen lines; these limits keep hostile or accidental inputs fast to reject.
const MAX_TEXT_LENGTH = 64 * 1024;
const MAX_NESTING = 64;
const MAX_ALIAS_COUNT = 100;
// Past this many errors the user learns nothing new, and positioning each one costs time.
const MAX_REPORTED_ERRORS = 100;
// Training needs at least 10% of the examples.
const MAX_HELD_OUT = 0.9;

interface Span {
  start: number;
  end: number;
}

export function formatProblem(problem: Problem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.message}`;
}

export function loadSearchFile(path: string): ParseResult & { text: string } {
  let text: string;
  try {
    // Editors drop the byte-order mark too, so positions agree with what the user sees.
    text = readFileSync(path, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const message = missing
      ? `search file not found: ${resolve(path)} (rule: file-not-found)`
      : `cannot read the search file: ${errorText(error)} (rule: unreadable-file)`;
    return { problems: [problemAtStart(path, message, missing ? 'file-not-found' : 'unreadable-file')], text: '' };
  }
  return { ...parseSearchText(text, path), text };
}

export function parseSearchText(text: string, file: string, options: ParseOptions = {}): ParseResult {
  try {
    return parseGuarded(text, file, options);
  } catch (error) {
    return { problems: [crashProblem(file, error)] };
  }
}

function parseGuarded(text: string, file: string, options: ParseOptions): ParseResult {
  if (text.length > MAX_TEXT_LENGTH) {
    const message = `the file is too large to be a search file: ${text.length} characters, at most ${MAX_TEXT_LENGTH} allowed (rule: too-large)`;
    return { problems: [problemAtStart(file, message, 'too-large')] };
  }
  const lineCounter = new LineCounter();
  const at = (span: Span, message: string, rule: string) => problemAt(file, lineCounter, span, message, rule);

  // yaml composes nested collections recursively and can exhaust the stack; its parser is iterative.
  const nesting = nestingProblem(text, file);
  if (nesting !== undefined) return { problems: [nesting] };

  // 'error' stops yaml printing warnings itself; 'silent' would also drop its multiple-documents error.
  // 'error' stops yaml printing warnings itself; 'silent' would also drop its multiple-documents error.
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, logLevel: 'error' });
  const problems: Problem[] = [];
  // yaml often explains one mistake several ways at the same spot; the first explanation is enough.
  const explained = new Set<number>();
  for (const error of doc.errors.slice(0, MAX_REPORTED_ERRORS)) {
    if (explained.has(error.pos[0])) continue;
    explained.add(error.pos[0]);
    problems.push(yamlProblem(file, lineCounter, text, error, 'yaml-syntax'));
  }
  if (problems.length > 0) return { problems: sorted(problems) };
  for (const warning of doc.warnings) problems.push(yamlProblem(file, lineCounter, text, warning, 'yaml-warning'));

  const root = doc.contents;
  if (root === null) {
    return { problems: [problemAtStart(file, 'the file is empty; a search needs at least name, dataset, space and strategy (rule: empty-file)', 'empty-file')] };
  }
  if (!isMap(root)) {
    const got = isScalar(root) ? `a single value, ${describeValue(root.value)}` : isSeq(root) ? 'a list' : 'an alias';
    problems.push(at(spanOf(root) ?? { start: 0, end: 0 }, `the top level must be a mapping of keys (name, dataset, space, strategy, ...), got ${got} (rule: not-a-mapping)`, 'not-a-mapping'));
    return { problems: sorted(problems) };
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml reports alias trouble with a ReferenceError; anything else is not ours to explain.
    if (!(error instanceof ReferenceError)) throw error;
    const { first, unresolved } = aliasesOf(doc);
    if (unresolved !== undefined) {
      const message = `alias *${unresolved.source} has no anchor &${unresolved.source} before it (rule: unknown-alias)`;
      problems.push(at(spanOf(unresolved) ?? { start: 0, end: 0 }, message, 'unknown-alias'));
    } else {
      const message = `aliases expand to too much data (${errorText(error)}); use fewer aliases (rule: alias-limit)`;
      problems.push(at(spanOf(first) ?? { start: 0, end: 0 }, message, 'alias-limit'));
    }
    return { problems: sorted(problems) };
  }

  const validate = searchValidator();
  if (!validate(data)) {
    for (const error of (validate.errors ?? []).slice(0, MAX_REPORTED_ERRORS)) {
      const problem = schemaProblem(error, doc, at);
      if (problem !== undefined) problems.push(problem);
    }
    return { problems: deduplicated(sorted(problems)) };
  }

  const config = data as SearchConfig;
  const rewardEpochsWritten = locate(doc, ['evaluation', 'reward_epochs']).found;
  problems.push(
    ...semanticProblems(config, doc, at, {
      baseDir: options.baseDir ?? dirname(file),
      checkFiles: options.checkFiles ?? true,
      rewardEpochsWritten,
    }),
  );
  if (problems.length > 0) return { problems: sorted(problems) };
  // "The best of the last 5 epochs" of a shorter training means all of its epochs.
  const { evaluation } = config;
  if (evaluation.kind === 'train' && !rewardEpochsWritten) evaluation.reward_epochs = Math.min(evaluation.reward_epochs, evaluation.epochs);
  return { config, problems };
}

type Reporter = (span: Span, message: string, rule: string) => Problem;

interface SemanticContext {
  baseDir: string;
  checkFiles: boolean;
  rewardEpochsWritten: boolean;
}

// Rules JSON Schema cannot express: they relate two values, or the file system.
function semanticProblems(config: SearchConfig, doc: Document, at: Reporter, context: SemanticContext): Problem[] {
  const problems: Problem[] = [];
  const { dataset, evaluation, space, strategy } = config;

  if (strategy.kind === 'evolution') {
    if (strategy.sample_size > strategy.population_size) {
      const sampleSize = locate(doc, ['strategy', 'sample_size']);
      const where = sampleSize.found ? sampleSize : locate(doc, ['strategy', 'population_size']);
      const message = `strategy.sample_size: must be at most strategy.population_size (${strategy.population_size}), got ${strategy.sample_size}; a tournament draws distinct members of the population (rule: sample-size)`;
      problems.push(at(where.span, message, 'sample-size'));
    }
    const mutable = compileSpace(space).filter((d) => d.options.length > 1).length;
    if (strategy.mutated_decisions > mutable) {
      const message = `strategy.mutated_decisions: must be at most ${mutable}, the decisions of this space that have more than one option, got ${strategy.mutated_decisions} (rule: mutated-decisions)`;
      problems.push(at(locate(doc, ['strategy', 'mutated_decisions']).span, message, 'mutated-decisions'));
    }
  }

  if (space.kind === 'nasbench201' && evaluation.kind !== 'tabular') {
    const message = `space.kind: nasbench201 architectures are not trained here but looked up in the NAS-Bench-201 table; add evaluation: { kind: tabular } (rule: nasbench201-needs-tabular)`;
    problems.push(at(locate(doc, ['space', 'kind']).span, message, 'nasbench201-needs-tabular'));
  }
  if (evaluation.kind === 'tabular' && space.kind !== 'nasbench201') {
    const message = `evaluation.kind: tabular looks architectures up in the NAS-Bench-201 table, which holds only the nasbench201 space, got space kind ${space.kind}; use space: { kind: nasbench201 }, or evaluation kind train (rule: tabular-needs-nasbench201)`;
    problems.push(at(locate(doc, ['evaluation', 'kind']).span, message, 'tabular-needs-nasbench201'));
  }
  if (evaluation.kind === 'tabular' && dataset !== undefined) {
    const message = `dataset: not used by a tabular evaluation, whose table was measured on its own data sets; remove it and choose one with evaluation.dataset (cifar10, cifar100 or imagenet16) (rule: tabular-dataset)`;
    problems.push(at(locate(doc, ['dataset'], true).span, message, 'tabular-dataset'));
  }

  const heldOut = dataset ? dataset.validation_split + dataset.test_split : 0;
  // Tolerance so that 0.7 + 0.2 counts as 0.9 despite floating point.
  if (dataset && heldOut >= MAX_HELD_OUT - 1e-9) {
    const testSplit = locate(doc, ['dataset', 'test_split']);
    const where = testSplit.found ? testSplit : locate(doc, ['dataset', 'validation_split']);
    const sum = Number(heldOut.toFixed(6));
    const message = `dataset: validation_split + test_split must be below ${MAX_HELD_OUT} so that training keeps at least ${Math.round((1 - MAX_HELD_OUT) * 100)}% of the examples, got ${dataset.validation_split} + ${dataset.test_split} = ${sum} (rule: split-sum)`;
    problems.push(at(where.span, message, 'split-sum'));
  }

  if (evaluation.kind === 'train' && context.rewardEpochsWritten && evaluation.reward_epochs > evaluation.epochs) {
    const message = `evaluation.reward_epochs: must be at most evaluation.epochs (${evaluation.epochs}), got ${evaluation.reward_epochs}; the reward is the best validation accuracy of the last reward_epochs epochs (rule: reward-epochs)`;
    problems.push(at(locate(doc, ['evaluation', 'reward_epochs']).span, message, 'reward-epochs'));
  }

  if (context.checkFiles && dataset && 'path' in dataset) {
    const fullPath = resolve(context.baseDir, dataset.path);
    if (!existsSync(fullPath)) {
      const message = `dataset.path: not found: ${fullPath} (rule: file-not-found); relative paths start at the folder of the search file`;
      problems.push(at(locate(doc, ['dataset', 'path']).span, message, 'file-not-found'));
    }
  }
  return problems;
}

let compiledValidator: ValidateFunction | undefined;

function searchValidator(): ValidateFunction {
  // verbose: errors carry the offending value and the schema around it, which the messages quote.
  compiledValidator ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true }).compile(schema);
  return compiledValidator;
}

function schemaProblem(error: ErrorObject, doc: Document, at: Reporter): Problem | undefined {
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
      const shownKey = oneLine(key);
      const allowed = Object.keys(owner?.properties ?? {}).join(', ');
      return at(locate(doc, [...path, key], true).span, `${label}: unknown key "${shownKey}" (rule: unknown-key); allowed: ${allowed}`, 'unknown-key');
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
      const message = `${pathLabel(repeatPath)}: ${describeValue(items[repeat])} is already listed at ${label}[${first}] (rule: unique-items); each choice may appear once`;
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

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 40)}…` : flat;
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return JSON.stringify(oneLine(value));
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
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

/**
 * The source span of the node at `path`, or of the deepest ancestor present in the file when the value
 * came from a default. An empty value (`layers:`) is pointed at by its key, which the user can see.
 */
function locate(doc: Document, path: readonly string[], atKey = false): { span: Span; found: boolean } {
  let node: unknown = doc.contents;
  let span = spanOf(node) ?? { start: 0, end: 0 };
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    let keySpan: Span | undefined;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
      if (pair === undefined) return { span, found: false };
      keySpan = spanOf(pair.key);
      next = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(segment) && Number(segment) < node.items.length) {
      next = node.items[Number(segment)];
    } else {
      return { span, found: false };
    }
    const nextSpan = spanOf(next);
    const pointAtKey = (atKey && index === path.length - 1) || nextSpan === undefined || nextSpan.end === nextSpan.start;
    span = (pointAtKey ? keySpan : nextSpan) ?? nextSpan ?? span;
    node = next;
  }
  return { span, found: true };
}

function spanOf(node: unknown): Span | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? { start: range[0], end: range[1] } : undefined;
}

/** The first alias in the file, and the first one whose anchor is not defined before it. */
function aliasesOf(doc: Document): { first?: Alias; unresolved?: Alias } {
  const anchors = new Set<string>();
  let first: Alias | undefined;
  let unresolved: Alias | undefined;
  visit(doc, {
    Node(_key, node) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.add(node.anchor);
        return undefined;
      }
      first ??= node;
      if (anchors.has(node.source)) return undefined;
      unresolved = node;
      return visit.BREAK;
    },
  });
  return { first, unresolved };
}

function nestingProblem(text: string, file: string): Problem | undefined {
  const lineCounter = new LineCounter();
  const pending: Array<{ token: CST.Token; depth: number }> = [];
  for (const token of new Parser(lineCounter.addNewLine).parse(text)) pending.push({ token, depth: 0 });
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!;
    if (token.type === 'document') {
      if (token.value) pending.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth >= MAX_NESTING) {
        const span = { start: token.offset, end: token.offset + 1 };
        return problemAt(file, lineCounter, span, `collections are nested more than ${MAX_NESTING} levels deep (rule: too-deep)`, 'too-deep');
      }
      for (const item of token.items) {
        if (item.key) pending.push({ token: item.key, depth: depth + 1 });
        if (item.value) pending.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

function yamlProblem(file: string, lineCounter: LineCounter, text: string, error: YAMLError, rule: string): Problem {
  const start = Math.max(0, error.pos[0]);
  const span = { start, end: Math.max(start, error.pos[1]) };
  // prettyErrors appends the position and a source excerpt; the problem carries the position already.
  const detail = error.message.replace(/ at line \d+, column \d+[\s\S]*$/, '');
  if (error.code === 'DUPLICATE_KEY') {
    const key = (/^[^:,\n}]*/.exec(text.slice(start, start + 80))?.[0] ?? '').trim();
    const keyEnd = start + Math.max(1, key.length);
    const quoted = /^["']/.test(key) ? key : `"${key}"`;
    return problemAt(file, lineCounter, { start, end: keyEnd }, `duplicate key ${quoted}; each key may appear once in a mapping (rule: duplicate-key)`, 'duplicate-key');
  }
  if (error.code === 'MULTIPLE_DOCS') {
    return problemAt(file, lineCounter, span, `a search file holds one YAML document; remove the "---" separator and what follows it (rule: ${rule})`, rule);
  }
  return problemAt(file, lineCounter, span, `${detail} (rule: ${rule})`, rule);
}

function problemAt(file: string, lineCounter: LineCounter, span: Span, message: string, rule: string): Problem {
  const start = lineCounter.linePos(span.start);
  // A problem about a whole block (a mapping missing a key) underlines only its first line.
  const nextLineStart = lineCounter.lineStarts[start.line] ?? Infinity;
  const end = lineCounter.linePos(Math.max(span.start, Math.min(span.end, nextLineStart - 1)));
  return { file, line: start.line, column: start.col, endLine: end.line, endColumn: end.col, message, rule };
}

function problemAtStart(file: string, message: string, rule: string): Problem {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, message, rule };
}

function crashProblem(file: string, error: unknown): Problem {
  if (error instanceof RangeError) {
    return problemAtStart(file, `the file is nested too deeply to process (${error.message}) (rule: too-deep)`, 'too-deep');
  }
  return problemAtStart(file, `the file could not be processed: ${errorText(error)} (rule: unprocessable)`, 'unprocessable');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sorted(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

// allErrors makes ajv repeat itself, e.g. once per schema branch that checks the same value.
function deduplicated(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.line}:${problem.column}:${problem.rule}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
