// Pareto dominance for multi-objective search (NSGA-II, Deb et al. 2002): non-dominated sorting,
// crowding distance, and the two-objective hypervolume that scores a front. Every objective of a
// point is minimised; a maximised one (accuracy) is given negated.

/** One point's objectives, each minimised. */
export type Objectives = readonly number[];

/** True when `a` is no worse than `b` in every objective and better in at least one. */
export function dominates(a: Objectives, b: Objectives): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/** The indices of `points` by front: the first front is dominated by no point, the next only by the first, and so on. */
export function nonDominatedSort(points: readonly Objectives[]): number[][] {
  const dominatedBy = points.map(() => 0);
  const dominating = points.map((): number[] => []);
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      if (dominates(points[i], points[j])) {
        dominating[i].push(j);
        dominatedBy[j] += 1;
      } else if (dominates(points[j], points[i])) {
        dominating[j].push(i);
        dominatedBy[i] += 1;
      }
    }
  }
  const fronts: number[][] = [];
  let front = points.map((_, i) => i).filter((i) => dominatedBy[i] === 0);
  while (front.length > 0) {
    fronts.push(front);
    const next: number[] = [];
    for (const i of front) {
      for (const j of dominating[i]) {
        dominatedBy[j] -= 1;
        if (dominatedBy[j] === 0) next.push(j);
      }
    }
    front = next.sort((a, b) => a - b);
  }
  return fronts;
}

/**
 * Each front member's crowding distance, in the order of `front` (indices into `points`): the sum over
 * objectives of the gap between its two neighbours, divided by the front's range. The extremes of each
 * objective get Infinity, so that a front's ends are always kept.
 */
export function crowdingDistances(points: readonly Objectives[], front: readonly number[]): number[] {
  const distance = new Map(front.map((i) => [i, 0]));
  const objectives = front.length === 0 ? 0 : points[front[0]].length;
  for (let m = 0; m < objectives; m++) {
    const sorted = [...front].sort((a, b) => points[a][m] - points[b][m]);
    const range = points[sorted[sorted.length - 1]][m] - points[sorted[0]][m];
    distance.set(sorted[0], Infinity);
    distance.set(sorted[sorted.length - 1], Infinity);
    if (range === 0) continue;
    for (let k = 1; k < sorted.length - 1; k++) {
      const gap = (points[sorted[k + 1]][m] - points[sorted[k - 1]][m]) / range;
      distance.set(sorted[k], distance.get(sorted[k])! + gap);
    }
  }
  return front.map((i) => distance.get(i)!);
}

/** The points no other point dominates, in the order given (equal points are all kept). */
export function paretoFront<Point extends Objectives>(points: readonly Point[]): Point[] {
  return points.filter((point) => !points.some((other) => dominates(other, point)));
}

/**
 * The area that a front of two-objective points dominates, bounded by `reference` (a point worse than
 * every point counted in both objectives; points not better than it in both add nothing).
 */
export function hypervolume2d(front: readonly Objectives[], reference: Objectives): number {
  const inside = front.filter((p) => p[0] < reference[0] && p[1] < reference[1]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let volume = 0;
  // Swept in the first objective: each point adds the strip between its second objective and the best before it.
  let ceiling = reference[1];
  for (const [x, y] of inside) {
    if (y >= ceiling) continue;
    volume += (reference[0] - x) * (ceiling - y);
    ceiling = y;
  }
  return volume;
}
