// One trial on its own, for a paper or another tool: as JSON (its architecture with the decisions it chose,
// the decoded graph and the metrics) or as the trial view's drawing in a standalone SVG file.

import { writeFileSync } from 'node:fs';
import type { TrialRecord } from '../../protocol/engine.ts';
import { architectureFigures, type DrawingElement } from '../../shared/architecture-drawing.ts';
import { compileSpace, type ArchitectureGraph } from '../../space/graph.ts';
import type { Store } from '../store/store.ts';
import { exportModel } from './model.ts';
import { MODEL_EXPORT_FORMATS, type ModelExportFormat } from '../../shared/model-export.ts';
import { clearOutFile } from './out-file.ts';

export const TRIAL_EXPORT_FORMATS = ['json', 'svg'] as const;
export type TrialExportFormat = (typeof TRIAL_EXPORT_FORMATS)[number];

/** The trial as `export --format json` writes it; `architecture` is the stored one, `decisions` spells each choice out. */
export function trialJson(store: Store, runId: number, trial: TrialRecord) {
  const decisions = compileSpace(store.runConfig(runId).config.space);
  return {
    run: runId,
    trial: trial.index,
    key: trial.key,
    reward: trial.reward,
    retrainedFrom: trial.retrainedFrom,
    architecture: trial.architecture,
    decisions: trial.architecture.map((choice, i) => ({ name: decisions[i].name, option: decisions[i].options[choice] })),
    graph: trial.graph,
    metrics: trial.metrics,
  };
}

// A standalone file has no VS Code theme: the trial view's classes get the light theme's colours, on white.
const STANDALONE_STYLE = `
.arch-svg .arch-node rect { fill: #ffffff; stroke: #1a85ff; stroke-width: 1.5; }
.arch-svg .arch-node.io rect { stroke: #388a34; }
.arch-svg .arch-node.output rect { stroke: #d18616; }
.arch-svg text, .cell-title { fill: #000000; font-family: sans-serif; font-size: 12px; }
.arch-svg .arch-edge path { fill: none; stroke: #000000; stroke-opacity: 0.7; stroke-width: 1.2; }
.arch-svg .arch-edge.skip path { stroke: #652d90; stroke-opacity: 1; }
.arch-svg .arch-edge text { font-size: 10.5px; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; fill: #000000; }
.arch-svg marker path { fill: #000000; }
.cell-title { font-size: 14px; font-weight: bold; }
`;

/** Room above a figure for its heading (a cell graph's "Normal cell", "Reduction cell"). */
const TITLE_HEIGHT = 28;

/** The graph's figures stacked in one SVG document, each under its heading, on a white background. */
export function standaloneArchitectureSvg(graph: ArchitectureGraph): string {
  let markers = 0;
  const figures = architectureFigures(graph, () => `arrow-${++markers}`);
  if (figures.length === 0) throw new Error(`a ${graph.kind} architecture has no drawing to export`);
  const width = Math.max(...figures.map((figure) => figure.width));
  const stacked: DrawingElement[] = [];
  let height = 0;
  for (const figure of figures) {
    if (figure.title !== undefined) {
      stacked.push({ tag: 'text', attributes: { class: 'cell-title', x: 10, y: height + 18 }, children: [], text: figure.title });
      height += TITLE_HEIGHT;
    }
    stacked.push({ ...figure.svg, attributes: { ...figure.svg.attributes, x: 0, y: height } });
    height += figure.height;
  }
  const document: DrawingElement = {
    tag: 'svg',
    attributes: { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}` },
    children: [
      { tag: 'style', attributes: {}, children: [], text: STANDALONE_STYLE },
      { tag: 'rect', attributes: { width: '100%', height: '100%', fill: '#ffffff' }, children: [] },
      ...stacked,
    ],
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serialise(document, '')}`;
}

const escapeXml = (value: string | number) =>
  String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An element as XML, one element a line; labels and attribute values escaped. */
function serialise(element: DrawingElement, indent: string): string {
  const attributes = Object.entries(element.attributes)
    .map(([name, value]) => ` ${name}="${escapeXml(value)}"`)
    .join('');
  const open = `${indent}<${element.tag}${attributes}`;
  if (element.text !== undefined) return `${open}>${escapeXml(element.text)}</${element.tag}>\n`;
  if (element.children.length === 0) return `${open}/>\n`;
  const children = element.children.map((child) => serialise(child, `${indent}  `)).join('');
  return `${open}>\n${children}${indent}</${element.tag}>\n`;
}

/** Writes the trial to `outFile` in `format`; an existing file is replaced only with `force`. */
export function exportTrial(
  store: Store,
  runId: number,
  trial: TrialRecord,
  format: TrialExportFormat,
  outFile: string,
  options: { force?: boolean } = {},
): void {
  const text = format === 'json' ? `${JSON.stringify(trialJson(store, runId, trial), null, 2)}\n` : standaloneArchitectureSvg(trial.graph);
  clearOutFile(outFile, options.force);
  writeFileSync(outFile, text);
}

/** Every format one trial is exported in: its record or drawing as a file, or its trained model into a folder. */
export const ONE_TRIAL_FORMATS = [...TRIAL_EXPORT_FORMATS, ...MODEL_EXPORT_FORMATS] as const;

export const isModelFormat = (format: string): format is ModelExportFormat => MODEL_EXPORT_FORMATS.includes(format as ModelExportFormat);

/** Writes one trial in `format` to `out` (a file, or a model's folder); returns what it wrote. */
export async function exportOneTrial(
  store: Store,
  trial: TrialRecord,
  format: string,
  out: string,
  options: { force?: boolean } = {},
): Promise<string[]> {
  if (isModelFormat(format)) return exportModel(store, trial, format, out, options);
  if (!TRIAL_EXPORT_FORMATS.includes(format as TrialExportFormat))
    throw new Error(`"${format}" is not a format a trial is exported in; the formats are ${ONE_TRIAL_FORMATS.join(', ')}`);
  exportTrial(store, trial.runId, trial, format as TrialExportFormat, out, options);
  return [out];
}
