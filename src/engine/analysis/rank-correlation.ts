// Rank correlations. Spearman's: the Pearson correlation of the ranks, tied values sharing the
// average of the ranks they span (so ties neither help nor hurt the correlation). Kendall's tau-b:
// concordant minus discordant pairs, normalised for the ties in either list.

/** 1-based ranks; tied values get the mean of the ranks they occupy. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    // Positions start..end-1 hold equal values: ranks start+1..end, averaged.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rho of paired samples; null when it is undefined (fewer than two pairs, or one side
 * constant, so its ranks have no variance).
 */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length) throw new Error(`Spearman needs paired samples; got ${x.length} and ${y.length} values`);
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new Error('Spearman needs finite values');
  if (x.length < 2) return null;
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  const mean = (x.length + 1) / 2;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < rx.length; i++) {
    const dx = rx[i] - mean;
    const dy = ry[i] - mean;
    covariance += dx * dy;
    varianceX += dx * dx;
    varianceY += dy * dy;
  }
  if (varianceX === 0 || varianceY === 0) return null;
  return covariance / Math.sqrt(varianceX * varianceY);
}

/** Kendall's tau-b of paired samples. */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = 0; j < i; j++) {
      const x = Math.sign(a[i] - a[j]);
      const y = Math.sign(b[i] - b[j]);
      if (x === 0) tiesA += 1;
      if (y === 0) tiesB += 1;
      if (x * y > 0) concordant += 1;
      else if (x * y < 0) discordant += 1;
    }
  }
  const pairs = (a.length * (a.length - 1)) / 2;
  return (concordant - discordant) / Math.sqrt((pairs - tiesA) * (pairs - tiesB));
}
