// The NAS-Bench-201 table shipped in data/nas-bench-201/: each cell's 12-epoch validation accuracy
// (what a search may see) and 200-epoch test accuracy (what is reported), per data set.

import { join } from 'node:path';
import { TABULAR_DATASETS, type TabularDataset } from '../../space/config.ts';
import type { Architecture } from '../../space/decisions.ts';
import { NASBENCH201_CELL_COUNT, architectureOfCellString, nasBench201Ordinal } from '../../space/nasbench201.ts';
import { DatasetError } from './dataset.ts';
import { findShippedFile, readDataFile } from './files.ts';

const TABLE_FILE = join('data', 'nas-bench-201', 'nas-bench-201.csv');

/** Accuracies as fractions in [0, 1], like every other evaluator's. */
export interface NasBench201Accuracies {
  valAccuracy: number;
  testAccuracy: number;
}

interface Columns {
  valid: Float64Array;
  test: Float64Array;
}

export class NasBench201Table {
  private constructor(private readonly columns: Record<TabularDataset, Columns>) {}

  /** Parses the table's CSV text; `source` names it in errors. Every cell must appear exactly once. */
  static parse(text: string, source: string): NasBench201Table {
    const lines = text.trimEnd().split('\n');
    const header = (lines[0] ?? '').trim().split(',');
    const column = (name: string) => {
      const index = header.indexOf(name);
      if (index < 0) throw new DatasetError(source, `the header has no column "${name}"`, 1);
      return index;
    };
    const archColumn = column('arch');
    const wanted = TABULAR_DATASETS.map((dataset) => ({
      dataset,
      valid: column(`${dataset}_valid_12ep`),
      test: column(`${dataset}_test_200ep`),
    }));
    const columns = Object.fromEntries(
      TABULAR_DATASETS.map((dataset) => [
        dataset,
        { valid: new Float64Array(NASBENCH201_CELL_COUNT).fill(NaN), test: new Float64Array(NASBENCH201_CELL_COUNT).fill(NaN) },
      ]),
    ) as Record<TabularDataset, Columns>;
    const seen = new Uint8Array(NASBENCH201_CELL_COUNT);
    for (let i = 1; i < lines.length; i++) {
      const line = i + 1;
      const cells = lines[i].trim().split(',');
      let ordinal: number;
      try {
        ordinal = nasBench201Ordinal(architectureOfCellString(cells[archColumn] ?? ''));
      } catch (error) {
        throw new DatasetError(source, (error as Error).message, line);
      }
      if (seen[ordinal]) throw new DatasetError(source, `cell ${cells[archColumn]} appears a second time`, line);
      seen[ordinal] = 1;
      for (const { dataset, valid, test } of wanted) {
        columns[dataset].valid[ordinal] = percentage(cells[valid], header[valid], source, line);
        columns[dataset].test[ordinal] = percentage(cells[test], header[test], source, line);
      }
    }
    const found = seen.reduce((count, present) => count + present, 0);
    if (found < NASBENCH201_CELL_COUNT)
      throw new DatasetError(source, `${NASBENCH201_CELL_COUNT - found} of the ${NASBENCH201_CELL_COUNT} cells are missing`);
    return new NasBench201Table(columns);
  }

  accuracies(architecture: Architecture, dataset: TabularDataset): NasBench201Accuracies {
    const ordinal = nasBench201Ordinal(architecture);
    const { valid, test } = this.columns[dataset];
    return { valAccuracy: valid[ordinal] / 100, testAccuracy: test[ordinal] / 100 };
  }
}

function percentage(text: string | undefined, name: string, source: string, line: number): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new DatasetError(source, `${name} must be a percentage from 0 to 100, got "${text ?? ''}"`, line);
  }
  return value;
}

let shipped: NasBench201Table | undefined;

/** The table shipped with NAS Studio, parsed once per process. */
export function shippedNasBench201Table(): NasBench201Table {
  if (!shipped) {
    const file = findShippedFile(TABLE_FILE);
    shipped = NasBench201Table.parse(readDataFile(file).toString('utf8'), file);
  }
  return shipped;
}
