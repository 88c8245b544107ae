// `nas-studio retrain --recipe '{…}'`: the final recipe's settings on the command line, written as
// evaluation.retrain is written in a search file, and checked against the same schema in the same words.

import { LineCounter, parseDocument } from 'yaml';
import type { RetrainRecipe } from './kinds/evaluations/train.ts';
import { formatProblem } from './parse.ts';
import { problemAt, type Reporter } from './problem.ts';
import { retrainRecipeValidator, schemaProblem } from './schema-messages.ts';

/** Where the recipe's problems say they are. */
const SOURCE = '--recipe';

/** A recipe written on the command line (a YAML or JSON mapping); an error names each bad setting, its place and its rule. */
export function parseRetrainRecipe(text: string | undefined): RetrainRecipe {
  if (text === undefined) return {};
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) throw new Error(`${SOURCE}: not YAML or JSON: ${doc.errors[0].message}`);
  const parsed: unknown = doc.toJS();
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${SOURCE}: must be a mapping of evaluation.retrain's settings, as {epochs: 30}; got ${JSON.stringify(parsed)}`);
  const validate = retrainRecipeValidator();
  if (!validate(parsed)) {
    const at: Reporter = (span, message, rule) => problemAt(SOURCE, lineCounter, span, message, rule);
    const problems = (validate.errors ?? []).flatMap((error) => schemaProblem(error, doc, at) ?? []);
    throw new Error(problems.map(formatProblem).join('\n'));
  }
  return parsed as RetrainRecipe;
}
