// Reads a `*.nas.yaml` search file into a resolved SearchConfig, or into positioned problems that
// say which rule was broken and what is allowed. Never throws: the editor calls this on every keystroke.

import { closeSync, openSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import {
  CST,
  Composer,
  Lexer,
  LineCounter,
  Parser,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import schema from '../../schemas/nas-search.schema.json';
import { weightSharingTrials, type DatasetConfig, type MemoryBufferConfig, type SearchConfig } from './config.ts';
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
// A search file holds a few dozen values. yaml's parser takes about a microsecond a character, and
// ajv's uniqueItems compares untyped list items pairwise: this bounds both.
const MAX_VALUES = 1000;
const MAX_ALIAS_COUNT = 100;
// Values the document holds once every alias is replaced by what it names ("billion laughs" guard).
const MAX_EXPANDED_VALUES = 10_000;
// Past this many errors the user learns nothing new, and positioning each one costs time.
const MAX_REPORTED_ERRORS = 100;
// Training needs at least 10% of the examples.
const MAX_HELD_OUT = 0.9;
// Enough for the first rows of a CSV of large images; longer first lines are left to the loader.
const CSV_HEADER_BYTES = 256 * 1024;

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
    const message = `the file is too large to be a search file: ${text.length} characters (rule: too-large); allowed: at most ${MAX_TEXT_LENGTH}`;
    return { problems: [problemAtStart(file, message, 'too-large')] };
  }
  const lineCounter = new LineCounter();
  const at = (span: Span, message: string, rule: string) => problemAt(file, lineCounter, span, message, rule);

  const character = characterProblem(text, file);
  if (character !== undefined) return { problems: [character] };
  const parsed = withoutStackTraces(() => parseTokens(text, lineCounter, at));
  if ('problem' in parsed) return { problems: [parsed.problem] };
  const { tokens } = parsed;

  const { doc, secondDocument } = withoutStackTraces(() => composeFirstDocument(tokens, text.length));
  const problems: Problem[] = [];
  // yaml often explains one mistake several ways at the same spot; the first explanation is enough.
  const explained = new Set<number>();
  for (const error of doc.errors.slice(0, MAX_REPORTED_ERRORS)) {
    if (explained.has(error.pos[0])) continue;
    explained.add(error.pos[0]);
    problems.push(yamlProblem(error, at, text, doc));
  }
  if (secondDocument !== undefined) {
    const message = 'a search file holds one YAML document; remove the "---" separator and what follows it (rule: yaml-syntax)';
    problems.push(at({ start: secondDocument, end: secondDocument + 3 }, message, 'yaml-syntax'));
  }
  // A key yaml already complained about needs no second explanation.
  const taken = new Set(problems.map((problem) => `${problem.line}:${problem.column}`));
  problems.push(...keyProblems(doc, at, lineCounter).filter((problem) => !taken.has(`${problem.line}:${problem.column}`)));
  if (problems.length > 0) return { problems: sorted(problems) };
  for (const warning of doc.warnings) problems.push(yamlProblem(warning, at, text, doc, 'yaml-warning'));

  const root = doc.contents;
  if (root === null) {
    return { problems: [problemAtStart(file, 'the file is empty; a search needs at least name, dataset, space and strategy (rule: empty-file)', 'empty-file')] };
  }
  if (!isMap(root)) {
    const got = isScalar(root) ? `a single value, ${describeValue(root.value)}` : isSeq(root) ? 'a list' : 'an alias';
    problems.push(at(spanOf(root) ?? { start: 0, end: 0 }, `the top level must be a mapping of keys (name, dataset, space, strategy, ...), got ${got} (rule: not-a-mapping)`, 'not-a-mapping'));
    return { problems: sorted(problems) };
  }
  const alias = aliasProblem(doc, at);
  if (alias !== undefined) return { problems: sorted([...problems, alias]) };

  // aliasProblem bounded what the aliases expand to, which is yaml's own reason for a limit.
  const data: unknown = doc.toJS({ maxAliasCount: -1 });
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
  if (config.strategy.kind === 'enas' || config.strategy.kind === 'random-ws') config.budget.trials = weightSharingTrials(config.strategy);
  if (config.strategy.kind === 'darts') config.budget.trials = config.strategy.epochs + config.strategy.retrain;
  return { config, problems };
}

// yaml makes an Error for every syntax error; capturing their stack traces is most of the time a
// badly broken file takes. Nothing else runs meanwhile, so the global setting is restored before anyone sees it.
function withoutStackTraces<T>(run: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return run();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The first document, with yaml's own duplicate-key check off (it is quadratic; keyProblems is not). */
function composeFirstDocument(tokens: CST.Token[], length: number): { doc: Document.Parsed; secondDocument?: number } {
  let doc: Document.Parsed | undefined;
  for (const composed of new Composer({ uniqueKeys: false }).compose(tokens, true, length)) {
    if (doc !== undefined) return { doc, secondDocument: composed.range[0] };
    doc = composed;
  }
  // compose(tokens, true) yields at least one document, even for an empty file.
  return { doc: doc! };
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
  const { dataset, evaluation, space, strategy, budget } = config;

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

  // The controller learns once per batch_size evaluated trials: a smaller budget never trains it.
  if (strategy.kind === 'reinforce' && strategy.controller.batch_size > budget.trials) {
    const message = `strategy.controller.batch_size: the controller updates once every batch_size trials, so a budget of ${budget.trials} trials (budget.trials) never updates it with batch_size ${strategy.controller.batch_size} (rule: budget-batch); allowed: 1 to ${budget.trials}, or more budget.trials`;
    problems.push(at(locate(doc, ['strategy', 'controller', 'batch_size']).span, message, 'budget-batch'));
  }

  // Shared weights are trained here, on images: a looked-up table has neither.
  const oneShot = strategy.kind === 'darts' || strategy.kind === 'enas' || strategy.kind === 'random-ws';
  if (oneShot && evaluation.kind !== 'train') {
    const message = `evaluation.kind: strategy ${strategy.kind} trains shared weights on a data set and retrains its best architecture from scratch, so it needs evaluation kind train, got ${evaluation.kind} (rule: oneshot-evaluation); allowed: train`;
    problems.push(at(locate(doc, ['evaluation', 'kind']).span, message, 'oneshot-evaluation'));
  }

  if (strategy.kind === 'darts') problems.push(...dartsProblems(config, doc, at));

  if (strategy.kind === 'enas' || strategy.kind === 'random-ws') problems.push(...weightSharingProblems(config, doc, at));

  if (strategy.kind === 'reinforce' && strategy.controller.memory_buffer) problems.push(...memoryBufferProblems(strategy.controller.memory_buffer, doc, at));

  if (context.checkFiles && dataset && 'path' in dataset) problems.push(...datasetPathProblems(dataset, doc, at, context.baseDir));
  return problems;
}

// DARTS relaxes the cell space's choices, and its trials are its search epochs and retrained cells.
function dartsProblems(config: SearchConfig, doc: Document, at: Reporter): Problem[] {
  const { strategy, space, budget } = config;
  if (strategy.kind !== 'darts') return [];
  if (space.kind !== 'cell') {
    const message = `space.kind: strategy darts searches a cell space, got ${space.kind} (rule: darts-space); allowed: cell`;
    return [at(locate(doc, ['space', 'kind']).span, message, 'darts-space')];
  }
  const trials = strategy.epochs + strategy.retrain;
  const written = locate(doc, ['budget', 'trials']);
  if (written.found && budget.trials !== trials) {
    const message = `budget.trials: a darts search makes one trial per search epoch and one per retrained cell, strategy.epochs + strategy.retrain = ${trials}, got ${budget.trials} (rule: darts-budget); allowed: ${trials}, or leave budget.trials out`;
    return [at(written.span, message, 'darts-budget')];
  }
  return [];
}

// An enas or random-ws search makes a known number of trials; ENAS's controller must get to learn.
function weightSharingProblems(config: SearchConfig, doc: Document, at: Reporter): Problem[] {
  const { strategy, budget } = config;
  if (strategy.kind !== 'enas' && strategy.kind !== 'random-ws') return [];
  const problems: Problem[] = [];
  const trials = weightSharingTrials(strategy);
  const written = locate(doc, ['budget', 'trials']);
  if (written.found && budget.trials !== trials) {
    const message = `budget.trials: a ${strategy.kind} search makes one trial per scored child and one for the retrained architecture, strategy.epochs × strategy.children_per_epoch + strategy.final_samples + 1 = ${trials}, got ${budget.trials} (rule: oneshot-budget); allowed: ${trials}, or leave budget.trials out`;
    problems.push(at(written.span, message, 'oneshot-budget'));
  }
  const scored = strategy.epochs * strategy.children_per_epoch;
  if (strategy.kind === 'enas' && strategy.controller.batch_size > scored) {
    const message = `strategy.controller.batch_size: the controller updates once every batch_size scored children, and this search scores ${scored} (strategy.epochs × strategy.children_per_epoch), so it would never update with batch_size ${strategy.controller.batch_size} (rule: budget-batch); allowed: 1 to ${scored}, or more epochs or children_per_epoch`;
    problems.push(at(locate(doc, ['strategy', 'controller', 'batch_size']).span, message, 'budget-batch'));
  }
  return problems;
}

/** The buffer's counts relate to its size, and its loss needs the buffer to have started filling. */
function memoryBufferProblems(buffer: MemoryBufferConfig, doc: Document, at: Reporter): Problem[] {
  const problems: Problem[] = [];
  const path = ['strategy', 'controller', 'memory_buffer'];
  const report = (key: string, message: string, rule: string) => {
    const written = locate(doc, [...path, key]);
    problems.push(at((written.found ? written : locate(doc, path)).span, `${path.join('.')}.${key}: ${message} (rule: ${rule})`, rule));
  };
  for (const key of ['add_per_step', 'replace', 'batch_size'] as const) {
    if (buffer[key] > buffer.size) report(key, `must be at most memory_buffer.size (${buffer.size}), got ${buffer[key]}; the buffer never holds more than size architectures`, `buffer-${key.replace(/_/g, '-')}`);
  }
  if (buffer.loss_start_step < buffer.start_step) {
    report('loss_start_step', `must be at least memory_buffer.start_step (${buffer.start_step}), got ${buffer.loss_start_step}; the supervised loss is taken on buffer architectures, and the buffer starts filling at start_step`, 'buffer-loss-start');
  }
  return problems;
}

function datasetPathProblems(dataset: Extract<DatasetConfig, { path: string }>, doc: Document, at: Reporter, baseDir: string): Problem[] {
  const fullPath = resolve(baseDir, dataset.path);
  const pathSpan = locate(doc, ['dataset', 'path']).span;
  let stats: Stats;
  try {
    stats = statSync(fullPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `cannot be opened (${code})`;
    const message = `dataset.path: ${reason}: ${fullPath} (rule: file-not-found); relative paths start at the folder of the search file`;
    return [at(pathSpan, message, 'file-not-found')];
  }
  // The loaders' own requirements: cifar10 takes a batch file or a folder of them.
  if (dataset.kind === 'mnist' && !stats.isDirectory()) {
    const message = `dataset.path: ${fullPath} is a file (rule: path-kind); allowed: the folder that holds train-images-idx3-ubyte and train-labels-idx1-ubyte`;
    return [at(pathSpan, message, 'path-kind')];
  }
  if (dataset.kind === 'csv' && !stats.isFile()) {
    const message = `dataset.path: ${fullPath} is a folder (rule: path-kind); allowed: a CSV file, one image per row`;
    return [at(pathSpan, message, 'path-kind')];
  }
  if (dataset.kind !== 'csv') return [];
  const row = firstCsvRow(fullPath);
  const [height, width, channels] = dataset.image_shape;
  const expected = height * width * channels + 1;
  if (row === undefined || row.values === expected) return [];
  const pixels = row.values - 1;
  const allowed = pixels > 0 ? `an image_shape whose height × width × channels is ${pixels}` : 'rows of pixel values followed by the label';
  const message = `dataset.image_shape: [${height}, ${width}, ${channels}] needs ${expected} values per row (${expected - 1} pixels, then the label), but line ${row.line} of ${dataset.path} holds ${row.values} (rule: csv-columns); allowed: ${allowed}`;
  return [at(locate(doc, ['dataset', 'image_shape']).span, message, 'csv-columns')];
}

/**
 * The number of values on the first data row of a CSV file, read the way the loader reads it: blank lines
 * skipped, a first line that is not all numbers taken for a header. Undefined when the file is gzip, cannot
 * be read, holds no row, or its first row does not fit in the bytes read: the loader then has the last word.
 */
function firstCsvRow(path: string): { line: number; values: number } | undefined {
  const bytes = Buffer.alloc(CSV_HEADER_BYTES);
  let length: number;
  try {
    const descriptor = openSync(path, 'r');
    try {
      length = readSync(descriptor, bytes, 0, bytes.length, 0);
    } finally {
      closeSync(descriptor);
    }
  } catch {
    return undefined;
  }
  if (length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return undefined;
  const lines = bytes.toString('utf8', 0, length).split('\n');
  // The last piece may be cut short, unless the whole file was read.
  if (length === bytes.length) lines.pop();
  const isNumeric = (field: string) => field.trim() !== '' && Number.isFinite(Number(field));
  let firstLineSeen = false;
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const fields = line.split(',');
    const isHeader = !firstLineSeen && !fields.every(isNumeric);
    firstLineSeen = true;
    if (isHeader) continue;
    return { line: index + 1, values: fields.length };
  }
  return undefined;
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
      const allowed = Object.keys(owner?.properties ?? {}).join(', ');
      // A lookalike (a fullwidth colon, a zero-width space, a no-break space) is the usual reason a key looks right.
      const foreign = /[^\x20-\x7E]/u.exec(key)?.[0];
      const hint = foreign === undefined ? '' : `, which contains the non-ASCII character ${codePoint(foreign)}`;
      return at(locate(doc, [...path, key], true).span, `${label}: unknown key ${quoted(key)}${hint} (rule: unknown-key); allowed: ${allowed}`, 'unknown-key');
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

/** The text in double quotes, with characters that do not show (controls, format characters, odd spaces) escaped. */
function quoted(text: string): string {
  return JSON.stringify(oneLine(text)).replace(/(?! )[\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/gu, (character) => `\\u${hex(character)}`);
}

function codePoint(character: string): string {
  return `U+${hex(character)}`;
}

function hex(character: string): string {
  return character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return quoted(value);
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

// YAML allows only printable characters (YAML 1.2, section 5.1), and U+FFFD is what invalid UTF-8 decodes to.
// Bidirectional overrides make text display in another order than it reads ("Trojan Source"), and a
// Unicode space at the start of a line looks like indentation but is part of the key that follows.
const SUSPICIOUS_CHARACTER =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  /[\0-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFD\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|^[ \t]*[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/m;

function characterProblem(text: string, file: string): Problem | undefined {
  const match = SUSPICIOUS_CHARACTER.exec(text);
  if (match === null) return undefined;
  // Runs before the parser has counted lines: count them here, for the rare file that has such a character.
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', newline + 1)) lineCounter.addNewLine(newline + 1);
  const at = (span: Span, message: string, rule: string) => problemAt(file, lineCounter, span, message, rule);
  const offset = match.index + match[0].length - 1;
  const span = { start: offset, end: offset + 1 };
  const character = text[offset];
  const code = codePoint(character);
  if (character === '\uFFFD') {
    return at(span, `bytes that are not valid UTF-8 (shown as U+FFFD); is this a binary file or another encoding? (rule: invalid-encoding); allowed: text saved as UTF-8`, 'invalid-encoding');
  }
  if (/[\u202A-\u202E\u2066-\u2069]/.test(character)) {
    return at(span, `the bidirectional control character ${code} makes the text display in another order than it reads (rule: bidi-control); allowed: text without bidirectional overrides, embeddings or isolates`, 'bidi-control');
  }
  if (match[0].length > 1 || /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/.test(character)) {
    return at(span, `the Unicode space ${code} at the start of a line is not indentation to YAML (rule: unicode-space); allowed: plain spaces (U+0020) for indentation`, 'unicode-space');
  }
  const kind = /[\uD800-\uDFFF]/.test(character) ? 'an unpaired UTF-16 surrogate' : 'a control character';
  return at(span, `${code} is ${kind}, which cannot appear in a YAML file; is this a binary file? (rule: non-printable); allowed: printable characters, tabs and line breaks`, 'non-printable');
}

/**
 * yaml's concrete syntax tree, built lexeme by lexeme so that a structure past the limits stops the parse
 * at once: yaml's parser takes about a microsecond a character, and the composer recurses into collections.
 */
function parseTokens(text: string, lineCounter: LineCounter, at: Reporter): { tokens: CST.Token[] } | { problem: Problem } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let aliases = 0;
  let values = 0;
  let strayErrors = 0;
  let scalarText = false;
  for (const lexeme of new Lexer().lex(text)) {
    // Only the first MAX_REPORTED_ERRORS errors are reported: a file broken this badly is parsed no further.
    if (strayErrors > MAX_REPORTED_ERRORS) break;
    // The text after a scalar marker is the scalar itself, whatever it starts with.
    const type: CST.TokenType | null | undefined = scalarText ? undefined : CST.tokenType(lexeme);
    scalarText = type === 'scalar';
    if (type === 'alias' && ++aliases > MAX_ALIAS_COUNT) {
      const span = { start: parser.offset, end: parser.offset + lexeme.length };
      return { problem: at(span, `more than ${MAX_ALIAS_COUNT} aliases (rule: alias-limit); allowed: at most ${MAX_ALIAS_COUNT} aliases in a search file`, 'alias-limit') };
    }
    if ((type === 'scalar' || type === 'single-quoted-scalar' || type === 'double-quoted-scalar') && ++values > MAX_VALUES) {
      const span = { start: parser.offset, end: parser.offset + 1 };
      return { problem: at(span, `more than ${MAX_VALUES} values (keys, list items, settings) (rule: too-many-values); allowed: at most ${MAX_VALUES} values in a search file`, 'too-many-values') };
    }
    for (const token of parser.next(lexeme)) {
      tokens.push(token);
      if (token.type === 'error') strayErrors += 1;
    }
    const problem = nestingProblem(parser.stack, at);
    if (problem !== undefined) return { problem };
  }
  for (const token of parser.end()) tokens.push(token);
  return { tokens };
}

/** Checks the parser's stack, which holds the collections still open, outermost first. */
function nestingProblem(stack: readonly CST.Token[], at: Reporter): Problem | undefined {
  let depth = 0;
  for (const token of stack) {
    if (token.type !== 'block-map' && token.type !== 'block-seq' && token.type !== 'flow-collection') continue;
    const span = { start: token.offset, end: token.offset + 1 };
    if (++depth > MAX_NESTING) {
      return at(span, `collections are nested more than ${MAX_NESTING} levels deep (rule: too-deep); allowed: at most ${MAX_NESTING} levels`, 'too-deep');
    }
  }
  return undefined;
}

/** Keys that appear twice in one mapping, and keys that are not plain values (an alias, a list, a mapping). */
function keyProblems(doc: Document, at: Reporter, lineCounter: LineCounter): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Map(_key, map) {
      // Keys compare as the JavaScript object keys they become, so `1` and `"1"` are the same key.
      const firstLine = new Map<string, Span>();
      for (const { key } of map.items) {
        const span = spanOf(key);
        if (span === undefined) continue;
        if (isAlias(key)) {
          problems.push(at(span, `an alias (*${key.source}) cannot be a key (rule: alias-key); allowed: keys written out, such as kind or layers`, 'alias-key'));
        } else if (isCollection(key)) {
          problems.push(at(span, `a key must be a single word, got ${isSeq(key) ? 'a list' : 'a mapping'} (rule: complex-key); allowed: keys such as kind or layers`, 'complex-key'));
        } else if (isScalar(key)) {
          const name = String(key.value);
          const first = firstLine.get(name);
          if (first === undefined) {
            firstLine.set(name, span);
            continue;
          }
          const message = `duplicate key ${quoted(name)}, already on line ${lineCounter.linePos(first.start).line} (rule: duplicate-key); allowed: each key once in a mapping`;
          problems.push(at(span, message, 'duplicate-key'));
        }
        if (problems.length >= MAX_REPORTED_ERRORS) return visit.BREAK;
      }
      return undefined;
    },
  });
  return problems;
}

/**
 * An alias whose anchor is missing or contains it, or past which the aliases expand the document beyond
 * MAX_EXPANDED_VALUES. Anchors resolve as yaml resolves them: to the last one of that name before the alias.
 */
function aliasProblem(doc: Document, at: Reporter): Problem | undefined {
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  let unresolved: Alias | undefined;
  visit(doc, {
    Node(_key, node) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
        return undefined;
      }
      const target = anchors.get(node.source);
      if (target === undefined) {
        unresolved = node;
        return visit.BREAK;
      }
      targets.set(node, target);
      return undefined;
    },
  });
  const spanOrStart = (node: Node) => spanOf(node) ?? { start: 0, end: 0 };
  if (unresolved !== undefined) {
    return at(spanOrStart(unresolved), `alias *${unresolved.source} has no anchor &${unresolved.source} before it (rule: unknown-alias); allowed: aliases of anchors defined earlier in the file`, 'unknown-alias');
  }
  if (targets.size === 0) return undefined;

  // Values under each node once aliases are expanded, memoised; undefined while a node is being counted.
  const sizes = new Map<Node, number | undefined>();
  let cyclic: Alias | undefined;
  const expandedSize = (node: unknown): number => {
    if (isPair(node)) return expandedSize(node.key) + expandedSize(node.value);
    if (isAlias(node)) {
      const target = targets.get(node)!;
      if (sizes.has(target) && sizes.get(target) === undefined) {
        cyclic ??= node;
        return Infinity;
      }
      return expandedSize(target);
    }
    if (!isCollection(node)) return node === null || node === undefined ? 0 : 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    sizes.set(node, undefined);
    let size = 1;
    for (const item of node.items) {
      size += expandedSize(item);
      // Stop early: the total is already too large, and counting on would only take time.
      if (size > MAX_EXPANDED_VALUES) break;
    }
    sizes.set(node, size);
    return size;
  };

  let total = 0;
  let culprit: Alias | undefined;
  visit(doc, {
    Node(_key, node) {
      if (!isAlias(node)) {
        total += 1;
        return undefined;
      }
      total += expandedSize(node);
      if (cyclic === undefined && total <= MAX_EXPANDED_VALUES) return undefined;
      culprit = node;
      return visit.BREAK;
    },
  });
  if (cyclic !== undefined) {
    return at(spanOrStart(cyclic), `alias *${cyclic.source} is inside the value its anchor &${cyclic.source} names, so it would repeat forever (rule: alias-cycle); allowed: aliases of values that do not contain them`, 'alias-cycle');
  }
  if (culprit === undefined) return undefined;
  return at(spanOrStart(culprit), `the aliases up to *${culprit.source} expand the file to more than ${MAX_EXPANDED_VALUES} values (rule: alias-limit); allowed: aliases that expand to at most ${MAX_EXPANDED_VALUES} values in all`, 'alias-limit');
}

function yamlProblem(error: YAMLError, at: Reporter, text: string, doc: Document, rule = 'yaml-syntax'): Problem {
  let start = Math.max(0, error.pos[0]);
  let end = Math.max(start, error.pos[1]);
  let advice = '';
  // yaml reports an unclosed string where the file ends; the user must look where it opens.
  const opening = error.code === 'MISSING_CHAR' ? unclosedStringStart(doc, start) : undefined;
  if (opening !== undefined) [start, end] = [opening, opening + 1];
  // yaml may point into or past the indentation of a line: a tab there is what must change, else the
  // first thing on the line.
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const indentation = /^[ \t]*/.exec(text.slice(lineStart, lineStart + 200))![0];
  if (start <= lineStart + indentation.length && indentation.includes('\t')) {
    start = lineStart + indentation.indexOf('\t');
    end = start + 1;
    advice = '; allowed: spaces for indentation, not tabs';
  } else if (start < lineStart + indentation.length) {
    start = lineStart + indentation.length;
    end = Math.max(start + 1, end);
  }
  return at({ start, end }, `${error.message} (rule: ${rule})${advice}`, rule);
}

function unclosedStringStart(doc: Document, end: number): number | undefined {
  let opening: number | undefined;
  visit(doc, {
    Scalar(_key, node) {
      const quotedType = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      if (!quotedType || node.range?.[1] !== end) return undefined;
      opening = node.range[0];
      return visit.BREAK;
    },
  });
  return opening;
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
