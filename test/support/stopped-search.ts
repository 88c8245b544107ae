// A search run in this process from a search file's text: to its end, or stopped at the first event
// `stopWhen` picks and then resumed to its end. `files` are written beside the search file first.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WeightSharingState } from '../../src/engine/oneshot/weight-sharing.ts';
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

/**
 * A weight-sharing search stopped at `stopWhen` and resumed ends as the uninterrupted one does: the same
 * trials (as `summary` reads them), and the same supernet, optimizer and strategy in its last checkpoint,
 * which it returns.
 */
export async function assertResumesAsIfNeverStopped(
  text: string,
  stopWhen: (event: EngineEvent) => boolean,
  summary: (store: Store, runId: number) => unknown,
  files: Record<string, string> = {},
): Promise<WeightSharingState> {
  const straight = await searchMaybeStopped(text, undefined, files);
  const resumed = await searchMaybeStopped(text, stopWhen, files);
  try {
    assert.deepEqual(resumed.statuses, ['stopped', 'done']);
    assert.deepEqual(summary(resumed.store, resumed.runId), summary(straight.store, straight.runId));
    const state = (store: Store, runId: number) => store.latestCheckpoint(runId)!.state as WeightSharingState;
    const [a, b] = [state(straight.store, straight.runId), state(resumed.store, resumed.runId)];
    assert.deepEqual(b.supernet, a.supernet);
    assert.deepEqual(b.optimizer, a.optimizer);
    assert.deepEqual(b.strategy, a.strategy);
    return a;
  } finally {
    straight.store.close();
    resumed.store.close();
  }
}
