// Where the cursor is in a search file: which mapping or list holds it, and whether a key, a value or a
// list item is being typed. Read from the text line by line rather than from a parsed document,
// because while the user types the document is usually broken.

import type { PathStep } from './schema-lookup.ts';

export type Slot =
  /** A key of the mapping at `container`; `present` are the keys it already has. */
  | { kind: 'key'; present: string[] }
  /** The value of `key` in the mapping at `container`. */
  | { kind: 'value'; key: string }
  /** An item of the list at `container`. */
  | { kind: 'item' };

export interface CursorContext {
  container: PathStep[];
  slot: Slot;
  /** The word around the cursor, as offsets into its line: what a completion replaces. */
  wordStart: number;
  wordEnd: number;
}

interface FlowFrame {
  open: '{' | '[';
  /** Column of the bracket. */
  column: number;
  /** Keys written in this frame so far (mappings only). */
  keys: string[];
  /** The key whose value this frame is, in the enclosing flow mapping. */
  key?: string;
}

const WORD = /[\w.-]/;
const KEY_LINE = /^(\s*)((?:-\s+)*)(["']?)([^\s:#"'][^:#"']*?)\3\s*:(?:\s|$)/;

/** The context at `column` of `lineIndex` (both 0-based), or undefined inside a comment or a string. */
export function cursorContext(text: string, lineIndex: number, column: number): CursorContext | undefined {
  const lines = text.split(/\r?\n/);
  const line = lines[lineIndex] ?? '';
  const before = line.slice(0, column);
  let wordStart = column;
  while (wordStart > 0 && WORD.test(line[wordStart - 1])) wordStart--;
  let wordEnd = column;
  while (wordEnd < line.length && WORD.test(line[wordEnd])) wordEnd++;

  const scan = scanFlow(before);
  if (scan === undefined) return undefined;
  const blockKey = scan.blockKey;
  const dashes = /^(\s*)((?:-\s+)*)/.exec(before)!;
  const keyColumn = dashes[0].length;
  const blockPath = blockParents(lines, lineIndex, keyColumn, dashes[2].length > 0 ? dashes[1].length : undefined);

  if (scan.frames.length > 0) {
    const container: PathStep[] = [...blockPath];
    if (blockKey !== undefined) container.push({ key: blockKey, kind: kindInFlow(line, scan.frames[0].column) });
    scan.frames.forEach((frame, index) => {
      if (index === 0) return;
      const parent = scan.frames[index - 1];
      container.push(parent.open === '[' ? { item: true } : { key: frame.key ?? '', kind: kindInFlow(line, frame.column) });
    });
    const top = scan.frames[scan.frames.length - 1];
    if (top.open === '[') return { container, slot: { kind: 'item' }, wordStart, wordEnd };
    const slot: Slot = scan.pendingKey !== undefined ? { kind: 'value', key: scan.pendingKey } : { kind: 'key', present: top.keys };
    return { container, slot, wordStart, wordEnd };
  }
  if (blockKey !== undefined) return { container: blockPath, slot: { kind: 'value', key: blockKey }, wordStart, wordEnd };
  if (dashes[2].length > 0) return { container: blockPath, slot: { kind: 'item' }, wordStart, wordEnd };
  return { container: blockPath, slot: { kind: 'key', present: siblingKeys(lines, lineIndex, keyColumn) }, wordStart, wordEnd };
}

/**
 * Follows the flow collections (`{ }`, `[ ]`) opened before the cursor on its line. `blockKey` is the
 * block key written before them (`dataset:` in `dataset: { kind: |`); `pendingKey` the flow key whose
 * value is being typed. Undefined when the cursor is inside a comment or a quoted string.
 */
function scanFlow(before: string): { frames: FlowFrame[]; blockKey?: string; pendingKey?: string } | undefined {
  const frames: FlowFrame[] = [];
  let blockKey: string | undefined;
  let pendingKey: string | undefined;
  let word = '';
  let quote: string | undefined;
  for (let i = 0; i < before.length; i++) {
    const char = before[i];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      continue;
    }
    if (char === '#' && (i === 0 || /\s/.test(before[i - 1]))) return undefined;
    if (char === ':' && (i + 1 === before.length || /\s/.test(before[i + 1]))) {
      const key = word.trim().replace(/^(-\s+)+/, '');
      if (frames.length === 0) blockKey = key;
      else {
        pendingKey = key;
        frames[frames.length - 1].keys.push(key);
      }
      word = '';
    } else if (char === '{' || char === '[') {
      frames.push({ open: char, column: i, keys: [], key: frames.length > 0 ? pendingKey : undefined });
      pendingKey = undefined;
      word = '';
    } else if (char === '}' || char === ']') {
      frames.pop();
      pendingKey = undefined;
      word = '';
    } else if (char === ',') {
      pendingKey = undefined;
      word = '';
    } else {
      word += char;
    }
  }
  if (quote !== undefined) return undefined;
  return { frames, blockKey, pendingKey };
}

function indentOf(line: string): number {
  return /^\s*/.exec(line)![0].length;
}

function isBlank(line: string): boolean {
  return /^\s*(#.*)?$/.test(line);
}

/**
 * The block mappings that hold a line whose content starts at `keyColumn`: each key line above with a
 * smaller indentation opens one level. A list item (`- x`) at `dashColumn` may sit at its key's indentation.
 */
function blockParents(lines: readonly string[], lineIndex: number, keyColumn: number, dashColumn?: number): PathStep[] {
  const path: PathStep[] = [];
  let limit = dashColumn ?? keyColumn;
  let sameIndentAllowed = dashColumn !== undefined;
  for (let i = lineIndex - 1; i >= 0 && limit > 0; i--) {
    const line = lines[i];
    if (isBlank(line)) continue;
    const indent = indentOf(line);
    if (indent > limit || (indent === limit && !sameIndentAllowed)) continue;
    const match = KEY_LINE.exec(line);
    if (indent === limit && (match === null || !opensBlock(line, match))) continue;
    if (match === null) {
      // A list item above: this line continues the item's mapping.
      if (/^\s*-\s/.test(line)) {
        path.unshift({ item: true });
        limit = indent;
        sameIndentAllowed = true;
      }
      continue;
    }
    path.unshift({ key: match[4], kind: blockKind(lines, i, indent + match[2].length) });
    // `- key:` is a key of a mapping inside a list item.
    if (match[2].length > 0) path.unshift({ item: true });
    limit = indent;
    sameIndentAllowed = false;
  }
  return path;
}

/** `key:` with nothing after it (but a comment) opens a nested block. */
function opensBlock(line: string, match: RegExpExecArray): boolean {
  return isBlank(line.slice(match[0].length));
}

/** The `kind` written in the block mapping opened by the key line `keyLine` (whose key starts at `keyColumn`). */
function blockKind(lines: readonly string[], keyLine: number, keyColumn: number): string | undefined {
  const inline = /\{(.*)/.exec(lines[keyLine].slice(keyColumn));
  if (inline) return kindInFlow(lines[keyLine], keyColumn + inline.index);
  let childIndent: number | undefined;
  for (let i = keyLine + 1; i < lines.length; i++) {
    const line = lines[i];
    if (isBlank(line)) continue;
    const indent = indentOf(line);
    if (indent <= keyColumn) break;
    childIndent ??= indent;
    if (indent !== childIndent) continue;
    const kind = /^\s*kind\s*:\s*["']?([\w-]+)/.exec(line);
    if (kind) return kind[1];
  }
  return undefined;
}

function kindInFlow(line: string, openColumn: number): string | undefined {
  return /[{,]\s*kind\s*:\s*["']?([\w-]+)/.exec(line.slice(openColumn))?.[1];
}

/** Keys already written at `keyColumn` in the block mapping around `lineIndex`. */
function siblingKeys(lines: readonly string[], lineIndex: number, keyColumn: number): string[] {
  const keys: string[] = [];
  const collect = (step: 1 | -1) => {
    for (let i = lineIndex + step; i >= 0 && i < lines.length; i += step) {
      const line = lines[i];
      if (isBlank(line)) continue;
      const indent = indentOf(line);
      if (indent < keyColumn) break;
      const match = indent === keyColumn ? KEY_LINE.exec(line) : null;
      if (match) keys.push(match[4]);
    }
  };
  collect(-1);
  collect(1);
  return keys;
}

/** The key whose name covers `column` of the line (a block key or a key inside a flow mapping). */
export function keyAt(text: string, lineIndex: number, column: number): { context: CursorContext; key: string } | undefined {
  const line = text.split(/\r?\n/)[lineIndex] ?? '';
  let start = column;
  while (start > 0 && WORD.test(line[start - 1])) start--;
  let end = column;
  while (end < line.length && WORD.test(line[end])) end++;
  if (start === end || !/^\s*:(\s|$)/.test(line.slice(end))) return undefined;
  const context = cursorContext(text, lineIndex, start);
  if (context?.slot.kind !== 'key') return undefined;
  return { context, key: line.slice(start, end) };
}
