import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NasBench201SpaceConfig } from '../../src/space/config.ts';
import { architectureKey, compileSpace, decodeArchitecture, drawArchitecture, encodeGraph } from '../../src/space/graph.ts';
import { countParameters } from '../../src/space/estimate.ts';
import { tabularImageShape } from '../../src/space/kinds/evaluations/tabular.ts';
import {
  architectureOfCellString,
  cellStringOf,
  everyNasBench201Architecture,
  nasBench201Cost,
  nasBench201Ordinal,
  type NasBench201Operation,
} from '../../src/space/nasbench201.ts';

const SPACE: NasBench201SpaceConfig = { kind: 'nasbench201' };
const OPERATIONS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'];
const EXAMPLE = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

test('the space compiles to 6 categorical edge decisions in cell-string order, each over the 5 operations', () => {
  const decisions = compileSpace(SPACE);
  assert.deepEqual(
    decisions.map((d) => d.name),
    ['edge 1<-0', 'edge 2<-0', 'edge 2<-1', 'edge 3<-0', 'edge 3<-1', 'edge 3<-2'],
  );
  for (const d of decisions) {
    assert.equal(d.kind, 'categorical');
    assert.deepEqual(d.options, OPERATIONS);
  }
});

test('cell strings round trip over all 15,625 cells, each string distinct, each ordinal its own', () => {
  const seen = new Set<string>();
  for (const architecture of everyNasBench201Architecture()) {
    const text = cellStringOf(architecture);
    assert.deepEqual(architectureOfCellString(text), architecture);
    seen.add(text);
    const graph = decodeArchitecture(SPACE, architecture);
    assert.deepEqual(encodeGraph(SPACE, graph), architecture);
    assert.equal(architectureKey(graph), text);
  }
  assert.equal(seen.size, 15_625);
  assert.deepEqual(everyNasBench201Architecture()[125 + 2], [0, 0, 1, 0, 0, 2]);
  assert.deepEqual(
    everyNasBench201Architecture().map(nasBench201Ordinal),
    Array.from({ length: 15_625 }, (_, i) => i),
  );
});

test("the benchmark's example cell decodes edge by edge", () => {
  const architecture = architectureOfCellString(EXAMPLE);
  assert.deepEqual(architecture, [3, 3, 4, 1, 3, 1]);
  const graph = decodeArchitecture(SPACE, architecture);
  assert.ok(graph.kind === 'nasbench201');
  assert.deepEqual(graph.edges[2], { from: 1, to: 2, operation: 'avg_pool_3x3' });
  assert.equal(
    drawArchitecture(decodeArchitecture(SPACE, [0, 3, 0, 1, 0, 0])),
    [
      'NAS-Bench-201 cell: node0 is the input, node3 the output',
      '  node1 = zero',
      '  node2 = nor_conv_3x3(node0)',
      '  node3 = skip_connect(node0)',
    ].join('\n'),
  );
});

test('text that is not a cell string is refused with the reason', () => {
  assert.throws(() => architectureOfCellString('|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|'), /needs 3 groups/);
  assert.throws(
    () => architectureOfCellString(EXAMPLE.replace('avg_pool_3x3~1', 'avg_pool_3x3~0')),
    /edge "avg_pool_3x3~0" into node 2 must be op~1/,
  );
  assert.throws(() => architectureOfCellString(EXAMPLE.replace('nor_conv_3x3~1', 'conv~1')), /op one of none, skip_connect/);
  assert.throws(() => architectureOfCellString(EXAMPLE.replace('|skip_connect~2|', '|')), /group 3 must be/);
  assert.throws(() => cellStringOf([0, 0, 0, 0, 0, 5]), /out of range/);
});

const everyEdge = (operation: NasBench201Operation) => Array<NasBench201Operation>(6).fill(operation);

test("parameters and FLOPs from the cell agree with NAS-Bench-201's published ones", () => {
  const cifar10 = tabularImageShape('cifar10');
  // The benchmark's API: the all-nor_conv_3x3 cell on CIFAR-10 has 1.531546 M parameters and 220.11 MFLOPs.
  const largest = nasBench201Cost(everyEdge('nor_conv_3x3'), cifar10);
  assert.equal(largest.params, 1_531_546);
  assert.ok(Math.abs(largest.flops / 220.11e6 - 1) < 0.01, `${largest.flops} FLOPs`);
  // The all-none cell leaves the stem, the two reduction blocks and the head: about 0.07 M.
  const smallest = nasBench201Cost(everyEdge('none'), cifar10);
  assert.ok(Math.abs(smallest.params / 0.0733e6 - 1) < 0.01, `${smallest.params} parameters`);
  assert.ok(Math.abs(smallest.flops / 7.78e6 - 1) < 0.01, `${smallest.flops} FLOPs`);
  // Skip connections and pooling add neither parameters nor counted FLOPs.
  assert.deepEqual(nasBench201Cost(everyEdge('skip_connect'), cifar10), smallest);
  assert.deepEqual(nasBench201Cost(everyEdge('avg_pool_3x3'), cifar10), smallest);
  // Only the classifier differs between the CIFAR data sets; ImageNet16-120's images are a quarter the pixels.
  assert.equal(nasBench201Cost(everyEdge('nor_conv_3x3'), tabularImageShape('cifar100')).params, largest.params + 90 * 65);
  const imagenet = nasBench201Cost(everyEdge('nor_conv_3x3'), tabularImageShape('imagenet16'));
  assert.equal(imagenet.params, largest.params + 110 * 65);
  assert.ok(Math.abs(imagenet.flops / (largest.flops / 4) - 1) < 0.01, `${imagenet.flops} FLOPs`);
});

test('the space counts the parameters of a decoded cell as the benchmark does', () => {
  const architecture = architectureOfCellString(EXAMPLE);
  const image = tabularImageShape('cifar10');
  const operations = architecture.map((choice) => OPERATIONS[choice] as NasBench201Operation);
  assert.equal(countParameters(decodeArchitecture(SPACE, architecture), SPACE, image), nasBench201Cost(operations, image).params);
});
