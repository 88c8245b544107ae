import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem, loadSearchFile, parseSearchText, type Problem } from '../../src/space/parse.ts';
import { BACKENDS, CELL_OPERATIONS } from '../../src/space/config.ts';
import { createRng } from '../../src/space/rng.ts';

const repoRoot = join(__dirname, '..', '..');
const corpusDir = join(repoRoot, 'test', 'fixtures', 'bad-spaces');

const MINIMAL = `name: minimal
dataset: { kind: digits }
space: { kind: macro, layers: 3 }
strategy: { kind: reinforce }
`;

function problemsOf(text: string): Problem[] {
  const result = parseSearchText(text, 'search.nas.yaml', { checkFiles: false });
  assert.equal(result.config, undefined, 'a config must not come with problems');
  assert.ok(result.problems.length > 0, 'expected at least one problem');
  return result.problems;
}

function position(problem: Problem) {
  const { line, column, endLine, endColumn, rule } = problem;
  return { line, column, endLine, endColumn, rule };
}

test('a minimal file gets every default filled in', () => {
  const { config, problems } = parseSearchText(MINIMAL, 'minimal.nas.yaml');
  assert.deepEqual(problems, []);
  assert.deepEqual(config, {
    name: 'minimal',
    dataset: { kind: 'digits', validation_split: 0.2, test_split: 0.1, seed: 1 },
    space: {
      kind: 'macro',
      layers: 3,
      filter_heights: [1, 3, 5, 7],
      filter_widths: [1, 3, 5, 7],
      filters: [24, 36, 48, 64],
      skip_connections: true,
    },
    strategy: {
      kind: 'reinforce',
      controller: {
        hidden: 64,
        learning_rate: 0.00035,
        entropy_weight: 0.0001,
        baseline_decay: 0.95,
        temperature: 1,
        tanh_constant: 2.5,
        batch_size: 1,
      },
      reward: { metric: 'val_accuracy', transform: 'identity' },
    },
    // reward_epochs defaults to 5 but never exceeds the epochs trained.
    evaluation: { kind: 'train', epochs: 3, batch_size: 64, optimizer: 'adam', learning_rate: 0.001, reward_epochs: 3 },
    budget: { trials: 20 },
    runtime: { backend: 'auto', seed: 1 },
  });
});

test('cell, csv and random defaults are filled in, and an explicit reward_epochs is kept', () => {
  const text = `name: cell
dataset: { kind: csv, path: images.csv, image_shape: [8, 8, 1] }
space: { kind: cell }
strategy: { kind: random }
evaluation: { epochs: 10, reward_epochs: 4 }
`;
  const { config, problems } = parseSearchText(text, 'cell.nas.yaml', { checkFiles: false });
  assert.deepEqual(problems, []);
  assert.deepEqual(config?.dataset, {
    kind: 'csv',
    path: 'images.csv',
    image_shape: [8, 8, 1],
    pixel_scale: 255,
    validation_split: 0.2,
    test_split: 0.1,
    seed: 1,
  });
  assert.deepEqual(config?.space, {
    kind: 'cell',
    nodes: 5,
    operations: [...CELL_OPERATIONS],
    cells_per_stage: 2,
    stages: 2,
    filters: 16,
  });
  assert.deepEqual(config?.strategy, { kind: 'random', reward: { metric: 'val_accuracy', transform: 'identity' } });
  assert.deepEqual(config?.evaluation, { kind: 'train', epochs: 10, reward_epochs: 4, batch_size: 64, optimizer: 'adam', learning_rate: 0.001 });
});

test('local and bayesian strategy defaults are filled in', () => {
  const strategyOf = (strategy: string) =>
    parseSearchText(`name: s\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular }\nstrategy: ${strategy}\n`, 's.nas.yaml').config?.strategy;
  const reward = { metric: 'val_accuracy', transform: 'identity' };
  assert.deepEqual(strategyOf('{ kind: local }'), { kind: 'local', initial: 1, reward });
  assert.deepEqual(strategyOf('{ kind: bayesian }'), { kind: 'bayesian', initial: 10, parents: 5, random_candidates: 20, reward });
  assert.deepEqual(strategyOf('{ kind: bayesian, parents: 2 }'), { kind: 'bayesian', initial: 10, parents: 2, random_candidates: 20, reward });
});

test('every property in the schema has a description, and every closed object lists its properties', () => {
  const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'nas-search.schema.json'), 'utf8')) as unknown;
  const undocumented: string[] = [];
  const visitSchema = (node: unknown, where: string) => {
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    const properties = record.properties as Record<string, Record<string, unknown>> | undefined;
    // Conditions under `if` define nothing; the kind-dispatching wrappers (allOf of if/then, or
    // if/then/else) leave closing to the per-kind schema they select.
    const condition = /\/if(\/|$)/.test(where);
    if (properties && !condition && record.allOf === undefined && record.then === undefined) assert.equal(record.additionalProperties, false, where);
    for (const [name, property] of Object.entries(properties ?? {})) {
      if (!condition && typeof property.description !== 'string') undocumented.push(`${where}/${name}`);
    }
    for (const [key, child] of Object.entries(record)) visitSchema(child, `${where}/${key}`);
  };
  visitSchema(schema, '#');
  assert.deepEqual(undocumented, []);
});

test('both examples validate with no problems', () => {
  const macro = loadSearchFile(join(repoRoot, 'examples', 'digits-macro.nas.yaml'));
  assert.deepEqual(macro.problems, []);
  assert.equal(macro.config?.space.kind, 'macro');
  assert.equal(macro.config?.strategy.reward.transform, 'cube');
  assert.equal(macro.config?.budget.trials, 30);

  const cell = loadSearchFile(join(repoRoot, 'examples', 'digits-cell.nas.yaml'));
  assert.deepEqual(cell.problems, []);
  assert.deepEqual(cell.config?.space, {
    kind: 'cell',
    nodes: 3,
    operations: [...CELL_OPERATIONS],
    cells_per_stage: 1,
    stages: 2,
    filters: 8,
  });
  assert.equal(cell.config?.strategy.kind === 'reinforce' && cell.config.strategy.controller.temperature, 5);
  assert.equal(cell.config?.evaluation.kind === 'train' && cell.config.evaluation.reward_epochs, 2);
  assert.equal(cell.config?.budget.trials, 10);
});

test('an unknown enum value is pointed at exactly and lists what is allowed', () => {
  const [problem, ...rest] = problemsOf(`name: x
dataset: { kind: digits }
space:
  kind: macr
  layers: 3
strategy: { kind: random }
`);
  assert.deepEqual(rest, []);
  assert.deepEqual(position(problem), { line: 4, column: 9, endLine: 4, endColumn: 13, rule: 'enum' });
  assert.equal(problem.message, 'space.kind: unknown value "macr" (rule: enum); allowed: macro, cell, nasbench201');
});

test('a wrong kind gives one enum problem, not one per kind', () => {
  const problems = problemsOf(`name: x
dataset: { kind: imagenet, path: ./images, image_shape: [1, 2, 3] }
space: { kind: macro, layers: 3 }
strategy: { kind: evolutionary, population: 20, controller: {} }
`);
  assert.deepEqual(
    problems.map((p) => [p.line, p.column, p.rule]),
    [
      [2, 18, 'enum'],
      [4, 19, 'enum'],
    ],
  );
});

test('a list item out of range is pointed at in the flow sequence', () => {
  const [problem] = problemsOf(`name: x
dataset: { kind: digits }
space: { kind: macro, layers: 3, filters: [16, 0, 32] }
strategy: { kind: random }
`);
  assert.deepEqual(position(problem), { line: 3, column: 48, endLine: 3, endColumn: 49, rule: 'minimum' });
  assert.equal(problem.message, 'space.filters[1]: must be an integer ≥ 1, got 0 (rule: minimum)');
});

test('an unknown key is pointed at by the key, with the allowed keys', () => {
  const [problem] = problemsOf(`name: x
dataset: { kind: digits }
space: { kind: macro, layers: 3 }
strategy:
  kind: reinforce
  controler: { hidden: 32 }
`);
  assert.deepEqual(position(problem), { line: 6, column: 3, endLine: 6, endColumn: 12, rule: 'unknown-key' });
  assert.equal(problem.message, 'strategy: unknown key "controler" (rule: unknown-key); allowed: kind, controller, reward');
});

test('a missing key is pointed at the mapping that lacks it; an empty value at its key', () => {
  const problems = problemsOf(`name: x
dataset: { kind: csv, path: images.csv }
space:
  kind: macro
  layers:
strategy: { kind: random }
`);
  assert.deepEqual(position(problems[0]), { line: 2, column: 10, endLine: 2, endColumn: 41, rule: 'required' });
  assert.equal(problems[0].message, 'dataset: missing required key "image_shape" (rule: required)');
  assert.deepEqual(position(problems[1]), { line: 5, column: 3, endLine: 5, endColumn: 9, rule: 'type' });
  assert.equal(problems[1].message, 'space.layers: must be an integer from 1 to 64, got an empty value (rule: type)');
});

test('messages for enums include every allowed value', () => {
  const cases: Array<[string, readonly string[]]> = [
    ['runtime: { backend: cuda }', BACKENDS],
    ['evaluation: { optimizer: adagrad }', ['adam', 'sgd', 'rmsprop']],
    ['strategy: { kind: random, reward: { transform: square } }', ['identity', 'cube']],
    ['strategy: { kind: random, reward: { metric: loss } }', ['val_accuracy']],
  ];
  for (const [line, allowed] of cases) {
    const base = MINIMAL.replace(/^strategy:.*$/m, line.startsWith('strategy') ? line : 'strategy: { kind: random }');
    const text = line.startsWith('strategy') ? base : `${base}${line}\n`;
    const [problem] = problemsOf(text);
    assert.equal(problem.rule, 'enum');
    assert.ok(problem.message.endsWith(`; allowed: ${allowed.join(', ')}`), problem.message);
  }
  const space = MINIMAL.replace('{ kind: macro, layers: 3 }', '{ kind: cell, operations: [conv7x7] }');
  const [operation] = problemsOf(space);
  assert.ok(operation.message.endsWith(`; allowed: ${CELL_OPERATIONS.join(', ')}`), operation.message);
});

test('formatProblem gives file:line:column: message', () => {
  const [problem] = parseSearchText('- a list\n', 'dir/bad.nas.yaml').problems;
  assert.equal(formatProblem(problem), `dir/bad.nas.yaml:1:1: ${problem.message}`);
  assert.match(problem.message, /\(rule: not-a-mapping\)/);
});

test('dataset paths resolve against baseDir, and checkFiles: false skips the check', () => {
  const text = MINIMAL.replace('{ kind: digits }', '{ kind: csv, path: digits-macro.nas.yaml, image_shape: [8, 8, 1] }');
  assert.deepEqual(parseSearchText(text, 'search.nas.yaml', { baseDir: join(repoRoot, 'examples') }).problems, []);
  const [missing] = parseSearchText(text, join(repoRoot, 'search.nas.yaml')).problems;
  assert.deepEqual(position(missing), { line: 2, column: 29, endLine: 2, endColumn: 50, rule: 'file-not-found' });
  assert.deepEqual(parseSearchText(text, 'search.nas.yaml', { checkFiles: false }).problems, []);
});

test('a missing search file is a problem, not a throw', () => {
  const result = loadSearchFile(join(corpusDir, 'no-such-file.nas.yaml'));
  assert.equal(result.config, undefined);
  assert.equal(result.text, '');
  assert.deepEqual(
    result.problems.map((p) => [p.line, p.column, p.rule]),
    [[1, 1, 'file-not-found']],
  );
});

interface Expectation {
  line: number;
  column: number;
  rule: string;
}

function corpusExpectations(): Map<string, Expectation> {
  const listed = JSON.parse(readFileSync(join(corpusDir, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
  const expectations = new Map(Object.entries(listed));
  for (const name of readdirSync(corpusDir).filter((file) => file.endsWith('.nas.yaml'))) {
    if (expectations.has(name)) continue;
    const match = /^# expect: (\d+):(\d+) ([a-z-]+)$/m.exec(readFileSync(join(corpusDir, name), 'utf8').split('\n')[0]);
    assert.ok(match, `${name} has no "# expect: LINE:COLUMN RULE" first line and no entry in expectations.json`);
    expectations.set(name, { line: Number(match[1]), column: Number(match[2]), rule: match[3] });
  }
  return expectations;
}

test('every bad file in the corpus gives its expected problem', () => {
  const expectations = corpusExpectations();
  assert.ok(expectations.size >= 25, `only ${expectations.size} corpus files`);
  for (const [name, expected] of expectations) {
    const result = loadSearchFile(join(corpusDir, name));
    assert.equal(result.config, undefined, name);
    const found = result.problems.some(
      (p) => p.line === expected.line && p.column === expected.column && p.rule === expected.rule,
    );
    assert.ok(found, `${name}: expected ${expected.line}:${expected.column} ${expected.rule}, got\n${result.problems.map(formatProblem).join('\n')}`);
    for (const problem of result.problems) assert.match(problem.message, /\(rule: [a-z-]+\)/, name);
  }
});

test('binary garbage comes back as problems', () => {
  const rng = createRng(42);
  for (let sample = 0; sample < 50; sample++) {
    const bytes = Buffer.from(Array.from({ length: 1 + rng.int(4000) }, () => rng.int(256)));
    problemsOf(bytes.toString('utf8'));
    problemsOf(bytes.toString('latin1'));
  }
});

test('10,000-deep nesting is reported on line 1 instead of overflowing the stack', () => {
  const depth = 10_000;
  for (const text of ['['.repeat(depth) + ']'.repeat(depth), '{a: '.repeat(depth) + '}'.repeat(depth), '- '.repeat(depth) + 'x']) {
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => [p.line, p.rule]),
      [[1, 'too-deep']],
    );
  }
  const indented = Array.from({ length: 100 }, (_, level) => `${' '.repeat(level)}k:`).join('\n');
  assert.equal(problemsOf(indented)[0].rule, 'too-deep');
});

test('huge input is refused up front', () => {
  const problems = problemsOf(`name: ${'x'.repeat(2_000_000)}\n`);
  assert.deepEqual(
    problems.map((p) => [p.line, p.column, p.rule]),
    [[1, 1, 'too-large']],
  );
});

test('the NAS-Bench-201 example validates: no dataset section, a tabular evaluation', () => {
  const { config, problems } = loadSearchFile(join(repoRoot, 'examples', 'nasbench201.nas.yaml'));
  assert.deepEqual(problems, []);
  assert.equal(config?.dataset, undefined);
  assert.deepEqual(config?.space, { kind: 'nasbench201' });
  assert.deepEqual(config?.evaluation, { kind: 'tabular', dataset: 'cifar10' });
});

test('the nasbench201 space and the tabular evaluation go together, without a dataset section', () => {
  const file = (lines: string[]) => `name: nb\n${lines.join('\n')}\n`;
  const tabular = 'evaluation: { kind: tabular }';
  assert.deepEqual(parseSearchText(file(['space: { kind: nasbench201 }', 'strategy: { kind: random }', tabular]), 'nb.nas.yaml').problems, []);
  const cases: { lines: string[]; expected: ReturnType<typeof position> }[] = [
    {
      lines: ['dataset: { kind: digits }', 'space: { kind: nasbench201 }', 'strategy: { kind: random }'],
      expected: { line: 3, column: 16, endLine: 3, endColumn: 27, rule: 'nasbench201-needs-tabular' },
    },
    {
      lines: ['space: { kind: macro, layers: 2 }', 'strategy: { kind: random }', tabular],
      expected: { line: 4, column: 21, endLine: 4, endColumn: 28, rule: 'tabular-needs-nasbench201' },
    },
    {
      lines: ['dataset: { kind: digits }', 'space: { kind: nasbench201 }', 'strategy: { kind: random }', tabular],
      expected: { line: 2, column: 1, endLine: 2, endColumn: 8, rule: 'tabular-dataset' },
    },
    {
      lines: ['space: { kind: macro, layers: 2 }', 'strategy: { kind: random }'],
      expected: { line: 1, column: 1, endLine: 1, endColumn: 9, rule: 'required' },
    },
  ];
  for (const { lines, expected } of cases) {
    const problems = problemsOf(file(lines));
    assert.deepEqual(problems.map(position), [expected], problems.map(formatProblem).join('\n'));
  }
  assert.match(problemsOf(file(['space: { kind: macro, layers: 2 }', 'strategy: { kind: random }']))[0].message, /missing required key "dataset"/);
});
