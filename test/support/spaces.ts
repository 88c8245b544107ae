// Small spaces shared by the tests, and the DARTS tests' search settings.
import { CELL_OPERATIONS, type CellSpaceConfig, type DartsConfig, type MacroSpaceConfig } from '../../src/space/config.ts';

export const MACRO: MacroSpaceConfig = {
  kind: 'macro',
  layers: 4,
  filter_heights: [1, 3, 5],
  filter_widths: [1, 3, 5],
  filters: [8, 16, 32],
  strides: [1, 2],
  skip_connections: true,
  batch_norm: true,
  head: 'auto',
};
export const CELL: CellSpaceConfig = {
  kind: 'cell',
  nodes: 4,
  operations: [...CELL_OPERATIONS],
  cells_per_stage: 1,
  stages: 2,
  filters: 8,
  batch_norm: true,
  head: 'auto',
};
/** The DARTS tests' cell: 3 nodes of 4 operations at 4 filters, small enough for a search step in milliseconds. */
export const SMALL_DARTS_CELL: CellSpaceConfig = {
  kind: 'cell',
  nodes: 3,
  operations: ['conv3x3', 'sep_conv3x3', 'max_pool', 'identity'],
  cells_per_stage: 1,
  stages: 2,
  filters: 4,
  batch_norm: true,
  head: 'auto',
};
/** The DARTS tests' search: small batches, DARTS' own learning rates and clipping. */
export const SMALL_DARTS: DartsConfig = {
  epochs: 2,
  batch_size: 16,
  w_learning_rate: 0.05,
  w_learning_rate_min: 0.001,
  w_momentum: 0.9,
  w_weight_decay: 3e-4,
  gradient_clip: 5,
  alpha_learning_rate: 0.01,
  alpha_weight_decay: 1e-3,
  order: 'first',
  retrain: 1,
};
