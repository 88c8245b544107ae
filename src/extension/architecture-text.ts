// A trial's architecture as text, for the clipboard: its key, its decisions and its graph.

import { stringify } from 'yaml';
import type { TrialRecord } from '../protocol/engine.ts';

export function architectureText(trial: TrialRecord, format: 'yaml' | 'json'): string {
  const architecture = { key: trial.key, decisions: trial.architecture, graph: trial.graph };
  return format === 'json' ? `${JSON.stringify(architecture, null, 2)}\n` : stringify(architecture);
}
