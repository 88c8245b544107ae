// Reading a search file's YAML within limits that keep hostile or accidental inputs fast to reject:
// suspicious characters, syntax, nesting, keys and aliases, each reported where it is.

import {
  CST,
  Composer,
  Lexer,
  LineCounter,
  Parser,
  isAlias,
  isCollection,
  isPair,
  isScalar,
  isSeq,
  visit,
  type Alias,
  type Document,
  type Node,
  type YAMLError,
} from 'yaml';
import { codePoint, problemAt, quoted, spanOf, type Problem, type Reporter, type Span } from './problem.ts';

// A search file is a few dozen lines; these limits keep hostile or accidental inputs fast to reject.
export const MAX_TEXT_LENGTH = 64 * 1024;
const MAX_NESTING = 64;
// A search file holds a few dozen values. yaml's parser takes about a microsecond a character, and
// ajv's uniqueItems compares untyped list items pairwise: this bounds both.
const MAX_VALUES = 1000;
const MAX_ALIAS_COUNT = 100;
// Values the document holds once every alias is replaced by what it names ("billion laughs" guard).
const MAX_EXPANDED_VALUES = 10_000;
// Past this many errors the user learns nothing new, and positioning each one costs time.
export const MAX_REPORTED_ERRORS = 100;

// yaml makes an Error for every syntax error; capturing their stack traces is most of the time a
// badly broken file takes. Nothing else runs meanwhile, so the global setting is restored before anyone sees it.
export function withoutStackTraces<T>(run: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return run();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The first document, with yaml's own duplicate-key check off (it is quadratic; keyProblems is not). */
export function composeFirstDocument(tokens: CST.Token[], length: number): { doc: Document.Parsed; secondDocument?: number } {
  let doc: Document.Parsed | undefined;
  for (const composed of new Composer({ uniqueKeys: false }).compose(tokens, true, length)) {
    if (doc !== undefined) return { doc, secondDocument: composed.range[0] };
    doc = composed;
  }
  // compose(tokens, true) yields at least one document, even for an empty file.
  return { doc: doc! };
}

// YAML allows only printable characters (YAML 1.2, section 5.1), and U+FFFD is what invalid UTF-8 decodes to.
// Bidirectional overrides make text display in another order than it reads ("Trojan Source"), and a
// Unicode space at the start of a line looks like indentation but is part of the key that follows.
const SUSPICIOUS_CHARACTER = new RegExp(
  [
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    /[\0-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFD\uFFFE\uFFFF\u202A-\u202E\u2066-\u2069]/.source,
    /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.source,
    /(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.source,
    /^[ \t]*[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/.source,
  ].join('|'),
  'm',
);

export function characterProblem(text: string, file: string): Problem | undefined {
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
    return at(
      span,
      `bytes that are not valid UTF-8 (shown as U+FFFD); is this a binary file or another encoding? ` +
        `(rule: invalid-encoding); allowed: text saved as UTF-8`,
      'invalid-encoding',
    );
  }
  if (/[\u202A-\u202E\u2066-\u2069]/.test(character)) {
    return at(
      span,
      `the bidirectional control character ${code} makes the text display in another order than it reads ` +
        `(rule: bidi-control); allowed: text without bidirectional overrides, embeddings or isolates`,
      'bidi-control',
    );
  }
  if (match[0].length > 1 || /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/.test(character)) {
    return at(
      span,
      `the Unicode space ${code} at the start of a line is not indentation to YAML (rule: unicode-space); ` +
        `allowed: plain spaces (U+0020) for indentation`,
      'unicode-space',
    );
  }
  const kind = /[\uD800-\uDFFF]/.test(character) ? 'an unpaired UTF-16 surrogate' : 'a control character';
  return at(
    span,
    `${code} is ${kind}, which cannot appear in a YAML file; is this a binary file? (rule: non-printable); allowed: ` +
      `printable characters, tabs and line breaks`,
    'non-printable',
  );
}

/**
 * yaml's concrete syntax tree, built lexeme by lexeme so that a structure past the limits stops the parse
 * at once: yaml's parser takes about a microsecond a character, and the composer recurses into collections.
 */
export function parseTokens(text: string, lineCounter: LineCounter, at: Reporter): { tokens: CST.Token[] } | { problem: Problem } {
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
      return {
        problem: at(
          span,
          `more than ${MAX_ALIAS_COUNT} aliases (rule: alias-limit); allowed: at most ${MAX_ALIAS_COUNT} aliases in a search file`,
          'alias-limit',
        ),
      };
    }
    if ((type === 'scalar' || type === 'single-quoted-scalar' || type === 'double-quoted-scalar') && ++values > MAX_VALUES) {
      const span = { start: parser.offset, end: parser.offset + 1 };
      return {
        problem: at(
          span,
          `more than ${MAX_VALUES} values (keys, list items, settings) (rule: too-many-values); allowed: at most ${MAX_VALUES} ` +
            `values in a search file`,
          'too-many-values',
        ),
      };
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
      return at(
        span,
        `collections are nested more than ${MAX_NESTING} levels deep (rule: too-deep); allowed: at most ${MAX_NESTING} levels`,
        'too-deep',
      );
    }
  }
  return undefined;
}

/** Keys that appear twice in one mapping, and keys that are not plain values (an alias, a list, a mapping). */
export function keyProblems(doc: Document, at: Reporter, lineCounter: LineCounter): Problem[] {
  const problems: Problem[] = [];
  visit(doc, {
    Map(_key, map) {
      // Keys compare as the JavaScript object keys they become, so `1` and `"1"` are the same key.
      const firstLine = new Map<string, Span>();
      for (const { key } of map.items) {
        const span = spanOf(key);
        if (span === undefined) continue;
        if (isAlias(key)) {
          problems.push(
            at(
              span,
              `an alias (*${key.source}) cannot be a key (rule: alias-key); allowed: keys written out, such as kind or layers`,
              'alias-key',
            ),
          );
        } else if (isCollection(key)) {
          problems.push(
            at(
              span,
              `a key must be a single word, got ${isSeq(key) ? 'a list' : 'a mapping'} (rule: ` +
                `complex-key); allowed: keys such as kind or layers`,
              'complex-key',
            ),
          );
        } else if (isScalar(key)) {
          const name = String(key.value);
          const first = firstLine.get(name);
          if (first === undefined) {
            firstLine.set(name, span);
            continue;
          }
          const message =
            `duplicate key ${quoted(name)}, already on line ${lineCounter.linePos(first.start).line} ` +
            `(rule: duplicate-key); allowed: each key once in a mapping`;
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
export function aliasProblem(doc: Document, at: Reporter): Problem | undefined {
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
    return at(
      spanOrStart(unresolved),
      `alias *${unresolved.source} has no anchor &${unresolved.source} before it (rule: ` +
        `unknown-alias); allowed: aliases of anchors defined ` +
        `earlier in the file`,
      'unknown-alias',
    );
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
    return at(
      spanOrStart(cyclic),
      `alias *${cyclic.source} is inside the value its anchor &${cyclic.source} names, so it would repeat forever (rule: alias-cycle); ` +
        `allowed: aliases of values that do not contain them`,
      'alias-cycle',
    );
  }
  if (culprit === undefined) return undefined;
  return at(
    spanOrStart(culprit),
    `the aliases up to *${culprit.source} expand the file to more than ${MAX_EXPANDED_VALUES} ` +
      `values (rule: alias-limit); allowed: aliases ` +
      `that expand to at most ${MAX_EXPANDED_VALUES} values in all`,
    'alias-limit',
  );
}

export function yamlProblem(error: YAMLError, at: Reporter, text: string, doc: Document, rule = 'yaml-syntax'): Problem {
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
