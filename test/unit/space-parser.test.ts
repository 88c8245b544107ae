import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatProblem, loadSearchFile, parseSearchText, type Problem } from '../../src/space/parse.ts';
import { BACKENDS, CELL_OPERATIONS } from '../../src/space/config.ts';
import { createRng } from '../../src/space/rng.ts';
import { PLAIN_RECIPE } from '../support/tiny.ts';

const repoRoot = join(__dirname, '..', '..');
const corpusDir = join(repoRoot, 'test', 'fixtures', 'bad-spaces');
// A valid 8x8 grey CSV (a header line, then 64 pixels and a label per row) that corpus files point at.
const CSV_8X8 = 'data/images-8x8.csv';

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
      batch_norm: true,
      head: 'auto',
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
      reward: { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 },
    },
    // reward_epochs defaults to 5 but never exceeds the epochs trained.
    evaluation: { kind: 'train', epochs: 3, batch_size: 64, optimizer: 'adam', learning_rate: 0.001, reward_epochs: 3, ...PLAIN_RECIPE },
    scheduler: { kind: 'none' },
    budget: { trials: 20 },
    runtime: { backend: 'auto', seed: 1 },
  });
});

test('a scheduler gets its defaults, and one the search cannot use is refused with the file, line and rule', () => {
  const asha = parseSearchText(`${MINIMAL}scheduler: { kind: asha }\n`, 'asha.nas.yaml');
  assert.deepEqual(asha.problems, []);
  assert.deepEqual(asha.config?.scheduler, { kind: 'asha', min_epochs: 1, reduction_factor: 3 });
  const median = parseSearchText(`${MINIMAL}scheduler: { kind: median }\n`, 'median.nas.yaml');
  assert.deepEqual(median.config?.scheduler, { kind: 'median', grace_epochs: 1, min_trials: 5 });
  const cases: [string, RegExp][] = [
    [
      'strategy: { kind: random }\nscheduler: { kind: asha, min_epochs: 3 }\n',
      /scheduler\.min_epochs: must be below evaluation\.epochs \(3\).*rule: scheduler-min-epochs/,
    ],
    [
      'strategy: { kind: random }\nscheduler: { kind: curve, grace_epochs: 3 }\n',
      /scheduler\.grace_epochs: must be below evaluation\.epochs.*rule: scheduler-grace/,
    ],
    [
      'scheduler: { kind: hyperband }\nstrategy: { kind: enas }\n',
      /strategy enas scores its children with shared weights.*rule: scheduler-needs-ask-tell/,
    ],
  ];
  for (const [extra, message] of cases) {
    const { problems } = parseSearchText(`${MINIMAL.replace(/^strategy:.*\n/m, '')}${extra}`, 'bad.nas.yaml');
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(formatProblem(problems[0]), message);
    assert.match(formatProblem(problems[0]), /^bad\.nas\.yaml:\d+:\d+/);
  }
  const tabular = parseSearchText(
    'name: t\nspace: { kind: nasbench201 }\nstrategy: { kind: random }\nevaluation: { kind: tabular }\nscheduler: { kind: median }\n',
    'tabular.nas.yaml',
  );
  assert.match(formatProblem(tabular.problems[0]), /tabular\.nas\.yaml:5:.*has no epochs.*rule: scheduler-needs-epochs/);
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
    batch_norm: true,
    head: 'auto',
  });
  assert.deepEqual(config?.strategy, { kind: 'random', reward: { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 } });
  assert.deepEqual(config?.evaluation, {
    kind: 'train',
    epochs: 10,
    reward_epochs: 4,
    batch_size: 64,
    optimizer: 'adam',
    learning_rate: 0.001,
    ...PLAIN_RECIPE,
  });
});

test('local and bayesian strategy defaults are filled in', () => {
  const strategyOf = (strategy: string) =>
    parseSearchText(`name: s\nspace: { kind: nasbench201 }\nevaluation: { kind: tabular }\nstrategy: ${strategy}\n`, 's.nas.yaml').config
      ?.strategy;
  const reward = { metric: 'val_accuracy', transform: 'identity', c: 80, k: 3 };
  assert.deepEqual(strategyOf('{ kind: local }'), { kind: 'local', initial: 1, reward });
  assert.deepEqual(strategyOf('{ kind: bayesian }'), { kind: 'bayesian', initial: 10, parents: 5, random_candidates: 20, reward });
  assert.deepEqual(strategyOf('{ kind: bayesian, parents: 2 }'), {
    kind: 'bayesian',
    initial: 10,
    parents: 2,
    random_candidates: 20,
    reward,
  });
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
    if (properties && !condition && record.allOf === undefined && record.then === undefined)
      assert.equal(record.additionalProperties, false, where);
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
    batch_norm: true,
    head: 'auto',
  });
  assert.equal(cell.config?.strategy.kind === 'reinforce' && cell.config.strategy.controller.temperature, 5);
  assert.equal(cell.config?.evaluation.kind === 'train' && cell.config.evaluation.reward_epochs, 2);
  assert.equal(cell.config?.budget.trials, 10);
});

test('every example validates with no problems; the one-shot ones search the standard 7-operation, 3-node cell or a recurrent cell', () => {
  const examples = readdirSync(join(repoRoot, 'examples')).filter((name) => name.endsWith('.nas.yaml'));
  assert.ok(examples.length >= 6, examples.join(', '));
  for (const name of examples) {
    const { problems, config } = loadSearchFile(join(repoRoot, 'examples', name));
    assert.deepEqual(problems, [], name);
    const oneShot = config?.strategy.kind === 'enas' || config?.strategy.kind === 'random-ws' || config?.strategy.kind === 'darts';
    if (oneShot && config?.space.kind === 'cell') {
      assert.deepEqual([config.space.nodes, [...config.space.operations].sort()], [3, [...CELL_OPERATIONS].sort()], name);
    } else if (oneShot && config?.space.kind !== 'recurrent') assert.fail(`${name}: a one-shot example on a ${config?.space.kind} space`);
  }
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
  // The allowed kinds are the schema's, in its order (macro, cell, nasbench201, ...).
  const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'nas-search.schema.json'), 'utf8'));
  const allowed = (schema.properties.space.properties.kind.enum as string[]).join(', ');
  assert.ok(allowed.startsWith('macro, cell, nasbench201'), allowed);
  assert.equal(problem.message, `space.kind: unknown value "macr" (rule: enum); allowed: ${allowed}`);
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
    ['strategy: { kind: random, reward: { transform: square } }', ['identity', 'cube', 'inverse_power', 'neg_log']],
    ['strategy: { kind: random, reward: { metric: loss } }', ['val_accuracy', 'val_perplexity']],
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
  const text = MINIMAL.replace('{ kind: digits }', `{ kind: csv, path: ${CSV_8X8}, image_shape: [8, 8, 1] }`);
  assert.deepEqual(parseSearchText(text, 'search.nas.yaml', { baseDir: corpusDir }).problems, []);
  const [missing] = parseSearchText(text, join(repoRoot, 'search.nas.yaml')).problems;
  assert.deepEqual(position(missing), { line: 2, column: 29, endLine: 2, endColumn: 48, rule: 'file-not-found' });
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

test('every bad file in the corpus gives its expected problem, and nothing throws', () => {
  const expectations = corpusExpectations();
  assert.ok(expectations.size >= 50, `only ${expectations.size} corpus files`);
  for (const [name, expected] of expectations) {
    const result = loadSearchFile(join(corpusDir, name));
    assert.equal(result.config, undefined, name);
    assert.ok(result.problems.length > 0, `${name}: no problem`);
    const found = result.problems.some((p) => p.line === expected.line && p.column === expected.column && p.rule === expected.rule);
    assert.ok(
      found,
      `${name}: expected ${expected.line}:${expected.column} ${expected.rule}, got\n${result.problems.map(formatProblem).join('\n')}`,
    );
    for (const problem of result.problems) {
      assert.ok(problem.message.includes(`(rule: ${problem.rule})`), `${name}: ${problem.message}`);
      // parseSearchText turns an exception of its own into an "unprocessable" problem: none may happen.
      assert.notEqual(problem.rule, 'unprocessable', `${name}: ${problem.message}`);
    }
  }
});

test('every semantic rule has a corpus file', () => {
  const rules = new Set([...corpusExpectations().values()].map((expected) => expected.rule));
  for (const rule of [
    'split-sum',
    'reward-epochs',
    'file-not-found',
    'budget-batch',
    'path-kind',
    'csv-columns',
    'image-channels',
    'buffer-replace',
    'buffer-loss-start',
    'text-files',
    'text-splits',
    'max-vocabulary-words',
    'recurrent-needs-text',
    'text-needs-recurrent',
    'reward-metric',
    'reward-transform',
    'reward-cost-metric',
    'reward-constraints-strategy',
    'reward-constraints-evaluation',
    'reward-constraint-uncountable',
    'reward-latency-unmeasured',
    'queue-url',
  ]) {
    assert.ok(rules.has(rule), rule);
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

test('10,000-deep nesting, block and flow, is reported where it passes the limit instead of overflowing the stack', () => {
  const depth = 10_000;
  const cases: Array<[string, number]> = [
    ['['.repeat(depth) + ']'.repeat(depth), 65],
    ['{a: '.repeat(depth) + '}'.repeat(depth), 257],
    ['- '.repeat(depth) + 'x', 129],
  ];
  for (const [text, column] of cases) {
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => [p.line, p.column, p.rule]),
      [[1, column, 'too-deep']],
    );
  }
  // Indented block mappings 10,000 deep would be 50 MB; 100 levels are past the limit already.
  const indented = Array.from({ length: 100 }, (_, level) => `${' '.repeat(level)}k:`).join('\n');
  assert.deepEqual(
    problemsOf(indented).map((p) => [p.line, p.column, p.rule]),
    [[65, 65, 'too-deep']],
  );
});

test('huge input is refused up front, from text and from a 10 MB file', () => {
  const problems = problemsOf(`name: ${'x'.repeat(2_000_000)}\n`);
  assert.deepEqual(
    problems.map((p) => [p.line, p.column, p.rule]),
    [[1, 1, 'too-large']],
  );
  const dir = mkdtempSync(join(tmpdir(), 'nas-parse-'));
  try {
    const file = join(dir, '10mb.nas.yaml');
    writeFileSync(file, `${MINIMAL}# ${'padding '.repeat((10 * 1024 * 1024) / 8)}\n`);
    const loaded = loadSearchFile(file);
    assert.deepEqual(
      loaded.problems.map((p) => [p.line, p.column, p.rule]),
      [[1, 1, 'too-large']],
    );
    assert.match(loaded.problems[0].message, /allowed: at most 65536/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 60 KiB file just under the size limit is still a valid search file', () => {
  const comment = '# Notes on this search, kept with it so that the run explains itself later.\n';
  const text = MINIMAL + comment.repeat(Math.floor((60 * 1024 - MINIMAL.length) / comment.length));
  assert.ok(text.length > 59 * 1024 && text.length < 64 * 1024);
  const { config, problems } = parseSearchText(text, 'large.nas.yaml');
  assert.deepEqual(problems, []);
  assert.equal(config?.name, 'minimal');
});

test('a file with 5,000 mistakes reports at most 100, from the top', () => {
  const text = `${MINIMAL}${'  - ]\n'.repeat(5000)}`;
  const problems = problemsOf(text);
  assert.ok(problems.length > 50 && problems.length <= 100, `${problems.length} problems`);
  assert.deepEqual(position(problems[0]), { line: 5, column: 3, endLine: 5, endColumn: 4, rule: 'yaml-syntax' });
});

test('a value past the limit of 1,000 is pointed at', () => {
  const values = Array.from({ length: 2000 }, (_, index) => index + 1).join(', ');
  const [problem] = problemsOf(MINIMAL.replace('layers: 3 }', `layers: 3, filters: [${values}] }`));
  // 10 values come before the list; the 990th list item is the 1,001st value.
  const column = 'space: { kind: macro, layers: 3, filters: ['.length + values.indexOf(', 990,') + 3;
  assert.deepEqual(position(problem), { line: 3, column, endLine: 3, endColumn: column + 1, rule: 'too-many-values' });
  assert.match(problem.message, /allowed: at most 1000 values/);
});

test('budget-batch: a REINFORCE batch larger than the budget is pointed at the batch size', () => {
  const text = MINIMAL.replace('strategy: { kind: reinforce }', 'strategy:\n  kind: reinforce\n  controller: { batch_size: 30 }');
  const [problem] = problemsOf(text);
  assert.deepEqual(position(problem), { line: 6, column: 29, endLine: 6, endColumn: 31, rule: 'budget-batch' });
  assert.match(problem.message, /budget of 20 trials .* batch_size 30 \(rule: budget-batch\); allowed: 1 to 20, or more budget\.trials$/);
  assert.deepEqual(parseSearchText(`${text}budget: { trials: 30 }\n`, 'x.nas.yaml').problems, []);
});

test(
  'memory buffer: counts above its size are pointed at, defaults fill the rest, and the size ' +
    'itself is blamed when the count is a default',
  () => {
    const withBuffer = (buffer: string) =>
      MINIMAL.replace('strategy: { kind: reinforce }', `strategy:\n  kind: reinforce\n  controller: { memory_buffer: ${buffer} }`);
    const [batch] = problemsOf(withBuffer('{ size: 8, batch_size: 9 }'));
    assert.equal(batch.rule, 'buffer-batch-size');
    assert.match(batch.message, /^strategy\.controller\.memory_buffer\.batch_size: must be at most memory_buffer\.size \(8\), got 9/);
    // add_per_step and replace default to 5: a size of 3 is at fault, and is where the problem points.
    const small = problemsOf(withBuffer('{ size: 3 }'));
    assert.deepEqual(small.map((p) => p.rule).sort(), ['buffer-add-per-step', 'buffer-batch-size', 'buffer-replace']);
    const parsed = parseSearchText(withBuffer('{ size: 50 }'), 'x.nas.yaml');
    assert.deepEqual(parsed.problems, []);
    const strategy = parsed.config?.strategy;
    assert.ok(strategy?.kind === 'reinforce');
    assert.deepEqual(strategy.controller.memory_buffer, {
      size: 50,
      start_step: 0,
      add_per_step: 5,
      replace: 5,
      loss_start_step: 0,
      batch_size: 20,
    });
    const plain = parseSearchText(MINIMAL, 'x.nas.yaml').config?.strategy;
    assert.ok(plain?.kind === 'reinforce');
    assert.equal(plain.controller.memory_buffer, undefined, 'absent unless written');
  },
);

test('path-kind: mnist needs a folder and csv a file', () => {
  const mnist = MINIMAL.replace('{ kind: digits }', `{ kind: mnist, path: ${CSV_8X8} }`);
  const [file] = parseSearchText(mnist, 'x.nas.yaml', { baseDir: corpusDir }).problems;
  assert.deepEqual(position(file), { line: 2, column: 31, endLine: 2, endColumn: 50, rule: 'path-kind' });
  assert.match(file.message, /is a file \(rule: path-kind\); allowed: the folder that holds train-images-idx3-ubyte/);
  const csv = MINIMAL.replace('{ kind: digits }', '{ kind: csv, path: data, image_shape: [8, 8, 1] }');
  const [folder] = parseSearchText(csv, 'x.nas.yaml', { baseDir: corpusDir }).problems;
  assert.deepEqual(position(folder), { line: 2, column: 29, endLine: 2, endColumn: 33, rule: 'path-kind' });
  // cifar10 reads one batch file or a folder of them.
  const cifar = MINIMAL.replace('{ kind: digits }', '{ kind: cifar10, path: data }');
  assert.deepEqual(parseSearchText(cifar, 'x.nas.yaml', { baseDir: corpusDir }).problems, []);
});

test('csv-columns: image_shape is checked against the first data row, the way the loader reads it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nas-csv-'));
  try {
    const search = (shape: string) => MINIMAL.replace('{ kind: digits }', `{ kind: csv, path: images.csv, image_shape: ${shape} }`);
    const check = (shape: string) => parseSearchText(search(shape), join(dir, 'x.nas.yaml')).problems;
    // A blank line and a header line come before the first row of 2x2x3 pixels and a label.
    writeFileSync(join(dir, 'images.csv'), '\r\nr,g,b,label\r\n1,2,3,4,5,6,7,8,9,10,11,12,0\r\n');
    assert.deepEqual(check('[2, 2, 3]'), []);
    const [problem] = check('[2, 2, 1]');
    assert.deepEqual(position(problem), { line: 2, column: 54, endLine: 2, endColumn: 63, rule: 'csv-columns' });
    assert.equal(
      problem.message,
      'dataset.image_shape: [2, 2, 1] needs 5 values per row (4 pixels, then the label), but line ' +
        '3 of images.csv holds 13 (rule: csv-columns); allowed: an image_shape whose height × width ' +
        '× channels is 12',
    );
    // Gzip would need decompressing, and a first row longer than what is read is cut: the loader decides.
    writeFileSync(join(dir, 'images.csv'), gzipSync('1,2,3\n'));
    assert.deepEqual(check('[2, 2, 1]'), []);
    writeFileSync(join(dir, 'images.csv'), `${'1,'.repeat(200_000)}0\n`);
    assert.deepEqual(check('[2, 2, 1]'), []);
    mkdirSync(join(dir, 'empty.csv'));
    const [folder] = parseSearchText(search('[2, 2, 1]').replace('images.csv', 'empty.csv'), join(dir, 'x.nas.yaml')).problems;
    assert.equal(folder.rule, 'path-kind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('problems carry the whole span of the node at fault', () => {
  const cases: Array<[string, ReturnType<typeof position>]> = [
    // Duplicate key in a flow mapping: the second key.
    [MINIMAL.replace('layers: 3 }', 'layers: 3, layers: 4 }'), { line: 3, column: 34, endLine: 3, endColumn: 40, rule: 'duplicate-key' }],
    // An alias as a key: the alias.
    [MINIMAL.replace('name: minimal', 'name: &n name\n*n : other'), { line: 2, column: 1, endLine: 2, endColumn: 3, rule: 'alias-key' }],
    // A list as a key: the list.
    [`${MINIMAL}[a, b]: 1\n`, { line: 5, column: 1, endLine: 5, endColumn: 7, rule: 'complex-key' }],
    // An alias inside the collection its anchor names.
    [
      MINIMAL.replace('{ kind: macro, layers: 3 }', '&s { kind: macro, layers: 3, filters: [*s] }'),
      { line: 3, column: 47, endLine: 3, endColumn: 49, rule: 'alias-cycle' },
    ],
    // A control character, a lone surrogate, a bidirectional override, a no-break space as indentation.
    [MINIMAL.replace('minimal', 'mini\u0007mal'), { line: 1, column: 11, endLine: 1, endColumn: 12, rule: 'non-printable' }],
    [MINIMAL.replace('minimal', 'mini\uD800mal'), { line: 1, column: 11, endLine: 1, endColumn: 12, rule: 'non-printable' }],
    [MINIMAL.replace('minimal', '\u2067minimal'), { line: 1, column: 7, endLine: 1, endColumn: 8, rule: 'bidi-control' }],
    [
      MINIMAL.replace('space: {', 'space:\n \u00A0kind: macro\nx: {'),
      { line: 4, column: 2, endLine: 4, endColumn: 3, rule: 'unicode-space' },
    ],
    // Tab indentation: the tab, however yaml words it.
    [
      MINIMAL.replace('space: { kind: macro, layers: 3 }', 'space:\n  kind: macro\n\tlayers: 3'),
      { line: 5, column: 1, endLine: 5, endColumn: 2, rule: 'yaml-syntax' },
    ],
    // An unclosed string: its opening quote, not the end of the file.
    [MINIMAL.replace('name: minimal', 'name: "minimal'), { line: 1, column: 7, endLine: 1, endColumn: 8, rule: 'yaml-syntax' }],
    // CRLF line endings do not shift columns.
    [`${MINIMAL}evaluation:\n  epochs: 0\n`.replace(/\n/g, '\r\n'), { line: 6, column: 11, endLine: 6, endColumn: 12, rule: 'minimum' }],
    // More than 100 aliases: the 101st.
    [
      MINIMAL.replace('layers: 3 }', `layers: &l 3, filters: [${Array(101).fill('*l').join(', ')}] }`),
      { line: 3, column: 447, endLine: 3, endColumn: 449, rule: 'alias-limit' },
    ],
  ];
  for (const [text, expected] of cases) {
    const problems = problemsOf(text);
    const found = problems.find((problem) => problem.rule === expected.rule);
    assert.ok(found, `${expected.rule}: got ${problems.map(formatProblem).join('\n')}`);
    assert.deepEqual(position(found), expected, found.message);
    assert.ok(found.message.includes(`(rule: ${expected.rule})`), found.message);
  }
});

test('messages name the odd character in a key that looks right', () => {
  const cases: Array<[string, string]> = [
    [`${MINIMAL}sp\u200Bace: 1\n`, 'unknown key "sp\\u200Bace", which contains the non-ASCII character U+200B'],
    [`${MINIMAL}budget\uFF1A { trials: 5 }\n`, 'unknown key "budget： { trials", which contains the non-ASCII character U+FF1A'],
    [`${MINIMAL}\u{1F680}: 1\n`, 'unknown key "\u{1F680}", which contains the non-ASCII character U+1F680'],
  ];
  for (const [text, expected] of cases) {
    const [problem] = problemsOf(text);
    assert.equal(problem.rule, 'unknown-key');
    assert.ok(problem.message.includes(expected), problem.message);
  }
});

test('a duplicate key says where the first one is, and "1" and 1 are the same key', () => {
  const [problem] = problemsOf(`${MINIMAL}runtime:\n  1: a\n  "1": b\n`);
  assert.deepEqual(position(problem), { line: 7, column: 3, endLine: 7, endColumn: 6, rule: 'duplicate-key' });
  assert.equal(problem.message, 'duplicate key "1", already on line 6 (rule: duplicate-key); allowed: each key once in a mapping');
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
  assert.deepEqual(
    parseSearchText(file(['space: { kind: nasbench201 }', 'strategy: { kind: random }', tabular]), 'nb.nas.yaml').problems,
    [],
  );
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
    {
      // Shared weights train on images: a looked-up table has none.
      lines: ['space: { kind: nasbench201 }', 'strategy: { kind: random-ws }', tabular],
      expected: { line: 4, column: 21, endLine: 4, endColumn: 28, rule: 'oneshot-evaluation' },
    },
  ];
  for (const { lines, expected } of cases) {
    const problems = problemsOf(file(lines));
    assert.deepEqual(problems.map(position), [expected], problems.map(formatProblem).join('\n'));
  }
  assert.match(
    problemsOf(file(['space: { kind: macro, layers: 2 }', 'strategy: { kind: random }']))[0].message,
    /missing required key "dataset"/,
  );
});
