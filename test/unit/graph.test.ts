import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpaceConfig } from '../../src/space/config.ts';
import { CELL, MACRO } from '../support/spaces.ts';
import { log10SpaceSize } from '../../src/space/decisions.ts';
import {
  architectureKey,
  checkArchitecture,
  compileSpace,
  decodeArchitecture,
  drawArchitecture,
  encodeGraph,
  macroOutputLayers,
  type CellGraph,
} from '../../src/space/graph.ts';
import { createRng } from '../../src/space/rng.ts';

function randomArchitectures(space: SpaceConfig, count: number, seed: number) {
  const decisions = compileSpace(space);
  const rng = createRng(seed);
  return Array.from({ length: count }, () => decisions.map((d) => rng.int(d.options.length)));
}

test('macro: decode then encode gives back the architecture, and encode then decode the graph', () => {
  for (const architecture of randomArchitectures(MACRO, 200, 1)) {
    const graph = decodeArchitecture(MACRO, architecture);
    assert.deepEqual(encodeGraph(MACRO, graph), architecture);
    assert.deepEqual(decodeArchitecture(MACRO, encodeGraph(MACRO, graph)), graph);
  }
});

test('cell: decode then encode round trips for both cells', () => {
  for (const architecture of randomArchitectures(CELL, 200, 2)) {
    const graph = decodeArchitecture(CELL, architecture) as CellGraph;
    assert.equal(graph.normal.length, 4);
    assert.equal(graph.reduction.length, 4);
    assert.deepEqual(encodeGraph(CELL, graph), architecture);
  }
});

test('macro decisions follow NAS-RL: sizes and filters per layer, then one skip decision per earlier layer', () => {
  const decisions = compileSpace(MACRO);
  // 4 categorical per layer (height, width, filters, stride) + 0+1+2+3 skip decisions.
  assert.equal(decisions.length, 4 * 4 + 6);
  const skip = decisions.find((d) => d.name === 'layer3.input_from_layer1');
  assert.ok(skip && skip.kind === 'skip');
  assert.deepEqual(skip.anchor, { step: decisions.findIndex((d) => d.name === 'layer1.input_from_layer0') });
  assert.ok(Math.abs(log10SpaceSize(decisions) - Math.log10((3 * 3 * 3 * 2) ** 4 * 2 ** 6)) < 1e-9);
});

test('macro build rules: a layer with no input takes the image; unused outputs feed the classifier', () => {
  const decisions = compileSpace(MACRO);
  const none = decisions.map(() => 0);
  const graph = decodeArchitecture(MACRO, none);
  assert.ok(graph.kind === 'macro');
  assert.deepEqual(
    graph.layers.map((l) => l.inputs),
    [[], [], [], []],
  );
  assert.deepEqual(macroOutputLayers(graph), [0, 1, 2, 3]);
  const chainless = decodeArchitecture({ ...MACRO, skip_connections: false, strides: undefined }, Array(12).fill(0));
  assert.ok(chainless.kind === 'macro');
  assert.deepEqual(
    chainless.layers.map((l) => l.inputs),
    [[], [0], [1], [2]],
  );
  assert.match(drawArchitecture(graph), /classifier <- L0 \+ L1 \+ L2 \+ L3/);
});

test('cell inputs are chosen by attention over the two cell inputs and earlier nodes', () => {
  const decisions = compileSpace(CELL);
  const input = decisions.find((d) => d.name === 'reduction.node2.input_b');
  assert.ok(input && input.kind === 'input');
  assert.deepEqual(input.options, ['input0', 'input1', 'node0', 'node1']);
  assert.deepEqual(input.anchors.slice(0, 2), [{ fixed: 0 }, { fixed: 1 }]);
});

test('the canonical key ignores the order of the two branches a node sums', () => {
  const [architecture] = randomArchitectures(CELL, 1, 3);
  const graph = decodeArchitecture(CELL, architecture) as CellGraph;
  const swapped: CellGraph = structuredClone(graph);
  const node = swapped.normal[1];
  node.inputs.reverse();
  node.operations.reverse();
  assert.equal(architectureKey(swapped), architectureKey(graph));
  const changed: CellGraph = structuredClone(graph);
  changed.normal[0].operations[0] = changed.normal[0].operations[0] === 'identity' ? 'conv3x3' : 'identity';
  assert.notEqual(architectureKey(changed), architectureKey(graph));
});

test('an architecture that does not fit the space is refused', () => {
  const decisions = compileSpace(MACRO);
  assert.throws(() => checkArchitecture(decisions, [0]), /has 1 choices; the space has 22 decisions/);
  assert.throws(
    () =>
      decodeArchitecture(
        MACRO,
        decisions.map(() => 5),
      ),
    /out of range/,
  );
  assert.throws(
    () =>
      encodeGraph(
        CELL,
        decodeArchitecture(
          MACRO,
          decisions.map(() => 0),
        ),
      ),
    /does not belong/,
  );
});
