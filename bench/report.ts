// How the benches print their figures, shared so that their tables and spreads read alike.

/** Mean ± standard deviation (over the values, not a sample estimate) of the known values; '-' when none is known. */
export function meanAndSpread(values: readonly (number | null)[], digits = 3): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return '-';
  const mean = known.reduce((a, b) => a + b, 0) / known.length;
  if (known.length === 1) return mean.toFixed(digits);
  const std = Math.sqrt(known.reduce((sum, x) => sum + (x - mean) ** 2, 0) / known.length);
  return `${mean.toFixed(digits)} ± ${std.toFixed(digits)}`;
}

/** The rows as a Markdown table, the first row its header, each column as wide as its widest cell. */
export function markdownTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
