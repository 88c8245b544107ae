// Rules JSON Schema cannot express: they relate two values, or the file system. Each kind module
// holds its own; this module gives them a RuleContext over the YAML document and dispatches by kind.

import { resolve } from 'node:path';
import type { Document } from 'yaml';
import type { SearchConfig } from './config.ts';
import { datasetKind } from './kinds/datasets/registry.ts';
import { evaluationKind } from './kinds/evaluations/registry.ts';
import { inspectPath } from './file-checks.ts';
import type { FileContext, ReportOptions, RuleContext } from './kinds/rule-context.ts';
import { spaceKind } from './kinds/spaces/registry.ts';
import { schedulerKind } from './kinds/schedulers/registry.ts';
import { strategyKind } from './kinds/strategies/registry.ts';
import { completeReward, rewardRules } from './kinds/strategies/reward.ts';
import { locate, type Problem, type Reporter } from './problem.ts';
import { queueUrlProblem } from './queue-url.ts';

export interface RuleOptions {
  baseDir: string;
  checkFiles: boolean;
}

export function semanticProblems(config: SearchConfig, doc: Document, at: Reporter, options: RuleOptions): Problem[] {
  const problems: Problem[] = [];
  const context: RuleContext = {
    config,
    report(path: readonly string[], message: string, rule: string, { atKey = false, fallbackPath }: ReportOptions = {}) {
      const where = locate(doc, path, atKey);
      const span = where.found || fallbackPath === undefined ? where.span : locate(doc, fallbackPath).span;
      problems.push(at(span, message, rule));
    },
    written: (path) => locate(doc, path).found,
  };
  const { dataset, evaluation, space, strategy } = config;
  spaceKind(space).check?.(space, context);
  evaluationKind(evaluation).check?.(evaluation, context);
  if (dataset) datasetKind(dataset).check?.(dataset, context);
  strategyKind(strategy).check?.(strategy, context);
  rewardRules(strategy.reward, context);
  schedulerKind(config.scheduler).check?.(config.scheduler, context);
  const queueProblem = config.runtime.queue === undefined ? undefined : queueUrlProblem(config.runtime.queue);
  if (queueProblem) context.report(['runtime', 'queue'], `runtime.queue: ${queueProblem} (rule: queue-url)`, 'queue-url');
  if (options.checkFiles && dataset) datasetKind(dataset).checkFiles?.(dataset, context, filesUnder(options.baseDir));
  if (options.checkFiles) evaluationKind(evaluation).checkFiles?.(evaluation, context, filesUnder(options.baseDir));
  return problems;
}

function filesUnder(baseDir: string): FileContext {
  return {
    inspect(path) {
      const fullPath = resolve(baseDir, path);
      return { fullPath, status: inspectPath(fullPath) };
    },
  };
}

/** Defaults that depend on another section, settled before the rules check them: a language model's reward. */
export function settleSectionDefaults(config: SearchConfig, doc: Document): void {
  completeReward(config.strategy.reward, config.dataset?.kind === 'text', (path) => locate(doc, path).found);
}

/** Fills in what follows from other settings once the file is known to be valid. */
export function completeDerivedSettings(config: SearchConfig, doc: Document): void {
  const { evaluation, strategy } = config;
  evaluationKind(evaluation).complete?.(evaluation, (path) => locate(doc, path).found);
  const derivedTrials = strategyKind(strategy).derivedTrials?.(strategy);
  if (derivedTrials !== undefined) config.budget.trials = derivedTrials;
}
