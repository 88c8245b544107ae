// Pareto dominance on hand-computed examples: the front, the fronts of a non-dominated sort, crowding
// distances and the two-objective hypervolume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crowdingDistances, dominates, hypervolume2d, nonDominatedSort, paretoFront } from '../../src/engine/analysis/pareto.ts';

test('a point dominates another only when no worse in every objective and better in one', () => {
  assert.equal(dominates([1, 2], [1, 3]), true);
  assert.equal(dominates([1, 2], [1, 2]), false);
  assert.equal(dominates([1, 3], [2, 2]), false);
  assert.equal(dominates([2, 2], [1, 3]), false);
});

test('the front keeps the points no other dominates, equal ones included, in their order', () => {
  const points = [
    [3, 1],
    [2, 2],
    [2, 3],
    [1, 3],
    [2, 2],
    [4, 4],
  ];
  assert.deepEqual(paretoFront(points), [
    [3, 1],
    [2, 2],
    [1, 3],
    [2, 2],
  ]);
  assert.deepEqual(paretoFront([]), []);
});

test('non-dominated sorting peels the fronts one after the other', () => {
  const points = [
    [1, 1],
    [2, 2],
    [1, 3],
    [3, 1],
    [3, 3],
  ];
  assert.deepEqual(nonDominatedSort(points), [[0], [1, 2, 3], [4]]);
});

test('crowding distance: the extremes are infinite, an inner point sums its normalised neighbour gaps', () => {
  const points = [
    [0, 4],
    [1, 2],
    [2, 1],
    [4, 0],
  ];
  // Point 1: (2 - 0) / 4 + (4 - 1) / 4 = 1.25; point 2: (4 - 1) / 4 + (2 - 0) / 4 = 1.25.
  assert.deepEqual(crowdingDistances(points, [0, 1, 2, 3]), [Infinity, 1.25, 1.25, Infinity]);
  assert.deepEqual(crowdingDistances(points, [1]), [Infinity]);
});

test('the hypervolume of a staircase is the union of its rectangles up to the reference point', () => {
  // Rectangles [1,4]x[3,4], [2,4]x[2,4], [3,4]x[1,4]: 3 + 4 + 3, less their overlaps, is 6.
  const front = [
    [3, 1],
    [1, 3],
    [2, 2],
  ];
  assert.equal(hypervolume2d(front, [4, 4]), 6);
  // A dominated point and one outside the reference add nothing.
  assert.equal(hypervolume2d([...front, [3, 3], [5, 0]], [4, 4]), 6);
  // Accuracy maximised (negated) and normalised cost minimised, reference (accuracy 0, cost 1).
  assert.ok(
    Math.abs(
      hypervolume2d(
        [
          [-0.9, 0.5],
          [-0.6, 0.1],
        ],
        [0, 1],
      ) -
        (0.9 * 0.5 + 0.6 * 0.4),
    ) < 1e-12,
  );
  assert.equal(hypervolume2d([], [0, 1]), 0);
});
