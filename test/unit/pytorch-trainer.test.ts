// The reference PyTorch trainer (examples/pytorch/train.py) for real: its networks have the built-in
// children's weights, and a search of command trials trains them on digits. Skipped, with the reason,
// where neither python3 nor /usr/bin/python3 imports torch and numpy.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '../../src/engine/model/build.ts';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import { compileSpace, decodeArchitecture } from '../../src/space/graph.ts';
import { architectureOfCellString } from '../../src/space/nasbench201.ts';
import { parseSearchText } from '../../src/space/parse.ts';
import { createRng } from '../../src/space/rng.ts';

const EXAMPLE = join(__dirname, '..', '..', 'examples', 'pytorch');
const python = ['python3', '/usr/bin/python3'].find((candidate) => spawnSync(candidate, ['-c', 'import torch, numpy']).status === 0);

/**
 * Runs `body` in Python with the example's networks imported and `count(modules)`, train.py's parameter
 * count (batch norm's running statistics included), defined; `input` goes in as JSON on stdin. Its printed lines.
 */
function inPython(body: string, input: unknown): string[] {
  const script = `import json, sys, torch
sys.path.insert(0, ${JSON.stringify(EXAMPLE)})
from networks import build, describe
def count(modules):
    return sum(p.numel() for p in modules.parameters()) + sum(b.numel() for n, b in modules.named_buffers() if "running" in n)
${body}`;
  const run = spawnSync(python!, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim().split('\n');
}

function needsTorch(t: TestContext): boolean {
  if (python) return true;
  console.log('SKIP PyTorch trainer tests: neither python3 nor /usr/bin/python3 imports torch and numpy');
  t.skip('no python with torch');
  return false;
}

const SPACES = {
  macro: 'space: { kind: macro, layers: 4, filter_heights: [1, 3, 5], filter_widths: [1, 3, 5], filters: [8, 16], skip_connections: true }',
  'macro without batch norm': 'space: { kind: macro, layers: 3, filter_heights: [3], filter_widths: [3], filters: [4], batch_norm: false }',
  cell: `space: { kind: cell, nodes: 3, operations: [conv3x3, conv5x5, sep_conv3x3, sep_conv5x5, max_pool, avg_pool, identity],
  cells_per_stage: 1, stages: 3, filters: 4 }`,
  'cell without batch norm':
    'space: { kind: cell, nodes: 2, operations: [sep_conv3x3, identity, avg_pool], stages: 2, filters: 4, batch_norm: false }',
};

test('the PyTorch networks have the weights of the built-in children (macro and cell, random architectures)', async (t) => {
  if (!needsTorch(t)) return;
  const rng = createRng(5);
  const children = [];
  for (const [name, spaceLine] of Object.entries(SPACES)) {
    const text = `name: x\ndataset: { kind: digits }\n${spaceLine}\nstrategy: { kind: random }\n`;
    const space = parseSearchText(text, 'x.nas.yaml').config!.space;
    for (const inputShape of [
      [8, 8, 1],
      [28, 28, 3],
    ] as [number, number, number][]) {
      for (let draw = 0; draw < 3; draw++) {
        const graph = decodeArchitecture(
          space,
          compileSpace(space).map((decision) => rng.int(decision.options.length)),
        );
        const model = await buildModel(graph, space, { inputShape, classes: 10, seed: 1 });
        children.push({ name, graph, space, inputShape, params: model.countParams() });
        model.dispose();
      }
    }
  }
  const counted = inPython(
    `for child in json.load(sys.stdin):
    modules, forward = build(describe(child["graph"], child["space"], child["inputShape"], 10), torch)
    h, w, c = child["inputShape"]
    assert forward(torch.zeros(2, c, h, w)).shape == (2, 10)
    print(count(modules))`,
    children,
  );
  assert.deepEqual(
    counted.map(Number),
    children.map((child) => child.params),
    JSON.stringify(children.map((child) => [child.name, child.inputShape])),
  );
});

test('the PyTorch network of NAS-Bench-201 cells from its table: logits from digits and 32x32x3 images, 1.53 M weights', (t) => {
  if (!needsTorch(t)) return;
  const table = readFileSync(join(__dirname, '..', '..', 'data', 'nas-bench-201', 'nas-bench-201.csv'), 'utf8');
  const cells = table
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[1]);
  const largest = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
  // The first row, one whose node 1 is all zeros (every edge into it `none`), and the largest cell.
  const chosen = [cells[0], cells.find((cell) => cell.startsWith('|none~0|+'))!, cells.find((cell) => cell === largest)!];
  // The search file that trains them: nasbench201 with the command evaluation.
  const text = `name: x\ndataset: { kind: digits }\nspace: { kind: nasbench201 }\nstrategy: { kind: random }
evaluation: { kind: command, command: [python3, examples/pytorch/train.py] }\n`;
  const space = parseSearchText(text, 'x.nas.yaml').config!.space;
  const graphs = chosen.map((cell) => decodeArchitecture(space, architectureOfCellString(cell)));
  const params = inPython(
    `for graph in json.load(sys.stdin):
    for h, w, c in ([8, 8, 1], [32, 32, 3]):
        modules, forward = build(describe(graph, {"kind": "nasbench201"}, [h, w, c], 10), torch)
        assert forward(torch.zeros(2, c, h, w)).shape == (2, 10)
    # The count on 32x32x3.
    print(count(modules))`,
    graphs,
  ).map(Number);
  assert.equal(params.length, 3);
  // NAS-Bench-201 reports 1.531 M for its largest cell on CIFAR-10 (weights alone; running statistics add 7,264).
  assert.ok(Math.abs(params[2] / 1.53e6 - 1) < 0.01, `largest cell: ${params[2]} weights`);
});

test('a search of the reference PyTorch trainer on digits: 4 trials of 2 epochs, rewards from the final reports', async (t) => {
  if (!needsTorch(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'nas-pytorch-'));
  const store = new Store(join(dir, 'runs.db'));
  const file = join(dir, 'pytorch.nas.yaml');
  writeFileSync(
    file,
    `name: pytorch
dataset: { kind: digits, validation_split: 0.2, seed: 1 }
space: { kind: macro, layers: 4, filter_heights: [1, 3, 5], filter_widths: [1, 3, 5], filters: [8, 16, 32], skip_connections: true }
strategy: { kind: random }
evaluation: { kind: command, command: [${JSON.stringify(python)}, ${JSON.stringify(join(EXAMPLE, 'train.py'))}], epochs: 2 }
budget: { trials: 4 }
runtime: { seed: 3 }
`,
  );
  const run = createRunFromFile(store, file, {});
  const started = performance.now();
  assert.equal(await runSearch(store, run, { onEvent: () => {} }), 'done');
  const seconds = (performance.now() - started) / 1000;
  const trials = store.listTrials(run);
  assert.equal(trials.length, 4);
  const accuracies = [];
  for (const trial of trials) {
    assert.equal(trial.status, 'done', trial.error ?? '');
    const epochs = store.trialEpochs(run, trial.index);
    assert.deepEqual(
      epochs.map((epoch) => epoch.epoch),
      [1, 2],
    );
    for (const { trainLoss, valLoss, trainAccuracy } of epochs)
      for (const value of [trainLoss, valLoss, trainAccuracy]) assert.ok(Number.isFinite(value));
    // The final report's val_accuracy is the best of the (last five) epochs; the reward (identity transform) is it.
    assert.equal(trial.reward, Math.max(...epochs.map((epoch) => epoch.valAccuracy)));
    const testAccuracy = trial.metrics?.testAccuracy ?? 0;
    assert.ok(testAccuracy > 0.5, `test accuracy ${testAccuracy}`);
    assert.match(store.trialLog(run, trial.index) ?? '', /^epoch 2: val_accuracy/m);
    accuracies.push(trial.reward!);
  }
  // Chance is 0.1; 2 epochs of Adam on digits reach about 0.9.
  assert.ok(Math.min(...accuracies) > 0.5, `validation accuracies ${accuracies.join(', ')}`);
  const shown = accuracies.map((accuracy) => accuracy.toFixed(3)).join(', ');
  console.log(`4 PyTorch trials of 2 epochs on digits (${python}): ${seconds.toFixed(1)} s, validation accuracy ${shown}`);
  store.close();
});
