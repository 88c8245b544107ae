// The engine's runner and strategy registries against the file format's strategy kinds, the trial
// lifecycle's hooks for early stopping, remote workers and per-trial cancel, and the rule that no
// module of src/ imports itself back at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import type { EngineEvent, EpochMetrics } from '../../src/protocol/engine.ts';
import { EvaluationFailed, type EpochListener, type EvaluationRequest, type Evaluator } from '../../src/engine/evaluators/evaluator.ts';
import { askTellRunner } from '../../src/engine/runners/ask-tell.ts';
import { searchRunner } from '../../src/engine/runners/registry.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { evaluateTrial } from '../../src/engine/trial-lifecycle.ts';
import type { StrategyConfig } from '../../src/space/config.ts';
import type { StrategyKind } from '../../src/space/kinds/kind-module.ts';
import { STRATEGY_KINDS as STRATEGY_MODULES } from '../../src/space/kinds/strategies/registry.ts';
import { freshDirs } from '../support/temp-dirs.ts';

const ROOT = join(__dirname, '..', '..');
const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'nas-search.schema.json'), 'utf8'));
const STRATEGY_KINDS: string[] = schema.properties.strategy.properties.kind.enum;
const ONE_SHOT = ['enas', 'random-ws', 'darts'];

test(
  'every strategy kind of the file format has a runner; exactly the one-shot kinds have one of their own (and fixed trials), ' +
    'and only the others are ask/tell kinds',
  async () => {
    assert.deepEqual(Object.keys(STRATEGY_MODULES).sort(), [...STRATEGY_KINDS].sort());
    const oneShot: string[] = [];
    for (const [kind, module] of Object.entries(STRATEGY_MODULES) as [string, StrategyKind<StrategyConfig>][]) {
      const runner = await searchRunner({ kind } as StrategyConfig);
      assert.equal(runner === askTellRunner, !runner.oneShot, kind);
      assert.equal(module.derivedTrials !== undefined, runner.oneShot, `${kind}: fixed trials exactly when one-shot`);
      assert.equal(module.createAskTell !== undefined, !runner.oneShot, `${kind}: ask/tell exactly when not one-shot`);
      if (runner.oneShot) oneShot.push(kind);
    }
    assert.deepEqual(oneShot.sort(), [...ONE_SHOT].sort());
  },
);

const METRICS: EpochMetrics = { epoch: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5, seconds: 0.1 };

test(
  'a trial: plain-data request with its run and index, epochs streamed with the early-stopping ' +
    'verdict, cancelled alone and recorded interrupted',
  async () => {
    const store = new Store(':memory:');
    try {
      const runId = createRunFromFile(store, join(ROOT, 'examples', 'nasbench201.nas.yaml'), {});
      const { config } = store.runConfig(runId);
      const requests: EvaluationRequest[] = [];
      const verdicts: ReturnType<EpochListener>[] = [];
      let rejectEvaluation: (error: Error) => void = () => {};
      const evaluator: Evaluator = {
        backend: 'cpu',
        backendDetail: 'fake',
        size: 1,
        evaluate(request, onEpoch) {
          requests.push(request);
          verdicts.push(onEpoch(METRICS), onEpoch({ ...METRICS, epoch: 2 }));
          return new Promise((_, reject) => (rejectEvaluation = reject));
        },
        cancelAll() {},
        cancel(request) {
          assert.equal(request, requests[0]);
          rejectEvaluation(new EvaluationFailed('cancelled', true));
        },
        async close() {},
      };
      const events: EngineEvent[] = [];
      const cancel = new AbortController();
      const architecture = [0, 1, 2, 3, 4, 0];
      const trial = evaluateTrial({ store, runId, config, emit: (event) => events.push(event) }, { index: 0, architecture }, evaluator, {
        onEpoch: (metrics) => (metrics.epoch >= 2 ? 'stop' : 'continue'),
        signal: cancel.signal,
      });
      cancel.abort();
      const outcome = await trial;

      assert.deepEqual(outcome, { index: 0, status: 'interrupted', reward: null });
      assert.equal(store.getTrial(runId, 0)?.status, 'interrupted');
      const [request] = requests;
      assert.deepEqual(structuredClone(request), request, 'the request survives serialisation');
      assert.equal(request.runId, runId);
      assert.equal(request.index, 0);
      assert.deepEqual(request.architecture, architecture);
      assert.equal(request.seed, config.runtime.seed * 100003);
      assert.deepEqual(verdicts, ['continue', 'stop']);
      assert.deepEqual(
        events.map((event) => event.type),
        ['trial-started', 'epoch', 'epoch', 'trial-finished'],
      );
    } finally {
      store.close();
    }
  },
);

/** The modules a source file imports at run time (type-only imports and exports left out), as absolute paths. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const imports: string[] = [];
  for (const statement of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name &&
            bindings !== undefined &&
            ts.isNamedImports(bindings) &&
            bindings.elements.every((element) => element.isTypeOnly)));
      if (!onlyTypes) specifier = statement.moduleSpecifier;
    } else if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) {
      const clause = statement.exportClause;
      const onlyTypes = clause !== undefined && ts.isNamedExports(clause) && clause.elements.every((element) => element.isTypeOnly);
      if (!onlyTypes) specifier = statement.moduleSpecifier;
    }
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith('.')) imports.push(resolve(dirname(file), specifier.text));
  }
  return imports;
}

test('the ask/tell loop tells each trial its recorded cost: Pareto evolution keeps every member with its params and FLOPs', async () => {
  const file = join(freshDirs('nas-pareto-')(), 'pareto.nas.yaml');
  writeFileSync(
    file,
    'name: pareto\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular, dataset: cifar10 }\n' +
      'strategy: { kind: evolution, population_size: 6, sample_size: 3, pareto: { minimise: [params, flops] } }\nbudget: { trials: 20 }\n',
  );
  const store = new Store(':memory:');
  const runId = createRunFromFile(store, file, {});
  assert.equal(await runSearch(store, runId, { onEvent: () => {} }), 'done');
  const recorded = new Map(store.listTrials(runId).map((trial) => [String(trial.architecture), trial.metrics]));
  const { population } = store.latestCheckpoint(runId)!.state as {
    population: { architecture: number[]; cost: { params: number; flops: number } }[];
  };
  assert.equal(population.length, 6);
  for (const member of population) {
    const metrics = recorded.get(String(member.architecture))!;
    // The table times no forward pass: no latency.
    assert.deepEqual(member.cost, { params: metrics.params, flops: metrics.flops, latencyMs: null });
    assert.ok(member.cost.params > 0);
  }
});

test('no module of src/ imports itself back at run time', () => {
  const files = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.tsx?$/.test(name))
    .map((name) => resolve(ROOT, 'src', name));
  const imports = new Map(files.map((file) => [file, runtimeImports(file)]));
  const visiting: string[] = [];
  const done = new Set<string>();
  const cycles: string[] = [];
  const visit = (file: string) => {
    visiting.push(file);
    for (const imported of imports.get(file) ?? []) {
      const at = visiting.indexOf(imported);
      if (at >= 0) cycles.push([...visiting.slice(at), imported].map((path) => relative(ROOT, path)).join(' -> '));
      else if (!done.has(imported)) visit(imported);
    }
    visiting.pop();
    done.add(file);
  };
  for (const file of files) if (!done.has(file)) visit(file);
  assert.deepEqual(cycles, []);
});
