// Fails when the TypeScript sources have a runtime import cycle: modules that import each other,
// directly or around a loop, see each other half-initialised depending on which loads first.
// Only relative `import ... from`, `import '...'` and `export ... from` statements that begin a
// line count; type-only imports and exports (`import type`, `export type`,
// `import { type A, type B }`) vanish at compile time and are ignored, as are packages and
// dynamic import().
//
// node scripts/check-import-cycles.mjs [folder...]   (default: src webview, from the repository root)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts'];
const DEFAULT_FOLDERS = ['src', 'webview'];

/** Source text with comments replaced by spaces (newlines kept), so commented-out imports are not read as imports. */
export function withoutComments(source) {
  let out = '';
  let i = 0;
  // Brace depth at which each open template literal's `${` began: its `}` resumes the template.
  const templateDepths = [];
  let braceDepth = 0;
  let lastSignificant = '';
  const blank = (text) => text.replace(/[^\n]/g, ' ');
  const regexMayStart = () =>
    lastSignificant === '' ||
    /[(,=:[!&|?{};+\-*%<>~^]$/.test(lastSignificant) ||
    /\b(return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(lastSignificant);
  const skipQuoted = (start, quote) => {
    let j = start + 1;
    while (j < source.length && source[j] !== quote && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
    return j + 1;
  };
  /** From inside a template literal at `start`, the index just past its closing backtick or its `${`. */
  const skipTemplate = (start) => {
    let j = start;
    while (j < source.length) {
      if (source[j] === '\\') j += 2;
      else if (source[j] === '`') return { end: j + 1, interpolation: false };
      else if (source[j] === '$' && source[j + 1] === '{') return { end: j + 2, interpolation: true };
      else j++;
    }
    return { end: j, interpolation: false };
  };
  const skipRegex = (start) => {
    let j = start + 1;
    let inClass = false;
    while (j < source.length && source[j] !== '\n') {
      const c = source[j];
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) return j + 1;
      j++;
    }
    return j;
  };
  const copy = (end) => {
    out += source.slice(i, end);
    i = end;
  };
  const enterTemplate = (start) => {
    const { end, interpolation } = skipTemplate(start);
    if (interpolation) templateDepths.push(braceDepth);
    copy(end);
    lastSignificant = interpolation ? '{' : 'x';
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'") {
      copy(skipQuoted(i, c));
      lastSignificant = 'x';
    } else if (c === '`') {
      out += c;
      i++;
      enterTemplate(i);
    } else if (c === '}' && templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === braceDepth) {
      templateDepths.pop();
      out += c;
      i++;
      enterTemplate(i);
    } else if (c === '/' && regexMayStart()) {
      copy(skipRegex(i));
      lastSignificant = 'x';
    } else {
      if (c === '{') braceDepth++;
      else if (c === '}') braceDepth--;
      if (!/\s/.test(c)) {
        // Words are kept whole so keywords before a regex literal are recognised.
        const word = /^[\w$]+/.exec(source.slice(i, i + 64));
        if (word) {
          lastSignificant = word[0];
          copy(i + word[0].length);
          continue;
        }
        lastSignificant = c;
      }
      out += c;
      i++;
    }
  }
  return out;
}

const IMPORT_FROM = /^[ \t]*import\s+(type\s+)?(?:([\w$]+)\s*,?\s*)?(\{[^}]*\}|\*\s*as\s+[\w$]+)?\s*from\s*(['"])([^'"\n]+)\4/gm;
const SIDE_EFFECT_IMPORT = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const EXPORT_FROM = /^[ \t]*export\s+(type\s+)?(\{[^}]*\}|\*(?:\s*as\s+[\w$]+)?)\s*from\s*(['"])([^'"\n]+)\3/gm;

/** True for `{ type A, type B }`; `{}` still loads the module, so it is not type-only. */
function onlyTypeSpecifiers(braces) {
  const specifiers = braces
    .slice(1, -1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return specifiers.length > 0 && specifiers.every((s) => /^type\s/.test(s));
}

/** The module specifiers a source file loads at run time. */
export function runtimeImports(source) {
  const code = withoutComments(source);
  const specifiers = [];
  for (const [, typeOnly, defaultName, clause, , specifier] of code.matchAll(IMPORT_FROM)) {
    const namedOnly = defaultName === undefined && clause?.startsWith('{');
    if (typeOnly || (namedOnly && onlyTypeSpecifiers(clause))) continue;
    specifiers.push(specifier);
  }
  for (const [, , specifier] of code.matchAll(SIDE_EFFECT_IMPORT)) specifiers.push(specifier);
  for (const [, typeOnly, clause, , specifier] of code.matchAll(EXPORT_FROM)) {
    if (typeOnly || (clause.startsWith('{') && onlyTypeSpecifiers(clause))) continue;
    specifiers.push(specifier);
  }
  return specifiers;
}

const isFile = (path) => existsSync(path) && statSync(path).isFile();

/** The source file a relative specifier names, or null for a package or a file that is not TypeScript source. */
function resolveSpecifier(fromFile, specifier) {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(fromFile), specifier);
  const candidates = [
    base,
    base.replace(/\.m?js$/, (js) => js.replace('js', 'ts')),
    ...SOURCE_EXTENSIONS.map((extension) => base + extension),
    ...SOURCE_EXTENSIONS.map((extension) => join(base, `index${extension}`)),
  ];
  return candidates.find((path) => SOURCE_EXTENSIONS.some((extension) => path.endsWith(extension)) && isFile(path)) ?? null;
}

function sourceFilesUnder(folder) {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFilesUnder(path);
    return SOURCE_EXTENSIONS.some((extension) => entry.name.endsWith(extension)) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every runtime import cycle among the source files under the folders (and the files they import), each as a closed path. */
export function findImportCycles(folders) {
  const edges = new Map();
  const importsOf = (file) => {
    if (!edges.has(file)) {
      edges.set(
        file,
        runtimeImports(readFileSync(file, 'utf8'))
          .map((s) => resolveSpecifier(file, s))
          .filter((f) => f !== null),
      );
    }
    return edges.get(file);
  };
  const cycles = [];
  const seen = new Set();
  const finished = new Set();
  const stack = [];
  const onStack = new Map();
  // Depth-first, each edge back to a file still on the stack closes one cycle.
  const visit = (file) => {
    onStack.set(file, stack.length);
    stack.push(file);
    for (const target of importsOf(file)) {
      if (onStack.has(target)) {
        const cycle = stack.slice(onStack.get(target));
        // The same loop entered at another file is the same cycle.
        const key = [...cycle].sort().join('\n');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...cycle, target]);
        }
      } else if (!finished.has(target)) {
        visit(target);
      }
    }
    stack.pop();
    onStack.delete(file);
    finished.add(file);
  };
  for (const folder of folders) {
    for (const file of sourceFilesUnder(folder).sort()) if (!finished.has(file)) visit(file);
  }
  return cycles;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const requested = process.argv.slice(2);
  const folders = requested.length > 0 ? requested.map((f) => resolve(f)) : DEFAULT_FOLDERS.map((f) => join(repositoryRoot, f));
  const missing = folders.filter((folder) => !existsSync(folder) || !statSync(folder).isDirectory());
  if (missing.length > 0) {
    console.error(`check-import-cycles: no such folder: ${missing.join(', ')}`);
    process.exit(2);
  }
  const cycles = findImportCycles(folders);
  const shown = (file) => relative(process.cwd(), file) || file;
  if (cycles.length > 0) {
    console.error(
      `Runtime import cycle${cycles.length > 1 ? 's' : ''} (make one side a type-only import, or move the shared part into a module ` +
        `both import):`,
    );
    for (const cycle of cycles) console.error(`  ${cycle.map(shown).join(' -> ')}`);
    process.exit(1);
  }
  console.log(`No runtime import cycles in ${folders.map(shown).join(', ')}.`);
}
