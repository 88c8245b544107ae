// Reads a `*.nas.yaml` search file into a resolved SearchConfig, or into positioned problems that
// say which rule was broken and what is allowed. Never throws: the editor calls this on every keystroke.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq } from 'yaml';
import type { SearchConfig } from './config.ts';
import {
  crashProblem,
  deduplicated,
  describeValue,
  errorText,
  problemAt,
  problemAtStart,
  sorted,
  spanOf,
  type Problem,
  type Span,
} from './problem.ts';
import { completeDerivedSettings, semanticProblems, settleSectionDefaults } from './rules.ts';
import { schemaProblem, searchValidator } from './schema-messages.ts';
import {
  MAX_REPORTED_ERRORS,
  MAX_TEXT_LENGTH,
  aliasProblem,
  characterProblem,
  composeFirstDocument,
  keyProblems,
  parseTokens,
  withoutStackTraces,
  yamlProblem,
} from './yaml-read.ts';

export type { Problem } from './problem.ts';

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
    const message =
      `the file is too large to be a search file: ${text.length} characters (rule: too-large); ` + `allowed: at most ${MAX_TEXT_LENGTH}`;
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
    return {
      problems: [
        problemAtStart(
          file,
          'the file is empty; a search needs at least name, dataset, space and strategy (rule: empty-file)',
          'empty-file',
        ),
      ],
    };
  }
  if (!isMap(root)) {
    const got = isScalar(root) ? `a single value, ${describeValue(root.value)}` : isSeq(root) ? 'a list' : 'an alias';
    problems.push(
      at(
        spanOf(root) ?? { start: 0, end: 0 },
        `the top level must be a mapping of keys (name, dataset, space, strategy, ...), got ${got} (rule: not-a-mapping)`,
        'not-a-mapping',
      ),
    );
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
  settleSectionDefaults(config, doc);
  problems.push(
    ...semanticProblems(config, doc, at, { baseDir: options.baseDir ?? dirname(file), checkFiles: options.checkFiles ?? true }),
  );
  if (problems.length > 0) return { problems: sorted(problems) };
  completeDerivedSettings(config, doc);
  return { config, problems };
}
