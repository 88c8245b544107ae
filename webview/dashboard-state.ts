// What the run dashboard holds for one run, shared by its parts (render, live appends, colours, header, table).
import type { dashboardPanel as dashboardKind } from '../src/extension/panels/dashboard.ts';
import type { Chart, ChartDataset } from 'chart.js';
import type { DashboardData, TrialPoint } from '../src/protocol/webview.ts';
import { panelChannel, type Theme } from './common.ts';
import type { TrialFilter, XY } from './transforms.ts';
import type { Header } from './dashboard-header.ts';
import type { Table } from './dashboard-table.ts';
import type { Intermediate, IntermediateChart } from './dashboard-intermediate.ts';

export type LineDataset = ChartDataset<'line', XY[]>;
export type ScatterDataset = ChartDataset<'scatter', XY[]>;

export interface Charts {
  reward: Chart<'scatter', XY[]>;
  entropy: Chart<'line', XY[]>;
  argmax: Chart<'line', XY[]>;
  pareto: Chart<'scatter', XY[]>;
  /** DARTS runs only. */
  alpha?: Chart<'line', XY[]>;
  /** Runs whose trials train in epochs only. */
  intermediate?: IntermediateChart;
}

/** Everything the page holds for one run. The raw series are ours; chart.js may decimate what it draws. */
export interface State {
  data: DashboardData;
  byIndex: Map<number, TrialPoint>;
  series: {
    /** Rewards of trials trained in full (pruned ones are in `pruned`). */
    rewards: XY[];
    /** Rewards of pruned trials, at the epoch they stopped at; charted only for runs with a scheduler. */
    pruned: XY[];
    best: XY[];
    /** `best` with only the points where it rises (and the last), drawn stepped. */
    bestSteps: XY[];
    baseline: XY[];
    entropy: XY[];
    perDecisionEntropy: XY[][];
    argmax: XY[][];
    all: XY[];
    front: XY[];
    /** DARTS: per cell type then mixed operation, its mean weight over the cell's edges against the alpha step. */
    alphas: XY[][];
  };
  plotted: Set<number>;
  trialsPerStep: number;
  filter: TrialFilter;
  rows: TrialPoint[];
  showPerDecision: boolean;
  theme: Theme;
  charts: Charts;
  header: Header;
  table: Table;
  notes: HTMLElement;
  /** Runs whose trials train in epochs only. */
  intermediate?: Intermediate;
}

/** The dashboard's side of the host channel. */
export const dashboardPanel = panelChannel<typeof dashboardKind>('dashboard');
