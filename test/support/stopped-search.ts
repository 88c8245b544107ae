// A search run in this process from a search file's text: to its end, or stopped at the first event
// `stopWhen` picks and then resumed to its end. `files` are written beside the search file first.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunFromFile, runSearch } from '../../src/engine/search.ts';
import { Store } from '../../src/engine/store/store.ts';
import type { EngineEvent } from '../../src/protocol/engine.ts';
import { inProcessEvaluator } from './in-process-evaluator.ts';

export async function searchMaybeStopped(text: string, stopWhen?: (event: EngineEvent) => boolean, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nas-search-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'tiny.nas.yaml');
  writeFileSync(file, text);
  const store = new Store(join(dir, 'runs.db'));
  const runId = createRunFromFile(store, file, {});
  const events: EngineEvent[] = [];
  const stopping = new AbortController();
  const onEvent = (event: EngineEvent) => {
    events.push(event);
    if (stopWhen?.(event)) stopping.abort();
  };
  const statuses = [await runSearch(store, runId, { onEvent, signal: stopping.signal, startEvaluator: inProcessEvaluator })];
  if (stopWhen) statuses.push(await runSearch(store, runId, { onEvent, startEvaluator: inProcessEvaluator }));
  return { store, runId, events, statuses };
}
