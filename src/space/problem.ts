// A problem found in a search file, positioned where the user must look, and the helpers that
// position and word it: shared by the YAML reader, the schema messages and the semantic rules.

import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter } from 'yaml';

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

export interface Span {
  start: number;
  end: number;
}

export type Reporter = (span: Span, message: string, rule: string) => Problem;

/**
 * The source span of the node at `path`, or of the deepest ancestor present in the file when the value
 * came from a default. An empty value (`layers:`) is pointed at by its key, which the user can see.
 */
export function locate(doc: Document, path: readonly string[], atKey = false): { span: Span; found: boolean } {
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

export function spanOf(node: unknown): Span | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? { start: range[0], end: range[1] } : undefined;
}

export function problemAt(file: string, lineCounter: LineCounter, span: Span, message: string, rule: string): Problem {
  const start = lineCounter.linePos(span.start);
  // A problem about a whole block (a mapping missing a key) underlines only its first line.
  const nextLineStart = lineCounter.lineStarts[start.line] ?? Infinity;
  const end = lineCounter.linePos(Math.max(span.start, Math.min(span.end, nextLineStart - 1)));
  return { file, line: start.line, column: start.col, endLine: end.line, endColumn: end.col, message, rule };
}

export function problemAtStart(file: string, message: string, rule: string): Problem {
  return { file, line: 1, column: 1, endLine: 1, endColumn: 1, message, rule };
}

export function crashProblem(file: string, error: unknown): Problem {
  if (error instanceof RangeError) {
    return problemAtStart(file, `the file is nested too deeply to process (${error.message}) (rule: too-deep)`, 'too-deep');
  }
  return problemAtStart(file, `the file could not be processed: ${errorText(error)} (rule: unprocessable)`, 'unprocessable');
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function sorted(problems: Problem[]): Problem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

// allErrors makes ajv repeat itself, e.g. once per schema branch that checks the same value.
export function deduplicated(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.line}:${problem.column}:${problem.rule}:${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 40)}…` : flat;
}

/** The text in double quotes, with characters that do not show (controls, format characters, odd spaces) escaped. */
export function quoted(text: string): string {
  return JSON.stringify(oneLine(text)).replace(/(?! )[\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/gu, (character) => `\\u${hex(character)}`);
}

export function codePoint(character: string): string {
  return `U+${hex(character)}`;
}

function hex(character: string): string {
  return character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return quoted(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
